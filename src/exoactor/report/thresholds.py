"""Documented pass / warn thresholds for the metrics shown in reports and the physics verdict.

Each threshold says which direction is good. A metric within ``pass_at`` passes, within
``warn_at`` warns, beyond fails. The figures come from the acceptance criteria of each stage:
tracking (TWIST2 on the shared reference set: mean joint error 0.055-0.091 rad, clip-end drift
<= 0.4 m with drift correction), retargeting (zero limit violations, skate <= 5 mm per contact
frame, contact feet within -5 / +10 mm of the ground), perception (>= 95 % detection, <= 8 px
reprojection, <= 5 % bone-length variation, <= 20 mm skate per contact frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mark = Literal["pass", "warn", "fail", "info"]


@dataclass(frozen=True)
class Threshold:
    """Pass/warn limits of one metric."""

    pass_at: float
    warn_at: float
    higher_is_better: bool = False
    unit: str = ""

    def mark(self, value: float) -> Mark:
        v = -value if self.higher_is_better else value
        p = -self.pass_at if self.higher_is_better else self.pass_at
        w = -self.warn_at if self.higher_is_better else self.warn_at
        return "pass" if v <= p else "warn" if v <= w else "fail"

    def describe(self) -> str:
        op = "≥" if self.higher_is_better else "≤"
        return f"pass {op} {self.pass_at:g}{self.unit}, warn {op} {self.warn_at:g}{self.unit}"


THRESHOLDS: dict[str, dict[str, Threshold]] = {
    "track": {
        "mean_joint_error_rad": Threshold(0.10, 0.15, unit=" rad"),
        "max_joint_error_rad": Threshold(0.30, 0.50, unit=" rad"),
        "key_body_error_mm": Threshold(60.0, 100.0, unit=" mm"),
        "root_xy_error_end_m": Threshold(0.40, 1.0, unit=" m"),
        "root_xy_error_mean_m": Threshold(0.30, 0.8, unit=" m"),
        "yaw_error_end_deg": Threshold(10.0, 25.0, unit="°"),
        "real_time_factor": Threshold(1.0, 0.5, higher_is_better=True, unit="×"),
    },
    "retarget": {
        "joint_limit_violations": Threshold(0, 0),
        "foot_skate_mm": Threshold(5.0, 10.0, unit=" mm"),
        "foot_penetration_mm": Threshold(5.0, 15.0, unit=" mm"),
        "foot_float_mm": Threshold(10.0, 30.0, unit=" mm"),
        "self_collisions": Threshold(0, 5),
        "frames_per_second": Threshold(300.0, 30.0, higher_is_better=True, unit=" fps"),
    },
    "perceive": {
        "detection_rate": Threshold(0.95, 0.8, higher_is_better=True),
        "reprojection_error_px": Threshold(8.0, 15.0, unit=" px"),
        "bone_length_variation": Threshold(0.05, 0.10),
        "foot_skate_mm": Threshold(20.0, 40.0, unit=" mm"),
    },
}
"""Stage -> metric name -> threshold. Metrics without an entry are shown as information."""


def mark(stage: str, metric: str, value: object) -> Mark:
    """Mark of ``value`` for ``stage``'s ``metric`` (``"info"`` when no threshold applies)."""
    threshold = THRESHOLDS.get(stage, {}).get(metric)
    if threshold is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return "info"
    return threshold.mark(float(value))
