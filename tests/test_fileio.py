"""Atomic writes and settings files (exoactor.fileio)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoactor.errors import ExoActorError
from exoactor.fileio import read_config_file, write_json


def test_settings_files_read_as_json_or_toml(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"track": {"controller": "twist2"}, "fps": 30})
    (tmp_path / "a.toml").write_text('fps = 30\n[track]\ncontroller = "twist2"\n')
    assert read_config_file(tmp_path / "a.json") == read_config_file(tmp_path / "a.toml")


def test_bad_settings_files_name_the_file_and_the_format(tmp_path: Path) -> None:
    with pytest.raises(ExoActorError, match=r"missing\.toml: no such options file"):
        read_config_file(tmp_path / "missing.toml", "options")
    (tmp_path / "bad.json").write_text("{fps: 30")
    with pytest.raises(ExoActorError, match=r"bad\.json: not valid JSON"):
        read_config_file(tmp_path / "bad.json")
    (tmp_path / "bad.toml").write_text("fps = = 30")
    with pytest.raises(ExoActorError, match=r"bad\.toml: not valid TOML"):
        read_config_file(tmp_path / "bad.toml")
