"""The ``track`` stage: tracking controllers, reference streaming, drift correction, safety
layer and the MuJoCo simulation they run in.

Public entry point: :func:`track_motion` (``exoactor track``). Controllers are registered by
name in :data:`controllers` (``"twist2"``); a new backend is one new file.
"""

from exoactor.control.controller import (
                                         Controller,
                                         PDGains,
                                         ReferenceFrame,
                                         RobotState,
                                         controllers,
                                         make_controller,
)
from exoactor.control.drift import DriftConfig
from exoactor.control.hands import HandConfig
from exoactor.control.reference import GlitchReport, ReferenceStreamer, StreamerConfig
from exoactor.control.safety import SafetyConfig, SafetyLayer
from exoactor.control.track import TrackConfig, TrackResult, track_motion

__all__ = ["Controller", "DriftConfig", "GlitchReport", "HandConfig", "PDGains",
           "ReferenceFrame", "ReferenceStreamer", "RobotState", "SafetyConfig", "SafetyLayer",
           "StreamerConfig", "TrackConfig", "TrackResult", "controllers", "make_controller",
           "track_motion"]
