"""The declared pipeline: its stages, the run directory that caches them, and one --force rule.

:data:`STAGES` declares every stage once: its name, the run-directory files it reads and writes
(names from :mod:`exoactor.artefacts`), the config model that governs it and its backend. The
commands are sequences of these stages (:data:`COMMANDS`): ``run`` (video -> report), ``imagine``
(task + scene -> video), ``run --task`` (both), ``batch`` (the same, plus a ``motion`` task and a
one-stage ``imagine`` task) and ``report``. They all execute through :func:`run_stages`, which
runs each stage through :class:`RunDir`.

Caching and ``--force`` (one rule for every command):
    A stage is *current*, and skipped, when it last finished ``ok`` with the same input files (by
    sha256), config and backend, its outputs are still on disk, and no stage before it in
    :data:`STAGES` has had a forced run since. Otherwise it runs. So a change propagates by
    content: a stage that runs and writes different files makes the stages reading them run, and
    one that writes the same bytes leaves them cached (an edited task that keeps the scene
    edit's instruction does not pay for the edit again). ``--force S`` runs ``S`` even when it is
    current, and every stage after ``S`` then runs too, whatever ``S`` wrote. ``all`` forces every
    stage of the command. Forced runs are recorded in the manifest, so the rule holds across
    commands and processes: after ``exoactor imagine --force plan``, a later
    ``exoactor run --task`` in the same folder runs perceive, retarget, objects, track and
    report again.

A failed stage records its error in the manifest and leaves every earlier artefact in place.
Outputs are written by the stage function to the paths it is given; every writer in the package
writes atomically (temporary name, then rename), so a crash never leaves a half-written artefact
under its final name.

Manifest layout (:data:`exoactor.artefacts.MANIFEST`)::

    {"format_version": 1, "name": ..., "created": ..., "exoactor_version": ..., "seq": <int>,
     "stages": {"<stage>": {"status": "ok" | "failed" | "running", "backend": ..., "config": {...},
                           "inputs": {"<path>": "<sha256>"}, "key": "<sha256>",
                           "outputs": ["<relative path>", ...], "started": ..., "seconds": ...,
                           "seq": <int>, "forced": <bool>, "error": null | "<message>",
                           "error_type": null | "<class>"}}}

``seq`` counts finished stages in the run directory; a stage's ``seq`` says when it finished
and ``forced`` whether that run was forced (what the --force rule compares).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exoactor import __version__, artefacts
from exoactor.assets import sha256_file
from exoactor.errors import ExoActorError, StageFailed
from exoactor.fileio import write_json

logger = logging.getLogger(__name__)

MANIFEST = artefacts.MANIFEST
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

    def _newer_upstream(self, stage: str, after: Iterable[str] | None) -> str | None:
        """The first stage before ``stage`` (``after``, default: :func:`upstream`) whose
        forced run finished after ``stage`` did, or None."""
        seq = (self.stage(stage) or {}).get("seq", 0)
        for name in upstream(stage) if after is None else after:
            entry = self.stage(name) or {}
            if entry.get("status") == "ok" and entry.get("forced") and entry.get("seq", 0) > seq:
                return name
        return None

    def is_current(self, stage: str, backend: str, config: Any, inputs: Iterable[Path],
                   after: Iterable[str] | None = None) -> bool:
        """True when ``stage`` finished with the same inputs, config and backend, its outputs
        are still on disk, and no stage before it had a forced run since (the module's rule)."""
        entry = self.stage(stage)
        if not entry or entry.get("status") != "ok":
            return False
        try:
            key = self.stage_key(backend, config, self._hash_inputs(inputs))
        except StageFailed:
            return False
        return (entry.get("key") == key and self._newer_upstream(stage, after) is None
                and all((self.path / o).exists() for o in entry.get("outputs", [])))

    def run_stage(self, stage: str, fn: Callable[[], Any], *, backend: str = "default",
                  config: Any = None, inputs: Iterable[Path] = (),
                  outputs: Iterable[str] = (), force: bool = False,
                  after: Iterable[str] | None = None) -> StageResult:
        """Run ``fn`` as ``stage`` unless it is current; record the outcome in the manifest.

        Args:
            stage: stage name (e.g. ``"track"``).
            fn: computes the stage, writing ``outputs`` (paths relative to the run folder).
            backend: backend name, part of the cache key.
            config: a pydantic model or JSON-able object, part of the cache key.
            inputs: input files, hashed into the cache key.
            outputs: files the stage must produce, relative to the run folder.
            force: recompute even when current.
            after: the stages before this one (default: those before it in :data:`STAGES`);
                when one of them had a forced run after this stage ran, it is not current.

        Raises:
            StageFailed: ``fn`` raised, or did not produce its outputs. The manifest records the
                error; earlier artefacts are untouched.
        """
        inputs = [Path(p) for p in inputs]
        outputs = list(outputs)
        hashed = self._hash_inputs(inputs)
        key = self.stage_key(backend, config, hashed)
        entry = self.stage(stage)
        newer = self._newer_upstream(stage, after)
        if (not force and entry and entry.get("status") == "ok" and entry.get("key") == key
                and newer is None
                and all((self.path / o).exists() for o in entry.get("outputs", []))):
            logger.info("stage %s is current; skipped", stage)
            return StageResult(stage, "cached", tuple(self.path / o for o in outputs), 0.0)
        self.manifest["stages"][stage] = {
            "status": "running", "backend": backend, "config": _config_json(config),
            "inputs": hashed, "key": key, "outputs": outputs, "started": _now(),
            "seconds": None, "forced": bool(force), "error": None, "error_type": None}
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
        self.manifest["seq"] = self.manifest.get("seq", 0) + 1
        self.manifest["stages"][stage].update(status="ok", seconds=round(seconds, 3),
                                              seq=self.manifest["seq"])
        self._save()
        return StageResult(stage, "ok", tuple(self.path / o for o in outputs), seconds, value)


# ----------------------------------------------------------------------------- declared stages
@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline, declared.

    Attributes:
        name: stage name (``--force`` takes it; the manifest's key).
        inputs: run-directory files it reads (hashed into its cache key; must exist).
        outputs: run-directory files it must write.
        config: the config model that governs it (``module:Class``).
        backend: its backend: a fixed name, or ``Class.field`` naming the config field that
            selects it.
        activity: what the console shows while it runs.
        optional_inputs: run-directory files hashed when present.
        external_input: the file from outside the run directory it reads (hashed too), if any.
    """

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    config: str
    backend: str
    activity: str
    optional_inputs: tuple[str, ...] = ()
    external_input: str | None = None

    def config_model(self) -> type:
        """The config model class (imported on demand)."""
        import importlib

        module, _, cls = self.config.partition(":")
        return getattr(importlib.import_module(module), cls)


_IMAGINE_CFG = "exoactor.imagine.config:ImagineConfig"
STAGES: tuple[Stage, ...] = (
    Stage("scene", (), (artefacts.SCENE_PHOTO,), _IMAGINE_CFG, "pil",
          "scene: copying the scene photo", external_input="the scene photo"),
    Stage("plan", (artefacts.SCENE_PHOTO,), (artefacts.PLAN,), _IMAGINE_CFG,
          "ImagineConfig.planner", "plan: planning the task"),
    Stage("transfer", (artefacts.SCENE_PHOTO,), (artefacts.HUMAN_SCENE,), _IMAGINE_CFG,
          "ImagineConfig.editor", "transfer: putting a person into the scene"),
    Stage("generate", (artefacts.HUMAN_SCENE, artefacts.PLAN), (artefacts.CANDIDATE_INDEX,),
          _IMAGINE_CFG, "ImagineConfig.generator", "generate: generating the candidate clips",
          external_input="the clip (generator 'file')"),
    Stage("check", (), (artefacts.CLIP_CHECKS, artefacts.VIDEO, artefacts.VIDEO_META),
          _IMAGINE_CFG, "clip-checks", "check: clip checks",
          external_input="the candidate clips of candidates/index.json"),
    Stage("imagine", (), (artefacts.IMAGINED_VIDEO,), _IMAGINE_CFG, "TaskSpec.backends['imagine']",
          "imagine: task + scene -> video (in imagine/)", external_input="the scene photo"),
    Stage("motion", (), (artefacts.ROBOT_MOTION,), "exoactor.batch.suite:TaskSpec", "formats",
          "motion: loading the robot motion", external_input="the task's motion file"),
    Stage("clip", (), (artefacts.VIDEO,), "exoactor.runner:RunConfig", "ffmpeg",
          "clip: cutting the input window", external_input="the input video"),
    Stage("perceive", (artefacts.VIDEO,), (artefacts.HUMAN_MOTION, artefacts.PERCEIVE_METRICS),
          "exoactor.perceive.config:PerceiveConfig", "PerceiveConfig.backend",
          "perceive: estimating the human motion"),
    Stage("retarget", (artefacts.HUMAN_MOTION,), (artefacts.ROBOT_MOTION, artefacts.RETARGET_METRICS),
          "exoactor.retarget.config:RetargetConfig", "mink", "retarget: solving IK for the robot"),
    Stage("objects", (artefacts.ROBOT_MOTION,),
          (artefacts.SCENE, artefacts.SEATED_MOTION, artefacts.SEATED_MOTION_META),
          "exoactor.scene.infer:InferConfig", "rules",
          "objects: inferring seats, tables and carried objects", optional_inputs=(artefacts.PLAN,)),
    Stage("track", (artefacts.ROBOT_MOTION,), (artefacts.ROLLOUT, artefacts.METRICS),
          "exoactor.control.track:TrackConfig", "TrackConfig.controller",
          "track: executing in MuJoCo physics",
          optional_inputs=(artefacts.SCENE, artefacts.SEATED_MOTION, artefacts.SEATED_MOTION_META)),
    Stage("report", (), (artefacts.REPORT,), "exoactor.report.config:ReportConfig", "html",
          "report: rendering videos and the page",
          optional_inputs=(artefacts.VIDEO, artefacts.HUMAN_MOTION, artefacts.ROBOT_MOTION,
                           artefacts.ROLLOUT, artefacts.METRICS, artefacts.SCENE)),
)
"""Every stage, in pipeline order (a stage's upstream is every stage before it)."""

STAGE_BY_NAME = {s.name: s for s in STAGES}

COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("clip", "perceive", "retarget", "objects", "track", "report"),
    "imagine": ("scene", "plan", "transfer", "generate", "check"),
    "motion": ("motion", "track", "report"),
    "batch-imagine": ("imagine",),
    "report": ("report",),
}
"""The stage sequence of each command (``run --task`` is ``imagine`` then ``run``; a batch
runs ``run``, ``motion`` or ``batch-imagine`` + ``run`` per task)."""


def upstream(stage: str) -> tuple[str, ...]:
    """The stages before ``stage`` in :data:`STAGES` (none for an undeclared name)."""
    names = [s.name for s in STAGES]
    return tuple(names[:names.index(stage)]) if stage in names else ()


def forced_stages(force: Iterable[str], stages: Sequence[str]) -> set[str]:
    """Check ``force`` (stage names or ``"all"``) against a command's ``stages``.

    Returns:
        The stages to run even when current (``all``: every one).

    Raises:
        ExoActorError: a name that is not one of ``stages``.
    """
    force = set(force)
    unknown = force - set(stages) - {"all"}
    if unknown:
        raise ExoActorError(f"unknown stage(s) {sorted(unknown)} for --force; stages: "
                            f"{', '.join(stages)}, all")
    return set(stages) if "all" in force else force


@dataclass(frozen=True)
class StageCall:
    """How a command runs one declared stage this time.

    Attributes:
        fn: computes the stage (writes the stage's outputs).
        backend: the backend name (part of the cache key).
        config: the settings that govern the result (a model or JSON-able; part of the key).
        external: files outside the run directory it reads (hashed into the key).
    """

    fn: Callable[[], Any]
    backend: str
    config: Any = None
    external: tuple[Path, ...] = ()


def stage_inputs(run: RunDir, stage: Stage, call: StageCall) -> list[Path]:
    """The files hashed into ``stage``'s key: its inputs, its optional inputs that exist, then
    the call's external files."""
    present = [run.artefact(n) for n in stage.optional_inputs if run.artefact(n).is_file()]
    return [*call.external, *(run.artefact(n) for n in stage.inputs), *present]


def run_stages(run: RunDir, names: Sequence[str], calls: Mapping[str, Callable[[], StageCall]],
               force: Iterable[str] = (), results: dict[str, StageResult] | None = None,
               ) -> dict[str, StageResult]:
    """Run the declared stages ``names`` in order through ``run``, by the module's rule.

    Args:
        run: the run directory.
        names: stage names, in :data:`STAGES` order.
        calls: per stage, a function returning its :class:`StageCall` (called just before the
            stage runs, so it may read what earlier stages wrote).
        force: stages to run even when current (checked with :func:`forced_stages`).
        results: filled with each finished stage's result (also on failure).

    Raises:
        StageFailed: a stage failed; later stages did not run.
    """
    forced = forced_stages(force, names)
    results = {} if results is None else results
    from exoactor.ui import console

    for name in names:
        stage = STAGE_BY_NAME[name]
        call = calls[name]()
        with console().status(stage.activity):
            results[name] = run.run_stage(name, call.fn, backend=call.backend,
                                          config=call.config, inputs=stage_inputs(run, stage, call),
                                          outputs=stage.outputs, force=name in forced)
    return results


def failed_stage(run: RunDir, names: Sequence[str]) -> str | None:
    """The first of ``names`` whose manifest entry says failed."""
    return next((s for s in names if (run.stage(s) or {}).get("status") == "failed"), None)
