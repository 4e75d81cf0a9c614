"""Acceptance on the real sample clip (one shared run): tracking, identity, reprojection,
bone lengths, contacts, timings and the written files.

The clip: a man does jumping jacks and walks on a utility box (frames 0-165), flips off it
(166-187), lands on the grass to the right and crawls behind a tree (188-229); a woman walks
past in front of the box from right to left (frames ~60-229).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from exoactor.formats import HumanMotion, load_npz
from exoactor.skeleton import BODY_33

pytestmark = pytest.mark.slow  # perceives the real sample clip (about a minute on 2 cores)

_HIPS = [BODY_33.index("left_hip"), BODY_33.index("right_hip")]

# Where the man's hip centre is (by eye from the frames): on the box top his hips are above
# image row 480 (the woman's, walking on the ground in front, are below row 600); after
# landing he is right of column 950 (the woman is left of column 500 by then).
ON_BOX = range(166)
LANDED = range(188, 230)


@pytest.fixture(scope="module")
def run(perceived_sample):
    return perceived_sample


def test_actor_tracked_without_identity_switch(run) -> None:
    m = run.metrics
    assert m.detection_rate >= 0.95
    kp = load_npz(run.motion_path, expect=HumanMotion).extras["keypoints_px"]
    hip = kp[:, _HIPS].mean(1)
    det = run.motion.valid
    on_box = [t for t in ON_BOX if det[t]]
    landed = [t for t in LANDED if det[t]]
    assert (hip[on_box, 1] < 480).all()
    assert (hip[landed, 0] > 950).all()
    assert len(landed) >= 35


def test_accuracy_figures(run) -> None:
    m = run.metrics
    assert m.reprojection_error_px_median <= 8.0
    assert m.bone_length_variation_pct_max <= 5.0
    assert m.foot_skate_mm_per_frame <= 20.0
    assert m.contact_height_error_mm_p95 <= 30.0
    assert m.camera["static"]


def test_world_frame(run) -> None:
    m = run.motion
    lv = run.metrics.support_levels_m
    assert lv[0] == 0.0 and len(lv) == 2 and 1.0 < lv[1] < 2.5  # the ground and the box top
    assert np.allclose(m.root_pos[0, :2], 0.0, atol=1e-6)
    from scipy.spatial.transform import Rotation

    fwd = Rotation.from_quat(m.root_quat[:15], scalar_first=True).apply([1.0, 0.0, 0.0])
    assert np.mean(fwd[:, 0]) > 0.8  # starts facing +x
    feet = m.joints[:, [BODY_33.index("left_heel"), BODY_33.index("right_heel")], 2]
    assert feet[:160].min() > 1.0  # on the box
    assert abs(feet[195:].min()) < 0.15  # on the ground after the flip
    assert m.foot_contact.any(0).all()


def test_hands_and_grasp(run) -> None:
    m = run.motion
    assert m.hand_keypoints.shape == (230, 2, 21, 3) and np.isfinite(m.hand_keypoints).all()
    assert ((m.grasp >= 0) & (m.grasp <= 1)).all()
    wrist = m.joints[:, [BODY_33.index("left_wrist"), BODY_33.index("right_wrist")]]
    assert np.allclose(m.hand_keypoints[:, :, 0], wrist)
    assert run.metrics.hands["detection_rate"][1] > 0.2


def test_outputs_written(run) -> None:
    import cv2

    assert load_npz(run.motion_path, expect=HumanMotion).num_frames == 230
    cap = cv2.VideoCapture(str(run.overlay_path))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 230
    cap.release()
    data = json.loads(run.metrics_path.read_text())
    for key in ("detection_rate", "reprojection_error_px_median",
                "bone_length_variation_pct_mean", "foot_skate_mm_per_frame", "ms_per_frame",
                "config"):
        assert key in data
    assert data["config"]["backend"] == "mediapipe"
    assert run.metrics.seconds_per_video_second["body_and_grounding"] > 0
