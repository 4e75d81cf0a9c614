"""The keypoint correspondence: validated against the model, rigid frames, sites in place."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np
import pytest

from exoactor.errors import UnknownName
from exoactor.retarget.correspondence import (
    CORRESPONDENCES,
    G1_CORRESPONDENCE,
    validate_correspondence,
)
from exoactor.skeleton import BODY_33


@pytest.mark.parametrize("robot", sorted(CORRESPONDENCES))
def test_every_table_validates_against_its_model(robot: str, shared_assets) -> None:
    from exoactor.retarget.model import RetargetModel

    rm = RetargetModel(robot)
    assert len(rm.site_ids) == len(rm.corr.keypoints)
    assert np.all(rm.site_ids >= 0)


def test_g1_maps_every_mediapipe_keypoint() -> None:
    assert sorted(G1_CORRESPONDENCE.keypoint_names) == sorted(BODY_33)


def test_unknown_body_lists_the_model_bodies(rmodel) -> None:
    bad = dataclasses.replace(G1_CORRESPONDENCE, keypoints=(
        dataclasses.replace(G1_CORRESPONDENCE.keypoints[0], body="head_link"),
        *G1_CORRESPONDENCE.keypoints[1:]))
    with pytest.raises(UnknownName, match="head_link.*bodies: pelvis, left_hip_pitch_link"):
        validate_correspondence(bad, rmodel.robot.body_names, "g1.xml")


def test_unknown_keypoint_is_refused(rmodel) -> None:
    bad = dataclasses.replace(G1_CORRESPONDENCE, keypoints=(
        dataclasses.replace(G1_CORRESPONDENCE.keypoints[0], keypoint="chin"),
        *G1_CORRESPONDENCE.keypoints[1:]))
    with pytest.raises(UnknownName, match="'chin' is not a human keypoint"):
        validate_correspondence(bad, rmodel.robot.body_names, "g1.xml")


def test_sites_sit_at_their_offsets_and_frames_are_rigid(rmodel) -> None:
    """In random poses every site is body origin + R @ offset, and every keypoint frame times
    its calibrated offset is its body's orientation (so frames use points of one body)."""
    m = rmodel.model
    data = mujoco.MjData(m)
    rng = np.random.default_rng(0)
    lo, hi = rmodel.robot.joint_limits.T
    for _ in range(5):
        q = rmodel.rest_qpos.copy()
        q[rmodel.robot.qpos_adr] = rng.uniform(lo, hi)
        q[3:7] = rng.normal(size=4)
        q[3:7] /= np.linalg.norm(q[3:7])
        data.qpos[:] = q
        mujoco.mj_kinematics(m, data)
        pts = data.site_xpos[rmodel.site_ids]
        R = data.xmat[rmodel.keypoint_body_ids].reshape(-1, 3, 3)
        expect = data.xpos[rmodel.keypoint_body_ids] + np.einsum("kij,kj->ki", R,
                                                                 rmodel.keypoint_offset_b)
        np.testing.assert_allclose(pts, expect, atol=1e-9)
        for fi, frame in enumerate(rmodel.corr.frames):
            R_frame = rmodel.keypoint_frame(pts[None], frame)[0] @ rmodel.frame_offset[fi]
            np.testing.assert_allclose(R_frame, data.xmat[rmodel.frame_body_ids[fi]].reshape(3, 3),
                                       atol=1e-9)


def test_rest_pose_stands_on_the_ground(rmodel) -> None:
    pts = rmodel.fk(rmodel.rest_qpos[None])
    np.testing.assert_allclose(pts.sole_height_m, 0.0, atol=1e-9)
    assert rmodel.ankle_height_m == pytest.approx(0.035)
