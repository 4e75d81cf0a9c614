"""The perceive overlay video: drawn on every motion frame and encoded cheaply (it is written
inside the perceive stage, whose time is budgeted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exoactor.formats.motion import HumanMotion
from exoactor.media import write_h264
from exoactor.perceive.camera import intrinsics
from exoactor.perceive.overlay import write_overlay
from exoactor.perceive.video import open_video
from exoactor.skeleton import BODY_33


def _motion(T: int, K: np.ndarray) -> HumanMotion:
    rng = np.random.default_rng(0)
    joints = np.array([0.0, 0.0, 3.0]) + rng.uniform(-0.5, 0.5, (T, len(BODY_33), 3))
    return HumanMotion(fps=30.0, joint_names=BODY_33, joints=joints,
                       confidence=np.ones((T, len(BODY_33))), root_pos=joints[:, 23],
                       root_quat=np.tile([1.0, 0, 0, 0], (T, 1)),
                       foot_contact=np.zeros((T, 2)), valid=np.ones(T, bool), camera_K=K,
                       T_w_c=np.eye(4))


def test_the_overlay_draws_every_frame_and_uses_a_fast_encoder(tmp_path: Path) -> None:
    """Every motion frame is written (a repeated source frame twice), and the stream was
    encoded with x264's ultrafast preset and the cheap tools it turns off turned back on: x264
    records its settings in the stream (ultrafast: ``subme=0``, ``ref=1``, ``cabac=0``,
    ``bframes=0``, ``8x8dct=0``, ``deblock=0``; veryfast: ``subme=2``; the default medium:
    ``subme=7``, ``ref=3``; veryfast cost 2-2.6x the CPU of ultrafast on two task clips'
    overlays, medium 2.3-2.7x that of veryfast; the four tools halve ultrafast's file for
    5-10 % more CPU)."""
    T, w, h = 12, 640, 360
    frames = np.zeros((T, h, w, 3), np.uint8)
    frames[:] = np.linspace(0, 255, w, dtype=np.uint8)[None, None, :, None]
    write_h264(frames, 30.0, tmp_path / "clip.mp4")
    video = open_video(tmp_path / "clip.mp4")
    K = intrinsics(w, h, 60.0)
    index = np.concatenate([[0], np.arange(T - 1)])  # source frame 0 shown twice
    for width in (480, 200):  # bilinear (scale 0.75) and area averaging (0.31)
        out = write_overlay(video, index, _motion(T, K), tmp_path / f"o{width}.mp4", width)
        back = open_video(out)
        assert back.width_px == width // 2 * 2
        assert back.declared_frames == T
        data = out.read_bytes()
        settings = data[data.find(b"x264 - core"):][:1000]
        for word in (b"subme=0", b" ref=1 ", b"cabac=1", b"bframes=3", b"8x8dct=1",
                     b"deblock=1"):
            assert word in settings, (word, settings)


def _decode_threads() -> list:
    import threading

    return [t for t in threading.enumerate() if t.name == "exoactor-decode" and t.is_alive()]


def test_frames_decoded_ahead_give_the_same_overlay_and_are_released(tmp_path: Path) -> None:
    """The stage starts the overlay's decoding before it reconstructs the motion
    (:func:`decode_ahead`): the video is the same as one decoded in ``write_overlay``, and
    frames decoded ahead but never written stop their thread when closed."""
    import imageio.v2 as imageio

    from exoactor.perceive.overlay import decode_ahead

    T, w, h = 20, 320, 240
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 255, (T, h, w, 3), dtype=np.uint8)
    write_h264(frames, 30.0, tmp_path / "clip.mp4")
    video = open_video(tmp_path / "clip.mp4")
    motion = _motion(T, intrinsics(w, h, 60.0))
    index = np.arange(T)
    plain = write_overlay(video, index, motion, tmp_path / "plain.mp4", 200)
    ahead = decode_ahead(video, index, 200)
    early = write_overlay(video, index, motion, tmp_path / "early.mp4", 200, frames=ahead)
    a, b = (np.stack(imageio.mimread(p)) for p in (plain, early))
    assert a.shape == (T, 150, 200, 3) and np.array_equal(a, b)
    assert not _decode_threads()
    unused = decode_ahead(video, index, 200)
    assert _decode_threads()  # started at once, before anything is drawn
    unused.close()
    assert not _decode_threads()
