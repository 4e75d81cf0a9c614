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
    encoded with x264's ultrafast preset: x264 records its settings in the stream (ultrafast:
    ``subme=0``, ``cabac=0``, ``ref=1``; veryfast: ``subme=2``, ``cabac=1``; the default
    medium: ``subme=7``, ``ref=3``; veryfast cost 2.6-2.7x the CPU of ultrafast on two task
    clips' overlays, medium 2.3-2.7x that of veryfast)."""
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
        assert b"subme=0" in data and b"cabac=0" in data and b" ref=1 " in data, \
            data[data.find(b"x264"):][:300]
