"""Tests of :mod:`exoactor.report.render`: kinematic mp4 rendering on CPU (Mesa EGL / OSMesa).

Uses the shared assets and ``MUJOCO_GL`` set up by ``tests/conftest.py``. Tests that draw are
skipped, with the fix as the reason, when no offscreen OpenGL backend can be created.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest

from exoactor.errors import ExoActorError, UnknownName
from exoactor.report import RenderResult, iter_frames, render, render_motion, render_qpos

W, H = 160, 120
N = 20
MOTION = "twist2/motions/0807_yanjie_walk_001.pkl"
START = 60
"""First frame of the clip used: the subject is walking by then."""


@pytest.fixture(scope="module")
def motion(shared_assets: Path):
    from exoactor.formats import load_motion

    return load_motion(shared_assets / MOTION).slice(START, START + N)


@pytest.fixture(scope="module")
def robot(motion):
    from exoactor.robots import get_robot

    return get_robot(motion.robot)


@pytest.fixture(scope="module")
def qpos(robot, motion):
    from exoactor.robots.kinematics import motion_qpos

    return motion_qpos(robot, motion)


@pytest.fixture(scope="module")
def gl(robot):
    """Skip (with the fix) when no offscreen OpenGL backend can be created."""
    try:
        render._make_renderer(robot.model, W, H).close()
    except ExoActorError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def video(gl, motion, tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "walk.mp4"
    return render_motion(motion, out, width=W, height=H)


def read_video(path: Path) -> tuple[np.ndarray, dict]:
    import imageio.v3 as iio

    return iio.imread(path, index=None, plugin="FFMPEG"), iio.immeta(path, plugin="FFMPEG")


# --- the mp4 -------------------------------------------------------------------------------------


def test_render_motion_writes_h264_mp4(video: RenderResult, motion):
    frames, meta = read_video(video.path)
    assert isinstance(video, RenderResult)
    assert video.num_frames == N and frames.shape == (N, H, W, 3) and frames.dtype == np.uint8
    assert (video.width, video.height, video.fps) == (W, H, motion.fps)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert meta["size"] == (W, H)
    assert meta["fps"] == pytest.approx(motion.fps, abs=0.01)
    assert video.ms_per_frame > 0 and video.seconds > 0
    assert video.duration_s == pytest.approx(N / motion.fps)


def test_frames_are_not_blank(video):
    frames, _ = read_video(video.path)
    assert frames.reshape(N, -1).std(axis=1).min() > 15


def test_robot_is_visible_against_the_empty_scene(video, robot, qpos):
    """Same camera path, robot geoms hidden: the difference lies in the centre, not the edges."""
    frames, _ = read_video(video.path)
    empty_model = copy.copy(robot.model)
    empty_model.geom_group[empty_model.geom_bodyid > 0] = render._HIDDEN_GROUP
    empty = np.stack(list(iter_frames(empty_model, qpos, 30.0, width=W, height=H)))
    diff = np.abs(frames.astype(float) - empty.astype(float)).mean(axis=-1)  # (N, H, W)
    centre = diff[:, H // 4: 3 * H // 4, W // 3: 2 * W // 3].mean()
    border = np.concatenate([diff[:, :, : W // 8].ravel(), diff[:, :, -W // 8:].ravel()]).mean()
    # measured at 160x120: centre ~9, border ~1 (H.264 noise only: same floor, sky and camera)
    assert border < 3, border
    assert centre > 3 * border + 2, (centre, border)
    robot_px = (diff[:, H // 4: 3 * H // 4, W // 3: 2 * W // 3] > 40).mean(axis=(1, 2))
    assert robot_px.min() > 0.04, robot_px  # ~9 % of the centre in every frame


def test_consecutive_frames_change_when_the_robot_moves(video):
    frames, _ = read_video(video.path)
    step = np.abs(np.diff(frames.astype(float), axis=0)).mean(axis=(1, 2, 3))  # (N-1,)
    assert (step > 0.2).all(), step


def test_a_still_pose_gives_identical_frames(gl, robot, qpos):
    still = np.repeat(qpos[:1], 3, axis=0)
    frames = list(iter_frames(robot.model, still, 30.0, width=W, height=H))
    assert len(frames) == 3
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    assert np.array_equal(frames[1], frames[2])
    # the very first render of a fresh GL context can differ by a grey level or two (llvmpipe)
    assert np.abs(frames[0].astype(int) - frames[2].astype(int)).max() <= 3


def test_render_motion_resamples_to_fps(gl, motion, tmp_path):
    result = render_motion(motion, tmp_path / "half.mp4", width=W, height=H, fps=motion.fps / 2)
    frames, meta = read_video(result.path)
    assert result.num_frames == len(frames) == (N - 1) // 2 + 1
    assert meta["fps"] == pytest.approx(motion.fps / 2, abs=0.01)


def test_max_frames_and_caption(gl, robot, qpos, tmp_path):
    plain = next(iter_frames(robot.model, qpos, 30.0, width=W, height=H))
    captioned = next(iter_frames(robot.model, qpos, 30.0, width=W, height=H, caption="ref"))
    corner = np.abs(plain[:15, :40].astype(int) - captioned[:15, :40].astype(int)).mean()
    assert corner > 20
    result = render_qpos(robot.model, qpos, 30.0, tmp_path / "short.mp4", width=W, height=H,
                         max_frames=4)
    assert result.num_frames == 4 == len(read_video(result.path)[0])


_BOX_XML = """
<mujoco>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 0.05" rgba="0.3 0.5 0.3 1"/>
    <light pos="0 0 4" dir="0 0 -1"/>
    <camera name="side" pos="0 -4 1" xyaxes="1 0 0 0 0.25 1"/>
    <body name="box" pos="0 0 0.5">
      <freejoint/>
      <geom type="box" size="0.2 0.2 0.2" rgba="0.9 0.1 0.1 1"/>
    </body>
  </worldbody>
</mujoco>
"""


@pytest.mark.parametrize("camera", ["side", "track"])
def test_any_model_with_a_named_or_tracking_camera(gl, camera):
    """A box sliding along +x: the named camera sees it move, the tracking camera keeps it still."""
    import mujoco

    model = mujoco.MjModel.from_xml_string(_BOX_XML)
    qpos = np.tile([0.0, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0], (3, 1))
    qpos[:, 0] = [-1.0, 0.0, 1.0]
    frames = list(iter_frames(model, qpos, 1.0, width=W, height=H, camera=camera,
                              track_body="box"))
    red = [np.argwhere((f[..., 0] > 150) & (f[..., 1] < 80))[:, 1].mean() for f in frames]
    if camera == "side":
        assert red[0] < red[1] < red[2] and red[2] - red[0] > W / 3, red
    else:  # only the shading under the fixed light changes the red blob a little
        assert max(red) - min(red) < W / 10, red
        assert abs(np.mean(red) - W / 2) < W / 10, red


def test_callers_model_is_not_modified(gl, robot, qpos):
    groups = robot.model.geom_group.copy()
    samples = robot.model.vis.quality.offsamples
    list(iter_frames(robot.model, qpos[:1], 30.0, width=W, height=H))
    assert np.array_equal(robot.model.geom_group, groups)
    assert robot.model.vis.quality.offsamples == samples


# --- failures ------------------------------------------------------------------------------------


def test_failure_mid_render_leaves_no_file(gl, robot, qpos, tmp_path, monkeypatch):
    real = render.iter_frames

    def broken(*args, **kwargs):
        frames = real(*args, **kwargs)
        yield next(frames)
        yield next(frames)
        frames.close()
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(render, "iter_frames", broken)
    new = tmp_path / "new.mp4"
    with pytest.raises(RuntimeError, match="crashed"):
        render_qpos(robot.model, qpos, 30.0, new, width=W, height=H)
    assert not new.exists()
    old = tmp_path / "old.mp4"
    old.write_bytes(b"previous video")
    with pytest.raises(RuntimeError, match="crashed"):
        render_qpos(robot.model, qpos, 30.0, old, width=W, height=H)
    assert old.read_bytes() == b"previous video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.mp4"]  # no temp files left


@pytest.mark.parametrize("kwargs, match", [
    ({"qpos": np.zeros((5, 3))}, "expected"),
    ({"qpos": np.zeros((0, 36))}, "expected"),
    ({"qpos": np.full((2, 36), np.nan)}, "frame 0"),
    ({"width": 161}, "even"),
    ({"height": 0}, "even"),
    ({"fps": 0.0}, "fps"),
])
def test_bad_inputs_raise_before_writing(robot, qpos, tmp_path, kwargs, match):
    args = {"qpos": qpos, "fps": 30.0, "width": W, "height": H, **kwargs}
    out = tmp_path / "bad.mp4"
    with pytest.raises(ExoActorError, match=match):
        render_qpos(robot.model, args.pop("qpos"), args.pop("fps"), out, **args)
    assert list(tmp_path.iterdir()) == []


def test_unknown_body_and_camera_list_the_options(robot, qpos):
    with pytest.raises(UnknownName, match="torso_link"):
        iter_frames(robot.model, qpos, 30.0, track_body="no_such_body")
    with pytest.raises(UnknownName, match="track"):
        iter_frames(robot.model, qpos, 30.0, camera="no_such_camera")


def _assert_names_the_fix(message: str) -> None:
    assert "apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri libopengl0" in message
    assert "MUJOCO_GL=egl" in message and "libosmesa6" in message


def test_no_opengl_context_names_the_fix(robot, qpos, monkeypatch):
    import mujoco

    def no_gl(*args, **kwargs):
        raise mujoco.FatalError("an OpenGL platform library has not been loaded")

    monkeypatch.setattr(mujoco, "Renderer", no_gl)
    with pytest.raises(ExoActorError, match="create an OpenGL context") as info:
        next(iter_frames(robot.model, qpos, 30.0, width=W, height=H))
    _assert_names_the_fix(str(info.value))


def test_mujoco_import_failing_on_the_gl_backend_names_the_fix(robot, motion, qpos, tmp_path,
                                                                monkeypatch):
    """With MUJOCO_GL naming a backend whose libraries are missing, ``import mujoco`` fails."""
    monkeypatch.setitem(sys.modules, "mujoco", None)  # makes `import mujoco` raise ImportError
    with pytest.raises(ExoActorError, match="import mujoco") as info:
        iter_frames(robot.model, qpos, 30.0, width=W, height=H)
    _assert_names_the_fix(str(info.value))
    with pytest.raises(ExoActorError, match="import mujoco"):
        render_motion(motion, tmp_path / "x.mp4", width=W, height=H)
    assert list(tmp_path.iterdir()) == []


# --- pure helpers --------------------------------------------------------------------------------


def test_smooth_path_keeps_lines_and_has_no_lag():
    t = np.arange(100)[:, None] / 30.0
    line = np.hstack([t, 2 * t, np.ones_like(t)])
    smooth = render.smooth_path(line, fps=30.0, sigma_s=0.2)
    assert smooth.shape == line.shape
    np.testing.assert_allclose(smooth[20:-20], line[20:-20], atol=1e-9)  # zero phase
    noisy = line + np.random.default_rng(0).normal(0, 0.05, line.shape)
    assert np.abs(render.smooth_path(noisy, 30.0) - line)[20:-20].std() < 0.5 * 0.05


def test_heading_deg_is_the_yaw_of_the_x_axis():
    from exoactor.rotations import rot

    yaw = np.radians(30.0)
    quat = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
    xmat = np.repeat(rot(quat).as_matrix().reshape(1, 9), 4, axis=0)
    assert render.heading_deg(xmat) == pytest.approx(30.0)
