"""Bad input gets a clear error or a documented repair, never a silent garbage pose."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.errors import InvalidMotionFile
from exoactor.formats import HumanMotion, save_npz
from exoactor.retarget import RetargetConfig, retarget, retarget_file

FAST = RetargetConfig(output_fps=None)


def _drop_joint(human: HumanMotion, name: str) -> HumanMotion:
    keep = [i for i, n in enumerate(human.joint_names) if n != name]
    return human.replace(joint_names=tuple(human.joint_names[i] for i in keep),
                         joints=human.joints[:, keep], confidence=human.confidence[:, keep])


def test_nan_frames_are_refused_with_field_and_frame(walk_human, tmp_path) -> None:
    path = tmp_path / "human.npz"
    save_npz(walk_human, path)
    data = dict(np.load(path))
    data["joints"][7, 3] = np.nan
    np.savez(path, **data)
    with pytest.raises(InvalidMotionFile, match=r"human.npz: field 'joints' frame 7 .*NaN"):
        retarget_file(path, tmp_path / "robot.npz", FAST)
    assert not (tmp_path / "robot.npz").exists()


def test_zero_length_is_refused(walk_human, tmp_path) -> None:
    path = tmp_path / "human.npz"
    save_npz(walk_human, path)
    data = {k: (v[:0] if v.ndim and v.shape[0] == walk_human.num_frames else v)
            for k, v in np.load(path).items()}
    np.savez(path, **data)
    with pytest.raises(InvalidMotionFile, match="0 frames"):
        retarget_file(path, tmp_path / "robot.npz", FAST)


def test_missing_required_joint_is_named(walk_human) -> None:
    with pytest.raises(InvalidMotionFile, match="lacks 'left_knee'.*BODY_33"):
        retarget(_drop_joint(walk_human, "left_knee"), FAST)


def test_missing_optional_joints_are_dropped(walk_human) -> None:
    human = _drop_joint(_drop_joint(walk_human, "nose"), "left_thumb")
    res = retarget(human, FAST)
    assert set(res.metrics.extras["dropped_keypoints"]) == {"nose", "left_thumb"}
    assert res.metrics.keypoint_error_mm["median"] < 20.0


def test_short_gaps_are_interpolated(walk_human) -> None:
    valid = walk_human.valid.copy()
    valid[20:26] = False
    joints = walk_human.joints.copy()
    joints[20:26] = 0.0  # what a failed detection might leave behind
    conf = walk_human.confidence.copy()
    conf[40:43, walk_human.joint_names.index("right_elbow")] = 0.0
    clean = retarget(walk_human, FAST)
    res = retarget(walk_human.replace(valid=valid, joints=joints, confidence=conf), FAST)
    assert res.metrics.extras["invalid_frames"] == 6
    assert res.metrics.extras["filled_frames"]["right_elbow"] == 6   # the invalid frames
    assert res.metrics.extras["low_confidence_frames"]["right_elbow"] == 3
    assert np.abs(res.motion.dof_pos - clean.motion.dof_pos).max() < 0.25
    assert np.abs(res.motion.root_pos - clean.motion.root_pos).max() < 0.03


def test_long_invalid_runs_are_refused(walk_human) -> None:
    valid = walk_human.valid.copy()
    valid[10:40] = False
    with pytest.raises(InvalidMotionFile, match=r"'valid' frame 10 is False for 1\.0\d s "
                                                r"\(frames 10-39\).*max_gap_s") as info:
        retarget(walk_human.replace(valid=valid), FAST)
    assert info.value.frame == 10


def test_long_occlusions_keep_the_estimate_at_low_weight(walk_human) -> None:
    """An occluded elbow (low confidence for 1 s, the estimator still placing it) is kept at
    reduced weight; garbage in its place breaks its bones: interpolated over a short gap,
    refused over a long one."""
    conf = walk_human.confidence.copy()
    e = walk_human.joint_names.index("left_elbow")
    conf[10:40, e] = 0.1
    res = retarget(walk_human.replace(confidence=conf), FAST)
    assert res.metrics.extras["low_confidence_frames"] == {"left_elbow": 30}
    assert res.metrics.keypoint_error_mm["median"] < 20.0
    joints = walk_human.joints.copy()
    joints[10:40, e] = 0.0
    with pytest.raises(InvalidMotionFile, match=r"'left_elbow' is missing or broken for 1\.0\d s "
                                                r"\(frames 10-39\)") as info:
        retarget(walk_human.replace(confidence=conf, joints=joints), FAST)
    assert info.value.frame == 10
    joints[20:40, e] = walk_human.joints[20:40, e]  # garbage in frames 10-19 only: 0.33 s
    res = retarget(walk_human.replace(confidence=conf, joints=joints), FAST)
    assert res.metrics.extras["filled_frames"] == {"left_elbow": 10}
    assert res.metrics.keypoint_error_mm["median"] < 20.0


def test_person_far_off_the_ground(walk_human) -> None:
    high = walk_human.replace(joints=walk_human.joints + [0.0, 0.0, 1.5],
                              root_pos=walk_human.root_pos + [0.0, 0.0, 1.5])
    with pytest.raises(InvalidMotionFile, match=r"\+1\.5\d\d m from the ground.*reground"):
        retarget(high, FAST)
    res = retarget(high, FAST.model_copy(update={"reground": True}))
    assert res.metrics.extras["regrounded"]
    assert res.metrics.foot_float_mm <= 10.0 and res.metrics.foot_penetration_mm <= 5.0
    assert res.motion.root_pos[:, 2].max() < 0.9


def test_missing_contacts_are_detected(walk_human) -> None:
    res = retarget(walk_human.replace(foot_contact=np.zeros_like(walk_human.foot_contact)), FAST)
    assert res.metrics.extras["contacts_detected"]
    assert res.metrics.contact_frames > 0.5 * res.metrics.num_frames
    assert res.metrics.foot_skate_mm <= 5.0


def test_single_frame(walk_human) -> None:
    one = walk_human.replace(**{k: getattr(walk_human, k)[:1] for k in
                                ("joints", "confidence", "root_pos", "root_quat", "foot_contact",
                                 "valid")})
    res = retarget(one, RetargetConfig())
    assert res.motion.num_frames == 1
    assert res.metrics.keypoint_error_mm["median"] < 20.0
