"""The ``scene.json`` layout: boxes in the robot motion's world frame (z-up, metres).

``{"format_version": 1, "source": ..., "fps": ..., "objects": [{"kind", "name", "pose", "size",
"mass", "friction", "evidence", "note"}], "rejected": [...]}``. Every object is a box:
``pose.pos`` is its centre in world [m], ``pose.yaw_rad`` turns its local x (depth) about
world z; ``size`` is its full ``(depth, width, height)`` [m]. Seats and tables are fixed to the
world; a ``box`` (a carried object) is a free body of ``mass`` [kg]. ``evidence`` lists the
motion frame ranges ``[first, last]`` (inclusive, at the motion's fps) that made it. The file
is meant to be edited by hand: a run re-reads it and re-runs only the stages after it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from exoactor import artefacts
from exoactor.errors import ExoActorError
from exoactor.fileio import write_json

SCENE_FILE = artefacts.SCENE
"""Name of the scene artefact in a run directory."""
SCENE_VERSION = 1

Kind = Literal["seat", "table", "box"]
FIXED_KINDS = ("seat", "table")
"""Kinds welded to the world; every other kind is a free body."""


class ObjectPose(BaseModel):
    """Where a box is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pos: tuple[float, float, float]
    """Box centre in world [m] (z-up, the robot motion's frame)."""
    yaw_rad: float = 0.0
    """Heading of the box's depth axis about world z [rad]."""


class SceneObject(BaseModel):
    """One object of the scene (a box)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    """``seat`` and ``table``: fixed boxes; ``box``: a free body (a carried object)."""
    name: str = ""
    """Label (from the plan when one names it, e.g. ``the chair``)."""
    pose: ObjectPose
    """Centre and heading."""
    size: tuple[float, float, float]
    """Full extents ``(depth, width, height)`` [m], each in (0, 5]."""
    mass: float | None = Field(None, gt=0.0, le=200.0)
    """Mass [kg] of a free body; ``None`` for fixed kinds."""
    friction: float = Field(1.0, gt=0.0, le=3.0)
    """Sliding friction coefficient (MuJoCo ``friction[0]``)."""
    evidence: tuple[tuple[int, int], ...] = ()
    """Motion frame ranges ``[first, last]`` the object was inferred from (empty: by hand)."""
    note: str = ""
    """How it was inferred (the rule and its numbers)."""

    @model_validator(mode="after")
    def _check(self) -> SceneObject:
        if any(not (0.0 < s <= 5.0) for s in self.size):
            raise ValueError(f"size {self.size} must be three extents in (0, 5] m")
        if self.kind not in FIXED_KINDS and self.mass is None:
            raise ValueError(f"a free '{self.kind}' needs a mass [kg]")
        for a, b in self.evidence:
            if b < a or a < 0:
                raise ValueError(f"evidence range [{a}, {b}] must be 0 <= first <= last")
        return self

    @property
    def fixed(self) -> bool:
        return self.kind in FIXED_KINDS

    @property
    def top_z(self) -> float:
        """Height of the box's top face [m]."""
        return self.pose.pos[2] + self.size[2] / 2

    def evidence_mask(self, clip_t, fps: float, dropped_frames: int = 0):
        """``(N,)`` bool, the clip times ``clip_t`` [s] inside the object's evidence ranges:
        motion frame ``f`` is clip time ``(f - dropped_frames) / fps`` (``dropped_frames``:
        leading motion frames dropped before streaming, so clip time 0 is that frame)."""
        import numpy as np

        clip_t = np.asarray(clip_t, dtype=float)
        sel = np.zeros(len(clip_t), bool)
        for a, b in self.evidence:
            sel |= ((clip_t >= (a - dropped_frames) / fps - 1e-9)
                    & (clip_t <= (b - dropped_frames) / fps + 1e-9))
        return sel

    def footprint_axes(self):
        """The footprint's frame in world xy: ``(centre (2,), depth axis (2,), width axis
        (2,))``, the axes unit vectors turned by ``pose.yaw_rad`` [m]."""
        import numpy as np

        yaw = self.pose.yaw_rad
        return (np.asarray(self.pose.pos[:2], float), np.array([np.cos(yaw), np.sin(yaw)]),
                np.array([-np.sin(yaw), np.cos(yaw)]))

    def holds_xy(self, xy_w) -> bool:
        """Whether the footprint (the box seen from above) holds the world point ``xy_w`` [m]
        (its edges included, to 1 nm)."""
        import numpy as np

        c, f, lat = self.footprint_axes()
        d = np.asarray(xy_w, float) - c
        return bool(abs(d @ f) <= self.size[0] / 2 + 1e-9
                    and abs(d @ lat) <= self.size[1] / 2 + 1e-9)

    def into_footprint(self, xy_w, margin_m: float = 0.0):
        """``(2,)`` the point of the footprint shrunk by ``margin_m`` [m] on every side that is
        nearest to the world point ``xy_w`` (``xy_w`` itself when inside) [m]."""
        import numpy as np

        c, f, lat = self.footprint_axes()
        half = np.maximum(np.asarray(self.size[:2], float) / 2 - margin_m, 0.0)
        d = np.asarray(xy_w, float) - c
        a = np.clip(d @ f, -half[0], half[0])
        b = np.clip(d @ lat, -half[1], half[1])
        return c + a * f + b * lat


class Scene(BaseModel):
    """The objects of one run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int = SCENE_VERSION
    source: str = ""
    """The motion the scene was inferred from (or a note by whoever edited it)."""
    fps: float | None = None
    """Frame rate of the motion the evidence frames refer to [Hz]."""
    objects: tuple[SceneObject, ...] = ()
    """The objects in the physics."""
    rejected: tuple[SceneObject, ...] = ()
    """Objects a rule found but a consistency check rejected (not simulated; move one to
    ``objects`` to use it anyway)."""

    def of_kind(self, kind: str) -> list[SceneObject]:
        return [o for o in self.objects if o.kind == kind]


def save_scene(scene: Scene, path: str | Path) -> Path:
    """Write ``scene`` to ``path`` (atomic)."""
    write_json(path, scene.model_dump(mode="json"))
    return Path(path)


def load_scene(path: str | Path) -> Scene:
    """Read and validate a ``scene.json``.

    Raises:
        ExoActorError: missing file, bad JSON or a field out of range (named in the message).
    """
    path = Path(path)
    if not path.is_file():
        raise ExoActorError(f"{path}: no scene file; run the scene stage or write one")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ExoActorError(f"{path}: not valid JSON ({exc}); fix the edit or delete the file "
                            "to infer it again") from None
    if data.get("format_version", SCENE_VERSION) != SCENE_VERSION:
        raise ExoActorError(f"{path}: format_version {data.get('format_version')} is not "
                            f"{SCENE_VERSION}")
    try:
        return Scene.model_validate(data)
    except ValidationError as exc:
        raise ExoActorError(f"{path}: invalid scene: {exc}. Objects need kind (seat, table, "
                            "box), pose {pos: [x, y, z], yaw_rad}, size [depth, width, height] "
                            "in metres, mass for a box") from None


def preflight_notes(scene: Scene) -> list[str]:
    """One line per object the robot will touch, for ``deploy``'s pre-flight (what must stand
    where before the robot starts: the motion's world frame is the robot's start frame)."""
    lines = []
    for i, o in enumerate(scene.objects):
        x, y, _ = o.pose.pos
        what = {"seat": "a seat", "table": "a table/support", "box": "a box to carry"}[o.kind]
        label = f" ('{o.name}')" if o.name else ""
        extra = f", {o.mass:.1f} kg" if o.mass is not None else ""
        lines.append(f"object {i}: {what}{label}, {o.size[0]:.2f} x {o.size[1]:.2f} m, top at "
                     f"{o.top_z:.2f} m, centred at ({x:+.2f}, {y:+.2f}) m, heading "
                     f"{o.pose.yaw_rad:+.2f} rad{extra}")
    return lines
