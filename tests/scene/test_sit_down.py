"""The explicit sit-down (scene/sit_down.py) and the seat pose solved from it (contact_ref)."""

import numpy as np
import pytest

from exoactor.formats.scene import ObjectPose, SceneObject
from exoactor.scene.sit_down import (
    SEATED_LEGS_RAD,
    descent_frames,
    leaned_quat,
    plan_sit_down,
    seat_point_xy,
    seated_posture,
)


def _seat(yaw=0.3, centre=(1.0, -0.5), depth=0.4, width=0.5, top=0.4):
    return SceneObject(kind="seat", pose=ObjectPose(pos=(*centre, top / 2), yaw_rad=yaw),
                       size=(depth, width, top), evidence=((60, 150),))


def _pelvis_z(fps=50.0):
    """Standing 0.80 m for 0.4 s, down to 0.45 m over 0.6 s, seated to frame 160."""
    t = np.arange(161) / fps
    return np.interp(t, [0.0, 0.4, 1.0, 3.2], [0.80, 0.80, 0.45, 0.45])


def test_descent_starts_where_the_person_begins_to_sit_and_lasts_at_least_the_minimum():
    z = _pelvis_z()
    # the person is within 3 cm of 0.45 m from 0.95 s (frame 48); 85 % of the way up is
    # 0.7475 m, last at 0.49 s (frame 24)
    first, last = descent_frames(z, (60, 150), 50.0, start_share=0.85, min_descent_s=0.2)
    assert (first, last) == (24, 48)  # the person's own descent, longer than 0.2 s
    first2, last2 = descent_frames(z, (60, 150), 50.0, start_share=0.85, min_descent_s=1.5)
    assert first2 == first and last2 == first + 75  # stretched to 1.5 s
    # never past the window's end
    assert descent_frames(z, (60, 100), 50.0, 0.9, 4.0)[1] == 100


def test_seat_point_is_behind_the_front_edge_with_the_lateral_position_kept_inside():
    seat = _seat()
    c, f, lat = seat.footprint_axes()
    ref = np.array([c + 0.3 * f + 0.05 * lat, c - 0.1 * f + 0.4 * lat])
    p = seat_point_xy(seat, ref, behind_front_m=0.15, lateral_margin_m=0.1)
    assert np.allclose((p - c) @ f, 0.2 - 0.15)
    assert np.allclose((p - c) @ lat, [0.05, 0.15])  # the second clamped to 0.25 - 0.1


def test_plan_blends_in_over_the_descent_leans_then_settles_and_ramps_out():
    z = _pelvis_z()
    xy = np.zeros((len(z), 2))
    seat = _seat()
    plan = plan_sit_down(xy, z, seat, (60, 150), 50.0, behind_front_m=0.2, lateral_margin_m=0.1,
                         lean_rad=0.5, settle_lean_rad=0.1, settle_s=1.0, start_share=0.9,
                         min_descent_s=1.0, ramp_s=0.2)
    first, last = plan.descent
    assert last == first + 50
    assert plan.weight[first] == 0.0 and plan.weight[last] == pytest.approx(1.0)
    assert np.all(plan.weight[:first + 1] == 0.0) and np.all(plan.weight[last:151] == 1.0)
    assert np.all(np.diff(plan.weight[first:last + 1]) >= 0.0)
    assert plan.lean_rad[last] == pytest.approx(0.5)
    assert plan.lean_rad[last + 50] == pytest.approx(0.1)
    assert plan.weight[150 + 10] == pytest.approx(0.0)  # ramped out 0.2 s after the window
    assert plan.lean_rad[150 + 10] == pytest.approx(0.0)
    c, f, _ = seat.footprint_axes()
    assert np.allclose((plan.seat_xy_w - c) @ f, 0.0)  # 0.2 behind a 0.4 m seat's front edge


def test_leaned_quat_turns_then_pitches_forward():
    from exoactor.rotations import quat_apply

    q = leaned_quat(0.7, 0.4)
    x = quat_apply(q[None], np.array([[1.0, 0.0, 0.0]]))[0]
    assert np.allclose(x, [np.cos(0.4) * np.cos(0.7), np.cos(0.4) * np.sin(0.7), -np.sin(0.4)])
    assert np.allclose(leaned_quat(0.0, 0.0), [1, 0, 0, 0])


def test_seated_posture_draws_the_legs_and_waist_only():
    names = ["left_hip_pitch_joint", "right_knee_joint", "waist_pitch_joint", "waist_yaw_joint",
             "left_elbow_joint"]
    q = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    assert np.array_equal(seated_posture(names, q, 0.6, 0.0), q)
    full = seated_posture(names, q, 0.6, 1.0)
    assert np.allclose(full, [SEATED_LEGS_RAD["hip_pitch"], SEATED_LEGS_RAD["knee"], 0.6, 0.0,
                              0.5])
    assert np.allclose(seated_posture(names, q, 0.6, 0.5), (q + full) / 2)


def test_the_sit_down_pose_puts_the_pelvis_on_the_seat_point_with_the_feet_held():
    """Kinematics of the solved reference on a synthetic stool whose seat is 0.12 m behind the
    person's seated pelvis (as on the bench clip, the seat moved back so the legs stay out)."""
    pytest.importorskip("mink")
    import mujoco
    from scene_synthetic import sit_reference

    from exoactor.formats.scene import Scene
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_qpos
    from exoactor.scene.config import ContactRefConfig, SitDownConfig
    from exoactor.scene.contact_ref import _Contact, _sit_down_plan, adjust_for_seats
    from exoactor.scene.infer import infer_scene

    motion = sit_reference(stand_s=0.5, down_s=1.5, seated_s=2.0, up_s=1.5, fps=25.0)
    seat = [o for o in infer_scene(motion).objects if o.kind == "seat"][0]
    c, f, _ = seat.footprint_axes()
    xy = c - 0.12 * f
    seat = seat.model_copy(update={"pose": ObjectPose(pos=(float(xy[0]), float(xy[1]),
                                                           seat.pose.pos[2]),
                                                      yaw_rad=seat.pose.yaw_rad)})
    scene = Scene(fps=motion.fps, objects=(seat,))
    cfg = ContactRefConfig(variants=(), press_m=0.13, com_cost=0.0, com_to_feet=0.0,
                           pelvis_xy_cost=20.0, posture_cost=1.0, sit_down=SitDownConfig(),
                           iterations=20)
    res = adjust_for_seats(motion, scene, cfg)
    assert res.motion is not motion
    robot = get_robot("g1")
    plan = _sit_down_plan(motion_qpos(robot, motion), seat, motion.fps, cfg)
    first, last = plan.descent
    a, b = seat.evidence[0]
    assert first < a and last - first >= round(1.5 * motion.fps) - 1
    q = motion_qpos(robot, res.motion)
    q0 = motion_qpos(robot, motion)
    m, d = robot.model, mujoco.MjData(robot.model)
    contact = _Contact(m)
    feet = [m.body(n).id for n in ("left_ankle_roll_link", "right_ankle_roll_link")]
    d.qpos[:] = q0[first]
    mujoco.mj_kinematics(m, d)
    feet0 = d.xpos[feet].copy()
    seated = range(last, b + 1)
    for t in seated:
        d.qpos[:] = q[t]
        mujoco.mj_kinematics(m, d)
        assert abs(contact.z(d, seat) - (seat.top_z - 0.13)) < 0.01, t
        assert np.linalg.norm(d.xpos[feet] - feet0, axis=1).max() < 0.04, t
    # the pelvis over the seat's centre (0.20 m behind the front edge), within the IK's reach
    along = (q[list(seated), :2] - c) @ f - (-0.12)
    assert np.all(np.abs(along) < 0.08), along
    # the torso leans forward at the end of the descent, less once settled
    torso = m.body("torso_link").id

    def lean(t):
        d.qpos[:] = q[t]
        mujoco.mj_kinematics(m, d)
        R = d.xmat[torso].reshape(3, 3)
        return np.degrees(np.arctan2(R[:2, 2] @ f, R[2, 2]))

    assert lean(last) > 20.0 and lean(last) - lean(b) > 10.0
    # the descent is monotone in the pelvis height (not the person's own, shorter descent)
    zs = q[first:last + 1, 2]
    assert np.all(np.diff(zs) < 0.01)


@pytest.mark.slow
def test_the_sit_down_seats_the_tracked_robot_on_a_synthetic_stool():
    """Physics: the default sit-down variant, tracked (the objects stage's rollout, drift
    correction off) on the stool the scene rule infers, is seated most of the phase without a
    fall. Measured: no fall, seated 94 %, load 74 % (2 CPUs)."""
    pytest.importorskip("mink")
    from scene_synthetic import sit_reference

    from exoactor.control.drift import DriftConfig
    from exoactor.control.track import TrackConfig
    from exoactor.formats.scene import Scene
    from exoactor.scene.config import DEFAULT_VARIANTS, ContactRefConfig
    from exoactor.scene.contact_ref import adjust_for_seats
    from exoactor.scene.infer import infer_scene
    from exoactor.scene.place import _trial

    motion = sit_reference(stand_s=0.5, down_s=1.5, seated_s=3.0, up_s=1.5)
    seats = [o for o in infer_scene(motion).objects if o.kind == "seat"]
    assert seats
    seat = seats[0]
    scene = Scene(fps=motion.fps, objects=(seat,))
    v = [x for x in DEFAULT_VARIANTS if x.sit_down is not None]
    assert len(v) == 1
    cfg = ContactRefConfig().model_copy(update={k: getattr(v[0], k)
                                                for k in type(v[0]).model_fields if k != "name"})
    ref = adjust_for_seats(motion, scene, cfg).motion
    track = TrackConfig().model_copy(update={"drift": DriftConfig(enabled=False)})
    phase = (seat.evidence[0][0] / motion.fps, seat.evidence[0][1] / motion.fps)
    trial = _trial(ref, scene, seat, track, "sit-down", 0.0, phase).trial
    assert not trial.fell, trial.summary()
    assert trial.seated_fraction >= 0.5, trial.summary()
