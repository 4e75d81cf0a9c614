"""Clip artefacts of generated video: a scene cut at the start (:mod:`.cuts`), repeated frames
(:mod:`.duplicates`), a low or irregular sample rate (:mod:`.resample`) and slight camera
rotation (:mod:`.camera_motion`, its corners tracked as the pose backend decodes the frames);
a decoding pass over the clip's start (all of it when frames repeat) measures the first two
(:mod:`.scan`) and :mod:`.handle` applies them around pose estimation."""

from exoactor.perceive.artefacts.camera_motion import CornerTracker
from exoactor.perceive.artefacts.handle import (
    FramePlan,
    Prepared,
    camera_poses_w,
    plan_frames,
    prepare_observations,
)
from exoactor.perceive.artefacts.scan import ClipScan, scan_clip

__all__ = ["ClipScan", "CornerTracker", "FramePlan", "Prepared", "camera_poses_w", "plan_frames",
           "prepare_observations", "scan_clip"]
