"""Fixtures of the perceive tests: small clips cut from the real sample clip, synthetic bad
inputs, and one full run on the sample clip shared by the whole session."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

CROP = (350, 0, 1050, 700)
"""x0, y0, x1, y1 [px] of the sample clip around the man on the box (frames 80-120)."""


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    """Write RGB frames as an H.264 mp4."""
    import imageio.v2 as imageio

    with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=1,
                            output_params=["-pix_fmt", "yuv420p"]) as w:
        for f in frames:
            w.append_data(np.ascontiguousarray(f))
    return path


@pytest.fixture(scope="session")
def sample_frames(sample_clip: Path) -> list[np.ndarray]:
    """Frames 80-119 of the sample clip, cropped around the actor and shrunk to 480x480."""
    import cv2

    cap = cv2.VideoCapture(str(sample_clip))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 80)
    out = []
    x0, y0, x1, y1 = CROP
    for _ in range(40):
        ok, bgr = cap.read()
        assert ok
        rgb = cv2.cvtColor(bgr[y0:y1, x0:x1], cv2.COLOR_BGR2RGB)
        out.append(cv2.resize(rgb, (480, 480), interpolation=cv2.INTER_AREA))
    cap.release()
    return out


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory, sample_frames: list[np.ndarray],
          sample_clip: Path) -> dict[str, Path]:
    """Small test videos by name."""
    import cv2

    d = tmp_path_factory.mktemp("clips")
    out = {"short": write_clip(d / "short.mp4", sample_frames[:20]),
           "single": write_clip(d / "single.mp4", sample_frames[:1])}
    cap = cv2.VideoCapture(str(sample_clip))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 90)
    portrait = []
    for _ in range(16):
        _, bgr = cap.read()
        rgb = cv2.cvtColor(bgr[:, 450:950], cv2.COLOR_BGR2RGB)
        portrait.append(cv2.resize(rgb, (360, 716), interpolation=cv2.INTER_AREA))
    cap.release()
    out["portrait"] = write_clip(d / "portrait.mp4", portrait)
    rng = np.random.default_rng(0)
    out["noise"] = write_clip(d / "noise.mp4", [rng.integers(0, 255, (240, 320, 3), np.uint8)
                                                for _ in range(6)])
    out["vfr"] = d / "vfr.mp4"
    subprocess.run([_ffmpeg(), "-y", "-loglevel", "error", "-i", str(out["short"]), "-vf",
                    r"settb=1/1000,setpts=(N/30+0.012*mod(N\,3))/TB", "-fps_mode", "passthrough",
                    "-enc_time_base", "1/1000", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(out["vfr"])], check=True)
    out["empty"] = d / "empty.mp4"
    subprocess.run([_ffmpeg(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=black:s=64x64:r=30", "-frames:v", "0", "-c:v", "libx264",
                    str(out["empty"])], check=True)
    out["text"] = d / "notes.mp4"
    out["text"].write_text("this is not a video\n")
    return out


@pytest.fixture(scope="session")
def fast_config():
    """Settings for the small clips: no hands, no overlay."""
    from exoactor.perceive import PerceiveConfig

    return PerceiveConfig(hands=False, overlay=False)


@pytest.fixture(scope="session")
def perceived_sample(sample_clip: Path, tmp_path_factory: pytest.TempPathFactory):
    """One full run (hands, overlay) on the whole sample clip, shared by the session."""
    from exoactor.perceive import perceive_video

    out = tmp_path_factory.mktemp("sample") / "human.npz"
    return perceive_video(sample_clip, out)
