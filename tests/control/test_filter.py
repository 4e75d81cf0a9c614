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
    full = apply_to_mimic(mimic, np.array([[0.3, 0.0, -0.2, 1.0, 1.0]]), mimic[6:18], legs,
                          stand, np.arange(15))[0]
    np.testing.assert_allclose(full[6:21], stand[6:21])  # legs and waist stand
    np.testing.assert_allclose(full[[0, 5]], [0.3, -0.2])  # only the offsets are left
    np.testing.assert_array_equal(full[21:], mimic[21:])  # arms untouched


def test_stop_candidate_only_after_the_clip() -> None:
    rng = np.random.default_rng(0)
    current = np.array([0.4, 0.1, -0.3, 1.2, 0.2])
    _, during = candidate_plans(current, None, current, 16, 2, DecisionBounds(), rng)
    plans, after = candidate_plans(current, None, current, 16, 2, DecisionBounds(), rng,
                                   after_clip=True)
    assert "stop" not in during and "stop" in after
    stop = plans[after.index("stop")]
    np.testing.assert_array_equal(stop[0], current)  # continuous with the decisions in use
    np.testing.assert_array_equal(stop[1:], np.tile([0.0, 0.0, 0.0, 1.0, 1.0], (2, 1)))


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
    current = np.array([0.2, 0.1, -0.3, 1.1, 0.2])
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
    tilt at standing and no root velocity or yaw rate, whatever the reference asks."""
    from exoactor.control.filter.decisions import HOLD, hold_plans, is_hold

    rng = np.random.default_rng(1)
    mimic, stand = rng.normal(size=35), rng.normal(size=35)
    stand[[0, 1, 3, 4, 5]] = 0.0
    out = apply_to_mimic(mimic, HOLD[None], mimic[6:18], np.arange(12), stand, np.arange(15))[0]
    np.testing.assert_allclose(out, stand, atol=1e-12)
    # within the sampled range [0, 1] the arms stay bit-exact (hold is an extension only)
    part = apply_to_mimic(mimic, np.array([[0.0, 0.0, 0.0, 1.0, 0.7]]), mimic[6:18],
                          np.arange(12), stand, np.arange(15))[0]
    np.testing.assert_array_equal(part[21:], mimic[21:])
    current = np.array([0.2, 0.0, 0.6, 1.0, 0.5])
    plans, labels = hold_plans(current)
    assert all(is_hold(lb) for lb in labels) and not is_hold("hold")
    np.testing.assert_array_equal(plans[0], np.tile(HOLD, (3, 1)))
    np.testing.assert_array_equal(plans[1, 0], current)  # the ramp starts where we are
    np.testing.assert_array_equal(plans[1, 1:], np.tile(HOLD, (2, 1)))


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
        root_pos_w=np.zeros((n + 1, 3)), step_of=lambda t: int(round((t + 0.5) / 0.02)))
    ev = _FakeEvaluator(ordinary_up)
    planner = _Planner(ev, tab, FAST, 0.02)
    saved = SimpleNamespace(controller=(np.zeros((10, 3)), np.zeros(29), False),
                            safety=SimpleNamespace(previous=np.zeros(29)),
                            plant=SimpleNamespace(integration=np.zeros(3)), clip_time_s=0.1)
    qpos = np.zeros(36)
    qpos[3] = 1.0
    planner._replan(saved, qpos)
    return planner, ev


def test_hold_only_where_every_ordinary_plan_falls() -> None:
    """All ordinary plans fall: the hold plans are simulated and one that stays up is executed
    (reported, and its steps flagged); some ordinary plan stays up: no hold plan is even
    simulated (so such runs are unchanged)."""
    planner, ev = _planner_replan(ordinary_up=False)
    assert ev.calls == [FAST.candidates, 2]
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
    stance = np.array([IDENTITY, [0, 0, 0, 1.0, 0.5], [0, 0, 0, 1.0, 1.0],
                       [0, 0, 0, 1.0, 2.0]])
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
