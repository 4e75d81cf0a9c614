"""The local diffusers generator on tiny randomly initialised pipelines (built from configs,
saved to and reloaded from local folders): every family end to end, shapes, native fps,
resampling, reproducible seeds, and the CUDA -> CPU fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.imagine.errors import DeviceUnavailable, ImagineError, ModelLoadError
from exoactor.imagine.video.base import VideoRequest
from exoactor.imagine.video.clip import conform_clip, read_frames
from exoactor.imagine.video.diffusers_video import (
    FAMILIES,
    DiffusersVideoConfig,
    DiffusersVideoGenerator,
    detect_family,
    snap_frames,
)

pytest.importorskip("diffusers")

SIZES = {"wan-t2v": 16, "wan21-i2v": 16, "wan22-ti2v": 32, "ltx-i2v": 32, "cogvideox-i2v": 16}
EXPECTED = {"wan-t2v": "wan", "wan21-i2v": "wan-i2v", "wan22-ti2v": "wan22-ti2v",
            "ltx-i2v": "ltx", "cogvideox-i2v": "cogvideox"}


def _gen(folder: Path, size: int, **kw) -> DiffusersVideoGenerator:  # noqa: ANN003
    return DiffusersVideoGenerator(DiffusersVideoConfig(**{
        "model": str(folder), "steps": 2, "num_frames": 9, "height_px": size, "width_px": size,
        "max_sequence_length": 16, "device": "cpu", **kw}))


@pytest.mark.parametrize("name", list(SIZES))
def test_family_end_to_end(name: str, tiny_models, scene_png: Path, tmp_path: Path) -> None:  # noqa: ANN001
    size = SIZES[name]
    gen = _gen(tiny_models(name), size)
    clip = gen.generate(VideoRequest(prompt="the person walks to the chair", image=scene_png,
                                     seed=3), tmp_path / "native.mp4", tmp_path)
    family = EXPECTED[name]
    assert clip.notes["family"] == family and clip.fps == FAMILIES[family].fps
    assert (clip.num_frames, clip.height_px, clip.width_px) == (9, size, size)
    frames, fps = read_frames(clip.path)
    assert frames.shape == (9, size, size, 3) and fps == pytest.approx(clip.fps)
    out = conform_clip(clip.path, tmp_path / "video.mp4", 30.0, clip.fps)
    assert out.fps == 30.0 and out.num_frames == round(9 * 30.0 / clip.fps)
    assert out.duration_s == pytest.approx(9 / clip.fps, abs=1 / 30)


def test_seed_reproducible_and_distinct(tiny_models, scene_png: Path, tmp_path: Path) -> None:  # noqa: ANN001
    gen = _gen(tiny_models("cogvideox-i2v"), 16)
    runs = []
    for i, seed in enumerate((1, 1, 2)):
        clip = gen.generate(VideoRequest(prompt="the person sits", image=scene_png, seed=seed),
                            tmp_path / f"c{i}.mp4", tmp_path)
        runs.append(read_frames(clip.path)[0])
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_cuda_request_falls_back_to_cpu_with_a_message(tiny_models, scene_png: Path,  # noqa: ANN001
                                                       tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: nothing to fall back from")
    gen = _gen(tiny_models("cogvideox-i2v"), 16).config.model_copy(
        update={"device": "cuda"})
    clip = DiffusersVideoGenerator(gen).generate(
        VideoRequest(prompt="the person waves", image=scene_png), tmp_path / "c.mp4", tmp_path)
    assert clip.notes["device"] == "cpu" and clip.notes["fell_back_to_cpu"]
    strict = DiffusersVideoGenerator(gen.model_copy(update={"allow_cpu_fallback": False}))
    with pytest.raises(DeviceUnavailable, match="sees no CUDA GPU"):
        strict.generate(VideoRequest(prompt="x", image=scene_png), tmp_path / "d.mp4", tmp_path)


def test_bad_model_folders(tmp_path: Path) -> None:
    with pytest.raises(ImagineError, match="needs a model"):
        DiffusersVideoGenerator()
    gen = DiffusersVideoGenerator(DiffusersVideoConfig(model=str(tmp_path / "nope")))
    with pytest.raises(ModelLoadError, match="no such model folder"):
        gen.generate(VideoRequest(prompt="x"), tmp_path / "c.mp4", tmp_path)


def test_family_detection_and_frame_rule() -> None:
    assert detect_family({"_class_name": "WanPipeline", "expand_timesteps": True}, True) == \
        "wan22-ti2v"
    assert detect_family({"_class_name": "WanImageToVideoPipeline",
                          "image_encoder": ["transformers", "CLIPVisionModel"]}, True) == "wan-i2v"
    assert detect_family({"_class_name": "LTXPipeline"}, True) == "ltx"
    with pytest.raises(ModelLoadError, match="I2V checkpoint"):
        detect_family({"_class_name": "CogVideoXPipeline"}, True)
    with pytest.raises(ModelLoadError, match="not a supported video family"):
        detect_family({"_class_name": "StableDiffusionPipeline"}, True)
    assert snap_frames(80, 4, 81) == 81 and snap_frames(500, 4, 81) == 81
    assert snap_frames(40, 8, 121) == 41 and snap_frames(1, 4, 49) == 5
