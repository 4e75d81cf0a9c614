"""The robot drawn into the input video: camera math, rendering, compositing, captions.

Pure functions on small inputs, the renderer on a tiny model (a ball seen by a known pinhole
camera), and the G1 through the simplified meshes.
"""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.errors import ExoActorError
from exoactor.report.in_scene import Layers, composite, shadow_map
from exoactor.report.scene_camera import PersonToRobot, gl_frustum, project_w, robot_camera, scale_intrinsics


def _look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``T_w_c`` (OpenCV camera) at ``eye`` looking at ``target``, no roll."""
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, y, z], axis=1)
    T[:3, 3] = eye
    return T


K = np.array([[300.0, 0.0, 150.0], [0.0, 300.0, 110.0], [0.0, 0.0, 1.0]])
"""Intrinsics of a 320x240 image with the principal point off the centre."""
T_W_C = _look_at(np.array([4.0, -3.0, 1.6]), np.array([0.5, 0.2, 0.8]))


def test_the_robot_camera_sees_the_mapped_scene_as_the_person_camera_sees_the_person():
    rng = np.random.default_rng(0)
    points_w = rng.uniform([-1, -1, 0], [2, 1, 1.8], size=(50, 3))
    p2r = PersonToRobot(0.8, (0.3, -0.2), 0.05)
    px_w, z_w = project_w(points_w, K, T_W_C)
    px_r, z_r = project_w(p2r.to_robot(points_w), K, robot_camera(T_W_C, p2r))
    np.testing.assert_allclose(px_r, px_w, atol=1e-9)
    np.testing.assert_allclose(z_r, 0.8 * z_w, rtol=1e-12)
    # a camera left where it was would not: the robot would stand elsewhere in the image
    px_bad, _ = project_w(p2r.to_robot(points_w), K, T_W_C)
    assert np.abs(px_bad - px_w).max() > 10


def test_the_map_is_the_retargeters_root_scaling():
    """With every segment scaled like the root, the retargeter's scaled skeleton is the map of
    the person's (so the map is the retargeter's, fixed point and all)."""
    from exoactor.retarget.scaling import BONES, SegmentScales, scale_keypoints
    from exoactor.skeleton import BODY_33

    rng = np.random.default_rng(1)
    pts = rng.normal(scale=0.3, size=(5, 33, 3)) + np.array([1.0, 2.0, 0.9])
    s = 0.83
    scales = SegmentScales({b.segment: s for b in BONES}, s, {}, {})
    scaled = scale_keypoints(pts, BODY_33, scales)
    hips = pts[0, [BODY_33.index("left_hip"), BODY_33.index("right_hip")]].mean(0)
    p2r = PersonToRobot(s, (hips[0], hips[1]))
    ok = np.isfinite(scaled).all(-1)
    assert ok.mean() > 0.9
    np.testing.assert_allclose(p2r.to_robot(pts)[ok], scaled[ok], atol=1e-9)


def test_person_to_robot_refuses_a_bad_scale():
    with pytest.raises(ValueError, match="positive"):
        PersonToRobot(0.0, (0.0, 0.0))


def test_person_to_robot_reads_the_retarget_metrics():
    from exoactor.report.in_scene import person_to_robot
    from exoactor.skeleton import BODY_33

    joints = np.zeros((3, 33, 3))
    joints[0, BODY_33.index("left_hip")] = [1.0, 0.2, 0.9]
    joints[0, BODY_33.index("right_hip")] = [1.0, -0.4, 0.9]
    root = np.zeros((3, 3))
    m = person_to_robot(joints, BODY_33, root, {"extras": {
        "root_scale": 0.8, "ground_offset_m": 0.04, "regrounded": True}})
    assert m == PersonToRobot(0.8, (1.0, -0.1), 0.04)
    assert person_to_robot(joints, BODY_33, root, None).scale == 1.0




@pytest.fixture(scope="module")
def ball_views(ball_model):
    from exoactor.report.views import ViewRenderer

    model = ball_model
    try:
        views = ViewRenderer(model, 320, 240)
    except ExoActorError as err:
        pytest.skip(str(err))
    yield views
    views.close()


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_the_gl_frustum_renders_where_the_pinhole_projects(ball_views, scale):
    w, h = int(320 * scale), int(240 * scale)
    Ks = scale_intrinsics(K, scale)
    frustum = gl_frustum(Ks, T_W_C, w, h)
    for pos in ([0.5, 0.2, 0.8], [1.5, -0.5, 0.3], [-0.5, 0.8, 1.5]):
        ball_views.pose(np.array([*pos, 1.0, 0.0, 0.0, 0.0]))
        rgb, cover = ball_views.scene_view(frustum, w, h)
        assert cover.sum() > 10
        ys, xs = np.nonzero(cover)
        expect, _ = project_w(np.array(pos), Ks, T_W_C)
        assert np.hypot(xs.mean() + 0.5 - expect[0], ys.mean() + 0.5 - expect[1]) < 1.0
        assert not rgb[~cover].any()  # drawn on black: premultiplied; floor hidden
        assert rgb[cover][:, 0].mean() > 100  # the red ball


def test_the_world_view_shows_floor_reference_and_paths(ball_views):
    from exoactor.report.views import FreeCamera, Polyline

    ball_views.pose(np.array([0.0, 0.0, 0.5, 1, 0, 0, 0]), np.array([0.6, 0.0, 0.5, 1, 0, 0, 0]))
    cam = FreeCamera((0.3, 0.0, 0.4), 2.5, 90.0, -20.0)
    plain = ball_views.world_view(cam, 320, 240)
    full = ball_views.world_view(cam, 320, 240, reference=True, paths=[
        Polyline(np.array([[-1.0, 0.5, 0.01], [1.0, 0.5, 0.01]]), (0.0, 0.0, 1.0, 1.0), 4.0)])
    diff = np.abs(full.astype(int) - plain.astype(int)).sum(-1) > 30
    assert plain[-40:].mean() > 20  # the floor, in the lower part of the view
    assert diff.sum() > 50  # the ghost ball and the path


def test_simplified_g1_keeps_its_silhouette():
    from exoactor.report.views import ViewRenderer, simplify_meshes
    from exoactor.robots import get_robot

    robot = get_robot("g1")
    simple = simplify_meshes(robot.model)
    assert simple.mesh_facenum.sum() < robot.model.mesh_facenum.sum() / 8
    assert robot.model.mesh_facenum.sum() > 300_000  # the caller's model is untouched
    T = _look_at(np.array([2.5, -1.5, 1.2]), np.array([0.0, 0.0, 0.7]))
    frustum = gl_frustum(K, T, 320, 240)
    q = robot.model.qpos0.copy()
    q[2] = 0.793
    covers = []
    for cell in (0.0, 0.015):
        try:
            views = ViewRenderer(robot.model, 320, 240, mesh_cell_m=cell)
        except ExoActorError as err:
            pytest.skip(str(err))
        with views:
            views.pose(q)
            covers.append(views.scene_view(frustum, 320, 240)[1])
    iou = (covers[0] & covers[1]).sum() / (covers[0] | covers[1]).sum()
    assert covers[0].sum() > 2000 and iou > 0.93, iou


def test_shadows_lie_under_the_bodies_and_fade_with_height():
    ground = np.array([[0.5, 0.2, 0.0], [1.5, -0.5, 0.0]])
    low = shadow_map(ground, np.array([0.05, 0.05]), K, T_W_C, 320, 240)
    high = shadow_map(ground, np.array([1.0, 1.0]), K, T_W_C, 320, 240)
    px, _ = project_w(ground, K, T_W_C)
    for (x, y) in px:
        x, y = int(round(x)), int(round(y))
        assert low[y, x] > 0.7
        patch = low[max(y - 15, 0):y + 16, max(x - 15, 0):x + 16]
        assert patch.max() == pytest.approx(low[y, x], abs=0.05)
    assert high.max() < 0.5 * low.max()
    assert low[0:20].max() < 1e-3  # nothing in the sky


def test_composite_draws_robot_over_skeleton_over_shadow_only_where_they_are():
    frame = np.full((40, 60, 3), 200, np.uint8)
    alpha = np.zeros((40, 60), np.float32)
    alpha[10:20, 10:20] = 1.0
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[10:20, 10:20] = (255, 0, 0)
    shadow = np.zeros((40, 60), np.float32)
    shadow[25:30, 30:40] = 1.0
    skel = np.zeros((40, 60), bool)
    skel[5, 40:50] = True
    out = composite(frame, Layers(rgb, alpha, shadow, skel))
    assert (out[12, 12] == (255, 0, 0)).all()
    assert out[27, 35, 0] < 120  # darkened
    assert out[5, 45, 2] < 200 and out[5, 45, 0] > 200  # a faint yellow line
    untouched = np.ones((40, 60), bool)
    untouched[10:20, 10:20] = untouched[25:30, 30:40] = untouched[5, 40:50] = False
    assert (out[untouched] == 200).all()


def test_composite_copies_an_opaque_robot_and_blends_the_rest_exactly_as_blending_all():
    """An all-or-nothing coverage (bool, as rendered, or a 0/1 float) is drawn by copying the
    robot's pixels; the image equals blending every layer over their common box, pixel for
    pixel, with the shadow and the skeleton overlapping each other and the robot."""
    from exoactor.report.in_scene import Patch, _blend_all

    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    cover = np.zeros((40, 50), bool)
    cover[5:35, 10:30] = rng.random((30, 20)) > 0.3
    rgb = np.where(cover[..., None], rng.integers(0, 256, (40, 50, 3)), 0).astype(np.uint8)
    robot_box = (20, 60, 30, 80)
    shadow = Patch(rng.random((30, 60)).astype(np.float32), (45, 75, 20, 80))
    skel_mask = np.zeros((70, 40), bool)
    skel_mask[np.arange(70), (np.arange(70) * 0.5).astype(int)] = True
    skeleton = Patch(skel_mask, (10, 80, 40, 80))
    for alpha in (cover, cover.astype(np.float32)):
        out = composite(frame, Layers(Patch(rgb, robot_box), Patch(alpha, robot_box), shadow,
                                      skeleton))
        ref = frame.copy()
        _blend_all(ref, Patch(cover.astype(np.float32), robot_box), Patch(rgb, robot_box),
                   shadow, skeleton, (255, 220, 40))
        assert np.array_equal(out, ref)
        assert not np.array_equal(out, frame)
    # without a robot, or with only a shadow, the same holds
    for layers in (Layers(np.zeros((90, 120, 3), np.uint8), np.zeros((90, 120)), shadow, None),
                   Layers(np.zeros((90, 120, 3), np.uint8), np.zeros((90, 120)), None, skeleton)):
        ref = frame.copy()
        _blend_all(ref, None, None, layers.shadow, layers.skeleton, (255, 220, 40))
        assert np.array_equal(composite(frame, layers), ref)


def test_composite_blends_a_partial_coverage():
    frame = np.full((10, 10, 3), 100, np.uint8)
    alpha = np.zeros((10, 10), np.float32)
    alpha[2:4, 2:4] = 0.5
    rgb = np.zeros((10, 10, 3), np.uint8)
    rgb[2:4, 2:4] = 100  # premultiplied: a robot colour of 200 at half coverage
    out = composite(frame, Layers(rgb, alpha))
    assert (out[2:4, 2:4] == 150).all() and (out[5:, 5:] == 100).all()


def test_caption_font_has_every_glyph_of_the_captions():
    from exoactor.report.build import _stage_status
    from exoactor.report.render import font_path, missing_glyphs
    from exoactor.report.scene_video import caption_strip

    assert font_path() is not None and font_path().name == "DejaVuSans.ttf"
    manifest = {"stages": {s: {"status": st} for s, st in (
        ("clip", "ok"), ("perceive", "ok"), ("retarget", "failed"), ("track", "running"),
        ("report", "running"))}}
    text = f"t =  1.23 s   |   {_stage_status(manifest)}   |   robot: FELL"
    assert "retarget FAILED" in text and "track running" in text
    assert missing_glyphs(text) == []
    assert missing_glyphs("ok \ue000") == ["\ue000"]  # a private-use code point: no glyph
    # a character without a glyph is drawn as '?', never as a box
    np.testing.assert_array_equal(caption_strip("a \ue000", 200), caption_strip("a ?", 200))


def test_scene_shapes_are_drawn_through_the_same_camera(ball_views):
    from exoactor.report.views import SceneGeom

    frustum = gl_frustum(K, T_W_C, 320, 240)
    ball_views.pose(np.array([0.0, 0.0, -5.0, 1.0, 0.0, 0.0, 0.0]))  # the ball out of view
    box = SceneGeom("box", (0.1, 0.1, 0.1), (1.0, 0.0, 0.5), rgba=(0.1, 0.1, 0.9, 1.0))
    rgb, cover = ball_views.scene_view(frustum, 320, 240, objects=[box])
    ys, xs = np.nonzero(cover)
    expect, _ = project_w(np.array([1.0, 0.0, 0.5]), K, T_W_C)
    assert np.hypot(xs.mean() + 0.5 - expect[0], ys.mean() + 0.5 - expect[1]) < 2.0
    assert rgb[cover][:, 2].mean() > rgb[cover][:, 0].mean() + 50  # blue
    with pytest.raises(ValueError, match="box"):
        SceneGeom("cone", (1, 1, 1), (0, 0, 0)).mj_type()


def test_the_world_canvas_redraws_only_what_changes_and_equals_a_full_render(ball_views):
    from exoactor.report.scene_video import Poses, WorldCanvas
    from exoactor.report.views import FreeCamera

    t = np.linspace(0.0, 2.0, 41)
    path = np.stack([np.linspace(-0.8, 0.8, 41), 0.3 * np.sin(3 * t), np.full(41, 0.5)], axis=1)
    ref = path + [0.0, 0.4, 0.0]

    def qpos(p):  # noqa: ANN001, ANN202
        return np.array([*p, 1.0, 0.0, 0.0, 0.0])

    poses = Poses(lambda s: qpos(path[int(round(s * 20))]),
                  lambda s: qpos(ref[int(round(s * 20))]), ref, path, t)
    cam = FreeCamera((0.0, 0.2, 0.4), 3.0, 90.0, -25.0)
    canvas = WorldCanvas(ball_views, cam, 320, 240, poses)
    for s in (0.0, 0.3, 0.35, 1.0, 1.6, 2.0):
        ball_views.pose(poses.qpos_at(s), poses.ref_qpos_at(s))
        drawn = canvas.update(s, reference=True).copy()
        full = ball_views.world_view(cam, 320, 240, reference=True, paths=poses.paths(s))
        assert np.abs(drawn.astype(int) - full).max() <= 2, s
        if s > 0:
            y0, y1, x0, x1 = canvas._last_box
            assert 0 < (y1 - y0) * (x1 - x0) < 0.5 * 320 * 240  # only a part was redrawn


def test_caption_strips_redrawn_in_part_equal_full_drawings():
    from exoactor.report.scene_video import _draw_strip, caption_strip

    status = "perceive ok  retarget ok  track ok"
    for t, state in ((0.0, "ok"), (0.03, "ok"), (1.17, "ok"), (9.99, "FELL"), (10.5, "FELL"),
                     (2.0, "ok")):
        text = f"t = {t:5.2f} s   |   {status}   |   robot: {state}"
        np.testing.assert_array_equal(caption_strip(text, 900), _draw_strip(text, 900, 36))


def test_the_background_encoder_reports_the_encoders_error():
    from exoactor.report.scene_video import _BackgroundWriter

    class Broken:
        closed = False

        def send(self, frame):  # noqa: ANN001, ANN202
            raise OSError("encoder died")

        def close(self):  # noqa: ANN202
            self.closed = True

    inner = Broken()
    writer = _BackgroundWriter(inner)
    writer.send(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(OSError, match="encoder died"):
        writer.close()
    assert inner.closed


def test_plots_beside_the_videos_match_plots_drawn_here(monkeypatch):
    import multiprocessing

    from exoactor.report.build import _Beside

    with _Beside(sorted, [3, 1, 2]) as job:
        assert job.result() == [1, 2, 3]
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    with _Beside(sorted, [3, 1, 2]) as job:  # no fork: computed in this process
        assert job._future is None and job.result() == [1, 2, 3]


def test_the_scene_camera_follows_the_perceived_camera_poses_per_frame():
    """A moving camera (compensated rotation, the contact anchoring's shift): the report
    draws each time through the pose of the nearest perceived frame, else the fixed one."""
    from exoactor.report.scene_video import SceneCamera

    p2r = PersonToRobot(scale=1.0, origin_xy_m=(0.0, 0.0))
    frames = np.repeat(np.eye(4)[None], 10, axis=0)
    frames[:, 0, 3] = np.arange(10) * 0.1
    cam = SceneCamera(np.eye(3), np.eye(4), p2r, frames, 30.0)
    assert cam.at(0.0)[0, 3] == 0.0
    assert cam.at(4 / 30.0)[0, 3] == pytest.approx(0.4)
    assert cam.at(100.0)[0, 3] == pytest.approx(0.9)  # held after the last frame
    assert np.array_equal(SceneCamera(np.eye(3), np.eye(4), p2r).at(1.0), np.eye(4))
