"""The physics filter's speed paths give the same rollouts as the plain one: physics over
threads, identical plans simulated once, worker processes; and the coarser planning step is a
planning-only option that is refused where it does not divide the control step."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.control.filter.config import ObjectiveWeights
from exoactor.control.filter.decisions import IDENTITY
from exoactor.errors import ExoActorError


def _plans() -> np.ndarray:
    """Five plans, the third a copy of the second: raw, turn + speed up, the same, slow down,
    ease to standing."""
    p = np.tile(IDENTITY, (5, 3, 1))
    p[1, 1:, 0], p[1, 1:, 2] = 0.4, 0.6
    p[2] = p[1]
    p[3, 1:, 0] = -0.5
    p[4, 1:, 4] = 1.0
    return p


def _assert_same(a, b) -> None:
    np.testing.assert_array_equal(a.cost, b.cost)
    np.testing.assert_array_equal(a.fall_step, b.fall_step)
    for ra, rb in zip(a.records, b.records):
        for key in ("qpos", "qvel", "torque", "target", "body_pos_w", "fed_mimic", "decisions",
                    "fell"):
            np.testing.assert_array_equal(getattr(ra, key), getattr(rb, key))
    for sa, sb in zip(a.states, b.states):
        np.testing.assert_array_equal(sa.physics, sb.physics)
        np.testing.assert_array_equal(sa.history, sb.history)
        np.testing.assert_array_equal(sa.previous_target, sb.previous_target)
        assert sa.step == sb.step


@pytest.fixture(scope="module")
def setup(walk_motion):
    from exoactor.control.filter.plant import PlantSetup
    from exoactor.control.reference import drop_glitched_leading_frames

    clean, _ = drop_glitched_leading_frames(walk_motion)
    return PlantSetup(clean)


@pytest.mark.slow
def test_threads_and_deduplication_give_the_same_rollouts_bit_for_bit(setup) -> None:
    """Lockstep candidates with the physics over 2 threads, and the evaluator that simulates
    the duplicated plan once, reproduce one thread simulating every plan (every recorded
    array, the snapshot states, costs and fall steps equal to the last bit)."""
    from exoactor.control.filter.plant import Plant
    from exoactor.control.filter.workers import Evaluator

    plans = _plans()
    w = ObjectiveWeights()
    serial = Plant(setup, len(plans), threads=1)
    start = serial.initial_state()
    # 0.6 s from the start, then re-plan from the reached state of plan 1 over 0.6 s more
    ref = serial.simulate([start] * 5, plans, 45, 30, w)
    again = [ref.states[1]] * 5
    ref2 = serial.simulate(again, plans, 30, 10, w)

    threaded = Plant(setup, len(plans), threads=2)
    try:
        _assert_same(ref, threaded.simulate([start] * 5, plans, 45, 30, w))
        _assert_same(ref2, threaded.simulate(again, plans, 30, 10, w))
    finally:
        threaded.close()
    with Evaluator(setup, len(plans), workers=2, local=Plant(setup, len(plans))) as ev:
        out = ev.simulate([start] * 5, plans, 45, 30, w)
    _assert_same(ref, out)
    assert out.states[1] is not out.states[2]  # copies, not one shared object
    # the plans differ in what they ask, so the comparison is not vacuous
    assert len({round(float(c), 9) for c in ref.cost}) >= 4
    # a plan alone (a group of one) costs what it costs among others (it did not: a joint-error
    # mean summed a row of a column-ordered copy, 1 ulp off)
    together = serial.simulate([start] * 5, plans, 30, 0, w)
    for j in (0, 3):
        alone = serial.simulate([start], plans[j:j + 1], 30, 0, w)
        assert alone.cost[0] == together.cost[j]


@pytest.mark.slow
def test_worker_processes_give_the_same_rollouts(setup) -> None:
    from exoactor.control.filter.plant import Plant
    from exoactor.control.filter.workers import Evaluator

    plans = _plans()
    w = ObjectiveWeights()
    plant = Plant(setup, len(plans))
    start = plant.initial_state()
    ref = plant.simulate([start] * 5, plans, 30, 10, w)
    with Evaluator(setup, len(plans), workers=2, parallel="processes") as ev:
        _assert_same(ref, ev.simulate([start] * 5, plans, 30, 10, w))


def test_planning_timestep_must_divide_the_control_step(setup) -> None:
    from dataclasses import replace

    from exoactor.control.filter.plant import Plant

    coarse = Plant(replace(setup, physics_dt_s=0.002), 1)
    assert coarse.decimation == 10 and coarse.model.opt.timestep == 0.002
    assert Plant(setup, 1).decimation == 20
    with pytest.raises(ExoActorError, match="does not divide"):
        Plant(replace(setup, physics_dt_s=0.003), 1)


def test_vectorised_fall_rule_is_the_projects() -> None:
    from exoactor.control.filter.plant import Plant
    from exoactor.control.safety import FallSignals, SafetyConfig, is_fallen

    rng = np.random.default_rng(3)
    cfg = SafetyConfig()
    height = rng.uniform(0.0, 1.0, 400)
    tilt = rng.uniform(0.0, 2.0, 400)
    for ref_h, ref_t in ((0.78, 0.05), (0.45, 0.9), (0.3, 1.4)):
        got = Plant._fallen(height, tilt, ref_h, ref_t, cfg)
        want = [is_fallen(FallSignals(float(h), float(t), ref_h, ref_t), cfg)
                for h, t in zip(height, tilt)]
        np.testing.assert_array_equal(got, want)
        assert 0 < got.sum() < len(got)
