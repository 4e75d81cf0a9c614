"""Run directory: one folder per run, a ``manifest.json``, cached and resumable stages.

A stage is recomputed only when its input files (by sha256), its config or its backend changed,
or when it is forced. A failed stage records its error in the manifest and leaves every earlier
artefact in place. Outputs are written by the stage function to the paths it is given; every
writer in the package writes atomically (temporary name, then rename), so a crash never leaves a
half-written artefact under its final name.

Manifest layout::

    {"format_version": 1, "name": ..., "created": ..., "exoactor_version": ...,
     "stages": {"<stage>": {"status": "ok" | "failed" | "running", "backend": ..., "config": {...},
                           "inputs": {"<path>": "<sha256>"}, "key": "<sha256>",
                           "outputs": ["<relative path>", ...], "started": ..., "seconds": ...,
                           "error": null | "<message>", "error_type": null | "<class>"}}}
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exoactor import __version__
from exoactor.assets import sha256_file
from exoactor.errors import ExoActorError, StageFailed
from exoactor.fileio import write_json

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class StageResult:
    """What :meth:`RunDir.run_stage` did for one stage."""

    stage: str
    status: str
    """``"ok"`` (computed), ``"cached"`` (skipped, inputs unchanged)."""
    outputs: tuple[Path, ...]
    seconds: float
    value: Any = None
    """Whatever the stage function returned (None when cached)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _config_json(config: Any) -> Any:
    if config is None:
        return None
    if hasattr(config, "model_dump"):
        return config.model_dump(mode="json")
    return json.loads(json.dumps(config, default=str))


class RunDir:
    """A run directory and its manifest.

    Args:
        path: the run folder (created if missing).
        name: a human-readable run name (defaults to the folder name).
    """

    def __init__(self, path: str | Path, name: str | None = None):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.manifest_path = self.path / MANIFEST
        if self.manifest_path.exists():
            try:
                self.manifest = json.loads(self.manifest_path.read_text())
            except json.JSONDecodeError as exc:
                raise ExoActorError(
                    f"{self.manifest_path}: unreadable manifest ({exc}); move it away to start "
                    "the run afresh (artefacts stay)") from None
        else:
            self.manifest = {"format_version": MANIFEST_VERSION, "name": name or self.path.name,
                             "created": _now(), "exoactor_version": __version__, "stages": {}}
            self._save()

    def _save(self) -> None:
        write_json(self.manifest_path, self.manifest)

    def artefact(self, name: str) -> Path:
        """Path of an artefact inside the run directory."""
        return self.path / name

    def stage(self, stage: str) -> dict | None:
        """The manifest entry of ``stage`` (None if it never ran)."""
        return self.manifest["stages"].get(stage)

    @staticmethod
    def stage_key(backend: str, config: Any, inputs: dict[str, str]) -> str:
        blob = json.dumps({"backend": backend, "config": _config_json(config), "inputs": inputs},
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _hash_inputs(self, inputs: Iterable[Path]) -> dict[str, str]:
        out = {}
        for p in inputs:
            p = Path(p)
            if not p.is_file():
                raise StageFailed(f"input {p} does not exist; run the stage that makes it first")
            key = str(p.relative_to(self.path)) if p.is_relative_to(self.path) else str(p.resolve())
            out[key] = sha256_file(p)
        return out

    def is_current(self, stage: str, backend: str, config: Any, inputs: Iterable[Path]) -> bool:
        """True when ``stage`` finished with the same inputs, config and backend, and its
        outputs are still on disk."""
        entry = self.stage(stage)
        if not entry or entry.get("status") != "ok":
            return False
        try:
            key = self.stage_key(backend, config, self._hash_inputs(inputs))
        except StageFailed:
            return False
        return entry.get("key") == key and all((self.path / o).exists()
                                               for o in entry.get("outputs", []))

    def run_stage(self, stage: str, fn: Callable[[], Any], *, backend: str = "default",
                  config: Any = None, inputs: Iterable[Path] = (),
                  outputs: Iterable[str] = (), force: bool = False) -> StageResult:
        """Run ``fn`` as ``stage`` unless it is current; record the outcome in the manifest.

        Args:
            stage: stage name (e.g. ``"track"``).
            fn: computes the stage, writing ``outputs`` (paths relative to the run folder).
            backend: backend name, part of the cache key.
            config: a pydantic model or JSON-able object, part of the cache key.
            inputs: input files, hashed into the cache key.
            outputs: files the stage must produce, relative to the run folder.
            force: recompute even when current.

        Raises:
            StageFailed: ``fn`` raised, or did not produce its outputs. The manifest records the
                error; earlier artefacts are untouched.
        """
        inputs = [Path(p) for p in inputs]
        outputs = list(outputs)
        hashed = self._hash_inputs(inputs)
        key = self.stage_key(backend, config, hashed)
        entry = self.stage(stage)
        if (not force and entry and entry.get("status") == "ok" and entry.get("key") == key
                and all((self.path / o).exists() for o in entry.get("outputs", []))):
            logger.info("stage %s is current; skipped", stage)
            return StageResult(stage, "cached", tuple(self.path / o for o in outputs), 0.0)
        self.manifest["stages"][stage] = {
            "status": "running", "backend": backend, "config": _config_json(config),
            "inputs": hashed, "key": key, "outputs": outputs, "started": _now(),
            "seconds": None, "error": None, "error_type": None}
        self._save()
        t0 = time.perf_counter()
        try:
            value = fn()
            missing = [o for o in outputs if not (self.path / o).exists()]
            if missing:
                raise StageFailed(f"stage {stage} finished without writing {', '.join(missing)}")
        except BaseException as exc:
            record = self.manifest["stages"][stage]
            record.update(status="failed", seconds=round(time.perf_counter() - t0, 3),
                          error=str(exc) or type(exc).__name__, error_type=type(exc).__name__)
            self._save()
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise StageFailed(f"stage '{stage}' failed: {exc}") from exc
        seconds = time.perf_counter() - t0
        self.manifest["stages"][stage].update(status="ok", seconds=round(seconds, 3))
        self._save()
        return StageResult(stage, "ok", tuple(self.path / o for o in outputs), seconds, value)
