"""Run-directory file names are spelled once, in :mod:`exoactor.artefacts`."""

from __future__ import annotations

import re
from pathlib import Path

from exoactor import artefacts

SRC = Path(artefacts.__file__).resolve().parent


def _literal_pattern() -> re.Pattern[str]:
    names = [n for n in artefacts.names() if "." in n]  # file names (folders are plain words)
    return re.compile(r"""(?<![\w`])['"](""" + "|".join(map(re.escape, names)) + r""")['"]""")


def _literals(text: str) -> list[str]:
    found = _literal_pattern().findall(text)
    # per-candidate names built by hand (f"video_{i:02d}.mp4", f"native_...") count too
    found += re.findall(r"""f['"][^'"]*(?:video|native)_\{[^'"]*\.(?:mp4|json)['"]""", text)
    return found


def test_the_check_finds_a_literal() -> None:
    assert _literals('p = run / "metrics.json"') == ["metrics.json"]
    assert _literals("p = run / 'robot_motion.npz'") == ["robot_motion.npz"]
    assert _literals('out = folder / f"video_{i:02d}.mp4"')
    assert _literals('"""Writes ``metrics.json``."""') == []
    assert _literals('x = artefacts.METRICS') == []


def test_no_run_directory_file_name_outside_artefacts() -> None:
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "artefacts.py":
            continue
        hits = _literals(path.read_text())
        if hits:
            offenders[str(path.relative_to(SRC))] = hits
    assert offenders == {}, ("spell these through exoactor.artefacts: "
                             f"{offenders}")


def test_names_are_unique_and_plain() -> None:
    consts = {k: v for k, v in vars(artefacts).items() if k.isupper() and isinstance(v, str)}
    aliases = {"BATCH_REPORT"}  # the batch folder's page shares the run's name on purpose
    values = [v for k, v in consts.items() if k not in aliases]
    assert len(values) == len(set(values))
    for value in consts.values():
        assert not value.startswith("/") and ".." not in value
    assert artefacts.candidate_video(3) == "candidates/video_03.mp4"
    assert artefacts.candidate_meta(3).startswith(artefacts.CANDIDATES + "/")
