"""The ``track`` stage: tracking controllers, reference streaming, drift correction, safety
layer and the MuJoCo simulation they run in.

Public entry point: :func:`track_motion` (``exoactor track``), a thin driver of the one
:class:`TrackingLoop` (``control/loop.py``) that ``exoactor deploy`` also runs;
:func:`build_simulation_loop` gives that loop on MuJoCo, ready to step, save and restore.
Controllers are registered by name in :data:`controllers` (``"twist2"``); a new backend is
one new file.
"""

from exoactor.control.controller import (
                                         Controller,
                                         PDGains,
                                         ReferenceFrame,
                                         RobotState,
                                         controllers,
)
from exoactor.control.drift import DriftConfig
from exoactor.control.hands import HandConfig
from exoactor.control.loop import LoopState, Plant, ReferenceMod, TrackingLoop
from exoactor.control.reference import GlitchReport, ReferenceStreamer, StreamerConfig
from exoactor.control.safety import SafetyConfig, SafetyLayer
from exoactor.control.track import (
                                    SimulationRun,
                                    TrackConfig,
                                    TrackResult,
                                    build_simulation_loop,
                                    track_motion,
)

__all__ = ["Controller", "DriftConfig", "GlitchReport", "HandConfig", "LoopState", "PDGains",
           "Plant", "ReferenceFrame", "ReferenceMod", "ReferenceStreamer", "RobotState",
           "SafetyConfig", "SafetyLayer", "SimulationRun", "StreamerConfig", "TrackConfig",
           "TrackResult", "TrackingLoop", "build_simulation_loop", "controllers",
           "track_motion"]
