"""Errors of the imagine stage. Every message names the input and says how to fix it."""

from __future__ import annotations

from exoactor.errors import ExoActorError


class ImagineError(ExoActorError):
    """Root of the imagine stage's errors."""


class MissingSecret(ImagineError):
    """A hosted backend needs a key that is neither in the environment nor in the secrets file."""


class NotLoopback(ImagineError):
    """Under test (``EXOACTOR_LOOPBACK_ONLY=1``) a hosted backend was pointed off 127.0.0.0/8."""


class HostedAPIError(ImagineError):
    """A hosted API answered with an error status after every retry, or could not be reached."""


class MalformedResponse(ImagineError):
    """A hosted API answered 200 with a body that does not follow its documented format."""


class JobFailed(ImagineError):
    """A hosted asynchronous job (video generation) ended in failure."""


class JobTimeout(ImagineError):
    """A hosted asynchronous job did not finish within the poll budget; it can be resumed."""


class PlanError(ImagineError):
    """A task could not be planned, or a plan file is invalid."""


class SceneImageError(ImagineError):
    """The scene image is missing or unreadable."""


class DeviceUnavailable(ImagineError):
    """The requested accelerator does not exist and CPU fallback was disabled."""


class ModelLoadError(ImagineError):
    """A local model folder is missing or is not a pipeline of the expected family."""


class ClipsRejected(ImagineError):
    """No generated clip passed the clip checks."""
