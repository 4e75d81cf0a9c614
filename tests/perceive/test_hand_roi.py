"""Hands placed by the body (MediaPipe Holistic's chain, ``hand_roi="pose"``) against the palm
detector on wrist crops (``"palm"``), on real frames of generated task clips
(``../shared/footage``); the body observations do not depend on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.perceive import detect
from exoactor.perceive.config import MediaPipeConfig, PerceiveConfig
from exoactor.perceive.video import open_video

FOOTAGE = Path(__file__).resolve().parents[3] / "shared" / "footage"
RAISE = "gen_genmimic_raise_arms_and_grab_from_side.mp4"
FOLD = "gen_genmimicbench_s1_A_office_fold_arms_wave.mp4"
CFG = MediaPipeConfig()


def _frames(path: Path, start: int, count: int) -> list[np.ndarray]:
    """``count`` RGB frames of ``path`` from frame ``start`` (the project's own reader)."""
    from itertools import islice

    from exoactor.perceive.video import iter_frames, open_video, trim_start

    if not path.is_file():
        pytest.fail(f"{path} missing: the shared task videos (../shared/footage beside the "
                    "checkout) are part of the test data")
    out = [f.rgb for f in islice(iter_frames(trim_start(open_video(path), start)), count)]
    assert len(out) == count
    return out


def _both_ways(frames: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """``(2, 21, 2)`` hand landmarks [px] per frame by each placement (the body from the
    video-mode pose graph on the whole frame)."""
    pose_graph = detect.open_pose(True, 0.5)
    palm = detect.open_hands(CFG.hand_min_detection_confidence)
    by_pose = detect.open_hands_from_pose()
    out: dict[str, list[np.ndarray]] = {"palm": [], "pose": []}
    try:
        for f in frames:
            h, w = f.shape[:2]
            person = detect.run_pose(pose_graph, f, (0, 0), (w, h), (w, h))
            assert person is not None
            out["palm"].append(detect.hands_on_wrists(palm, f, person, CFG)[0])
            out["pose"].append(detect.hands_from_pose(by_pose, f, person, CFG)[0])
    finally:
        for g in (pose_graph, palm, *by_pose):
            g.close()
    return out


def _found(px: np.ndarray) -> np.ndarray:
    return np.isfinite(px).all(axis=(-1, -2))


def _palm_length(px: np.ndarray) -> float:
    """Mean wrist-to-middle-knuckle length of the hands found [px]."""
    ok = _found(px)
    return float(np.linalg.norm(px[ok, 0] - px[ok, 9], axis=-1).mean())


def test_folded_arms_give_each_wrist_its_own_hand() -> None:
    """Arms folded (fold_arms_wave frames 30-59): the palm detector in the crop past one wrist
    finds the other, more visible hand in many frames (positive control), so both sides hold
    the same hand; hands placed by the body never do."""
    hands = _both_ways(_frames(FOOTAGE / FOLD, 30, 30))
    same = {}
    for how, per_frame in hands.items():
        same[how] = sum(
            1 for px in per_frame if _found(px).all()
            and np.linalg.norm(px[0].mean(0) - px[1].mean(0)) < _palm_length(px))
    assert same["palm"] >= 5, same
    assert same["pose"] == 0, same
    # the visible hand is still found by the body's placement
    assert sum(_found(px).any() for px in hands["pose"]) >= 25


def test_open_hands_are_found_where_the_palm_detector_finds_them() -> None:
    """raise_arms frames 20-59 (a man raising his arms, hands free): both placements find
    about as many hands, and the same hands (landmarks within a third of a palm length)."""
    hands = _both_ways(_frames(FOOTAGE / RAISE, 20, 40))
    found = {how: int(sum(_found(px).sum() for px in v)) for how, v in hands.items()}
    assert found["palm"] >= 30, found
    assert found["pose"] >= 0.8 * found["palm"], found
    err = []
    for a, b in zip(hands["palm"], hands["pose"]):
        for side in np.flatnonzero(_found(a) & _found(b)):
            size = np.linalg.norm(a[side, 0] - a[side, 9])
            err.append(np.linalg.norm(a[side] - b[side], axis=-1).mean() / size)
    assert len(err) >= 20
    assert np.median(err) < 0.33, np.median(err)


def test_the_body_does_not_depend_on_how_hands_are_placed(clips: dict[str, Path]) -> None:
    """The backend's body observations are bit-identical with either placement; hands are
    found with both."""
    from exoactor.perceive.backends.mediapipe import MediaPipeBackend

    obs = {}
    for how in ("pose", "palm"):
        backend = MediaPipeBackend(MediaPipeConfig(hand_roi=how), stage=PerceiveConfig())
        obs[how] = backend.estimate(open_video(clips["short"]), hands=True)
        assert obs[how].notes["hand_roi"] == how
        assert (obs[how].hand_score > 0).any(), how
    for key in ("detected", "kp_px", "kp_vis", "kp_rel_c"):
        assert np.array_equal(getattr(obs["pose"], key), getattr(obs["palm"], key),
                              equal_nan=True), key
