"""Fixtures of the imagine tests: loopback-only hosted backends, fake provider servers, short
clips cut from the real sample clip, a real scene frame, tiny diffusers pipelines on disk."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .fakes import API_KEY, KLING_AK, KLING_SK, FakeServer, FakeState


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hosted backends may only reach 127.0.0.0/8; keys come from the test's own env; the
    hub is offline; no user secrets file is read."""
    monkeypatch.setenv("EXOACTOR_LOOPBACK_ONLY", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("EXOACTOR_SECRETS", str(tmp_path_factory.getbasetemp() / "no-secrets.toml"))
    for name in ("OPENAI_BASE_URL", "EXOACTOR_PLANNER_MODEL", "OPENAI_API_KEY", "GEMINI_API_KEY",
                 "KLING_ACCESS_KEY", "KLING_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake servers' keys in the environment."""
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    monkeypatch.setenv("KLING_ACCESS_KEY", KLING_AK)
    monkeypatch.setenv("KLING_SECRET_KEY", KLING_SK)


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", *args], check=True)


@pytest.fixture(scope="session")
def short_clip(sample_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s of the real sample clip (3.0-5.0 s: the man on the box and the woman walking
    past, two people), 480 px wide, 30 fps."""
    out = tmp_path_factory.mktemp("clips") / "short_30fps.mp4"
    _ffmpeg("-ss", "3.0", "-i", str(sample_clip), "-t", "2.0", "-vf", "scale=480:-2",
            "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "30", str(out))
    return out


@pytest.fixture(scope="session")
def clip_16fps(short_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same 2 s at 16 fps (a Wan-like native rate)."""
    out = tmp_path_factory.mktemp("clips") / "short_16fps.mp4"
    _ffmpeg("-i", str(short_clip), "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "16",
            str(out))
    return out


@pytest.fixture(scope="session")
def scene_png(sample_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real scene photo: the sample clip's first frame, 480 px wide."""
    out = tmp_path_factory.mktemp("scene") / "scene.png"
    _ffmpeg("-i", str(sample_clip), "-frames:v", "1", "-vf", "scale=480:-2", str(out))
    return out


@pytest.fixture
def fake(short_clip: Path):  # noqa: ANN201
    """A fresh fake provider server serving the short clip as every generated video."""
    with FakeServer(FakeState(video=short_clip.read_bytes())) as srv:
        yield srv


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Folder -> tiny pipeline folders, built on first request per family."""
    pytest.importorskip("diffusers")
    import torch

    from .tiny_pipelines import save_tiny

    # One thread: on a busy 2-core machine OpenMP's spinning threads make these tiny models
    # 50-100x slower (2 s instead of 20 ms per call).
    torch.set_num_threads(1)

    root = tmp_path_factory.mktemp("tiny_models")
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = save_tiny(name, root)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def single_person_clip(sample_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample clip's first 1.5 s: the man standing on the utility box, alone in view,
    head to feet (the woman walks in at about 1.7 s)."""
    out = tmp_path_factory.mktemp("clips") / "single_person.mp4"
    _ffmpeg("-ss", "0.0", "-i", str(sample_clip), "-t", "1.5", "-vf", "scale=480:-2",
            "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "30", str(out))
    return out


@pytest.fixture(scope="session")
def panning_clip(scene_png: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1.5 s pan across the real scene frame (a moving camera)."""
    import numpy as np
    from PIL import Image

    from exoactor.media import write_h264

    scene = np.asarray(Image.open(scene_png).convert("RGB"))
    h, w = scene.shape[:2]
    frames = [scene[:, x:x + w - 120] for x in np.linspace(0, 119, 45).astype(int)]
    return write_h264(frames, 30.0, tmp_path_factory.mktemp("clips") / "panning.mp4")
