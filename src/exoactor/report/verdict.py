"""The physics verdict of a run: is the motion executable on the robot, judged in simulation?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from exoactor.report.thresholds import mark

Verdict = Literal["executable", "marginal", "not executable"]

VERDICT_METRICS = ("mean_joint_error_rad", "key_body_error_mm", "root_xy_error_end_m",
                   "yaw_error_end_deg")
"""Tracking metrics that decide between executable and marginal."""
POSE_METRICS = ("key_body_error_mm",)
"""Metrics that, beyond their warn limit, mean the robot does not reproduce the motion's pose
(hands, feet, elbows, knees relative to the pelvis): not executable even without a fall. Joint
error and global drift beyond warn only make a run marginal: the pose is still the motion's, and
drift is the operator's to correct."""


@dataclass(frozen=True)
class PhysicsVerdict:
    """The verdict and the reasons behind it."""

    verdict: Verdict
    reasons: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"verdict": self.verdict, "reasons": list(self.reasons)}


def physics_verdict(track_metrics: dict) -> PhysicsVerdict:
    """Judge a run from its tracking metrics (``metrics.json`` of the track stage).

    * not executable: the robot fell, or a pose metric (:data:`POSE_METRICS`) is beyond its warn
      limit;
    * marginal: no fall, but a verdict metric is beyond its pass limit;
    * executable: no fall and every verdict metric passes.
    """
    if track_metrics.get("fell"):
        t = track_metrics.get("fall_time_s")
        when = f" at {t:.2f} s" if isinstance(t, (int, float)) else ""
        return PhysicsVerdict("not executable", (f"the robot fell{when}",))
    fails, warns = [], []
    for name in VERDICT_METRICS:
        if name not in track_metrics:
            continue
        value = track_metrics[name]
        m = mark("track", name, value)
        text = f"{name} = {value:.3g}"
        if m == "fail" and name in POSE_METRICS:
            fails.append(text + " (beyond the warn limit: the pose is not reproduced)")
        elif m == "fail":
            warns.append(text + " (beyond the warn limit)")
        elif m == "warn":
            warns.append(text + " (between the pass and warn limits)")
    if fails:
        return PhysicsVerdict("not executable", tuple(fails))
    if warns:
        return PhysicsVerdict("marginal", tuple(warns))
    return PhysicsVerdict("executable", ("no fall; every tracking metric within its pass limit",))
