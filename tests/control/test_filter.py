"""The physics filter: decisions, the planner's model against the executed loop, the objective
guarantee, no new falls, and a standing reference that stays put. Short clips (CPU-cheap)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from exoactor.control.filter import FilterConfig, filter_motion
from exoactor.control.filter.config import DecisionBounds
from exoactor.control.filter.decisions import (
    IDENTITY,
    apply_to_mimic,
    candidate_plans,
    plan_at,
    shift_plan,
)

FAST = FilterConfig(workers=1, candidates=8, random_candidates=0, horizon_s=1.0)
"""A cheap filter for tests: 8 candidates (raw, previous, hold, feedback, stand and the first
coordinate candidates), 1 s horizon, in-process."""


def test_identity_decisions_leave_the_mimic_unchanged() -> None:
    rng = np.random.default_rng(0)
    mimic = rng.normal(size=35)
    legs = np.arange(12)
    stand = rng.normal(size=35)
    out = apply_to_mimic(mimic, IDENTITY[None], rng.normal(size=12), legs, stand, np.arange(15))
    np.testing.assert_array_equal(out[0], mimic)
    full = apply_to_mimic(mimic, np.array([[0.3, 0.0, -0.2, 1.0, 1.0, 1.0]]), mimic[6:18], legs,
                          stand, np.arange(15))[0]
    np.testing.assert_allclose(full[6:21], stand[6:21])  # legs and waist stand
    np.testing.assert_allclose(full[[0, 5]], [0.3, -0.2])  # only the offsets are left
    np.testing.assert_array_equal(full[21:], mimic[21:])  # arms untouched


def test_stop_candidate_only_after_the_clip() -> None:
    rng = np.random.default_rng(0)
    current = np.array([0.4, 0.1, -0.3, 1.2, 0.2, 1.0, 0.0])
    _, during = candidate_plans(current, None, current, 16, 2, DecisionBounds(), rng)
    plans, after = candidate_plans(current, None, current, 16, 2, DecisionBounds(), rng,
                                   after_clip=True)
    assert "stop" not in during and "stop" in after
    stop = plans[after.index("stop")]
    np.testing.assert_array_equal(stop[0], current)  # continuous with the decisions in use
    np.testing.assert_array_equal(stop[1:], np.tile([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0], (2, 1)))


def test_clip_end_term_counts_once_at_the_clip_end_row() -> None:
    from types import SimpleNamespace

    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import clip_end_row, step_cost

    dt = 0.02
    clip_t = -0.1 + dt * np.arange(60)
    n = len(clip_t)
    tab = SimpleNamespace(clip_t=clip_t, duration_s=0.9, dt=dt, root_pos_w=np.zeros((n, 3)),
                          root_quat_w=np.tile([1.0, 0, 0, 0], (n, 1)),
                          body_pos_w=np.zeros((n, 4, 3)), joint_pos=np.zeros((n, 29)),
                          torso_tilt_rad=np.zeros(n), eased_shift_b=np.zeros((n, 2, 4, 3)))
    end = clip_end_row(tab)
    assert clip_t[end] <= 0.9 + 1e-9 < clip_t[end + 1]
    qpos = np.zeros((1, 36))
    qpos[0, 3] = 1.0
    qpos[0, 0] = 0.3  # 0.3 m off in x
    args = (np.zeros((1, 35)), np.zeros((1, 4, 3)), np.zeros(1), IDENTITY[None], IDENTITY[None],
            tab)
    w = ObjectiveWeights()
    joints = np.arange(7, 36)
    rates = [step_cost(qpos, *args, k, joints, w, (0, 1, 2, 3))[0] for k in (end - 1, end)]
    assert np.isclose((rates[1] - rates[0]) * dt, w.clip_end * 0.09)


def test_candidates_always_include_the_unmodified_reference() -> None:
    rng = np.random.default_rng(1)
    current = np.array([0.2, 0.1, -0.3, 1.1, 0.2, 1.0, 0.0])
    plans, labels = candidate_plans(current, None, current, 16, 2, DecisionBounds(), rng)
    assert labels[0] == "raw" and np.all(plans[0] == IDENTITY)
    assert np.all(plans[1:, 0] == current)  # the others continue from the decisions in use
    assert len({p.tobytes() for p in plans}) > 10
    mid = plan_at(plans[3:4], 0.25)[0]
    np.testing.assert_allclose(mid, 0.5 * (plans[3, 0] + plans[3, 1]))
    np.testing.assert_allclose(shift_plan(plans[3], 0.5)[0], plans[3, 1])


@pytest.fixture(scope="module")
def walk_result(walk_motion):
    return filter_motion(walk_motion, FAST, show_progress=False)


@pytest.mark.slow
def test_filter_is_never_worse_than_raw_on_its_objective(walk_result) -> None:
    rep = walk_result.report
    for replan in rep["replans"]:
        if replan["raw_cost"] is not None:  # the raw plan was a candidate of every re-plan
            assert replan["cost"] <= replan["raw_cost"] + 1e-12
    assert rep["objective"]["filtered"] is not None
    # the kept run is the cheapest of the whole runs (raw, corrector, filtered) that stayed up
    kept = rep["objective"][rep["kept"]]
    assert kept <= rep["objective"]["raw"] + 1e-12
    assert all(kept <= v + 1e-12 for v in rep["objective"].values() if v is not None)
    fr = walk_result.fractions
    assert abs(sum(fr.values()) - 1.0) < 1e-9
    # it has authority: on this walk it steers, and ends nearer the reference than raw does
    assert rep["kept"] != "raw" and fr["fraction_modified"] > 0.1
    assert walk_result.metrics.root_xy_error_end_m < walk_result.raw_metrics.root_xy_error_end_m


@pytest.mark.slow
def test_the_plain_runs_beside_the_planner_are_the_runs_made_alone(walk_result,
                                                                    walk_motion) -> None:
    """The raw tracker's and the drift corrector's whole runs run on a thread beside the first
    attempt's planning; each is exactly the loop run alone (:func:`track_motion`, the same
    settings), to the last bit of its figures."""
    from exoactor.control.drift import DriftConfig
    from exoactor.control.filter.run import with_run_out
    from exoactor.control.track import TrackConfig, track_motion

    track = with_run_out(TrackConfig(), FAST)
    alone = track_motion(walk_motion, track.model_copy(update={"drift": DriftConfig(enabled=False)}))
    beside = walk_result.raw_metrics
    assert beside.mean_joint_error_rad == alone.metrics.mean_joint_error_rad
    assert beside.key_body_error_mm == alone.metrics.key_body_error_mm
    assert beside.fell == alone.metrics.fell
    drift = track.drift.model_copy(update={"enabled": True})
    corrected = track_motion(walk_motion, track.model_copy(update={"drift": drift}))
    rep = walk_result.report["corrector"]
    assert rep["steps"] == len(corrected.rollout.qpos)
    assert rep["fell"] == corrected.metrics.fell


@pytest.mark.slow
def test_no_fall_where_the_raw_tracker_stands(walk_result) -> None:
    from exoactor.formats import load_motion

    assert not walk_result.raw_metrics.fell and not walk_result.metrics.fell
    root = Path(os.environ["EXOACTOR_ASSETS"]) / "twist2" / "motions"
    swing = load_motion(root / "accad_A3___Swing_t2.pkl")
    swing = swing.slice(0, int(2.5 * swing.fps))
    res = filter_motion(swing, FAST, show_progress=False)
    assert res.metrics.fell <= res.raw_metrics.fell
    assert abs(res.metrics.mean_joint_error_rad - res.raw_metrics.mean_joint_error_rad) < 0.02


@pytest.mark.slow
def test_standing_reference_makes_a_standing_robot(walk_motion, tmp_path) -> None:
    """walk_001's first (clean) frame held 3 s with 1 cm root noise per frame."""
    n = int(3 * walk_motion.fps)
    rng = np.random.default_rng(0)
    stand = walk_motion.replace(
        root_pos=np.repeat(walk_motion.root_pos[1:2], n, 0) + rng.normal(0, 0.01, (n, 3)),
        root_quat=np.repeat(walk_motion.root_quat[1:2], n, 0),
        dof_pos=np.repeat(walk_motion.dof_pos[1:2], n, 0))
    res = filter_motion(stand, FAST, out_dir=tmp_path, show_progress=False)
    assert not res.metrics.fell
    assert res.metrics.root_xy_error_end_m <= 0.1
    assert res.metrics.root_xy_error_settled_m <= 0.1
    start = np.asarray(res.rollout.qpos[0, :2])
    assert np.linalg.norm(res.rollout.qpos[-1, :2] - start) <= 0.1
    import json

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("fell", "root_xy_error_end_m", "yaw_error_end_deg", "mean_joint_error_rad",
                "key_body_error_mm", "fraction_as_asked", "fraction_modified",
                "fraction_not_executed"):
        assert key in metrics
    assert "root_xy_error_end_m" in metrics["raw"]
    assert (tmp_path / "executable_motion.npz").is_file()
    assert (tmp_path / "filter_report.json").is_file()


@pytest.mark.slow
def test_planner_model_is_the_executed_loop(walk_motion) -> None:
    """Candidates run in lockstep (one batched ONNX call) reproduce today's tracking loop
    exactly, so a plan's predicted start is what the executed robot does."""
    from exoactor.control.drift import DriftConfig
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.control.reference import drop_glitched_leading_frames
    from exoactor.control.track import TrackConfig, build_simulation_loop

    clean, _ = drop_glitched_leading_frames(walk_motion)
    plant = Plant(PlantSetup(clean), 2)
    out = plant.simulate([plant.initial_state()] * 2, np.tile(IDENTITY, (2, 3, 1)), 50, 50,
                         ObjectiveWeights(), strict=False)
    run = build_simulation_loop(walk_motion, TrackConfig(drift=DriftConfig(enabled=False)))
    for _ in range(50):
        run.loop.step()
    loop_qpos = np.array(run.loop.rec["qpos"])
    for rec in out.records:
        assert np.abs(rec.qpos - loop_qpos).max() == 0.0


def test_hold_plan_feeds_the_whole_standing_posture() -> None:
    """The hold decisions feed standing at rest: every joint (arms included), pelvis height and
    tilt at standing and no root velocity or yaw rate, whatever the reference asks; the turning
    hold (issue 16) the same but the reference's own yaw rate, so the robot turns with it."""
    from exoactor.control.filter.decisions import (
        HOLD,
        HOLD_TURN,
        hold_must_ramp,
        hold_plans,
        is_hold,
    )

    rng = np.random.default_rng(1)
    mimic, stand = rng.normal(size=35), rng.normal(size=35)
    stand[[0, 1, 3, 4, 5]] = 0.0
    out = apply_to_mimic(mimic, HOLD[None], mimic[6:18], np.arange(12), stand, np.arange(15))[0]
    np.testing.assert_allclose(out, stand, atol=1e-12)
    turning = apply_to_mimic(mimic, HOLD_TURN[None], mimic[6:18], np.arange(12), stand,
                             np.arange(15))[0]
    keep = np.arange(35) != 5
    np.testing.assert_array_equal(turning[keep], out[keep])
    assert np.isclose(turning[5], mimic[5], atol=1e-12)  # turning as the reference turns
    # per candidate: a batch of mimic rows (one clock each) keeps each row's own yaw rate
    rows = rng.normal(size=(3, 35))
    both = apply_to_mimic(rows, np.stack([HOLD_TURN, HOLD, HOLD_TURN]), rows[:, 6:18],
                          np.arange(12), stand, np.arange(15))
    np.testing.assert_allclose(both[[0, 2], 5], rows[[0, 2], 5], atol=1e-12)
    assert np.isclose(both[1, 5], 0.0, atol=1e-12)
    # within the sampled range [0, 1] the arms stay bit-exact (hold is an extension only)
    part = apply_to_mimic(mimic, np.array([[0.0, 0.0, 0.0, 1.0, 0.7, 1.0, 0.0]]), mimic[6:18],
                          np.arange(12), stand, np.arange(15))[0]
    np.testing.assert_array_equal(part[21:], mimic[21:])
    current = np.array([0.2, 0.0, 0.6, 1.0, 0.5, 0.8, 0.0])
    plans, labels = hold_plans(current)
    assert all(is_hold(lb) for lb in labels) and not is_hold("hold")
    assert labels == ["hold_stand", "hold_stand_ramp", "hold_stand_turn"]
    np.testing.assert_array_equal(plans[0], np.tile(HOLD, (3, 1)))
    np.testing.assert_array_equal(plans[1, 0], current)  # the ramp starts where we are
    np.testing.assert_array_equal(plans[1, 1:], np.tile(HOLD, (2, 1)))
    np.testing.assert_array_equal(plans[2], np.tile(HOLD_TURN, (3, 1)))
    # the turning hold turns toward the reference's heading from knot 1 (the feedback law's)
    plans, _ = hold_plans(current, 0.4)
    np.testing.assert_array_equal(plans[2, 0], HOLD_TURN)
    np.testing.assert_array_equal(plans[2, 1:, 2], [0.4, 0.4])
    np.testing.assert_array_equal(np.delete(plans[2, 1:], 2, axis=1),
                                  np.delete(np.tile(HOLD_TURN, (2, 1)), 2, axis=1))
    np.testing.assert_array_equal(plans[:2], hold_plans(current)[0][:2])
    # a robot well below standing: every hold starts where it is and ramps, never a step
    assert hold_must_ramp(0.50, 0.79, 0.1) and not hold_must_ramp(0.72, 0.79, 0.1)
    plans, labels = hold_plans(current, 0.4, ramp=True)
    assert labels == ["hold_stand_ramp"] and is_hold(labels[0])
    np.testing.assert_array_equal(plans[0, 0], current)
    np.testing.assert_array_equal(plans[0, 1:], np.tile(HOLD, (2, 1)))
    # a hold in use goes on unchanged
    np.testing.assert_array_equal(hold_plans(HOLD, ramp=True)[0][0], np.tile(HOLD, (3, 1)))


class _FakeEvaluator:
    """Plans fall unless their stance reaches the hold value (2): a reference no ordinary plan
    can keep the robot up on, or (``ordinary_up``) one where plan 3 stays up."""

    def __init__(self, ordinary_up: bool):
        self.ordinary_up = ordinary_up
        self.calls: list[int] = []

    def simulate(self, states, plans, horizon_steps, record_steps, weights):
        from types import SimpleNamespace

        self.calls.append(len(plans))
        up = plans[:, -1, 4] > 1.5
        if self.ordinary_up and len(self.calls) == 1:
            up[3] = True
        cost = np.where(up, 1.0 + np.arange(len(plans)), np.inf)
        fall = np.where(up, -1, 10 + np.arange(len(plans)))
        return SimpleNamespace(cost=cost, fall_step=fall)


def _planner_replan(ordinary_up: bool):
    from types import SimpleNamespace

    from exoactor.control.filter.run import _Planner

    n = 100
    tab = SimpleNamespace(
        steps=n, dt=0.02, duration_s=1.5, clip_t=-0.5 + 0.02 * np.arange(n + 1),
        root_quat_w=np.tile([1.0, 0.0, 0.0, 0.0], (n + 1, 1)),
        root_pos_w=np.zeros((n + 1, 3)), step_of=lambda t: int(round((t + 0.5) / 0.02)),
        gait=None, stand_mimic=np.r_[0.0, 0.0, 0.79, np.zeros(32)])
    ev = _FakeEvaluator(ordinary_up)
    planner = _Planner(ev, tab, FAST, 0.02)
    saved = SimpleNamespace(controller=(np.zeros((10, 3)), np.zeros(29), False),
                            safety=SimpleNamespace(previous=np.zeros(29)),
                            plant=SimpleNamespace(integration=np.zeros(3)), clip_time_s=0.1)
    qpos = np.zeros(36)
    qpos[2:4] = [0.78, 1.0]  # standing
    planner._replan(saved, qpos)
    return planner, ev


def test_hold_only_where_every_ordinary_plan_falls() -> None:
    """All ordinary plans fall: the hold plans are simulated and one that stays up is executed
    (reported, and its steps flagged); some ordinary plan stays up: no hold plan is even
    simulated (so such runs are unchanged)."""
    planner, ev = _planner_replan(ordinary_up=False)
    assert ev.calls == [FAST.candidates, 3]
    entry = planner.log[-1]
    assert entry["chosen"] == "hold_stand" and planner.holding
    assert entry["infeasible"] == FAST.candidates and entry["hold_infeasible"] == 0
    planner, ev = _planner_replan(ordinary_up=True)
    assert ev.calls == [FAST.candidates]
    assert planner.log[-1]["chosen"] != "hold_stand" and not planner.holding
    assert "hold_infeasible" not in planner.log[-1]


def test_held_steps_count_as_not_executed() -> None:
    from types import SimpleNamespace

    from exoactor.control.filter.run import Executed, fractions

    n = 50
    tab = SimpleNamespace(clip_t=0.02 * np.arange(n + 1), duration_s=1.0, dt=0.02,
                          mimic=np.zeros((n + 1, 35)), leg_mean=np.zeros((n + 1, 12)),
                          step_of=lambda t: int(round(t / 0.02)))
    rec = {"clip_t": list(tab.clip_t[1:])}
    plain = Executed(rec, decisions=[IDENTITY.copy() for _ in range(n)])
    held = Executed(rec, decisions=[IDENTITY.copy() for _ in range(n)],
                    held=[i >= n // 2 for i in range(n)])
    assert fractions(plain, tab, FAST)["fraction_as_asked"] == pytest.approx(1.0)
    fr = fractions(held, tab, FAST)
    assert fr["fraction_as_asked"] == pytest.approx(0.5)
    assert fr["fraction_not_executed"] == pytest.approx(0.5)


def _legs_held_then_jumping(standing, seconds: float = 3.0):
    """A reference that holds a posture (legs half apart and half bent) for its first half,
    then jumps: legs from together and straight to apart (hip roll +-0.3 rad) and bent (hip
    pitch -0.4, knee +0.8, ankle pitch -0.4 rad) and back, once a second."""
    m = standing(seconds)
    names = list(m.joint_names)
    t = np.arange(len(m.dof_pos)) / m.fps
    s = np.where(t < seconds / 2, 0.5, (1.0 - np.cos(2.0 * np.pi * (t - seconds / 2))) / 2.0)
    q = m.dof_pos.copy()
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for joint, amp in (("hip_roll", 0.3 * sign), ("hip_pitch", -0.4), ("knee", 0.8),
                           ("ankle_pitch", -0.4)):
            q[:, names.index(f"{side}_{joint}_joint")] += amp * s
    return m.replace(dof_pos=q)


def test_undone_charges_easing_a_moving_pose_to_standing(standing) -> None:
    """The objective charges a plan for the motion its stance blend leaves undone: the key
    bodies' shift (relative to the pelvis) toward standing where the reference's legs move, at
    the pose weight. Easing a reference that stands, in whatever posture (legs held apart and
    bent), costs ~0; easing legs that jump costs their shift, 1/4 of it at half blend; no
    stance (the unmodified reference) costs exactly 0; a hold plan (stance 2) costs at least as
    much. Before, the objective had no such term: a stance-1 plan cost the same as a stance-0
    plan in the same robot state."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import step_cost, undone_sq
    from exoactor.control.filter.plant import Plant, PlantSetup

    tab = Plant(PlantSetup(_legs_held_then_jumping(standing)), 1).table
    still = tab.step_of(0.7)
    apart = tab.step_of(2.0)  # the legs at their widest
    stance = np.tile(IDENTITY, (4, 1))
    stance[1:, 4] = (0.5, 1.0, 2.0)  # decision 4: the stance blend
    u_still, u_apart = undone_sq(stance, tab, still), undone_sq(stance, tab, apart)
    assert u_still[0] == 0.0 and u_apart[0] == 0.0
    assert u_still[2] < 1e-12  # easing a held posture takes no movement away
    assert u_apart[2] > 0.03 ** 2  # the feet and knees move by several cm
    assert u_apart[1] == pytest.approx(u_apart[2] / 4.0)
    assert u_apart[3] >= u_apart[2]
    # in the one objective: the same robot state costs more under the easing plan
    qpos = np.tile(np.r_[tab.root_pos_w[apart], tab.root_quat_w[apart], tab.joint_pos[apart]],
                   (2, 1))
    w = ObjectiveWeights()
    c = step_cost(qpos, np.zeros((2, 35)), np.tile(tab.body_pos_w[apart], (2, 1, 1)),
                  np.zeros(2), stance[[0, 2]], stance[[0, 2]], tab, apart,
                  np.arange(7, 36), w, (0, 1, 2, 3))
    assert c[1] - c[0] == pytest.approx(w.undone * u_apart[2])


def _kimodo_csv(name: str):
    """A Kimodo G1 CSV of the shared assets (no header, 30 fps: root xyz, root quat wxyz, 29
    joints in MuJoCo order; ``kimodo/SOURCE.md``)."""
    from exoactor.control.twist2 import TWIST2_JOINTS
    from exoactor.formats import RobotMotion

    path = Path(os.environ["EXOACTOR_ASSETS"]) / "kimodo" / f"{name}.csv"
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    quat = data[:, 3:7] / np.linalg.norm(data[:, 3:7], axis=1, keepdims=True)
    return RobotMotion(robot="g1", fps=30.0, joint_names=tuple(TWIST2_JOINTS),
                       root_pos=data[:, 0:3], root_quat=quat, dof_pos=data[:, 7:36],
                       source=str(path))


@pytest.mark.slow
def test_a_jumping_motion_is_done_not_eased_to_standing() -> None:
    """Kimodo's jumping jacks (4 s; tracked raw, the robot stays up and drifts 1.3 m): the
    filter must carry the jumps out rather than ease the legs to standing to keep its place,
    when plans that do them stay up. Before the objective charged the motion left undone, this
    config eased 78 % of the clip to standing (clip-end xy 0.03 m); with it, none (xy 0.54 m,
    still nearer than raw's 1.32 m)."""
    motion = _kimodo_csv("kimodo_jumpjack")
    res = filter_motion(motion, FAST, show_progress=False)
    assert not res.raw_metrics.fell and not res.metrics.fell
    assert res.fractions["fraction_not_executed"] <= 0.1  # the verdict's bar
    # doing the motion still keeps the robot nearer its reference than raw does
    assert res.metrics.root_xy_error_end_m < res.raw_metrics.root_xy_error_end_m
# ---- reference time warp (decision 5) ----------------------------------------------------

def test_clock_advance_lands_on_the_clip_end_and_keeps_the_lag_bounded() -> None:
    from exoactor.control.filter.decisions import advance_clock

    end, limit = 100, 10.0
    # an unwarped clock stays on whole rows, bit for bit (a rate within 1e-9 of 1 is 1)
    assert advance_clock(np.array([7.0]), 7, np.array([1.0 - 1e-12]), end, limit)[0] == 8.0
    # a slowed clock: half a row per step
    assert advance_clock(np.array([7.0]), 7, np.array([0.5]), end, limit)[0] == 7.5
    # a step ending within the clip's last row, or beyond the end, lands exactly on the end
    assert advance_clock(np.array([99.2]), 110, np.array([0.5]), end, 20.0)[0] == 100.0
    assert advance_clock(np.array([98.9]), 99, np.array([1.25]), end, limit)[0] == 100.0
    # on / past the clip's end the clock runs at rate 1 whatever the plan asks
    assert advance_clock(np.array([100.0]), 104, np.array([0.5]), end, limit)[0] == 101.0
    # at the lateness limit (steps - clock) the rate is held at 1: no later ...
    assert advance_clock(np.array([40.0]), 50, np.array([0.5]), end, limit)[0] == 41.0
    # ... and no earlier
    assert advance_clock(np.array([60.0]), 50, np.array([1.25]), end, limit)[0] == 61.0
    # vectorised over plans
    out = advance_clock(np.array([7.0, 7.0]), 7, np.array([0.5, 1.2]), end, limit)
    np.testing.assert_allclose(out, [7.5, 8.2])


def test_clip_end_lateness_and_the_whole_run_choice() -> None:
    """A run whose clock reached the clip's end late reports how late (control time), and a run
    later than the limit is not kept even when its objective is lower."""
    from types import SimpleNamespace

    from exoactor.control.filter.objective import clip_end_row
    from exoactor.control.filter.run import Executed, choose_run, clip_end_lateness_s

    dt = 0.02
    clip_t = -0.1 + dt * np.arange(80)
    tab = SimpleNamespace(clip_t=clip_t, duration_s=1.0, dt=dt)
    end = clip_end_row(tab)
    on_time = Executed({"clip_t": list(clip_t[1:])})
    assert clip_end_lateness_s(on_time, tab) == pytest.approx(0.0, abs=1e-12)
    # half speed for the first 20 steps: 10 rows behind, so the clip end comes 0.2 s late
    slow = np.concatenate([clip_t[0] + 0.5 * dt * np.arange(1, 21),
                           clip_t[10] + dt * np.arange(1, 70)])
    late = Executed({"clip_t": list(slow)})
    assert clip_end_lateness_s(late, tab) == pytest.approx(10 * dt)
    assert slow[end - 1 + 10] <= 1.0 + 1e-9 < slow[end + 10]
    # a run that never got past the clip's end has no lateness
    assert np.isnan(clip_end_lateness_s(Executed({"clip_t": list(clip_t[1:end])}), tab))
    runs = {"filtered": on_time, "corrector": late}
    objectives = {"filtered": 2.0, "corrector": 1.0}
    lateness = {"filtered": 0.0, "corrector": 0.2}
    assert choose_run(runs, objectives, lateness, max_late_s=0.3) == "corrector"
    assert choose_run(runs, objectives, lateness, max_late_s=0.1) == "filtered"


def test_clock_lag_is_charged_by_the_objective() -> None:
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import clock_lag_cost

    w = ObjectiveWeights()
    np.testing.assert_allclose(clock_lag_cost(np.array([0.0, 1.0, -2.0]), w),
                               [0.0, w.clock_lag, 4.0 * w.clock_lag])


def _walk_plant_and_slowed_plan(walk_motion):
    """The planning plant of the walk (glitched leading frames dropped) and two plans of 3
    decision rows: the unmodified one and one that runs the reference clock at rate 0.6."""
    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.control.reference import drop_glitched_leading_frames

    clean, _ = drop_glitched_leading_frames(walk_motion)
    slow = IDENTITY.copy()
    slow[5] = 0.6
    return Plant(PlantSetup(clean), 2), np.stack([np.tile(IDENTITY, (3, 1)),
                                                  np.tile(slow, (3, 1))])


@pytest.mark.slow
def test_a_plan_that_slows_the_clock_is_simulated_and_executed(walk_motion) -> None:
    """A plan that slows the reference clock: the planning plant moves each plan along the
    reference at its own rate (fed and judged there), and the executed loop under the same
    decisions (the filter's own clock rule and mimic transform) does what the plan simulated."""
    from exoactor.control.drift import DriftConfig
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.decisions import advance_clock, interpolate_rows
    from exoactor.control.filter.run import _mimic_transform
    from exoactor.control.loop import ReferenceMod
    from exoactor.control.track import TrackConfig, build_simulation_loop
    from exoactor.control.twist2 import mimic_obs

    plant, plans = _walk_plant_and_slowed_plan(walk_motion)
    tab = plant.table
    n = 40
    out = plant.simulate([plant.initial_state()] * 2, plans, n, n, ObjectiveWeights(),
                         strict=False)
    # the slowed plan is 16 rows (0.32 s of the reference) behind the unwarped one after 40 steps
    assert out.states[0].clock == n and out.states[0].step == n
    assert out.states[1].clock == pytest.approx(0.6 * n) and out.states[1].step == n
    # it was fed the reference at its own clock (the mimic interpolated between rows)
    fed = out.records[1].fed_mimic
    np.testing.assert_allclose(fed[10, 6:], interpolate_rows(tab.mimic, np.array([6.0]))[0, 6:])
    np.testing.assert_allclose(fed[11, 6:], interpolate_rows(tab.mimic, np.array([6.6]))[0, 6:])
    assert np.abs(fed[n - 1, 6:] - out.records[0].fed_mimic[n - 1, 6:]).max() > 1e-3

    run = build_simulation_loop(walk_motion, TrackConfig(drift=DriftConfig(enabled=False)))
    loop = run.loop
    clock, seen = 0.0, []
    for i in range(n):
        after = float(advance_clock(np.array([clock]), i, np.array([0.6]), plant.end_row,
                                    plant.max_lag_rows)[0])
        mod = ReferenceMod(clock_rate=after - clock,
                           transform=_mimic_transform(plans[1, 0], clock, tab, tab.stand_mimic, i))
        seen.append(mimic_obs(loop.step(mod).seen))
        clock = after
    assert loop.clip_time_s == pytest.approx(tab.clip_t[0] + 0.6 * n * tab.dt)
    np.testing.assert_allclose(np.array(seen), fed, atol=1e-9)
    loop_qpos = np.array(loop.rec["qpos"])
    assert np.abs(out.records[1].qpos - loop_qpos).max() < 1e-6


def test_fractions_are_of_the_clip_duration_under_a_slowed_clock() -> None:
    """40 steps at half rate (0.4 s of the clip, modified) then 30 at rate 1 (0.6 s, as asked):
    the fractions weigh each step by the clip time it covered."""
    from types import SimpleNamespace

    from exoactor.control.filter.run import Executed, fractions

    n, dt = 50, 0.02
    tab = SimpleNamespace(clip_t=dt * np.arange(n + 1), duration_s=1.0, dt=dt,
                          mimic=np.zeros((n + 1, 35)), leg_mean=np.zeros((n + 1, 12)),
                          step_of=lambda t: int(np.ceil(t / 0.02 - 1e-9)))
    clip_t = np.concatenate([0.5 * dt * np.arange(1, 41), 0.4 + dt * np.arange(1, 31)])
    slow = IDENTITY.copy()
    slow[5] = 0.5
    run = Executed({"clip_t": list(clip_t)}, decisions=[slow] * 40 + [IDENTITY.copy()] * 30)
    fr = fractions(run, tab, FAST)
    assert fr["fraction_modified"] == pytest.approx(0.4)
    assert fr["fraction_as_asked"] == pytest.approx(0.6)
    assert fr["fraction_not_executed"] == 0.0  # not the float sum's 2e-16


def test_clock_candidates_only_with_a_warp_and_inside_the_clip() -> None:
    """With the warp allowed the clip's re-plans try a slower and a faster clock; without it
    (bounds 1..1) no plan touches the clock, random ones included."""
    warp = DecisionBounds(clock_rate_min=0.5, clock_rate_max=1.25)
    current = np.array([0.1, 0.0, 0.2, 1.0, 0.0, 0.9, 0.0])
    plans, labels = candidate_plans(current, None, current, 16, 2, warp,
                                    np.random.default_rng(0))
    slow = plans[labels.index("clock_rate-")]
    assert slow[0, 5] == 0.9 and slow[1, 5] == pytest.approx(0.9 - 2 * warp.sigma_clock_rate)
    assert "clock_rate+" in labels
    _, after = candidate_plans(current, None, current, 16, 2, warp, np.random.default_rng(0),
                               after_clip=True)
    assert not any(lb.startswith("clock_rate") for lb in after)
    plans, labels = candidate_plans(current, None, current, 16, 2,
                                    DecisionBounds(clock_rate_min=1.0, clock_rate_max=1.0),
                                    np.random.default_rng(0))
    assert not any(lb.startswith("clock_rate") for lb in labels)
    assert np.all(plans[:, :, 5] == 1.0)
    # the random draws are those of the five other variables only (the stream before the warp)
    from exoactor.control.filter.decisions import lower_upper, sigmas

    no_warp = DecisionBounds(clock_rate_min=1.0, clock_rate_max=1.0)
    lo, hi = lower_upper(no_warp)
    draw = np.random.default_rng(0).normal(0.0, 1.0, (2, 5)) * sigmas(no_warp)[:5]
    np.testing.assert_array_equal(plans[labels.index("random"), 1:, :5],
                                  np.clip(current[:5] + draw, lo[:5], hi[:5]))



def test_a_box_on_the_floor_is_not_the_robot_on_the_floor(standing) -> None:
    """The planner's strict fall rule ("a geom other than the feet touches the floor") is
    about the robot: a carried box standing on the floor (or knocked off its support) must not
    make every plan, a standing one included, count as fallen. Before, it did: on the
    pick-up-weight clip the box knocked off its support by a wrist made all 16 plans and both
    hold plans "fall" at the instant it landed, the filter then executed the longest-up plan
    (the raw reference, by the tie) and the robot really fell at 2.16 s; the same would hold
    from the first step for any box inferred on the floor."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.formats.scene import ObjectPose, Scene, SceneObject

    box = SceneObject(kind="box", pose=ObjectPose(pos=(0.6, 0.0, 0.15)), size=(0.25, 0.3, 0.3),
                      mass=2.0)
    plant = Plant(PlantSetup(standing(1.0), scene=Scene(objects=(box,))), 1)
    out = plant.simulate([plant.initial_state()], np.tile(IDENTITY, (1, 3, 1)), 20, 0,
                         ObjectiveWeights(), strict=True)
    assert out.fall_step[0] == -1 and np.isfinite(out.cost[0])
    d = plant.datas[0]
    touching = {int(g) for c in d.contact[:d.ncon] for g in (c.geom1, c.geom2)}
    box_geom = plant.model.geom("scene_0_box").id
    assert box_geom in touching  # the box does stand on the floor
    # the robot's own non-foot geoms still count
    pelvis = [g for g in range(plant.model.ngeom)
              if plant.model.geom_bodyid[g] == plant.model.body("pelvis").id]
    assert pelvis and plant.falls_on_floor_geom[pelvis].all()
    assert not plant.falls_on_floor_geom[box_geom] and not plant.falls_on_floor_geom[plant.foot_geom].any()


def test_seat_support_is_charged_off_the_seat_and_only_in_its_phase() -> None:
    """The seat-support term (issue 16): during a seat's evidence phase a pelvis outside the
    seat's footprint less the margin costs ``seated * distance^2``; inside it, and outside the
    phase, the cost is the one without a seat."""
    from types import SimpleNamespace

    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import step_cost
    from exoactor.control.filter.plant import seat_rows
    from exoactor.formats.scene import ObjectPose, Scene, SceneObject

    dt, fps = 0.02, 50.0
    clip_t = -0.1 + dt * np.arange(100)
    n = len(clip_t)
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(1.0, 0.0, 0.2), yaw_rad=np.pi / 2),
                       size=(0.4, 0.5, 0.4), evidence=((60, 80),))
    rows = seat_rows(Scene(fps=fps, objects=(seat,)), clip_t, fps, dropped_frames=10)
    assert seat_rows(Scene(fps=fps), clip_t, fps) is None
    w_seat, centre, yaw_s, half, index = rows
    on = np.flatnonzero(w_seat > 0)
    # evidence frames 60-80 of the inferred motion, 10 frames dropped: clip 1.0-1.4 s
    assert np.isclose(clip_t[on[0]], 1.0) and np.isclose(clip_t[on[-1]], 1.4)
    base = dict(clip_t=clip_t, duration_s=1.8, dt=dt, root_pos_w=np.zeros((n, 3)),
                root_quat_w=np.tile([1.0, 0, 0, 0], (n, 1)), body_pos_w=np.zeros((n, 4, 3)),
                joint_pos=np.zeros((n, 29)), torso_tilt_rad=np.zeros(n),
                eased_shift_b=np.zeros((n, 2, 4, 3)))
    bare = SimpleNamespace(**base)
    seated = SimpleNamespace(**base, seat_w=w_seat, seat_centre=centre, seat_yaw=yaw_s,
                             seat_half=half)
    w = ObjectiveWeights()
    assert w.seated_margin_m == 0.0  # supported: the pelvis over the seat's footprint
    joints = np.arange(7, 36)
    # the seat is turned 90 deg: its depth (0.4 m) along world y, its width (0.5 m) along x
    qpos = np.zeros((3, 36))
    qpos[:, 3] = 1.0
    qpos[:, :2] = [[1.0, 0.0], [1.35, 0.0], [1.0, -0.3]]  # centre; 0.1 m off each side
    args = (np.zeros((3, 35)), np.zeros((3, 4, 3)), np.zeros(3), IDENTITY[None].repeat(3, 0),
            IDENTITY[None].repeat(3, 0))

    def cost(tab, k):
        return step_cost(qpos, *args, tab, k, joints, w, (0, 1, 2, 3))

    k_on, k_off = on[len(on) // 2], on[0] - 5
    extra = cost(seated, k_on) - cost(bare, k_on)
    np.testing.assert_allclose(extra, [0.0, w.seated * 0.1 ** 2, w.seated * 0.1 ** 2],
                               atol=1e-9)
    np.testing.assert_array_equal(cost(seated, k_off), cost(bare, k_off))


def test_planning_loops_charge_the_seat_support_of_the_scene(standing) -> None:
    """The planning loops (:class:`~exoactor.control.filter.plant.Plant`) charge the seat-support
    term of the scene's seat in its evidence phase, and only there: a seat 1 m beside a
    standing robot (out of reach, so the physics is the same with and without the term) adds
    exactly ``seated * sum(support_sq) dt`` over the phase's steps."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import seat_support_sq
    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.formats.scene import ObjectPose, Scene, SceneObject

    motion = standing(seconds=1.5)
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 1.0, 0.2), yaw_rad=0.0),
                       size=(0.4, 0.5, 0.4), evidence=((20, 40),))
    plant = Plant(PlantSetup(motion, scene=Scene(fps=motion.fps, objects=(seat,))), 1)
    tab = plant.table
    assert tab.seat_w is not None and 0 < tab.seat_w.sum() < len(tab.seat_w)
    w = ObjectiveWeights()
    steps = 60
    runs = [plant.simulate([plant.initial_state()], IDENTITY[None, None].repeat(3, 1), steps,
                           steps, ww, strict=False)
            for ww in (w, w.model_copy(update={"seated": 0.0}))]
    qpos = runs[0].records[0].qpos
    assert np.array_equal(qpos, runs[1].records[0].qpos)
    k0 = plant.initial_state().step
    rows = k0 + 1 + np.arange(steps)
    expected = sum(tab.seat_w[r] * seat_support_sq(qpos[i:i + 1], tab, r, w.seated_margin_m)[0]
                   for i, r in enumerate(rows))
    assert expected > 0.1  # the pelvis is ~0.9 m off the seat's support: (0.9)^2 per row
    assert np.isclose(runs[0].cost[0] - runs[1].cost[0], w.seated * expected * tab.dt,
                      rtol=1e-9)


def test_seat_load_cost_is_the_shortfall_below_the_seated_load_per_share_of_the_phase() -> None:
    """The seat-load term (issue 16): in a seat's phase a step is charged ``seat_load / steps of
    the phase / dt`` times ``clip(1 - load / SEATED_LOAD, 0, 1)`` (nothing once the seat carries
    the seated share of the weight, the full share when it carries nothing), so a whole phase
    unseated costs ``seat_load``; outside the phase, or with no load measured, nothing."""
    from types import SimpleNamespace

    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import seat_load_shortfall, step_cost
    from exoactor.control.scene_objects import SEATED_LOAD

    dt, n = 0.02, 100
    w_seat = np.zeros(n)
    w_seat[40:90] = 1.0
    base = dict(clip_t=-0.1 + dt * np.arange(n), duration_s=1.8, dt=dt,
                root_pos_w=np.zeros((n, 3)), root_quat_w=np.tile([1.0, 0, 0, 0], (n, 1)),
                body_pos_w=np.zeros((n, 4, 3)), joint_pos=np.zeros((n, 29)),
                torso_tilt_rad=np.zeros(n), eased_shift_b=np.zeros((n, 2, 4, 3)))
    tab = SimpleNamespace(**base, seat_w=w_seat, seat_centre=np.zeros((n, 2)),
                          seat_yaw=np.zeros(n), seat_half=np.full((n, 2), 1.0),
                          seat_steps=50)
    w = ObjectiveWeights()
    assert w.seat_load > 0.0
    qpos = np.zeros((4, 36))
    qpos[:, 3] = 1.0  # the pelvis over the seat: the support term is 0
    args = (np.zeros((4, 35)), np.zeros((4, 4, 3)), np.zeros(4), IDENTITY[None].repeat(4, 0),
            IDENTITY[None].repeat(4, 0))
    load = np.array([0.0, SEATED_LOAD / 2, SEATED_LOAD, 0.7])
    np.testing.assert_allclose(seat_load_shortfall(load), [1.0, 0.5, 0.0, 0.0])

    def cost(k, seat_load):
        return step_cost(qpos, *args, tab, k, np.arange(7, 36), w, (0, 1, 2, 3),
                         seat_load=seat_load)

    extra = cost(60, load) - cost(60, None)
    np.testing.assert_allclose(extra * dt, w.seat_load / 50 * np.array([1.0, 0.5, 0.0, 0.0]),
                               rtol=1e-12)
    np.testing.assert_array_equal(cost(20, load), cost(20, None))  # outside the phase
    off = w.model_copy(update={"seat_load": 0.0})
    np.testing.assert_array_equal(
        step_cost(qpos, *args, tab, 60, np.arange(7, 36), off, (0, 1, 2, 3), seat_load=load),
        cost(60, None))


def test_planning_loops_charge_the_seat_load_from_the_contact_forces(standing) -> None:
    """The planning loops charge the seat-load term from MuJoCo's contact forces, in the seat's
    phase only: a robot standing beside the seat (out of reach, the seat carries nothing) pays
    ``seat_load`` times the share of the phase's steps simulated, and the physics is the same
    with the term on and off."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.formats.scene import ObjectPose, Scene, SceneObject

    w = ObjectiveWeights()
    motion = standing(seconds=1.5)
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 1.0, 0.2), yaw_rad=0.0),
                       size=(0.4, 0.5, 0.4), evidence=((20, 40),))
    plant = Plant(PlantSetup(motion, scene=Scene(fps=motion.fps, objects=(seat,))), 1)
    tab = plant.table
    assert tab.seat_steps == int(np.sum(tab.seat_w > 0)) > 0
    steps = 60
    runs = [plant.simulate([plant.initial_state()], IDENTITY[None, None].repeat(3, 1), steps,
                           steps, ww, strict=False)
            for ww in (w, w.model_copy(update={"seat_load": 0.0}))]
    assert np.array_equal(runs[0].records[0].qpos, runs[1].records[0].qpos)
    rows = plant.initial_state().step + 1 + np.arange(steps)
    in_phase = int(np.sum(tab.seat_w[rows] > 0))
    assert 10 < in_phase < steps
    assert runs[0].cost[0] - runs[1].cost[0] == pytest.approx(
        w.seat_load * in_phase / tab.seat_steps, rel=1e-9)


def test_object_loads_weigh_what_a_seat_carries(standing) -> None:
    """:class:`~exoactor.control.scene_objects.ObjectLoads` (the seated rule of the interaction
    score and of the filter's seat-load term): the G1 held in its standing pose on a low seat
    puts its whole weight on it; a seat beside it carries nothing."""
    import mujoco

    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.control.scene_objects import ObjectLoads
    from exoactor.formats.scene import ObjectPose, Scene, SceneObject

    top = 0.05
    seats = (SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 0.0, top / 2), yaw_rad=0.0),
                         size=(0.8, 0.8, top), evidence=((0, 10),)),
             SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 1.5, 0.2), yaw_rad=0.0),
                         size=(0.4, 0.5, 0.4), evidence=((0, 10),)))
    plant = Plant(PlantSetup(standing(seconds=0.5), scene=Scene(fps=50.0, objects=seats)), 1)
    m = plant.model
    d = mujoco.MjData(m)
    d.qpos[:] = plant.sim.data.qpos
    d.qpos[2] += top  # the feet on the seat
    d.ctrl[:] = plant.default
    loads = ObjectLoads(m)
    assert loads.weight_n == pytest.approx(float(np.sum(m.body_mass[1:])) * 9.81)  # fixed seats
    f = []
    for _ in range(300):
        mujoco.mj_step(m, d)
        f.append(loads.forces_n(d) / loads.weight_n)
    f = np.array(f)
    assert d.qpos[2] > plant.sim.data.qpos[2] + top - 0.05  # still standing on it
    assert np.mean(f[-100:, 0]) == pytest.approx(1.0, abs=0.05)
    assert np.all(f[:, 1] == 0.0)


def test_point_box_distance_matches_the_interaction_score() -> None:
    """The filter's box distance (:func:`~exoactor.control.filter.objective.point_box_distance_m`,
    the box's orientation from its free joint's quaternion) equals the interaction score's
    (:func:`exoactor.scene.score.point_box_distance_at`, from a yaw) for a turned box."""
    from exoactor.control.filter.objective import point_box_distance_m
    from exoactor.rotations import yaw_quat
    from exoactor.scene.score import point_box_distance_at

    rng = np.random.default_rng(3)
    pts = rng.normal(0.0, 0.15, (5, 7, 3)) + [0.3, -0.2, 0.6]
    centre = np.array([0.3, -0.2, 0.6])
    size = np.array([0.25, 0.13, 0.25])
    for yaw_rad in (0.0, 0.7, np.pi / 2, -2.0):
        got = point_box_distance_m(pts, np.tile(centre, (5, 1)), np.tile(yaw_quat(yaw_rad), (5, 1)),
                                   size / 2)
        want = point_box_distance_at(pts.reshape(-1, 3), centre, yaw_rad, size).reshape(5, 7)
        np.testing.assert_allclose(got, want, atol=1e-12)
        assert (want > 0).any() and (want == 0).any()


def test_grasp_is_charged_off_the_box_and_only_in_its_phase() -> None:
    """The grasp term (issue 16): during a carried box's evidence phase each hand's distance to
    the box as simulated (its free joint in qpos, so a pushed box is where it went), beyond the
    reference hand's distance, costs ``grasp * mean(excess^2)``; hands as near as the
    reference's, and any hand outside the phase, cost what they do without a box."""
    from types import SimpleNamespace

    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import step_cost

    dt, n = 0.02, 100
    clip_t = -0.1 + dt * np.arange(n)
    box_w = ((clip_t >= 1.0) & (clip_t <= 1.4)).astype(float)
    base = dict(clip_t=clip_t, duration_s=1.8, dt=dt, root_pos_w=np.zeros((n, 3)),
                root_quat_w=np.tile([1.0, 0, 0, 0], (n, 1)), body_pos_w=np.zeros((n, 4, 3)),
                joint_pos=np.zeros((n, 29)), torso_tilt_rad=np.zeros(n),
                eased_shift_b=np.zeros((n, 2, 4, 3)))
    bare = SimpleNamespace(**base)
    ref_d = np.zeros((n, 2))
    ref_d[:, 1] = 0.05  # the reference's right hand stays 5 cm off the box
    held = SimpleNamespace(**base, box_w=box_w, box_adr=np.full(n, 36),
                           box_half=np.tile([0.1, 0.2, 0.1], (n, 1)), box_ref_hand_m=ref_d)
    w = ObjectiveWeights(grasp=100.0)
    assert ObjectiveWeights().grasp == 0.0  # off by default: the same cost as without a box
    np.testing.assert_array_equal(
        step_cost(np.tile(np.r_[np.zeros(3), 1.0, np.zeros(39)], (3, 1)), np.zeros((3, 35)),
                  np.zeros((3, 4, 3)), np.zeros(3), IDENTITY[None].repeat(3, 0),
                  IDENTITY[None].repeat(3, 0), held, int(np.flatnonzero(box_w)[0]),
                  np.arange(7, 36), ObjectiveWeights(), (0, 1, 2, 3)),
        step_cost(np.tile(np.r_[np.zeros(3), 1.0, np.zeros(39)], (3, 1)), np.zeros((3, 35)),
                  np.zeros((3, 4, 3)), np.zeros(3), IDENTITY[None].repeat(3, 0),
                  IDENTITY[None].repeat(3, 0), bare, int(np.flatnonzero(box_w)[0]),
                  np.arange(7, 36), ObjectiveWeights(), (0, 1, 2, 3)))
    joints = np.arange(7, 36)
    # the box turned 90 deg about z at (1, 0, 0.5): its 0.4 m width along world x
    qpos = np.zeros((3, 43))
    qpos[:, 3] = 1.0
    qpos[:, 36:39] = [1.0, 0.0, 0.5]
    qpos[:, 39:43] = [np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)]
    hands = np.zeros((3, 4, 3))
    hands[:, :, 2] = 0.5
    hands[0, 0, 0], hands[0, 1, 0] = 0.8, 1.2         # on the box's faces (x = 1 -+ 0.2)
    hands[1, 0, 0], hands[1, 1, 0] = 0.7, 1.35        # left 0.1 m off; right 0.15 m, ref 0.05
    hands[2, 0, 0], hands[2, 1, 0] = 0.8, 1.0         # left on it, right 0.1 m above the top
    hands[2, 1, 2] = 0.7
    args = (np.zeros((3, 35)), hands, np.zeros(3), IDENTITY[None].repeat(3, 0),
            IDENTITY[None].repeat(3, 0))

    def cost(tab, k):
        return step_cost(qpos, *args, tab, k, joints, w, (0, 1, 2, 3))

    on = np.flatnonzero(box_w > 0)
    k_on, k_off = on[len(on) // 2], on[0] - 5
    extra = cost(held, k_on) - cost(bare, k_on)
    np.testing.assert_allclose(extra, [0.0, w.grasp * (0.1 ** 2 + 0.1 ** 2) / 2,
                                       w.grasp * 0.05 ** 2 / 2], atol=1e-9)
    np.testing.assert_array_equal(cost(held, k_off), cost(bare, k_off))
    moved = qpos.copy()
    moved[:, 36] += 0.3  # the box pushed 0.3 m along x: the hands are judged against it there
    got = step_cost(moved, *args, held, k_on, joints, w, (0, 1, 2, 3)) - cost(bare, k_on)
    assert got[0] > w.grasp * 0.2 ** 2 / 2


def test_planning_loops_charge_the_grasp_of_the_scene_box(standing) -> None:
    """The planning loops (:class:`~exoactor.control.filter.plant.Plant`) charge the grasp term
    of the scene's carried box in its evidence phase, and only there: a box on a support 1 m
    beside a standing robot (out of reach, so the physics is the same with and without the
    term) adds exactly ``grasp * sum(grasp_sq) dt`` over the phase's steps; the reference
    hands' distance to the box is the interaction score's."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import grasp_sq
    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.formats.scene import ObjectPose, Scene, SceneObject
    from exoactor.scene.score import point_box_distance

    motion = standing(seconds=1.5)
    table = SceneObject(kind="table", pose=ObjectPose(pos=(0.0, 1.0, 0.4), yaw_rad=0.3),
                        size=(0.3, 0.3, 0.04))
    box = SceneObject(kind="box", pose=ObjectPose(pos=(0.0, 1.0, 0.545), yaw_rad=0.3),
                      size=(0.25, 0.2, 0.25), mass=1.0, evidence=((20, 40),))
    plant = Plant(PlantSetup(motion, scene=Scene(fps=motion.fps, objects=(table, box))), 1)
    tab = plant.table
    assert tab.box_w is not None and 0 < tab.box_w.sum() < len(tab.box_w)
    on = np.flatnonzero(tab.box_w > 0)
    want = np.stack([point_box_distance(tab.body_pos_w[on, h], box) for h in range(2)], 1)
    np.testing.assert_allclose(tab.box_ref_hand_m[on], want, atol=1e-9)
    w = ObjectiveWeights(grasp=100.0)
    steps = 60
    runs = [plant.simulate([plant.initial_state()], IDENTITY[None, None].repeat(3, 1), steps,
                           steps, ww, strict=False)
            for ww in (w, w.model_copy(update={"grasp": 0.0}))]
    rec = runs[0].records[0]
    assert np.array_equal(rec.qpos, runs[1].records[0].qpos)
    k0 = plant.initial_state().step
    rows = k0 + 1 + np.arange(steps)
    expected = sum(tab.box_w[r] * grasp_sq(rec.qpos[i:i + 1], rec.body_pos_w[i:i + 1], tab, r)[0]
                   for i, r in enumerate(rows))
    assert expected > 0.0
    assert np.isclose(runs[0].cost[0] - runs[1].cost[0], w.grasp * expected * tab.dt, rtol=1e-9)
    # without a box the table is as before
    bare = Plant(PlantSetup(motion, scene=Scene(fps=motion.fps, objects=(table,))), 1)
    assert bare.table.box_w is None


# ---- the clip left not executed: charged as it is reported ---------------------------------

def _moving_stub_table(n: int = 60, dt: float = 0.02, blend_in_s: float = 0.1,
                       duration_s: float = 0.8):
    """A reference table whose legs move in full at every row (``moving`` = 1): clip time from
    ``-blend_in_s``, ``n`` steps."""
    from types import SimpleNamespace

    from exoactor.control.filter.objective import moving

    mimic = np.zeros((n + 1, 35))
    mimic[:, 6:18] = 0.1  # 0.1 rad of leg swing about a zero running mean: moving in full
    tab = SimpleNamespace(clip_t=-blend_in_s + dt * np.arange(n + 1), duration_s=duration_s,
                          dt=dt, mimic=mimic, leg_mean=np.zeros((n + 1, 12)))
    tab.step_of = lambda t: int(np.clip(np.ceil((t - tab.clip_t[0]) / dt - 1e-9), 0, n))
    tab.moving_legs = moving(tab)
    return tab


def test_not_executed_is_charged_as_it_is_reported() -> None:
    """The objective's charge for leaving the clip not executed, summed over a run's steps, is
    ``weights.not_executed`` times the ``fraction_not_executed`` that :func:`fractions`
    reports for the same steps, under a slowed clock too (a slowed step is charged for the
    clip time it covers, as it is counted). Before, the plans paid only the key-body shift the
    stance took away (``undone``, 100/m^2): a few tenths for a second of stepping eased to
    standing, however much of the clip that was."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.decisions import advance_clock
    from exoactor.control.filter.objective import clip_end_row, not_executed_cost
    from exoactor.control.filter.run import Executed, fractions

    tab = _moving_stub_table()
    end = clip_end_row(tab)
    decisions, before, after = [], [], []
    clock = 0.0
    for step in range(len(tab.clip_t) - 1):
        d = IDENTITY.copy()
        d[5] = 0.5 if step < 20 else 1.0  # the clock waits for the first 20 steps
        d[4] = 1.0 if 10 <= step < 30 else (0.4 if step < 40 else 0.0)  # eased, then partly
        new = float(advance_clock(np.array([clock]), step, np.array([d[5]]), end, 100.0)[0])
        decisions.append(d)
        before.append(clock)
        after.append(new)
        clock = new
    rec = {"clip_t": [float(tab.clip_t[0] + c * tab.dt) for c in after]}
    fr = fractions(Executed(rec, decisions=decisions), tab, FAST)
    assert 0.1 < fr["fraction_not_executed"] < 0.5
    w = ObjectiveWeights()
    charge = sum(float(not_executed_cost(np.array([d[4]]), np.array([b]), np.array([a]), tab,
                                         w, FAST.not_executed_stance)[0]) * tab.dt
                 for d, b, a in zip(decisions, before, after))
    assert charge == pytest.approx(w.not_executed * fr["fraction_not_executed"], rel=1e-9)
    # a partial stance (0.4 < not_executed_stance) is modified, not charged here
    assert not_executed_cost(np.array([0.4]), np.array([30.0]), np.array([31.0]), tab, w,
                             FAST.not_executed_stance)[0] == 0.0


def test_a_stance_plan_pays_for_the_clip_it_leaves_not_executed(standing) -> None:
    """In the planning plant, a plan that eases the jumping legs to standing costs
    ``not_executed`` times the share of the clip its eased steps cover more than under a zero
    weight; the unmodified reference pays nothing."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import clip_rows, not_executed
    from exoactor.control.filter.plant import Plant, PlantSetup

    plant = Plant(PlantSetup(_legs_held_then_jumping(standing)), 2)
    tab = plant.table
    state = plant.initial_state()
    plans = np.tile(IDENTITY, (2, 3, 1))
    plans[1, :, 4] = 1.0  # eased to standing throughout
    h = tab.step_of(2.0)  # into the jumps
    on = plant.simulate([state, state], plans, h, 0, ObjectiveWeights())
    off = plant.simulate([state, state], plans, h, 0, ObjectiveWeights(not_executed=0.0))
    rows = 1 + np.arange(h)
    inside = (tab.clip_t[rows] > 1e-9) & (tab.clip_t[rows] <= tab.duration_s + 1e-9)
    share = np.sum(not_executed(np.ones(h), tab.moving_legs[rows], 0.5) & inside) / clip_rows(tab)
    assert share > 0.05
    assert on.cost[0] == off.cost[0]
    assert on.cost[1] - off.cost[1] == pytest.approx(ObjectiveWeights().not_executed * share)



@pytest.mark.slow
def test_the_lateral_offset_range_covers_what_carries_authority(walk_motion) -> None:
    """The policy answers a lateral velocity input weakly and unevenly: at 0.5 m/s (the old
    bound, where the planner's choice sat for seconds while walk_007 drifted 1.06 m sideways)
    this walk does not side-step to the left at all; 1.0 m/s moves it sideways, stays up, and
    is within the default range (so the sampler can reach it). (Measured over 2 s, leftward:
    walk_001 -0.05/-0.04/+0.08/+0.22 m at 0.25/0.5/0.75/1.0 m/s; walk_007 +0.24/+0.20/+0.34/
    +0.32 m; rightward at 0.5/1.0 m/s: walk_001 0.15/0.51 m, walk_007 0.12/0.39 m.)"""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.decisions import lower_upper, sigmas
    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.control.reference import drop_glitched_leading_frames
    from exoactor.rotations import yaw

    bounds = DecisionBounds()
    lo, hi = lower_upper(bounds)
    assert lo[1] <= -1.0 and hi[1] >= 1.0
    assert sigmas(bounds)[1] / hi[1] == pytest.approx(0.1 / 0.5)  # the same relative spread
    clean, _ = drop_glitched_leading_frames(walk_motion)
    plant = Plant(PlantSetup(clean), 3)
    plans = np.tile(IDENTITY, (3, 3, 1))
    plans[:, :, 1] = np.array([0.0, 0.5, 1.0])[:, None]
    out = plant.simulate([plant.initial_state()] * 3, plans, 100, 100, ObjectiveWeights())
    assert np.all(out.fall_step == -1)
    psi = float(yaw(plant.table.root_quat_w[0]))
    left = np.array([-np.sin(psi), np.cos(psi)])
    side = [float((rec.qpos[-1, :2] - out.records[0].qpos[-1, :2]) @ left)
            for rec in out.records]
    # measured: 0.5 m/s moved it -0.04 m (nothing), 1.0 m/s +0.22 m in the 2 s
    assert side[2] > 0.1 and side[2] > side[1] + 0.1, side


def test_the_random_candidates_take_part_and_no_plan_takes_two_slots() -> None:
    """At the default settings (slow-only warp, 2 random candidates) the random draws are
    among the plans, so ``seed`` changes them, and no two plans are equal. Before, 17
    structured candidates were cut to the 16 candidates, so every random one was cut (seeds 0
    and 1 gave the same run), and the faster clock at rate 1 and the stance eased off at 0 were clipped back
    onto the previous best: the same plan took two or three of the 16 slots (simulated once)."""
    from exoactor.control.filter.config import FilterConfig

    cfg = FilterConfig()
    current = np.array([0.1, 0.0, 0.2, 1.0, 0.0, 1.0, 0.0])  # clock at rate 1, stance 0
    runs = [candidate_plans(current, np.tile(current, (3, 1)), current, cfg.candidates,
                            cfg.random_candidates, cfg.bounds, np.random.default_rng(seed))
            for seed in (0, 1)]
    for plans, labels in runs:
        assert len(plans) == cfg.candidates and labels.count("random") >= cfg.random_candidates
        assert len({p.tobytes() for p in plans}) == len(plans)
        assert labels[0] == "raw" and np.all(plans[0] == IDENTITY)
    (a, la), (b, lb) = runs
    assert la == lb
    rnd = [i for i, lab in enumerate(la) if lab == "random"]
    assert not np.array_equal(a[rnd], b[rnd])
    structured = [i for i, lab in enumerate(la) if lab != "random"]
    np.testing.assert_array_equal(a[structured], b[structured])


@pytest.mark.parametrize("gait", [False, True])
@pytest.mark.parametrize("after_clip", [False, True])
def test_the_default_candidates_cut_no_structured_plan(after_clip: bool, gait: bool) -> None:
    """At the default settings every distinct structured candidate is simulated beside the
    random draws: from decisions that no move clips (stance 0.3, clock rate 0.8) the plans are
    raw, previous, hold, feedback, stand, the two clock moves (or "stop" after the clip) and
    +-2 sigma on the five other variables, plus at least ``random_candidates`` draws (after
    the clip, one slot more); with the gait offered, "step" and the gait move on top."""
    from exoactor.control.filter.config import FilterConfig

    cfg = FilterConfig()
    current = np.array([0.1, 0.05, 0.2, 1.0, 0.3, 0.8, 0.0])
    fb = current + np.array([0.05, -0.05, 0.1, 0.0, 0.0, 0.0, 0.0])
    previous = np.tile(current, (3, 1))
    previous[1:, 0] += 0.1  # the previous best plan speeds up: not "hold"
    plans, labels = candidate_plans(current, previous, fb, cfg.candidates,
                                    cfg.random_candidates, cfg.bounds,
                                    np.random.default_rng(0), after_clip=after_clip, gait=gait)
    structured = [lab for lab in labels if lab != "random"]
    assert len(structured) == (16 if after_clip else 17) + (2 if gait else 0)
    assert len({p.tobytes() for p in plans}) == len(plans)
    assert labels.count("random") == len(plans) - len(structured) >= cfg.random_candidates
    assert "stance_blend-" in labels and "stance_blend+" in labels


# ---- the gait (decision 6): extra steps drawn from the clip's own gait ----------------------

def test_gait_cycle_is_the_clips_period_and_none_without_a_gait() -> None:
    """A periodic leg signal gives one cycle of its own period, taken from the clip; standing
    legs or aperiodic noise give no gait."""
    from exoactor.control.filter.decisions import gait_cycle

    dt, n = 0.02, 400
    t = dt * np.arange(n)
    rng = np.random.default_rng(0)
    phase = 2 * np.pi * t / 1.1 + np.linspace(0.0, np.pi, 12)[None, :].T
    legs = 0.3 * np.sin(phase).T + 0.01 * rng.normal(size=(n, 12))
    inside = np.ones(n, bool)
    active = np.full(n, 0.1)
    cycle = gait_cycle(legs, active, inside, dt, 0.04)
    assert cycle is not None and abs(len(cycle) * dt - 1.1) <= dt
    assert any(np.array_equal(cycle, legs[a:a + len(cycle)]) for a in range(n - len(cycle)))
    assert gait_cycle(np.zeros((n, 12)), np.zeros(n), inside, dt, 0.04) is None  # standing
    noise = 0.3 * rng.normal(size=(n, 12))
    assert gait_cycle(noise, active, inside, dt, 0.04) is None  # no periodic movement
    assert gait_cycle(legs, np.zeros(n), inside, dt, 0.04) is None  # too little activity


def test_gait_candidates_where_offered_and_the_others_unchanged() -> None:
    """Offered, "step" (gait 1, the feedback law's offsets) and a gait move come on top of
    ``count``; not offered, the candidates are exactly those of the filter without a gait."""
    from exoactor.control.filter.decisions import GAIT, GAIT_CANDIDATES

    bounds = DecisionBounds()
    current = np.array([0.1, 0.0, 0.2, 1.0, 0.0, 0.9, 0.0])
    fb = np.array([0.4, -0.3, 0.1, 1.0, 0.0, 0.9, 0.0])
    plain, plain_labels = candidate_plans(current, None, fb, 19, 2, bounds,
                                          np.random.default_rng(0))
    assert np.all(plain[:, :, GAIT] == 0.0) and "step" not in plain_labels
    plans, labels = candidate_plans(current, None, fb, 19, 2, bounds, np.random.default_rng(0),
                                    gait=True)
    assert len(plans) == 19 + GAIT_CANDIDATES
    step = plans[labels.index("step")]
    np.testing.assert_array_equal(step[0], current)
    np.testing.assert_allclose(step[1:, :3], np.tile(fb[:3], (2, 1)))
    assert np.all(step[1:, GAIT] == 1.0)
    assert "gait_blend+" in labels
    others = [i for i, lb in enumerate(labels) if lb not in ("step", "gait_blend+")]
    np.testing.assert_array_equal(plans[others], plain)


def test_the_gait_makes_a_standing_robot_step_where_velocity_alone_does_not(standing) -> None:
    """The reason for the decision: over a standing reference the policy ignores a velocity
    offset (a standing robot does not step), while the same offset with the fed legs on the
    clip's own gait walks the robot that way. Simulated in the planner's plant."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.decisions import GAIT
    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.control.reference import drop_glitched_leading_frames
    from exoactor.formats import load_motion

    root = Path(os.environ["EXOACTOR_ASSETS"]) / "twist2" / "motions"
    walk = load_motion(root / "0807_yanjie_walk_001.pkl")
    walk, _ = drop_glitched_leading_frames(walk.slice(0, int(6 * walk.fps)))
    gait = Plant(PlantSetup(walk), 1).table.gait
    assert gait is not None and 0.6 <= len(gait) * 0.02 <= 1.6

    plant = Plant(PlantSetup(standing(4.0)), 4)
    assert plant.table.gait is None  # a standing clip has no gait of its own
    plant.table.gait = gait  # the walk's, fed over the standing reference
    plans = []
    for forward, g in ((0.5, 0.0), (0.5, 1.0), (-0.5, 0.0), (-0.5, 1.0)):
        d = IDENTITY.copy()
        d[0], d[GAIT] = forward, g
        plans.append(np.tile(d, (3, 1)))
    n = 100
    out = plant.simulate([plant.initial_state()] * 4, np.stack(plans), n, n, ObjectiveWeights(),
                         strict=False)
    assert np.all(out.fall_step < 0)
    dx = [r.qpos[-1, 0] - r.qpos[0, 0] for r in out.records]
    assert abs(dx[0]) < 0.1 and abs(dx[2]) < 0.1  # velocity alone: the robot stands
    assert dx[1] > 0.4 and dx[3] < -0.2  # with the gait it steps forward / back


def test_the_step_plan_closes_the_gap_by_the_clips_end() -> None:
    """The "step" plan's velocity offsets: the pelvis gap over the clip time left (at least half
    the horizon), capped at the gait's speed, in the robot's heading frame."""
    from types import SimpleNamespace

    from exoactor.control.filter.run import STEP_MAX_SPEED_M_S, _step_offsets

    dt, n = 0.02, 200
    tab = SimpleNamespace(clip_t=dt * np.arange(n + 1), duration_s=3.0,
                          root_pos_w=np.tile([0.4, 0.0, 0.8], (n + 1, 1)))
    qpos = np.zeros(36)
    qpos[3] = np.cos(np.pi / 4)  # facing +y (yaw 90 deg)
    qpos[6] = np.sin(np.pi / 4)
    fb = np.array([0.0, 0.0, 0.3])
    cfg = FilterConfig()
    # 2 s of clip left: 0.4 m in 2 s, +x in the world is the robot's right (-y in its frame)
    np.testing.assert_allclose(_step_offsets(qpos, fb, tab, 50, cfg), [0.0, -0.2, 0.3],
                               atol=1e-9)
    # past the clip's end: half the horizon (0.75 s)
    np.testing.assert_allclose(_step_offsets(qpos, fb, tab, 190, cfg), [0.0, -0.4 / 0.75, 0.3],
                               atol=1e-9)
    tab.root_pos_w[:, 0] = 3.0  # far: capped
    out = _step_offsets(qpos, fb, tab, 190, cfg)
    assert np.hypot(out[0], out[1]) == pytest.approx(STEP_MAX_SPEED_M_S)


def _run_ending_off(xy_off_m: float, fell: bool = False):
    """An :class:`Executed` of 1 s of clip whose pelvis ends ``xy_off_m`` beside its
    reference, and the table stub it is judged on."""
    from types import SimpleNamespace

    from exoactor.control.filter.run import Executed

    dt = 0.02
    clip_t = dt * np.arange(1, 61)  # 0.02 .. 1.2 s; the clip is 1 s
    qpos = [np.r_[0.01 * i, xy_off_m if i >= 49 else 0.0, 0.8, 1.0, np.zeros(3)]
            for i in range(60)]
    ref = [np.r_[0.01 * i, 0.0, 0.8] for i in range(60)]
    ex = Executed({"clip_t": list(clip_t), "qpos": qpos, "ref_pos": ref},
                  fall_time_s=0.5 if fell else None)
    return ex, SimpleNamespace(duration_s=1.0, dt=dt)


def test_another_attempt_only_where_the_kept_run_ends_off_and_draws_differ() -> None:
    """A retry (``FilterConfig.attempts``) is made where the run that would be kept ends the
    clip beyond ``retry_xy_m`` (measured as ``root_xy_error_end_m``: at the clip's last step)
    or fell, while attempts are left and the candidates have random draws."""
    from exoactor.control.filter.run import clip_end_xy_m, retry_wanted

    cfg = FilterConfig()
    assert cfg.attempts >= 2 and cfg.retry_xy_m == pytest.approx(0.15)
    near, tab = _run_ending_off(0.10)
    far, _ = _run_ending_off(0.40)
    fallen, _ = _run_ending_off(0.0, fell=True)
    assert clip_end_xy_m(near, tab) == pytest.approx(0.10)
    assert clip_end_xy_m(far, tab) == pytest.approx(0.40)
    assert not retry_wanted(near, tab, cfg, 1)
    assert retry_wanted(far, tab, cfg, 1)
    assert retry_wanted(fallen, tab, cfg, 1)
    assert not retry_wanted(far, tab, cfg, cfg.attempts)  # none left
    assert not retry_wanted(far, tab, cfg.model_copy(update={"attempts": 1}), 1)
    # without random draws an attempt would repeat the last one exactly
    assert not retry_wanted(far, tab, cfg.model_copy(update={"random_candidates": 0}), 1)


def test_the_cheapest_attempt_that_stands_on_time_takes_part() -> None:
    from exoactor.control.filter.run import Executed, best_attempt

    up, down = Executed({}), Executed({}, fall_time_s=1.0)
    assert best_attempt([(up, 3.0, 0.0), (up, 1.0, 0.5)], 2.0) == 1
    assert best_attempt([(up, 1.0, 0.0), (up, 3.0, 0.5)], 2.0) == 0
    assert best_attempt([(up, 3.0, 0.0), (down, 1.0, 0.0)], 2.0) == 0  # fell
    assert best_attempt([(up, 3.0, 0.0), (up, 1.0, 2.5)], 2.0) == 0  # too late
    assert best_attempt([(up, 3.0, 0.0), (up, 2.0, 0.1), (up, 1.0, 0.2)], 2.0) == 2


@pytest.mark.slow
def test_a_second_attempt_draws_another_stream_and_the_first_is_unchanged(walk_motion) -> None:
    """With a retry forced (``retry_xy_m`` 0), the filter makes two whole attempts, the second
    on another random stream (another run), keeps the cheaper on the whole-run objective, and
    counts both in its wall time; its first attempt is exactly the run of a filter that makes
    one (``attempts`` 1: the filter before retries)."""
    motion = walk_motion.slice(0, int(2.0 * walk_motion.fps))
    base = FilterConfig(workers=1, candidates=6, random_candidates=2, horizon_s=1.0,
                        corrector_candidate=False, keep_raw_when_better=False)
    one = filter_motion(motion, base.model_copy(update={"attempts": 1}), show_progress=False)
    two = filter_motion(motion, base.model_copy(update={"attempts": 2, "retry_xy_m": 0.0}),
                        show_progress=False)
    assert len(one.report["attempts"]) == 1 and one.report["attempt"] == 0
    tries = two.report["attempts"]
    assert len(tries) == 2
    assert tries[0]["objective"] == one.report["objective"]["filtered"]
    assert tries[1]["objective"] != tries[0]["objective"]  # another stream, another run
    chosen = two.report["attempt"]
    assert tries[chosen]["objective"] == min(t["objective"] for t in tries)
    assert two.report["objective"]["filtered"] == tries[chosen]["objective"]
    assert two.report["wall_s"] == pytest.approx(sum(t["wall_s"] for t in tries))
    if chosen == 0:
        np.testing.assert_array_equal(two.rollout.qpos, one.rollout.qpos)
    assert two.metrics.root_xy_error_end_m == pytest.approx(tries[chosen]["clip_end_xy_m"])


# ---- a clip cut mid-walk: carried on to a reachable stop (``FilterConfig.run_out``) -----------

def test_the_filter_streams_its_runs_with_the_run_out() -> None:
    from exoactor.control.filter.run import with_run_out
    from exoactor.control.track import TrackConfig

    assert FilterConfig().run_out
    assert with_run_out(TrackConfig(), FilterConfig()).reference.run_out
    off = with_run_out(TrackConfig(), FilterConfig(run_out=False))
    assert not off.reference.run_out and off == TrackConfig()


@pytest.mark.slow
def test_a_clip_cut_mid_walk_is_carried_on_to_a_reachable_stop(tmp_path) -> None:
    """Kimodo's walk cut to its last 2.5 s (it ends at about 1.1 m/s): the filter's runs go on
    past the clip's end along the run-out, its report says what was appended, and the clip's
    figures are still taken at the clip's end."""
    import json

    walk = _kimodo_csv("kimodo_walk")
    clip = walk.slice(walk.num_frames - int(2.5 * walk.fps))
    res = filter_motion(clip, FAST, out_dir=tmp_path, show_progress=False)
    run_out = json.loads((tmp_path / "filter_report.json").read_text())["run_out"]
    assert run_out is not None and run_out["speed_m_s"] > 0.8
    assert run_out["appended_s"] >= run_out["gait_period_s"] - 1e-9
    assert run_out["stop_distance_m"] == pytest.approx(run_out["speed_m_s"] * run_out["stop_s"]
                                                       / 2)
    assert res.metrics.clip_duration_s == pytest.approx(clip.duration_s)
    ref_t = np.asarray(res.rollout.ref_time_s)
    assert ref_t.max() >= clip.duration_s + run_out["appended_s"] - 1e-6  # it went on
    assert not res.metrics.fell


def _walk_then_stand_table(heading_swing_rad: float = 0.0):
    """A reference table that walks 1 m/s along x for 1 s (rows 0-50), then stands still, its
    heading swinging by ``heading_swing_rad`` (sine, 1.2 s period) while it stands."""
    from types import SimpleNamespace

    from exoactor.rotations import yaw_quat

    dt, n = 0.02, 100
    t = dt * np.arange(n + 1)
    x = np.minimum(t, 1.0)
    psi = np.where(t > 1.0, heading_swing_rad * np.sin(2 * np.pi * (t - 1.0) / 1.2), 0.0)
    return SimpleNamespace(clip_t=t, duration_s=2.0, dt=dt,
                           root_pos_w=np.stack([x, np.zeros_like(x), np.full_like(x, 0.75)], 1),
                           root_quat_w=np.stack([yaw_quat(p) for p in psi]))


def test_a_warped_clock_pays_for_the_reference_movement_it_postpones() -> None:
    """The warp charge (:func:`~exoactor.control.filter.objective.warp_cost`): without
    ``postponed`` exactly the lateness tie-breaker; with it, the reference's pelvis movement
    between where an unwarped clock would be and where the warped one is, charged as the pose
    error it defers: a lag of 0.2 s on a 1 m/s walk (0.2 m) as a 0.2 m xy error, a lag on a
    reference that stands still nothing beyond the tie-breaker, and a lag behind a heading
    swing as the heading error it hides."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import clock_lag_cost, postponed_sq, warp_cost

    tab = _walk_then_stand_table()
    lag_s = np.array([0.0, 0.2])
    judged = np.array([40, 30])  # nominal row 40: one plan on time, one 10 rows (0.2 s) late
    off, on = ObjectiveWeights(), ObjectiveWeights(postponed=1.0)
    np.testing.assert_array_equal(warp_cost(lag_s, tab, 40, judged, off),
                                  clock_lag_cost(lag_s, off))
    np.testing.assert_allclose(postponed_sq(tab, 40, judged), [[0.0, 0.04], [0.0, 0.0]],
                               atol=1e-12)
    np.testing.assert_allclose(warp_cost(lag_s, tab, 40, judged, on),
                               clock_lag_cost(lag_s, on) + [0.0, on.root_xy * 0.04], atol=1e-12)
    # standing still (rows 60-100): a lag costs the tie-breaker only
    np.testing.assert_allclose(warp_cost(lag_s, tab, 90, np.array([90, 80]), on),
                               clock_lag_cost(lag_s, on), atol=1e-12)
    # a heading that swings while the reference stands: the lag hides the swing, and pays it
    swing = _walk_then_stand_table(np.radians(10.0))
    sq = postponed_sq(swing, 90, np.array([90, 80]))
    dyaw = np.radians(10.0) * (np.sin(2 * np.pi * 0.8 / 1.2) - np.sin(2 * np.pi * 0.6 / 1.2))
    np.testing.assert_allclose(sq[:, 1], [0.0, dyaw ** 2], atol=1e-12)
    np.testing.assert_allclose(warp_cost(lag_s, swing, 90, np.array([90, 80]), on)[1],
                               clock_lag_cost(lag_s, on)[1] + on.yaw * dyaw ** 2, atol=1e-12)


def test_lagging_a_walk_earns_at_most_half_the_pose_error_it_hides() -> None:
    """A robot 0.4 m behind a 1 m/s walk: judged against the reference at a clock that waits
    for it, the pose error vanishes at a 0.4 s lag, which the lateness tie-breaker alone sells
    for almost nothing (the old charge: the wait looks like tracking); with the postponed
    movement charged, no lag makes the pose error plus the charge less than half the error on
    time, and a lag on a reference that stands still changes nothing."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.objective import warp_cost

    tab = _walk_then_stand_table()
    nominal = 45
    robot_xy = tab.root_pos_w[nominal, :2] - [0.4, 0.0]
    lags = np.arange(0, 21)  # rows
    judged = nominal - lags
    pose = np.sum((robot_xy - tab.root_pos_w[judged, :2]) ** 2, axis=-1)

    def total(w):
        return w.root_xy * pose + warp_cost(lags * tab.dt, tab, nominal, judged, w)

    old, new = total(ObjectiveWeights()), total(ObjectiveWeights(postponed=1.0))
    on_time = pose[0]
    assert on_time == pytest.approx(0.16)
    assert old.min() < 0.1 * on_time  # the wait earns nearly the whole error
    assert new.min() >= 0.5 * on_time - 1e-9  # it earns at most half
    assert new[0] == old[0] == on_time


def test_planning_loops_charge_the_movement_a_slowed_clock_postpones(walk_motion) -> None:
    """In the planning plant, a plan that slows the clock on a walk costs, with ``postponed``
    on, exactly the postponed movement of its judged rows against the control steps taken
    more than with it off (the physics is the same); the unwarped plan pays nothing more."""
    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.decisions import advance_clock, judged_row
    from exoactor.control.filter.objective import postponed_cost

    plant, plans = _walk_plant_and_slowed_plan(walk_motion)
    tab = plant.table
    state = plant.initial_state()
    n = 40
    on_w = ObjectiveWeights(postponed=1.0)
    on = plant.simulate([state] * 2, plans, n, n, on_w, strict=False)
    off = plant.simulate([state] * 2, plans, n, n, ObjectiveWeights(), strict=False)
    np.testing.assert_array_equal(on.records[1].qpos, off.records[1].qpos)
    assert on.cost[0] == off.cost[0]
    clock, charged = float(state.clock), 0.0
    for i in range(n):
        k = state.step + i
        clock = float(advance_clock(np.array([clock]), k, np.array([0.6]), plant.end_row,
                                    plant.max_lag_rows)[0])
        charged += float(postponed_cost(tab, k + 1, judged_row(np.array([clock])), on_w)[0])
    assert charged * tab.dt > 1e-3  # the walk moved on while the clock waited
    assert on.cost[1] - off.cost[1] == pytest.approx(charged * tab.dt, rel=1e-9)
