"""The physics verdict of a run: is the motion executable on the robot, judged in simulation?"""

from __future__ import annotations

from dataclasses import dataclass

from exoactor.report.thresholds import mark

Verdict = str
"""``"executable"``, ``"executable with changes: N %"`` (the physics filter changed what the
tracker was fed for N % of the clip), ``"marginal"`` or ``"not executable"``."""

MAX_NOT_EXECUTED = 0.1
"""Largest fraction of the clip the robot may leave undone (held or eased to standing) and the
motion still count as executable [-]. A robot that holds still has not executed the motion."""

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
    * executable: no fall and every verdict metric passes;
    * with the physics filter's fractions in the metrics (``fraction_not_executed`` ...): not
      executable also when more than :data:`MAX_NOT_EXECUTED` of the clip was not executed,
      and "executable with changes: N %" when N % of the clip was fed modified or not at all;
    * with the scene's interaction metrics (``interaction``, :mod:`exoactor.scene.score`): not
      executable when an interaction failed (not seated on the seat, object not reached/lifted).
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
    not_done = track_metrics.get("fraction_not_executed")
    if isinstance(not_done, (int, float)) and not_done > MAX_NOT_EXECUTED:
        fails.append(f"{100 * not_done:.0f} % of the clip not executed (held or eased to "
                     f"standing; at most {100 * MAX_NOT_EXECUTED:.0f} % allowed)")
    inter = track_metrics.get("interaction")
    if isinstance(inter, dict) and not inter.get("succeeded", True):
        fails.extend(f"interaction failed: {f}" for f in inter.get("failures", []) or ["?"])
    if fails:
        return PhysicsVerdict("not executable", tuple(fails))
    if warns:
        return PhysicsVerdict("marginal", tuple(warns))
    asked = track_metrics.get("fraction_as_asked")
    if isinstance(asked, (int, float)):
        changed = round(100 * (1.0 - asked))
        if changed >= 1:
            return PhysicsVerdict(f"executable with changes: {changed} %", (
                f"no fall; the physics filter changed what the tracker was fed for {changed} % "
                "of the clip; every tracking metric within its pass limit",))
    return PhysicsVerdict("executable", ("no fall; every tracking metric within its pass limit",))
