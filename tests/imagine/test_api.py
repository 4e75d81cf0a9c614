"""Command-line entry points: flags and an options file become one ImagineConfig."""

from __future__ import annotations

from pathlib import Path

import pytest

import exoactor.imagine as imagine_pkg
from exoactor.errors import ExoActorError
from exoactor.imagine.api import build_config


def test_public_names_exist() -> None:
    for name in imagine_pkg.__all__:
        assert getattr(imagine_pkg, name) is not None, name


def test_flags_fill_backend_options(tmp_path: Path) -> None:
    cfg = build_config(video=tmp_path / "x.mp4")
    assert cfg.generator == "file" and cfg.generator_options == {"path": str(tmp_path / "x.mp4")}
    cfg = build_config(generator="diffusers", model="/models/wan", device="cuda", editor="diffusers",
                       editor_model="/models/kontext", candidates=3, seed=7)
    assert cfg.generator_options == {"model": "/models/wan", "device": "cuda"}
    assert cfg.editor_options == {"model": "/models/kontext", "device": "cuda"}
    assert (cfg.candidates, cfg.seed) == (3, 7)


def test_options_file_then_flags(tmp_path: Path) -> None:
    opts = tmp_path / "imagine.toml"
    opts.write_text('generator = "kling"\ncandidates = 2\n[generator_options]\nmode = "pro"\n'
                    '[checks]\nsamples = 4\n')
    cfg = build_config(options=opts, candidates=4)
    assert cfg.generator == "kling" and cfg.generator_options == {"mode": "pro"}
    assert cfg.candidates == 4 and cfg.checks.samples == 4
    with pytest.raises(ExoActorError, match="no such options file"):
        build_config(options=tmp_path / "missing.toml")
