"""Human scene + prompt -> video: generators ``file``, ``diffusers`` (local), ``kling`` and
``veo`` (hosted); clips resampled to the perception rate with their true fps kept."""

from __future__ import annotations

from exoactor.imagine.video.base import GeneratedClip, VideoGenerator, VideoRequest, generators

__all__ = ["GeneratedClip", "VideoGenerator", "VideoRequest", "generators"]
