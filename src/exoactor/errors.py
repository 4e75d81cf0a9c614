"""Exception hierarchy: one root, one subclass per kind of failure.

Messages name the input (file, field, frame), the valid options, and the fix.
"""

from __future__ import annotations


class ExoActorError(Exception):
    """Root of every error exoactor raises on purpose."""


class InvalidMotionFile(ExoActorError):
    """A motion file (or in-memory motion) fails validation."""

    def __init__(self, source: str, field: str, problem: str, frame: int | None = None):
        self.source = source
        self.field = field
        self.frame = frame
        where = f"field '{field}'" + (f" frame {frame}" if frame is not None else "")
        super().__init__(f"{source}: {where} {problem}")


class UnknownFormat(ExoActorError):
    """A file extension that no converter handles."""


class AssetError(ExoActorError):
    """An asset could not be resolved, downloaded or verified."""


class UnknownName(ExoActorError):
    """A name (robot, backend, asset, body) that is not registered."""


class InvalidOptions(ExoActorError, ValueError):
    """Options that do not fit a backend's ``Config`` (a ``ValueError``, as pydantic's own)."""


class StageFailed(ExoActorError):
    """A pipeline stage raised; the run directory keeps earlier artefacts."""


class PhysicsDiverged(ExoActorError):
    """The simulation produced NaN/inf or a MuJoCo warning."""
