"""The report's GL views drawn in a second process: the same pixels as in this process, errors
that name their cause, and no process left behind."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from exoactor.errors import ExoActorError
from exoactor.report.frame_views import LocalViews, ViewJob, ViewRequest
from exoactor.report.render_process import RenderProcess, RenderProcessError
from exoactor.report.scene_camera import PersonToRobot, gl_frustum
from exoactor.report.views import FreeCamera, SceneGeom
from exoactor.report.world_view import Poses

W, H = 320, 240
K = np.array([[300.0, 0.0, 150.0], [0.0, 300.0, 110.0], [0.0, 0.0, 1.0]])
"""Intrinsics of a 320x240 image with the principal point off the centre."""


def _look_at(eye, target) -> np.ndarray:  # noqa: ANN001
    """``T_w_c`` (OpenCV camera) at ``eye`` looking at ``target``, no roll."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    T[:3, 3] = eye
    return T


@pytest.fixture(scope="module")
def ball(ball_model):
    from exoactor.report.views import ViewRenderer

    model = ball_model
    try:
        ViewRenderer(model, 8, 8).close()
    except ExoActorError as err:
        pytest.skip(str(err))
    return model


def _ball_job() -> ViewJob:
    return ViewJob(W, H, (W, H), K, FreeCamera((0.0, 0.0, 0.5), 3.0, 90.0, -20.0), (W, H),
                   Poses(None, objects=(SceneGeom("box", (0.2, 0.1, 0.3), (0.5, 0.5, 0.3)),)))


def _ball_request(x: float, world: bool = True, qpos=None) -> ViewRequest:  # noqa: ANN001
    T = _look_at([3.0, -2.0, 1.5], [0.0, 0.0, 0.6])
    q = np.array([x, 0.1, 0.6, 1.0, 0.0, 0.0, 0.0]) if qpos is None else qpos
    ref = q.copy()
    ref[0] += 0.3
    return ViewRequest(x, q, ref, T, gl_frustum(K, T, W, H), world)


def _children() -> list[int]:
    """Pids of this process's child processes (zombies included)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            out.append(int(stat.parent.name))
    return out


def test_the_render_process_draws_what_this_process_draws(ball):
    requests = [_ball_request(x, world=(k % 2 == 0)) for k, x in enumerate((-0.5, 0.0, 0.4, 0.9))]
    with LocalViews(ball, _ball_job()) as here, RenderProcess() as there:
        there.load(ball, _ball_job())
        for r in requests:  # all ahead, as the report asks
            there.submit(r)
        for r in requests:
            here.submit(r)
            a, b = here.result(), there.result()
            assert a.robot[2] == b.robot[2]  # the box
            assert a.robot[1].any()  # the ball was drawn
            np.testing.assert_array_equal(a.robot[0], b.robot[0])
            np.testing.assert_array_equal(a.robot[1], b.robot[1])
            assert (a.world is None) == (b.world is None) == (not r.world)
            if r.world:
                np.testing.assert_array_equal(a.world, b.world)
            np.testing.assert_array_equal(a.body_xpos, b.body_xpos)
    assert there.returncode == 0
    assert there.pid not in _children()


def test_an_error_in_the_render_process_names_its_cause_and_the_process_is_gone(ball):
    with RenderProcess() as there:
        there.load(ball, _ball_job())
        there.submit(_ball_request(0.0))
        there.submit(_ball_request(0.0, qpos=np.zeros(5)))  # the ball has nq = 7
        assert there.result().robot is not None
        with pytest.raises(RenderProcessError, match="render process failed: ValueError") as err:
            there.result()
        assert "Traceback" in str(err.value.__cause__)  # the child's traceback
    assert there.returncode == 1
    assert there.pid not in _children()


def test_a_killed_render_process_is_reported_with_its_signal(ball):
    with RenderProcess() as there:
        there.load(ball, _ball_job())
        there.submit(_ball_request(0.0))
        there.result()
        os.kill(there.pid, signal.SIGKILL)
        there.submit(_ball_request(0.1))
        with pytest.raises(RenderProcessError, match=f"pid {there.pid}.* killed by SIGKILL"):
            there.result()
    assert there.pid not in _children()


def test_no_opengl_in_the_render_process_names_the_fix(ball, monkeypatch):
    monkeypatch.setenv("MUJOCO_GL", "no-such-backend")
    with RenderProcess() as there:
        there.load(ball, _ball_job())
        there.submit(_ball_request(0.0))
        with pytest.raises(RenderProcessError, match="MUJOCO_GL=no-such-backend.*apt-get"):
            there.result()
    assert there.pid not in _children()


# ---- the report's videos through the render process ---------------------------------------


@pytest.fixture(scope="module")
def g1_clip(tmp_path_factory):  # noqa: ANN001, ANN201
    """A 12-frame 320x240 noise clip at 10 fps, and the G1 walking past a camera that pans."""
    from exoactor.media import open_h264
    from exoactor.report.scene_video import SceneCamera
    from exoactor.robots import get_robot

    robot = get_robot("g1")
    try:
        LocalViews(robot.model, ViewJob(8, 8, None, None, None, (8, 8), Poses(None))).close()
    except ExoActorError as err:
        pytest.skip(str(err))
    video = tmp_path_factory.mktemp("clip") / "video.mp4"
    rng = np.random.default_rng(0)
    writer = open_h264(video, W, H, 10.0)
    for _ in range(12):
        writer.send(rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    writer.close()
    n = 13
    q = np.repeat(robot.model.qpos0[None], n, axis=0)
    q[:, 0] = np.linspace(-0.4, 0.6, n)
    q[:, 2] = 0.793
    q[:, 7:] += 0.3 * np.sin(np.linspace(0, 3, n))[:, None]
    ref = q.copy()
    ref[:, 1] += 0.3
    at = lambda arr: (lambda t: arr[min(int(round(t * 10)), n - 1)])  # noqa: E731
    poses = Poses(at(q), at(ref), ref[:, :3], q[:, :3], np.arange(n) / 10.0,
                  objects=(SceneGeom("box", (0.3, 0.2, 0.4), (1.0, 0.8, 0.4)),))
    frames_T = np.stack([_look_at([3.5, -3.0 + 0.05 * k, 1.4], [0.2, 0.0, 0.7])
                         for k in range(12)])
    camera = SceneCamera(K, frames_T[0], PersonToRobot(1.0, (0.0, 0.0)), frames_T, 10.0)
    return robot.model, video, camera, poses


def _videos(g1_clip, out: Path, render_process: bool, **over):  # noqa: ANN001, ANN202
    from exoactor.report.scene_video import write_scene_videos

    model, video, camera, poses = g1_clip
    out.mkdir(parents=True, exist_ok=True)
    return write_scene_videos(model, video, camera, over.get("poses", poses),
                              scene_out=out / "scene.mp4", side_out=out / "side.mp4",
                              thumbnail_out=out / "thumb.jpg", caption=lambda t: f"t = {t:.2f}",
                              render_process=render_process)


def _frames(path: Path) -> np.ndarray:
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    w, h = next(gen)["size"]
    return np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen])


def test_report_videos_drawn_in_a_process_equal_those_drawn_here(g1_clip, tmp_path):
    before = set(_children())
    here = _videos(g1_clip, tmp_path / "here", render_process=False)
    there = _videos(g1_clip, tmp_path / "there", render_process=True)
    assert here.frames == there.frames == 12
    for name in ("scene.mp4", "side.mp4", "thumb.jpg"):
        a, b = tmp_path / "here" / name, tmp_path / "there" / name
        if name.endswith(".mp4"):
            fa, fb = _frames(a), _frames(b)
            assert len(fa) == 12
            np.testing.assert_array_equal(fa, fb)
        assert a.read_bytes() == b.read_bytes(), name
    assert set(_children()) <= before  # the render process was reaped


def test_a_failing_render_process_fails_the_videos_and_leaves_nothing_behind(g1_clip, tmp_path,
                                                                               monkeypatch):
    import exoactor.report.render_process as rp

    started: list[RenderProcess] = []
    real_init = rp.RenderProcess.__init__

    def init(self) -> None:  # noqa: ANN001
        real_init(self)
        started.append(self)

    monkeypatch.setattr(rp.RenderProcess, "__init__", init)
    _, _, _, poses = g1_clip
    from dataclasses import replace

    bad = replace(poses, qpos_at=lambda t: np.zeros(3))  # not the G1's nq
    with pytest.raises(RenderProcessError, match="ValueError"):
        _videos(g1_clip, tmp_path / "bad", render_process=True, poses=bad)
    assert len(started) == 1
    assert started[0].returncode is not None
    assert started[0].pid not in _children()
    assert sorted(p.name for p in (tmp_path / "bad").iterdir()) == []  # no partial files


def test_the_render_process_is_used_only_when_a_core_is_free(monkeypatch):
    import builtins
    import io

    from exoactor.report import scene_video

    real_open = builtins.open
    running = {"n": 1}

    def fake_open(path, *args, **kwargs):  # noqa: ANN001, ANN202
        if path == "/proc/loadavg":
            return io.StringIO(f"0.50 0.40 0.30 {running['n']}/120 4242\n")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert scene_video.render_process_pays(interval_s=0.0)  # only this process runs
    running["n"] = 3
    assert not scene_video.render_process_pays(interval_s=0.0)  # two others: no free core
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert scene_video.render_process_pays(interval_s=0.0)  # 4 CPUs: two left for us
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    running["n"] = 1
    assert not scene_video.render_process_pays(interval_s=0.0)  # one CPU: nothing to gain
