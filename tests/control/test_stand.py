"""The ``stand`` controller: one file, found and built by the registry, listed by the CLI; it
holds the default pose whatever the reference, and tracking a moving motion with it is worse
than with TWIST2 (it is the no-tracking baseline)."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from exoactor.cli import app
from exoactor.control import TrackConfig, controllers, track_motion
from exoactor.control.controller import ReferenceFrame, RobotState
from exoactor.control.drift import DriftConfig


def test_stand_is_listed_and_built_from_options(walk_motion) -> None:
    assert "stand" in controllers.names()
    assert "stand" in CliRunner().invoke(app, ["track", "--help"]).output
    ctl = controllers.build("stand", {"kp_scale": 0.5}, joint_names=walk_motion.joint_names)
    twist2_kp = controllers.build("replay", {}, joint_names=walk_motion.joint_names).gains.kp
    np.testing.assert_allclose(ctl.gains.kp, 0.5 * twist2_kp)
    n = len(ctl.joint_names)
    state = RobotState(0.0, walk_motion.root_pos[0], walk_motion.root_quat[0], np.zeros(3),
                       np.zeros(3), walk_motion.dof_pos[0], np.zeros(n))
    for t in (0, 40):
        ref = ReferenceFrame(walk_motion.root_pos[t], walk_motion.root_quat[t], np.zeros(3),
                             np.zeros(3), walk_motion.dof_pos[t])
        np.testing.assert_array_equal(ctl.act(state, ref), ctl.default_joint_pos)


def test_standing_still_tracks_a_walk_worse_than_twist2(walk_motion) -> None:
    short = walk_motion.slice(0, 100)  # 2 s of walking
    cfg = TrackConfig(start="blend", drift=DriftConfig(enabled=False))
    stand = track_motion(short, cfg.model_copy(update={"controller": "stand"})).metrics
    twist2 = track_motion(short, cfg).metrics
    assert stand.mean_joint_error_rad > twist2.mean_joint_error_rad


def test_a_stateless_controller_round_trips_none_and_refuses_a_foreign_state(walk_motion) -> None:
    import pytest

    from exoactor.errors import ExoActorError

    ctl = controllers.build("stand", {}, joint_names=walk_motion.joint_names)
    assert ctl.get_state() is None
    ctl.set_state(None)  # what its own get_state gave
    twist2 = controllers.build("twist2", {}, joint_names=walk_motion.joint_names)
    with pytest.raises(ExoActorError, match="StandController|keeps no internal state"):
        ctl.set_state(twist2.get_state())
