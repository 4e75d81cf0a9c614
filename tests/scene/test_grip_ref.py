"""The grip reference: the hands pressed into a carried box while they hold it."""

import numpy as np
import pytest
from scene_synthetic import lift_reference, reach_lift_reference

from exoactor.formats.scene import ObjectPose, Scene, SceneObject
from exoactor.scene.config import GripRefConfig
from exoactor.scene.grip_ref import (
    boxes_digest,
    grasp_frame,
    squeeze_for_boxes,
    squeeze_targets,
    squeeze_weight,
)
from exoactor.scene.infer import infer_scene

GRIP = GripRefConfig(enabled=True)  # the grip is off by default


def _fk(motion, bodies):
    import mujoco

    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_qpos

    robot = get_robot(motion.robot)
    m = robot.model
    d = mujoco.MjData(m)
    ids = [m.body(b).id for b in bodies]
    out = []
    for q in motion_qpos(robot, motion):
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        out.append(d.xpos[ids].copy())
    return np.array(out)


def test_squeeze_weight_starts_at_the_grasp_and_ramps_out_after_the_hold():
    w = squeeze_weight(100, 20, 60, 50.0, 0.2)
    assert not w[:21].any()                       # nothing before or at the grasp
    assert np.all(np.diff(w[20:31]) >= 0) and w[30] == pytest.approx(1.0)
    assert np.allclose(w[30:61], 1.0)
    assert 0.0 < w[65] < 1.0 and w[71:].max() == 0.0


def test_squeeze_targets_move_each_hand_toward_the_other():
    hands = np.array([[[0.3, 0.15, 0.8], [0.3, -0.15, 0.8]]])
    out = squeeze_targets(hands, np.array([0.03]))
    assert np.allclose(out[0, 0], [0.3, 0.12, 0.8]) and np.allclose(out[0, 1], [0.3, -0.12, 0.8])
    assert np.allclose(squeeze_targets(hands, np.array([0.5]))[0], [[0.3, 0, 0.8]] * 2)


def test_grip_presses_the_hands_in_during_the_hold_and_moves_nothing_else():
    motion = lift_reference()
    scene = infer_scene(motion)
    found = [o for o in scene.objects if o.kind == "box"][0]
    a, b = found.evidence[0]
    box = found.model_copy(update={"evidence": ((a, b - 40),)})    # a hold that ends in the clip
    scene = scene.model_copy(update={"objects": tuple(box if o is found else o
                                                      for o in scene.objects)})
    res = squeeze_for_boxes(motion, scene, GripRefConfig(enabled=True, squeeze_m=0.03))
    hands = ("left_rubber_hand", "right_rubber_hand")
    held = ("left_ankle_roll_link", "right_ankle_roll_link", "pelvis", "torso_link")
    before, after = _fk(motion, hands + held), _fk(res.motion, hands + held)
    g = res.grasp_frames[0]
    hands_w = before[:, :2]
    assert g == grasp_frame(hands_w, box)
    assert np.abs(after[:g + 1] - before[:g + 1]).max() < 1e-9       # untouched up to the grasp
    on = res.weight > 0.999
    assert on.sum() > 10
    gap_before = np.linalg.norm(before[on, 0] - before[on, 1], axis=1)
    gap_after = np.linalg.norm(after[on, 0] - after[on, 1], axis=1)
    assert np.allclose(gap_before - gap_after, 0.06, atol=0.004)     # 3 cm per hand, inward
    assert np.abs(after[:, 2:] - before[:, 2:]).max() < 2e-3         # feet, pelvis, torso stay
    assert np.allclose(res.squeeze_m[on], 0.03, atol=0.002)
    end = box.evidence[0][1] + int(0.2 * motion.fps) + 1
    assert end < motion.num_frames - 10
    assert np.abs(after[end:] - before[end:]).max() < 1e-9           # and after the hold


def test_no_carried_box_leaves_the_reference_and_the_digest_as_they_are():
    motion = lift_reference()
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 0.0, 0.2)), size=(0.4, 0.4, 0.4),
                       evidence=((10, 20),))
    scene = Scene(source="test", objects=(seat,))
    res = squeeze_for_boxes(motion, scene, GRIP)
    assert res.motion is motion and not res.weight.any()
    assert boxes_digest(scene) == ""
    off = squeeze_for_boxes(motion, infer_scene(motion), GripRefConfig(enabled=False))
    assert off.motion is motion


def test_track_stage_follows_the_grip_reference_only_for_its_boxes(tmp_path):
    from exoactor.pipeline import RunDir
    from exoactor.runner import _save_seated, _seated_motion

    motion = lift_reference()
    scene = infer_scene(motion)
    grip = squeeze_for_boxes(motion, scene, GRIP).motion
    run = RunDir(tmp_path)
    _save_seated(run, grip, scene, "test")
    got = _seated_motion(run, scene)
    assert got is not None and np.allclose(got.dof_pos, grip.dof_pos)
    box = [o for o in scene.objects if o.kind == "box"][0]
    wider = box.model_copy(update={"size": (box.size[0], box.size[1] + 0.05, box.size[2])})
    edited = scene.model_copy(update={"objects": tuple(wider if o is box else o
                                                       for o in scene.objects)})
    assert _seated_motion(run, edited) is None       # an edited box: the retargeted motion


@pytest.mark.slow
def test_a_tracked_grip_lifts_the_inferred_box():
    """The cause of "reached but not lifted": a box as wide as the gap between the reference's
    hands is touched and never squeezed. A standing G1 under TWIST2 reaching for an inferred
    box and raising its hands 0.2 m: without the grip the box stays put (measured 0.002 m);
    with the default grip it is lifted and held."""
    from exoactor.control.drift import DriftConfig
    from exoactor.control.track import TrackConfig, track_motion
    from exoactor.scene.score import interaction_metrics

    motion = reach_lift_reference()
    scene = infer_scene(motion)
    assert [o.kind for o in scene.objects] == ["table", "box"]
    track = TrackConfig(scene=scene, drift=DriftConfig(enabled=False))
    lifted = {}
    for name, mot in (("plain", motion), ("grip", squeeze_for_boxes(motion, scene, GRIP).motion)):
        res = track_motion(mot, track)
        assert not res.metrics.fell
        inter = interaction_metrics(res.rollout, scene, fps=motion.fps)
        lifted[name] = [o for o in inter["objects"] if o["kind"] == "box"][0]
    assert lifted["plain"]["reached"]                            # both hands on it ...
    assert lifted["plain"]["lift_m"] < 0.02                      # ... and not lifted
    assert lifted["grip"]["succeeded"] and lifted["grip"]["lift_m"] > 0.05
