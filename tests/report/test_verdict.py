"""The physics verdict and the metric marks behind it."""

from __future__ import annotations

from exoactor.report.thresholds import THRESHOLDS, mark
from exoactor.report.verdict import physics_verdict

GOOD = {"fell": False, "mean_joint_error_rad": 0.07, "key_body_error_mm": 40.0,
        "root_xy_error_end_m": 0.2, "yaw_error_end_deg": 3.0}


def test_executable_when_everything_passes() -> None:
    v = physics_verdict(GOOD)
    assert v.verdict == "executable" and v.reasons


def test_fall_is_not_executable_with_time() -> None:
    v = physics_verdict({**GOOD, "fell": True, "fall_time_s": 2.125})
    assert v.verdict == "not executable" and v.reasons == ("the robot fell at 2.12 s",)


def test_drift_and_joint_error_make_it_marginal() -> None:
    v = physics_verdict({**GOOD, "root_xy_error_end_m": 1.3, "mean_joint_error_rad": 0.16})
    assert v.verdict == "marginal"
    assert any("root_xy_error_end_m" in r for r in v.reasons)
    assert any("mean_joint_error_rad" in r for r in v.reasons)


def test_pose_not_reproduced_is_not_executable() -> None:
    v = physics_verdict({**GOOD, "key_body_error_mm": 150.0})
    assert v.verdict == "not executable" and "pose" in v.reasons[0]


def test_marks_respect_direction() -> None:
    assert mark("track", "real_time_factor", 12.0) == "pass"
    assert mark("track", "real_time_factor", 0.7) == "warn"
    assert mark("track", "real_time_factor", 0.1) == "fail"
    assert mark("track", "mean_joint_error_rad", 0.12) == "warn"
    assert mark("track", "unknown_metric", 1.0) == "info"
    assert mark("track", "fell", True) == "info"
    for stage in THRESHOLDS.values():
        for t in stage.values():
            assert (t.warn_at <= t.pass_at) if t.higher_is_better else (t.warn_at >= t.pass_at)


def test_filter_fractions_shape_the_verdict() -> None:
    good = {"fell": False, "mean_joint_error_rad": 0.06, "key_body_error_mm": 30.0,
            "root_xy_error_end_m": 0.1, "yaw_error_end_deg": 2.0}
    asked = physics_verdict({**good, "fraction_as_asked": 1.0, "fraction_modified": 0.0,
                             "fraction_not_executed": 0.0})
    assert asked.verdict == "executable"
    changed = physics_verdict({**good, "fraction_as_asked": 0.6, "fraction_modified": 0.35,
                               "fraction_not_executed": 0.05})
    assert changed.verdict == "executable with changes: 40 %"
    held = physics_verdict({**good, "fraction_as_asked": 0.5, "fraction_modified": 0.3,
                            "fraction_not_executed": 0.2})
    assert held.verdict == "not executable" and "20 % of the clip not executed" in held.reasons[0]
