"""A task suite: the YAML (or JSON) file ``exoactor batch`` reads.

A suite lists tasks. A task is one of three sources: a task text plus a scene image (the
imagine stage generates the video), a video of a person, or a robot motion file (track only).
Each task expands into candidates, the cartesian product of its inputs (a list of videos or
motion files gives one candidate per file), its backend choices (each backend field takes a name
or a list of names) and its seeds (``candidates`` seeds per combination). Suite-level
``backends``, ``seeds``, ``candidates`` and ``config`` are defaults every task can override.

Example::

    name: kitchen
    candidates: 2                 # seeds per (input, backends) combination
    backends: {controller: twist2}
    config: {report_fps: 10, track: {drift: {enabled: true}}}
    tasks:
      - name: pour
        text: pour water into the cup
        scene: scenes/kitchen.png
        candidates: 4             # 4 generated videos, physics picks the best
      - name: walk
        video: clips/walk.mp4
        start_s: 2.6
        end_s: 4.2
        candidates: 1
      - name: swing
        motion: [motions/swing_a.npz, motions/swing_b.npz]
        candidates: 1

Relative paths are resolved against the suite file's folder. What a seed changes: the generation
seed of an imagine task; for video and motion tasks the tracker's reference-noise seed
(``config.track.reference.noise_seed``), which only matters with
``config.track.reference.joint_noise_rad > 0`` (robustness sampling).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exoactor.errors import ExoActorError

TaskKind = Literal["imagine", "video", "motion"]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""Task names become folder names: letters, digits, ``.``, ``_`` and ``-``, at most 64."""

_SUITE_INVALID = "{path}: not a valid suite:\n{problems}\nSee `exoactor.batch.suite` for the schema."
_SUITE_UNREADABLE = "{path}: could not read the suite ({problem}); a suite is a YAML or JSON file"
_MISSING_FILE = ("{path}: task '{task}' field '{field}' names {file}, which does not exist "
                 "(relative paths are resolved against {root})")

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Backends(BaseModel):
    """Backend choices of a task. A list sweeps the backends: one candidate per entry."""

    model_config = _FROZEN

    imagine: str | list[str] | None = None
    """Video generator of imagine tasks (``None``: the imagine stage's default)."""
    perceive: str | list[str] | None = None
    """Pose backend of video and imagine tasks (``None``: ``PerceiveConfig``'s default)."""
    controller: str | list[str] | None = None
    """Tracking controller (``None``: ``TrackConfig``'s default, TWIST2)."""

    def merged(self, override: Backends | None) -> Backends:
        """These defaults with every field ``override`` sets replaced."""
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_none=True))

    def combinations(self) -> list[dict[str, str]]:
        """One ``{field: name}`` dict per combination of the listed backends (unset fields
        are left out), in field order."""
        combos: list[dict[str, str]] = [{}]
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            options = value if isinstance(value, list) else [value]
            combos = [{**c, name: o} for c in combos for o in options]
        return combos


class StageConfig(BaseModel):
    """Overrides of the stage configs, merged field by field (suite, then task)."""

    model_config = _FROZEN

    perceive: dict[str, Any] = Field(default_factory=dict)
    """Fields of :class:`exoactor.perceive.PerceiveConfig`."""
    retarget: dict[str, Any] = Field(default_factory=dict)
    """Fields of :class:`exoactor.retarget.RetargetConfig`."""
    track: dict[str, Any] = Field(default_factory=dict)
    """Fields of :class:`exoactor.control.track.TrackConfig` (nested dicts merge)."""
    imagine: dict[str, Any] = Field(default_factory=dict)
    """Options passed to the imagine stage."""
    hands: bool | None = None
    """Retarget and track the Dex3-1 hands (video and imagine tasks)."""
    report: bool | None = None
    """Write each motion run's own report (videos + page). Default true; off saves seconds of
    rendering per run. Video and imagine runs always write theirs (``run_video`` does). The
    batch report and summary are written either way."""
    report_fps: float | None = Field(None, gt=0.0, le=60.0)
    """Frame rate of each run's report videos [Hz] (default 25)."""

    def merged(self, override: StageConfig | None) -> StageConfig:
        if override is None:
            return self
        data = self.model_dump()
        for key, value in override.model_dump(exclude_unset=True).items():
            data[key] = deep_merge(data[key], value) if isinstance(value, dict) else value
        return StageConfig.model_validate(data)


def deep_merge(base: dict, update: dict) -> dict:
    """``base`` with ``update`` merged in, nested dicts key by key (a new dict)."""
    out = dict(base)
    for key, value in update.items():
        out[key] = (deep_merge(out[key], value)
                    if isinstance(value, dict) and isinstance(out.get(key), dict) else value)
    return out


class TaskSpec(BaseModel):
    """One task of a suite: exactly one source (``text`` + ``scene``, ``video`` or ``motion``)."""

    model_config = _FROZEN

    name: str | None = Field(None, pattern=NAME_PATTERN)
    """Folder-safe task name (default: from the input file's stem or the text)."""
    text: str | None = None
    """Task instruction for the imagine stage (needs ``scene``)."""
    scene: Path | None = None
    """Third-person photo of the robot in its scene (imagine tasks)."""
    video: Path | list[Path] | None = None
    """A video of a person doing the task; a list gives one candidate per video."""
    motion: Path | list[Path] | None = None
    """A robot motion file (.npz, .pkl, .gmt.pkl, .csv); a list gives one candidate per file."""
    start_s: float | None = Field(None, ge=0.0)
    """Start of the window of the video or motion to use [s]."""
    end_s: float | None = Field(None, gt=0.0)
    """End of that window [s]."""
    input_fps: float | None = Field(None, gt=0.0)
    """Frame rate of a motion file that stores none (BeyondMimic CSV) [Hz]."""
    candidates: int | None = Field(None, ge=1, le=1000)
    """Seeds per (input, backends) combination (default: the suite's)."""
    seeds: list[int] | None = None
    """Explicit seeds (default: the suite's, else ``seed_base + i``); length >= candidates."""
    backends: Backends | None = None
    """Backend choices, merged over the suite's."""
    config: StageConfig | None = None
    """Stage config overrides, merged over the suite's."""

    @model_validator(mode="after")
    def _one_source(self) -> TaskSpec:
        given = [k for k in ("text", "video", "motion") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a task needs exactly one of 'text' (+ 'scene'), 'video' or 'motion'"
                             + (f"; it has {given}" if given else ""))
        if self.text is not None and self.scene is None:
            raise ValueError("a 'text' task needs a 'scene' image (the robot in its scene)")
        if self.scene is not None and self.text is None:
            raise ValueError("'scene' goes with 'text' (an imagine task)")
        if self.start_s is not None and self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must be after start_s ({self.start_s})")
        return self

    @property
    def kind(self) -> TaskKind:
        return "imagine" if self.text is not None else "video" if self.video is not None \
            else "motion"

    def inputs(self) -> list[Path | None]:
        """The candidate inputs: the video or motion files, or ``[None]`` for imagine."""
        value = self.video if self.video is not None else self.motion
        if value is None:
            return [None]
        return list(value) if isinstance(value, list) else [value]

    def default_name(self) -> str:
        if self.name:
            return self.name
        if self.text is not None:
            slug = re.sub(r"[^A-Za-z0-9]+", "-", self.text.lower()).strip("-")
            return slug[:40].rstrip("-") or "task"
        first = self.inputs()[0]
        assert first is not None
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", first.name.split(".")[0]).strip("-.")
        return stem[:64] or "task"


class Suite(BaseModel):
    """A task suite (see the module docstring for the file format)."""

    model_config = _FROZEN

    name: str = "suite"
    """Suite name, shown in the reports."""
    tasks: list[TaskSpec] = Field(min_length=1)
    """The tasks."""
    candidates: int = Field(1, ge=1, le=1000)
    """Default seeds per (input, backends) combination of a task."""
    seeds: list[int] | None = None
    """Default explicit seeds; else candidate ``i`` gets ``seed_base + i``."""
    seed_base: int = 0
    """First seed when no explicit seeds are given."""
    backends: Backends = Field(default_factory=Backends)
    """Default backend choices."""
    config: StageConfig = Field(default_factory=StageConfig)
    """Default stage config overrides."""
    root: Path = Path(".")
    """Folder relative paths are resolved against (set by :func:`load_suite` to the suite
    file's folder)."""

    @field_validator("tasks")
    @classmethod
    def _unique_names(cls, tasks: list[TaskSpec]) -> list[TaskSpec]:
        names = [t.default_name() for t in tasks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"task names {dupes} appear more than once; give each task a "
                             "distinct 'name'")
        return tasks

    def resolve(self, path: Path) -> Path:
        """``path`` made absolute against :attr:`root`."""
        path = Path(path).expanduser()
        return path if path.is_absolute() else (self.root / path).resolve()


def load_suite(path: str | Path, check_files: bool = True) -> Suite:
    """Read and validate a suite file (YAML or JSON).

    Args:
        path: the suite file.
        check_files: also check that every input file exists.

    Raises:
        ExoActorError: unreadable file, schema violation (each problem named by its field),
            duplicate task names, or a missing input file.
    """
    path = Path(path)
    try:
        text = path.read_text()
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            try:
                import yaml
            except ImportError as exc:
                raise ExoActorError(f"{path}: reading YAML suites needs PyYAML: pip install "
                                    "'exoactor[batch]' (or write the suite as .json)") from exc
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ValueError(str(exc).replace("\n", " ")) from None
    except (OSError, ValueError) as exc:
        raise ExoActorError(_SUITE_UNREADABLE.format(path=path, problem=exc)) from None
    if not isinstance(data, dict):
        raise ExoActorError(_SUITE_UNREADABLE.format(
            path=path, problem=f"top level is a {type(data).__name__}, not a mapping"))
    data.setdefault("name", path.stem)
    data["root"] = str(path.resolve().parent)
    return validate_suite(data, source=str(path), check_files=check_files)


def validate_suite(data: dict, source: str = "<suite>", check_files: bool = True) -> Suite:
    """Build a :class:`Suite` from a mapping; errors name the source and each bad field."""
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"  {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
                             for e in exc.errors())
        raise ExoActorError(_SUITE_INVALID.format(path=source, problems=problems)) from None
    if check_files:
        for task in suite.tasks:
            fields = [("scene", task.scene)] + [(task.kind, p) for p in task.inputs()]
            for field, value in fields:
                if value is not None and not suite.resolve(value).is_file():
                    raise ExoActorError(_MISSING_FILE.format(
                        path=source, task=task.default_name(), field=field, file=value,
                        root=suite.root))
    return suite
