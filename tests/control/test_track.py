"""End-to-end tracking on short clips (the full reference set runs in benchmarks/track.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from exoactor.control import TrackConfig, controllers, track_motion
from exoactor.control.drift import DriftConfig
from exoactor.errors import ExoActorError, InvalidMotionFile, UnknownName
from exoactor.formats import load_motion, load_npz
from exoactor.formats.motion import Rollout

DATA = Path(__file__).parent / "data"

REQUIRED = ("fell", "fall_time_s", "success", "mean_joint_error_rad", "max_joint_error_rad",
            "key_body_error_mm", "root_xy_error_end_m", "root_xy_error_mean_m",
            "yaw_error_end_deg", "mean_abs_joint_vel_rad_s", "real_time_factor",
            "dropped_frames", "dropped_reasons")


@pytest.mark.slow
def test_ten_second_standing_reference_stays_up(standing):
    result = track_motion(standing(10.0))
    m = result.metrics
    assert not m.fell and m.success
    assert m.evaluated_s == pytest.approx(10.0, abs=0.05)
    assert m.mean_joint_error_rad < 0.06
    assert m.root_xy_error_end_m < 0.1 and m.yaw_error_end_deg < 3.0
    assert result.rollout.qpos[:, 2].min() > 0.7
    assert not result.safety_events


def test_short_walk_writes_rollout_and_metrics(walk_motion, tmp_path):
    result = track_motion(walk_motion, out_dir=tmp_path)
    assert set(result.files) == {"rollout", "metrics"}
    data = json.loads((tmp_path / "metrics.json").read_text())
    for key in REQUIRED:
        assert key in data, key
    assert data["fell"] is False
    assert data["dropped_frames"] == 1 and data["dropped_reasons"]
    assert data["mean_joint_error_rad"] < 0.12
    assert data["config"]["drift"]["enabled"] is True
    rollout = load_npz(tmp_path / "rollout.npz", expect=Rollout)
    assert rollout.fps == 50.0
    assert rollout.qpos.shape[1] == 36 and rollout.target.shape[1] == 29
    assert rollout.ref_dof_pos.shape == (rollout.num_frames, 29)
    np.testing.assert_allclose(np.diff(rollout.time_s), 0.02, atol=1e-9)


def test_blend_start_from_standing(walk_motion):
    cfg = TrackConfig(start="blend", drift=DriftConfig(enabled=False))
    result = track_motion(walk_motion, cfg)
    assert not result.metrics.fell
    # the rollout covers the 1 s blend-in before the clip
    assert result.rollout.time_s[-1] > walk_motion.duration_s + 1.0


@pytest.mark.parametrize("name", controllers.names())
def test_every_listed_controller_resolves_and_acts(name, walk_motion):
    """A listed name resolves to a Controller subclass (importing its module), which builds on
    the motion's joints and returns a finite target per joint for the first frame."""
    from exoactor.control.controller import Controller, ReferenceFrame, RobotState

    cls = controllers.get(name)
    assert isinstance(cls, type) and issubclass(cls, Controller)
    ctl = controllers.build(name, {}, joint_names=walk_motion.joint_names)
    n = len(ctl.joint_names)
    q0 = walk_motion.dof_pos[0]
    state = RobotState(0.0, walk_motion.root_pos[0], walk_motion.root_quat[0], np.zeros(3),
                       np.zeros(3), q0, np.zeros(n))
    ref = ReferenceFrame(walk_motion.root_pos[1], walk_motion.root_quat[1], np.zeros(3),
                         np.zeros(3), walk_motion.dof_pos[1])
    ctl.reset(state, ref)
    target = ctl.act(state, ref)
    assert target.shape == (n,) and np.isfinite(target).all()


def test_unknown_controller_lists_the_registered_ones(walk_motion):
    with pytest.raises(UnknownName, match="twist2"):
        track_motion(walk_motion, TrackConfig(controller="nope"))


def test_bad_controller_option_fails_at_construction(walk_motion):
    with pytest.raises(ValueError):
        track_motion(walk_motion, TrackConfig(controller_options={"intra_op_threads": 0}))


def test_bad_config_values_fail_at_construction():
    with pytest.raises(ValueError):
        TrackConfig(start="sideways")
    with pytest.raises(ValueError):
        TrackConfig(post_fall_s=-1.0)


def test_one_frame_motion_is_an_error(walk_motion):
    with pytest.raises(InvalidMotionFile, match="at least 2"):
        track_motion(walk_motion.slice(5, 6))


def test_wrong_joint_layout_is_an_error(walk_motion):
    names = list(walk_motion.joint_names)
    names[3], names[4] = names[4], names[3]
    with pytest.raises(ExoActorError, match="entry 3"):
        track_motion(walk_motion.replace(joint_names=tuple(names)))


def test_bad_grasp_shape_is_an_error(walk_motion):
    with pytest.raises(InvalidMotionFile, match="grasp"):
        track_motion(walk_motion, grasp=np.zeros((3, 2)))


def test_unreadable_motion_file_is_an_error(tmp_path):
    bad = tmp_path / "motion.npz"
    bad.write_text("not a zip")
    with pytest.raises(InvalidMotionFile, match="motion.npz"):
        load_motion(bad)


@pytest.mark.slow
def test_render_writes_a_physics_video(standing, tmp_path):
    """``track --render``: the CLI tracks, then renders the rollout (control does not render)."""
    from typer.testing import CliRunner

    from exoactor.cli import app
    from exoactor.formats import save_npz

    motion = save_npz(standing(0.3), tmp_path / "standing.npz")
    out = tmp_path / "track"
    result = CliRunner().invoke(app, ["track", str(motion), "--out", str(out), "--render",
                                      "--no-filter"])
    assert result.exit_code == 0, result.output
    assert "video:" in result.output and "rollout.mp4" in result.output
    assert (out / "rollout.mp4").stat().st_size > 0


@pytest.mark.slow
def test_drift_correction_adds_no_fall_on_a_perceived_walk():
    """Regression: a fast (1 m/s) walk from our perceive -> retarget pipeline on real footage
    (the motion ``exoactor demo`` tracks) fell at 2.1 s with drift correction on: the clock
    waited for the lagging robot while the velocity input kept the reference's pace plus the
    feedback, asking for strides far longer than the slowed gait. Without correction it stays up."""
    motion = load_motion(DATA / "perceived_walk.npz")
    m = track_motion(motion).metrics
    assert not m.fell
    assert m.extras["drift_wait_steps_fraction"] == 0.0      # forward walk: the clock never waits
    assert m.root_xy_error_end_m < 1.2                       # 1.7 m without correction
    assert m.yaw_error_end_deg < 10.0
