"""Scene editors: none, hosted OpenAI image edit and Gemini image (local fake server), and the
local diffusers editor's input checks. Every output has the scene image's size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from exoactor.errors import UnknownName
from exoactor.imagine.errors import ImagineError, MalformedResponse, ModelLoadError, NotLoopback
from exoactor.imagine.http import RetryPolicy
from exoactor.imagine.transfer import scene_editors
from exoactor.imagine.transfer.diffusers_edit import DiffusersEditConfig, DiffusersImageEditor
from exoactor.imagine.transfer.gemini_image import GeminiImageConfig, GeminiImageEditor
from exoactor.imagine.transfer.openai_edit import OpenAIEditConfig, OpenAIImageEditor

from .fakes import FakeServer

FAST = RetryPolicy(timeout_s=5.0, max_retries=1, backoff_s=0.0)


def test_none_copies_the_scene(scene_png: Path, tmp_path: Path) -> None:
    res = scene_editors.build("none", {}).edit(scene_png, "x", tmp_path / "h.png")
    with Image.open(res.path) as a, Image.open(scene_png) as b:
        assert a.size == b.size and np.array_equal(np.asarray(a), np.asarray(b.convert("RGB")))


def test_openai_edit(fake: FakeServer, keys: None, scene_png: Path, tmp_path: Path) -> None:
    fake.state.inject["image_edit"].append((500, {}, b"oops"))
    ed = OpenAIImageEditor(OpenAIEditConfig(base_url=f"{fake.url}/v1", retry=FAST))
    res = ed.edit(scene_png, "replace the robot", tmp_path / "human.png")
    with Image.open(res.path) as im, Image.open(scene_png) as ref:
        assert im.size == ref.size and im.getpixel((5, 5)) == (10, 200, 10)
    assert res.resized_from == (96, 72)
    _, path, headers, body = fake.state.requests[-1]
    assert path == "/v1/images/edits" and b'name="model"\r\n\r\ngpt-image-1' in body


def test_gemini_edit(fake: FakeServer, keys: None, scene_png: Path, tmp_path: Path) -> None:
    ed = GeminiImageEditor(GeminiImageConfig(base_url=f"{fake.url}/v1beta", retry=FAST))
    res = ed.edit(scene_png, "replace the robot", tmp_path / "human.png")
    with Image.open(res.path) as im:
        assert im.getpixel((5, 5)) == (10, 10, 200)
    req = json.loads(fake.state.requests[-1][3])
    assert req["contents"][0]["parts"][0]["text"] == "replace the robot"


def test_gemini_without_image_and_malformed(fake: FakeServer, keys: None, scene_png: Path,
                                            tmp_path: Path) -> None:
    ed = GeminiImageEditor(GeminiImageConfig(base_url=f"{fake.url}/v1beta", retry=FAST))
    text_only = {"candidates": [{"content": {"parts": [{"text": "I cannot edit this."}]}}]}
    fake.state.inject["gemini_image"].append((200, {}, json.dumps(text_only).encode()))
    with pytest.raises(MalformedResponse, match="no image"):
        ed.edit(scene_png, "x", tmp_path / "h.png")
    fake.state.inject["image_edit"].append((200, {}, b'{"data": [{"b64_json": "%%%"}]}'))
    with pytest.raises(MalformedResponse, match="b64_json"):
        OpenAIImageEditor(OpenAIEditConfig(base_url=f"{fake.url}/v1", retry=FAST)).edit(
            scene_png, "x", tmp_path / "h.png")


def test_hosted_editors_refuse_real_providers(keys: None, scene_png: Path, tmp_path: Path) -> None:
    for ed in (OpenAIImageEditor(), GeminiImageEditor()):
        with pytest.raises(NotLoopback):
            ed.edit(scene_png, "x", tmp_path / "h.png")


def test_diffusers_editor_needs_a_model_folder(scene_png: Path, tmp_path: Path) -> None:
    pytest.importorskip("diffusers")
    with pytest.raises(ImagineError, match="needs a model"):
        DiffusersImageEditor()
    with pytest.raises(ModelLoadError, match="no such model folder"):
        DiffusersImageEditor(DiffusersEditConfig(model=str(tmp_path / "missing"))).edit(
            scene_png, "x", tmp_path / "h.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="model_index.json"):
        DiffusersImageEditor(DiffusersEditConfig(model=str(tmp_path / "empty"))).edit(
            scene_png, "x", tmp_path / "h.png")


def test_diffusers_editor_on_a_tiny_pipeline(tiny_models, scene_png: Path, tmp_path: Path) -> None:  # noqa: ANN001
    cfg = DiffusersEditConfig(model=str(tiny_models("pix2pix-edit")), steps=2, max_side_px=32,
                              device="cpu")
    res = DiffusersImageEditor(cfg).edit(scene_png, "replace the robot with a person",
                                         tmp_path / "human.png")
    with Image.open(res.path) as im, Image.open(scene_png) as ref:
        assert im.size == ref.size
    assert res.resized_from == (32, 16) and res.notes["pipeline"] == \
        "StableDiffusionInstructPix2PixPipeline"
    again = DiffusersImageEditor(cfg).edit(scene_png, "replace the robot with a person",
                                           tmp_path / "again.png")
    assert res.path.read_bytes() == again.path.read_bytes()  # seeded


def test_unknown_editor_and_bad_options() -> None:
    with pytest.raises(UnknownName, match="available: diffusers, gemini, none, openai"):
        scene_editors.build("photoshop", {})
    with pytest.raises(Exception, match="Valid fields: base_url, model, size"):
        scene_editors.build("openai", {"colour": "red"})
