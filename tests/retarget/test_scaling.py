"""Per-segment scaling: identity on the robot, undoes a uniformly larger person, keeps angles."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.errors import InvalidMotionFile
from exoactor.retarget.scaling import (
    BONES,
    bone_lengths,
    scale_keypoints,
    segment_scales,
    with_virtual_nodes,
)


def _robot_lengths(rmodel):
    return bone_lengths(rmodel.rest_keypoint_pos_w[None], rmodel.corr.keypoint_names)


def test_robot_scales_to_itself(rmodel, walk_human) -> None:
    names = rmodel.corr.keypoint_names
    pts = rmodel.fk(rmodel.rest_qpos[None]).keypoint_pos_w
    s = segment_scales(bone_lengths(pts, names), _robot_lengths(rmodel))
    assert all(v == pytest.approx(1.0) for v in s.segment.values())
    np.testing.assert_allclose(scale_keypoints(pts, names, s), pts, atol=1e-12)
    assert len(s.segment) == len({b.segment for b in BONES})


def test_uniformly_larger_person_is_scaled_back(rmodel) -> None:
    names = rmodel.corr.keypoint_names
    pts = np.stack([rmodel.rest_keypoint_pos_w, rmodel.rest_keypoint_pos_w + [0.3, 0.1, 0.0]])
    big = 1.3 * pts
    s = segment_scales(bone_lengths(big, names), _robot_lengths(rmodel))
    assert all(v == pytest.approx(1 / 1.3) for v in s.segment.values())
    assert s.root == pytest.approx(1 / 1.3)
    out = scale_keypoints(big, names, s)
    # relative to the root, the robot's proportions come back; the root moves 0.3 m / 1.3 * 1.3
    rel_out = out - out[:, :1]
    rel_ref = pts - pts[:, :1]
    np.testing.assert_allclose(rel_out, rel_ref, atol=1e-9)
    np.testing.assert_allclose(out[1, 0, :2] - out[0, 0, :2], [0.3, 0.1], atol=1e-9)


def test_bone_directions_are_kept(rmodel) -> None:
    names = rmodel.corr.keypoint_names
    rng = np.random.default_rng(1)
    pts = rmodel.rest_keypoint_pos_w[None] + 0.03 * rng.normal(size=(4, len(names), 3))
    s = segment_scales(bone_lengths(pts, names), _robot_lengths(rmodel))
    out = scale_keypoints(pts, names, s)
    a, an = with_virtual_nodes(pts, names)
    b, _ = with_virtual_nodes(out, names)
    for bone in BONES:
        i, j = an.index(bone.parent), an.index(bone.child)
        u = a[:, j] - a[:, i]
        v = b[:, j] - b[:, i]
        cos = np.sum(u * v, -1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
        np.testing.assert_allclose(cos, 1.0, atol=1e-12)


def test_keypoints_in_millimetres_are_refused(rmodel) -> None:
    names = rmodel.corr.keypoint_names
    mm = 1000.0 * rmodel.rest_keypoint_pos_w[None]
    with pytest.raises(InvalidMotionFile, match="keypoints must be a person in metres"):
        segment_scales(bone_lengths(mm, names), _robot_lengths(rmodel), "h.npz")


def test_small_hands_of_a_small_person_are_clamped_not_refused(rmodel, caplog) -> None:
    """A person small in the frame: hand landmarks a few pixels from the wrist give a hand
    segment 3x too short; the retarget goes on with the hand scaled at most 2x the legs."""
    names = rmodel.corr.keypoint_names
    pts = rmodel.rest_keypoint_pos_w.copy()
    for side in ("left", "right"):
        if f"{side}_wrist" not in names:
            pytest.skip("no wrist correspondence")
        w = pts[names.index(f"{side}_wrist")]
        for k in ("index", "pinky", "thumb"):
            if f"{side}_{k}" in names:
                i = names.index(f"{side}_{k}")
                pts[i] = w + 0.3 * (pts[i] - w)
    s = segment_scales(bone_lengths(pts[None], names), _robot_lengths(rmodel))
    if "hand" not in s.segment:
        pytest.skip("no hand segment in the correspondence")
    assert s.segment["hand"] == pytest.approx(2.0 * s.root)
    assert s.segment["thigh"] == pytest.approx(1.0)
    assert "small segment" in caplog.text
