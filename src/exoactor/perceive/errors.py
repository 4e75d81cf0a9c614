"""Errors of the perceive stage. Every one names the input and says how to fix it."""

from __future__ import annotations

from exoactor.errors import ExoActorError


class VideoError(ExoActorError):
    """The input video cannot be read, is empty, or its frames are unusable."""


class NoPersonFound(ExoActorError):
    """No person (or not the requested one) was detected in the video."""


class TrackingGap(ExoActorError):
    """The actor is lost for longer than the stage may interpolate over."""


class BodyModelError(ExoActorError):
    """A user-supplied SMPL/SMPL-X body model file is missing or does not have the expected layout."""


class ImportFailed(ExoActorError):
    """A GPU estimator's output file (GVHMR results, SMPL parameters) cannot be imported."""


class CameraMoves(ExoActorError):
    """The camera turns more than the stage compensates."""


class ModelFailed(ExoActorError):
    """A pose or hand model raised on a frame of the video."""
