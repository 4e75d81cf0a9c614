"""The seat-contact reference: pelvis lowered onto the seat, feet held, legs re-solved by IK."""

import numpy as np
import pytest

from exoactor.formats.scene import ObjectPose, Scene, SceneObject
from exoactor.scene.contact_ref import (
    FEET_BODIES,
    ContactRefConfig,
    adjust_for_seats,
    blend_weight,
    nearest_in_hull,
    seat_contact_z,
)

pytest.importorskip("mink")


def test_blend_weight_is_one_in_the_window_and_ramps_smoothly():
    w = blend_weight(200, [(50, 100)], fps=50.0, ramp_s=0.4)
    assert np.all(w[50:101] == 1.0)
    assert np.all(w[:30] == 0.0) and np.all(w[121:] == 0.0)
    assert np.all(np.diff(w[25:51]) >= 0) and np.all(np.diff(w[100:125]) <= 0)
    assert 0.0 < w[40] < 1.0 and 0.0 < w[110] < 1.0
    assert np.array_equal(blend_weight(10, [], 50.0, 0.4), np.zeros(10))


def test_nearest_in_hull():
    sq = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    assert np.allclose(nearest_in_hull(np.array([0.5, 0.5]), sq), [0.5, 0.5])
    assert np.allclose(nearest_in_hull(np.array([2.0, 0.5]), sq), [1.0, 0.5])
    assert np.allclose(nearest_in_hull(np.array([-1.0, -1.0]), sq), [0.0, 0.0])


def test_seat_contact_is_the_lowest_point_over_the_footprint():
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 0.0, 0.2)), size=(0.4, 0.4, 0.4))
    pts = np.array([[0.0, 0.0, 0.45], [0.1, 0.1, 0.42], [1.0, 0.0, 0.1]])
    assert seat_contact_z(pts, pts[:1], seat) == pytest.approx(0.42)
    assert seat_contact_z(pts[2:], pts[:1], seat) == pytest.approx(0.45)  # none over it


def _sit_with_low_seat(drop_m: float):
    from scene_synthetic import sit_reference

    from exoactor.scene.infer import infer_scene

    motion = sit_reference()
    seat = [o for o in infer_scene(motion).objects if o.kind == "seat"][0]
    p = seat.pose.pos
    # the reference sits drop_m - 0.09 above the seat (the rule put the top 0.09 m above it)
    low = seat.model_copy(update={"pose": ObjectPose(pos=(p[0], p[1], p[2] - drop_m),
                                                     yaw_rad=seat.pose.yaw_rad)})
    return motion, Scene(source="test", fps=motion.fps, objects=(low,))


def test_adjusted_reference_sits_on_the_seat_with_the_feet_fixed():
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import body_positions
    from exoactor.scene.infer import motion_features

    motion, scene = _sit_with_low_seat(0.17)
    seat = scene.objects[0]
    before = motion.root_pos.copy()
    res = adjust_for_seats(motion, scene, ContactRefConfig(press_m=0.0))
    out = res.motion
    assert np.array_equal(motion.root_pos, before)  # the input is not changed
    on = res.weight > 0.999
    off = res.weight == 0.0
    assert on.sum() > 100 and off.sum() > 50
    # measured independently by FK of the new motion
    robot = get_robot("g1")
    feet_in = body_positions(robot, motion, list(FEET_BODIES)).pos_w
    feet_out = body_positions(robot, out, list(FEET_BODIES)).pos_w
    assert np.abs(feet_out - feet_in).max() <= 0.01
    f_in, f_out = motion_features(motion), motion_features(out)
    z_in = np.array([seat_contact_z(f_in.seat_points[t], f_in.seat_points[t], seat)
                     for t in np.flatnonzero(on)])
    z_out = np.array([seat_contact_z(f_out.seat_points[t], f_out.seat_points[t], seat)
                      for t in np.flatnonzero(on)])
    above = z_in > seat.top_z + 0.03           # frames where the reference floats over the seat
    assert above.sum() > 50
    assert np.abs(z_out[above] - seat.top_z).max() <= 0.02
    assert res.drop_m.max() > 0.05 and (res.drop_m >= -1e-9).all()
    # torso orientation kept; off the windows nothing changes
    assert np.allclose(out.root_quat[on], motion.root_quat[on], atol=1e-2)
    assert np.allclose(out.root_pos[off], motion.root_pos[off])
    assert np.allclose(out.dof_pos[off], motion.dof_pos[off])


def test_no_seat_leaves_the_reference_as_it_is():
    from scene_synthetic import sit_reference

    motion = sit_reference(seated_s=0.5)
    res = adjust_for_seats(motion, Scene(source="test", fps=motion.fps))
    assert res.motion is motion and not res.weight.any()


def test_track_stage_follows_the_seated_motion_only_for_its_seats(tmp_path):
    from scene_synthetic import sit_reference

    from exoactor.pipeline import RunDir
    from exoactor.runner import _save_seated, _seated_motion

    motion = sit_reference(seated_s=0.5)
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 0.0, 0.2)), size=(0.4, 0.4, 0.4),
                       evidence=((10, 20),))
    scene = Scene(source="test", objects=(seat,))
    run = RunDir(tmp_path)
    assert _seated_motion(run, scene) is None                     # none written yet
    _save_seated(run, motion, scene, "test")
    got = _seated_motion(run, scene)
    assert got is not None and np.allclose(got.root_pos, motion.root_pos)
    moved = seat.model_copy(update={"pose": ObjectPose(pos=(0.1, 0.0, 0.2))})
    assert _seated_motion(run, scene.model_copy(update={"objects": (moved,)})) is None
