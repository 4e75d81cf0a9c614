"""The physics filter: plan what the tracker is fed with the simulated robot in the loop.

Receding-horizon predictive sampling (MuJoCo MPC's predictive sampling, Howell et al. 2022):
every ``replan_s`` the filter simulates ``candidates`` plans over ``horizon_s`` from the state
actually reached, each plan a piecewise-linear schedule of the decisions of
:mod:`.decisions`, with the real loop inside (TWIST2, safety layer, MuJoCo; :mod:`.plant`); it
executes the cheapest plan's first ``replan_s`` under the objective of :mod:`.objective` and
plans again. The executed steps *are* the final rollout (the loop is deterministic, so the
chosen plan's simulated start is what the robot does).

Guarantee (tested): the unmodified reference is candidate 0 of every re-plan, so no executed
segment is worse on the objective than running the raw reference from the same state; and at
the end the whole filtered run is compared with the raw tracker's run on the same objective,
and the raw one is kept when it is cheaper and did not fall (``keep_raw_when_better``). So the
filter is never worse than the raw tracker on its own objective.

One more whole-run candidate (``corrector_candidate``): the clip run once through the drift
corrector (:mod:`exoactor.control.drift`), whose time re-plan slows the reference clock on runs
and lagging side-steps, an authority the sampled decisions do not have. It is kept only when it
did not fall and is the cheapest of the three runs on the same objective, so its known falls on
dances and kicks cannot reach the output.

Reference time warp (decision 5, :func:`~.decisions.advance_clock`): every plan carries its own
reference clock, so a plan can wait for a robot that lags (slow the clock), or catch up; the
fed root velocities are not scaled, so the robot keeps walking while the reference waits. The
clip's end is measured when the clock reaches it, so a warped run ends the clip later in time:
``metrics.json`` reports that lateness (``clip_end_late_s``) beside the clip-end figures, and it
is bounded by ``max_clock_lag_s`` for every run that can be kept (the corrector's included).

A clip that ends mid-walk (``run_out``, :mod:`exoactor.control.run_out`): every run the filter
makes (raw, filtered, corrector) and its reference table stream the clip carried on past its
end to a stop a walker can reach, instead of a dead stop at the last frame, so that the
clip-end term and the whole run's stopping point (``run_end``) are judged against one
reference that a robot can follow; the clip's figures are still taken at its end against the
original reference, and ``filter_report.json`` → ``run_out`` says what was appended (None:
the clip ends at rest and nothing changed).

Graceful degradation: where every plan falls within the horizon, three "hold" plans
(:func:`~.decisions.hold_plans`: no offsets, stance 2, so the whole body, arms included, is fed
the standing posture and the reference's own velocities as 0; in the third, stance 3, its yaw
rate as it is plus the feedback law's turn toward the reference's heading, so the robot turns
with it; a robot well below its standing height, ``hold_ramp_below_m``, gets the ramp alone,
from the decisions in use: a step to standing launches a seated robot off the floor) are simulated
from the same state; the cheapest plan that stays up among all of them is executed, else the
one that stays up longest. The hold plans are simulated only there, so a run in which some
ordinary plan always stays up is bit-identical to one without them. Steps executed under a hold
plan count as not executed (:func:`fractions`); the others as modified or not executed as usual.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from exoactor import artefacts
from exoactor.control.drift import DriftConfig
from exoactor.control.filter import memo as filter_memo
from exoactor.control.filter.config import FilterConfig
from exoactor.control.filter.decisions import (
    GAIT,
    GAIT_CANDIDATES,
    IDENTITY,
    NAMES,
    advance_clock,
    apply_to_mimic,
    candidate_plans,
    gait_at,
    hold_must_ramp,
    hold_plans,
    interpolate_rows,
    is_hold,
    judged_row,
    lower_upper,
    modification,
    plan_at,
    shift_plan,
)
from exoactor.control.filter.objective import (
    clip_end_row,
    clip_objective,
    clock_lag_cost,
    moving,
    not_executed,
    postponed_cost,
)
from exoactor.control.filter.plant import OBJECTIVE_BODIES, LoopState, Plant, PlantSetup
from exoactor.control.filter.workers import Evaluator
from exoactor.control.record import clip_steps, metrics_from_record, rollout_from_record
from exoactor.control.reference import GlitchReport, drop_glitched_leading_frames
from exoactor.control.track import TrackConfig
from exoactor.errors import ExoActorError
from exoactor.formats.motion import RobotMotion, Rollout
from exoactor.metrics import TrackingMetrics, real_time_factor, root_xy_error_m
from exoactor.rotations import heading_frame, rot, wrap_angle, yaw, yaw_quat

logger = logging.getLogger(__name__)

_LEGS = np.arange(12)
"""Leg joints in the TWIST2 order (hips, knees, ankles)."""
_STANCE = np.arange(15)
"""Joints the stance blend moves: legs and waist."""
FEEDBACK_YAW_GAIN = 2.0
"""Heading gain of the feedback candidate [1/s] (spec twist2-policy §3)."""
FEEDBACK_POS_GAIN = 1.0
"""Position gain of the feedback candidate [1/s]."""
JOINT_EDIT_RAD = 0.05
"""Fed-joint departure from the reference from which a drift-corrected step counts as
modified [rad]."""
FEEDBACK_MAX_SPEED = 0.5
"""Speed cap of the feedback candidate's velocity offset [m/s]."""


@dataclass
class Executed:
    """One run of the tracking loop, as the filter reads it: the loop's record and the decisions
    and fed mimic entries of every recorded step."""

    rec: dict[str, list]
    decisions: list[np.ndarray] = field(default_factory=list)
    mimic: list[np.ndarray] = field(default_factory=list)
    held: list[bool] = field(default_factory=list)
    """Per recorded step: executed under a hold plan (:func:`~.decisions.hold_plans`)."""
    fall_time_s: float | None = None
    wall_s: float = 0.0


@dataclass(frozen=True)
class FilterResult:
    """What :func:`filter_motion` produced.

    Attributes:
        metrics: the final rollout's tracking metrics (today's ``metrics.json`` keys).
        raw_metrics: the raw tracker's metrics on the same motion.
        rollout: the final rollout.
        executable: the reference as fed to the tracker (``executable_motion.npz``).
        report: the filter report (``filter_report.json``).
        fractions: ``fraction_as_asked``, ``fraction_modified``, ``fraction_not_executed``.
        files: written files by name.
    """

    metrics: TrackingMetrics
    raw_metrics: TrackingMetrics
    rollout: Rollout
    executable: RobotMotion
    report: dict
    fractions: dict[str, float]
    files: dict[str, Path]


def filter_motion(motion: RobotMotion, config: FilterConfig | None = None,
                  track: TrackConfig | None = None, out_dir: Path | None = None,
                  show_progress: bool = True) -> FilterResult:
    """Plan and execute ``motion`` through the physics filter.

    Args:
        motion: G1 29-DoF body motion (no ``hand_dof``).
        config: filter settings.
        track: tracking settings used for the loop (start, streamer, safety, TWIST2 options;
            its drift correction is not used: the filter replaces it).
        out_dir: folder for ``rollout.npz``, ``metrics.json``, ``executable_motion.npz``,
            ``filter_report.json`` and ``filter_decisions.png``; None writes nothing.
        show_progress: show a progress bar on a terminal.

    Raises:
        ExoActorError: unsupported controller or a motion with hands.

    Inside :func:`.memo.remembering` (a ``run``'s stages), a call whose motion content,
    settings and scene equal an earlier call's reuses that call's run (labelled with this
    motion's ``source``) instead of computing it again.
    """
    config = config or FilterConfig()
    track = with_run_out(track or TrackConfig(), config)
    if track.controller != "twist2":
        raise ExoActorError(f"the physics filter runs TWIST2; controller '{track.controller}' "
                            "has no filter, track it with --no-filter")
    memo, key = filter_memo.active(), None
    if memo is not None:
        key = filter_memo.run_key(motion, config, track)
        done = memo.get(key)
        if done is not None:
            logger.info("physics filter: %s: the same motion, scene and settings were filtered "
                        "in this run; reusing that run", motion.source)
            return _finish(done, motion, track, config, out_dir)
    done = _compute(motion, config, track, out_dir, show_progress)
    if memo is not None:
        memo.put(key, done)
    return _finish(done, motion, track, config, out_dir)


def with_run_out(track: TrackConfig, config: FilterConfig) -> TrackConfig:
    """``track`` with its reference carried on to a reachable stop after a clip that ends
    mid-walk as ``config.run_out`` asks (``StreamerConfig.run_out``): every run of the filter
    and its reference table stream the same reference."""
    if track.reference.run_out == config.run_out:
        return track
    return track.model_copy(update={"reference": track.reference.model_copy(
        update={"run_out": config.run_out})})


@dataclass(frozen=True)
class _Computed:
    """What :func:`_compute` returns: a filter run before it is labelled and written."""

    metrics: TrackingMetrics
    raw_metrics: TrackingMetrics
    fractions: dict[str, float]
    rollout: Rollout
    executable: RobotMotion
    report: dict


def _finish(done: _Computed, motion: RobotMotion, track: TrackConfig, config: FilterConfig,
            out_dir: Path | None) -> FilterResult:
    """``done`` labelled with ``motion.source`` (it may have been computed for the same
    content under another name, :mod:`.memo`) and written to ``out_dir``."""
    rollout, executable, report = done.rollout, done.executable, done.report
    if report.get("motion") != motion.source:
        rollout = filter_memo.relabelled(rollout, motion.source)
        executable = filter_memo.relabelled(executable, f"{motion.source} (physics filter)")
        report = {**report, "motion": motion.source}
    files = _write(out_dir, done.metrics, done.raw_metrics, done.fractions, rollout, executable,
                   report, motion, track, config)
    return FilterResult(done.metrics, done.raw_metrics, rollout, executable, report,
                        done.fractions, files)


def _compute(motion: RobotMotion, config: FilterConfig, track: TrackConfig,
             out_dir: Path | None, show_progress: bool) -> _Computed:
    """:func:`filter_motion`'s work (``out_dir``: where a divergence dump goes)."""
    from exoactor.control.twist2 import Twist2Config

    rc = track.reference
    clean, glitches = (drop_glitched_leading_frames(motion, rc.glitch_pos_m, rc.glitch_rot_deg,
                                                    rc.glitch_joint_rad)
                       if rc.drop_glitches else (motion, None))
    setup = PlantSetup(clean, track.start, rc, track.safety,
                       Twist2Config(**track.controller_options), config.fall_tilt_margin_deg,
                       config.fall_height_margin_m, track.scene, config.planning_timestep_s,
                       config.planning_solver, config.max_clock_lag_s,
                       glitches.dropped_frames if glitches is not None else 0,
                       config.not_executed_stance)
    raw_cfg = track.model_copy(update={"drift": DriftConfig(enabled=False)})
    in_process = config.workers == 1 or config.parallel == "threads"
    main = Plant(setup, config.candidates + GAIT_CANDIDATES if in_process else 1)  # + the gait's
    tab = main.table

    # ---- the plain whole runs, on a thread of their own beside the first attempt's planning:
    # the raw tracker (the unmodified reference, today's loop, drift correction off) and the
    # drift corrector's run (one more whole-run candidate). Each builds its own loop (model,
    # data, policy session), so they share nothing with the planner and their results are the
    # same as run one after the other; the thread fills the cores the planner leaves idle
    # while it executes a plan step by step.
    plain = ThreadPoolExecutor(max_workers=1, thread_name_prefix="filter-plain")
    raw_job = plain.submit(_run_loop, motion, raw_cfg, out_dir, tab, None)
    corrector_job = None
    if config.corrector_candidate:
        drift_cfg = track.drift.model_copy(update={"enabled": True})
        corrector_job = plain.submit(_run_loop, motion,
                                     track.model_copy(update={"drift": drift_cfg}), None, tab,
                                     None)
    plain.shutdown(wait=False)

    # ---- receding-horizon predictive sampling, executed on the same loop --------------
    loops = config.candidates + GAIT_CANDIDATES
    objectives: dict[str, float] = {}
    late: dict[str, float] = {}
    tries: list[tuple[Executed, _Planner, float, float]] = []  # run, planner, objective, late
    raw = corrected = None
    with Evaluator(setup, loops, config.workers, main if in_process else None,
                   config.parallel) as ev:
        while True:
            # one more attempt (the first always): the whole receding-horizon run
            wall0 = time.perf_counter()
            planner = _Planner(ev, tab, config, main.dt, attempt=len(tries))
            ex = _run_loop(motion, raw_cfg, out_dir, tab, planner, show_progress)
            ex.wall_s = time.perf_counter() - wall0
            tries.append((ex, planner, _objective(ex, tab, main, config),
                          clip_end_lateness_s(ex, tab)))
            if raw is None:  # the plain runs, done beside the first attempt
                raw = raw_job.result()
                objectives["raw"] = _objective(raw, tab, main, config)
                late["raw"] = clip_end_lateness_s(raw, tab)
                if corrector_job is not None:
                    corrected = corrector_job.result()
                    objectives["corrector"] = _objective(corrected, tab, main, config, True)
                    late["corrector"] = clip_end_lateness_s(corrected, tab)
            # ---- the whole-clip comparison: filtered (its best attempt), raw, corrected ------
            attempt = best_attempt([(t[0], t[2], t[3]) for t in tries], config.max_clock_lag_s)
            run, planner, objectives["filtered"], late["filtered"] = tries[attempt]
            runs = {"filtered": run}
            if config.keep_raw_when_better:
                runs["raw"] = raw
            if corrected is not None:
                runs["corrector"] = corrected
            kept = choose_run(runs, objectives, late, config.max_clock_lag_s)
            if not retry_wanted(runs[kept], tab, config, len(tries)):
                break
    filter_wall_s = float(sum(t[0].wall_s for t in tries))
    attempts = [{"objective": _finite(obj), "clip_end_late_s": _finite(lt),
                 "clip_end_xy_m": _finite(clip_end_xy_m(ex, tab)),
                 "fell": ex.fall_time_s is not None, "wall_s": float(ex.wall_s)}
                for ex, _, obj, lt in tries]
    final = runs[kept]
    extras = {"simulated_s": float(final.rec["t"][-1]) if final.rec.get("t") else 0.0,
              "filter_wall_s": filter_wall_s,
              "filter_s_per_motion_s": filter_wall_s / max(tab.duration_s, 1e-9),
              "raw_wall_s": float(raw.wall_s), "clip_end_late_s": late[kept]}
    metrics = _metrics(final, main, track, glitches, filter_wall_s, extras)
    raw_metrics = _metrics(raw, main, track, glitches, raw.wall_s,
                           {"clip_end_late_s": late["raw"]})
    fr = (fractions(final, tab, config) if kept != "corrector"
          else corrector_fractions(final, tab, config))
    rollout = rollout_from_record(final.rec, "g1", 1.0 / main.dt, motion.source)
    executable = executable_motion(final, tab, main, motion)
    report = {
        "motion": motion.source, "config": config.model_dump(mode="json"),
        "kept": kept,
        "objective": {name: _finite(v) for name, v in objectives.items()},
        "clip_end_late_s": {name: _finite(v) for name, v in late.items()},
        "max_clock_lag_s": config.max_clock_lag_s,
        "corrector": (None if corrected is None else
                      {"fell": corrected.fall_time_s is not None,
                       "steps": len(corrected.rec.get("t", [])), "nominal_steps": tab.steps,
                       "wall_s": float(corrected.wall_s)}),
        "attempts": attempts, "attempt": attempt,
        "run_out": None if tab.run_out is None else tab.run_out.summary(),
        **fr, "replans": planner.log, "decision_names": list(NAMES),
        "decisions": {"clip_time_s": [float(t) for t in final.rec["clip_t"]],
                      "values": np.array(final.decisions).tolist()},
        "wall_s": filter_wall_s, "raw_wall_s": float(raw.wall_s),
    }
    if tab.seat_w is not None:  # the seat's phase seated, by the seat interaction's rule
        report["seated"] = {name: _seated(ex, tab, main)
                            for name, ex in {**runs, "raw": raw}.items()}
    return _Computed(metrics, raw_metrics, fr, rollout, executable, report)


def best_attempt(tries: list[tuple[Executed, float, float]], max_late_s: float) -> int:
    """Index of the filtered attempt that takes part in the whole-run comparison: the cheapest
    on the whole-run objective among those that did not fall and reached the clip's end at
    most ``max_late_s`` late (:func:`choose_run`'s rule); the first when none qualifies.

    Args:
        tries: per attempt, its run, whole-run objective and clip-end lateness [s].
        max_late_s: ``FilterConfig.max_clock_lag_s`` [s].
    """
    keys = [str(a) for a in range(len(tries))]
    return int(choose_run(dict(zip(keys, (t[0] for t in tries), strict=True)),
                          dict(zip(keys, (t[1] for t in tries), strict=True)),
                          dict(zip(keys, (t[2] for t in tries), strict=True)), max_late_s,
                          first="0"))


def clip_end_xy_m(ex: Executed, tab) -> float:
    """The run's pelvis xy error at its last step inside the clip (before a fall), as
    ``root_xy_error_end_m`` measures it [m]; inf when it has no such step."""
    sel = clip_steps(ex.rec.get("clip_t", []), tab.duration_s, ex.fall_time_s)
    if not len(sel):
        return float("inf")
    i = int(sel[-1])
    return float(root_xy_error_m(ex.rec["qpos"][i][:3], ex.rec["ref_pos"][i]))


def retry_wanted(kept: Executed, tab, config: FilterConfig, attempts_made: int) -> bool:
    """Whether to make another filtered attempt (``FilterConfig.attempts``): attempts are left,
    the candidates have random draws (else an attempt repeats the last), and the run that would
    be kept ends the clip more than ``retry_xy_m`` off (or fell)."""
    if attempts_made >= config.attempts or config.random_candidates == 0:
        return False
    return kept.fall_time_s is not None or clip_end_xy_m(kept, tab) > config.retry_xy_m


def choose_run(runs: dict[str, Executed], objectives: dict[str, float],
               late_s: dict[str, float] | None = None,
               max_late_s: float = float("inf"), first: str = "filtered") -> str:
    """The whole run to keep: ``first`` (the filtered one), unless another run that did not
    fall and reached the clip's end at most ``max_late_s`` late (``late_s``,
    :func:`clip_end_lateness_s`; nan: never reached) is cheaper on the same objective (a fallen
    run's objective is infinite)."""
    late_s = late_s or {}
    best = first
    for name, ex in runs.items():
        late = late_s.get(name, 0.0)
        on_time = bool(np.isfinite(late) and abs(late) <= max_late_s + 1e-6)
        if ex.fall_time_s is None and on_time and objectives[name] < objectives[best]:
            best = name
    return best


def clip_end_lateness_s(ex: Executed, tab) -> float:
    """How late a run's reference clock reached the clip's end, in control time [s]: the step
    at which the clip-end figures are measured (the last one whose clip time is within the
    clip) minus the step at which it comes without a time warp (negative: early). nan when the
    run never got past the clip's end (a fall, or cut short)."""
    clip_t = np.asarray(ex.rec.get("clip_t", []), dtype=float)
    inside = np.flatnonzero(clip_t <= tab.duration_s + 1e-9)
    if not len(inside) or inside[-1] + 1 >= len(clip_t):
        return float("nan")
    if ex.fall_time_s is not None and ex.fall_time_s <= tab.duration_s + 1e-9:
        return float("nan")
    return float((inside[-1] + 1 - clip_end_row(tab)) * tab.dt)


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


class _Planner:
    """Chooses the decisions of every step: re-plans every ``replan_s`` from the loop's state."""

    def __init__(self, evaluator: Evaluator, table, config: FilterConfig, dt: float,
                 attempt: int = 0):
        self.ev = evaluator
        self.tab = table
        self.config = config
        self.dt = dt
        self.h_steps = max(1, round(config.horizon_s / dt))
        self.r_steps = max(1, min(self.h_steps, round(config.replan_s / dt)))
        self.rng = np.random.default_rng(config.seed if attempt == 0
                                         else [config.seed, attempt])
        """The random candidates' stream: ``seed`` for the first attempt (so a run that makes
        one attempt is the filter's before retries), ``(seed, attempt)`` for the others."""
        self.current = IDENTITY.copy()
        self.prev_best: np.ndarray | None = None
        self.plan: np.ndarray | None = None
        self.plan_step = 0
        self.holding = False
        self.log: list[dict] = []
        self.clock = 0.0
        """The executed reference clock, in table rows (fractional under a warp)."""
        self.steps = 0
        """Control steps executed."""
        self.end_row = clip_end_row(table)
        self.max_lag_rows = config.max_clock_lag_s / dt

    @property
    def replans(self) -> int:
        """Re-plans the whole run takes."""
        return int(np.ceil(self.tab.steps / self.r_steps))

    def decisions(self, saved, qpos: np.ndarray) -> np.ndarray:
        """Decisions for the next step of the loop whose state is ``saved`` (its LoopState)."""
        if self.plan is None or self.plan_step >= self.r_steps:
            self._replan(saved, qpos)
        u = plan_at(self.plan[None], self.plan_step / self.h_steps)[0]
        self.plan_step += 1
        self.current = u
        return u

    def advance(self, u: np.ndarray) -> tuple[float, float]:
        """Advance the executed reference clock by one step under decisions ``u`` (the same
        rule as the plans', :func:`~.decisions.advance_clock`).

        Returns:
            The clock before the step [rows] and the step's clock rate (rows passed) [-].
        """
        before = self.clock
        after = float(advance_clock(np.array([before]), self.steps, np.array([u[5]]),
                                    self.end_row, self.max_lag_rows)[0])
        self.clock = after
        self.steps += 1
        return before, after - before

    def _gait_offered(self, row: int) -> bool:
        """Whether the gait candidates take part at reference row ``row``: the clip has a gait
        and its reference stands still somewhere within the horizon from there (its legs move
        less than half of what counts as moving, :func:`~.objective.moving`: a step planned
        now is walking when the reference stops), or the plan in use steps already."""
        if self.tab.gait is None:
            return False
        stepping = self.current[GAIT] > 0.0 or (self.prev_best is not None
                                                 and bool(np.any(self.prev_best[:, GAIT] > 0.0)))
        ahead = self.tab.moving_legs[row:row + self.h_steps + 1]
        return bool(ahead.min() < 0.5) or stepping

    def _replan(self, saved, qpos: np.ndarray) -> None:
        tab, config = self.tab, self.config
        history, last_action, fresh = saved.controller
        previous = saved.safety.previous
        state = LoopState(saved.plant.integration.copy(), np.array(history),
                          np.array(last_action), bool(fresh),
                          np.array(previous if previous is not None else qpos[7:36]),
                          self.steps, self.current.copy(), self.clock)
        if self.plan is not None:
            self.prev_best = shift_plan(self.plan, self.plan_step / self.h_steps)
        fb = _feedback(qpos, state, tab, config)
        row = min(int(judged_row(self.clock)), tab.steps)
        after = bool(tab.clip_t[row] >= tab.duration_s)
        gait = self._gait_offered(row)
        plans, labels = candidate_plans(self.current, self.prev_best, fb, config.candidates,
                                        config.random_candidates, config.bounds, self.rng,
                                        after_clip=after, gait=gait,
                                        step=_step_offsets(qpos, fb, tab, row, config)
                                        if gait else None)
        out = self.ev.simulate([state] * len(plans), plans, self.h_steps, 0, config.weights)
        infeasible = int(np.sum(~np.isfinite(out.cost)))
        cost, fall_step = out.cost, out.fall_step
        extra = {}
        if infeasible == len(plans):  # graceful degradation: try holding
            held, held_labels = hold_plans(
                self.current, float(fb[2]),
                ramp=hold_must_ramp(float(qpos[2]), float(tab.stand_mimic[2]),
                                    config.hold_ramp_below_m))
            ho = self.ev.simulate([state] * len(held), held, self.h_steps, 0, config.weights)
            plans = np.concatenate([plans, held])
            labels = labels + held_labels
            cost = np.concatenate([cost, ho.cost])
            fall_step = np.concatenate([fall_step, ho.fall_step])
            extra = {"hold_infeasible": int(np.sum(~np.isfinite(ho.cost))),
                     "up_s": float((out.fall_step.max() + 1) * self.dt),
                     "hold_up_s": [float((f + 1) * self.dt) if f >= 0 else None
                                   for f in ho.fall_step]}
        best = _choose(cost, fall_step)
        self.log.append({"clip_time_s": float(saved.clip_time_s), "chosen": labels[best],
                         "cost": _finite(cost[best]), "raw_cost": _finite(out.cost[0]),
                         "infeasible": infeasible, **extra,
                         "clock_lag_s": float((self.steps - self.clock) * self.dt),
                         "decisions_end": plans[best, -1].tolist()})
        self.plan = plans[best]
        self.holding = is_hold(labels[best])
        self.plan_step = 0


def _run_loop(motion: RobotMotion, cfg: TrackConfig, out_dir: Path | None, tab,
              planner: _Planner | None, show_progress: bool = False) -> Executed:
    """One run of today's tracking loop (drift correction off), fed either the unmodified
    reference (``planner`` None: the raw tracker) or the planner's decisions."""
    from exoactor.control.loop import ReferenceMod
    from exoactor.control.track import build_simulation_loop
    from exoactor.control.twist2 import mimic_obs
    from exoactor.ui import progress

    sim_run = build_simulation_loop(motion, cfg, dump_dir=out_dir)
    loop, sim = sim_run.loop, sim_run.sim
    stand = tab.stand_mimic
    ex = Executed(loop.rec)
    wall0 = time.perf_counter()
    steps = range(sim_run.max_steps)
    if show_progress:
        steps = progress(steps, f"filter {Path(motion.source).name}", total=tab.steps,
                         unit="steps")
    for _ in steps:
        if loop.done:
            break
        u = IDENTITY
        mod = None
        held = False
        if planner is not None and loop.fall_time_s is None:
            u = planner.decisions(loop.save(), sim.data.qpos.copy())
            clock, rate = planner.advance(u)
            mod = ReferenceMod(clock_rate=rate,
                               transform=_mimic_transform(u, clock, tab, stand,
                                                          planner.steps - 1))
            held = planner.holding
        res = loop.step(mod)
        ex.held.append(held)
        ex.decisions.append(np.array(u, dtype=float))
        ex.mimic.append(mimic_obs(res.seen))
    ex.fall_time_s = loop.fall_time_s
    ex.wall_s = time.perf_counter() - wall0
    return ex


def _mimic_transform(u: np.ndarray, clock: float, tab, stand: np.ndarray, step: int):
    """A ``ReferenceMod.transform`` whose frame feeds exactly ``apply_to_mimic``'s entries, on
    the reference at ``clock`` (table rows): on a whole row the frame's own mimic entries (the
    table's row), between rows the table interpolated there, as the plans were simulated; the
    gait at control step ``step`` (the plans' phase)."""
    from exoactor.control.twist2 import mimic_obs

    legs = _LEGS
    stance = _STANCE
    whole = clock == np.floor(clock)
    at = np.array([clock])
    leg_mean = tab.leg_mean[int(clock)] if whole else interpolate_rows(tab.leg_mean, at)[0]

    def transform(frame):
        base = mimic_obs(frame) if whole else interpolate_rows(tab.mimic, at)[0]
        m = apply_to_mimic(base, u[None], leg_mean, legs, stand, stance,
                           gait_at(tab.gait, step))[0]
        return frame_from_mimic(frame, m)

    return transform


def frame_from_mimic(frame, mimic: np.ndarray):
    """``frame`` changed so that its TWIST2 mimic entries are ``mimic`` (heading and xy kept)."""
    from dataclasses import replace

    psi = float(yaw(frame.root_quat_w))
    r = rot(yaw_quat(psi)) * _rp(mimic[3], mimic[4])
    q = r.as_quat(scalar_first=True)
    v_b = r.apply(frame.root_lin_vel_w, inverse=True)
    w_b = r.apply(frame.root_ang_vel_w, inverse=True)
    v_b[:2] = mimic[0:2]
    w_b[2] = mimic[5]
    pos = frame.root_pos_w.copy()
    pos[2] = mimic[2]
    return replace(frame, root_pos_w=pos, root_quat_w=q if q[0] >= 0 else -q,
                   root_lin_vel_w=r.apply(v_b), root_ang_vel_w=r.apply(w_b),
                   joint_pos=np.array(mimic[6:], dtype=float))


def _choose(cost: np.ndarray, fall_step: np.ndarray) -> int:
    """The cheapest plan that stays up; if none does, the one that stays up longest."""
    if np.isfinite(cost).any():
        return int(np.argmin(cost))
    return int(np.argmax(fall_step))


def _capped_b(v_w: np.ndarray, max_speed_m_s: float, yaw_robot_rad: float) -> np.ndarray:
    """A world-frame xy velocity ``v_w`` [m/s], its speed capped at ``max_speed_m_s``, in the
    robot's heading frame (the feedback law's and the "step" plan's offsets)."""
    v = np.array(v_w, dtype=float)
    speed = float(np.linalg.norm(v))
    if speed > max_speed_m_s:
        v *= max_speed_m_s / speed
    return heading_frame(yaw_robot_rad).T @ v


def _feedback(qpos: np.ndarray, state, tab, config: FilterConfig) -> np.ndarray:
    """Decisions of a proportional heading and position law (one candidate, never imposed)."""
    k = min(int(judged_row(state.clock)), tab.steps)
    yaw_robot = float(yaw(qpos[3:7]))
    dyaw = float(wrap_angle(yaw(tab.root_quat_w[k]) - yaw_robot))
    err = tab.root_pos_w[k, :2] - qpos[:2]
    v_b = _capped_b(FEEDBACK_POS_GAIN * err, FEEDBACK_MAX_SPEED, yaw_robot)
    lo, hi = lower_upper(config.bounds)
    out = np.array([v_b[0], v_b[1], FEEDBACK_YAW_GAIN * dyaw, *state.decisions[3:]])
    return np.clip(out, lo, hi)


STEP_MAX_SPEED_M_S = 1.0
"""Speed cap of the "step" candidate's velocity offset [m/s]: on the clip's own gait the policy
walks at about the speed it is fed (``tests/control/test_filter.py``, a standing reference fed
0.5 m/s with the gait: 1.4 m in 3 s)."""


def _step_offsets(qpos: np.ndarray, feedback: np.ndarray, tab, row: int,
                  config: FilterConfig) -> np.ndarray:
    """``(3,)`` velocity and yaw-rate offsets of the "step" candidate: the pelvis xy error to
    the reference at row ``row`` closed by the clip's end (over the clip time left at rate 1,
    at least half the horizon; after the clip, half the horizon), capped at
    :data:`STEP_MAX_SPEED_M_S`, in the robot's heading frame; the yaw rate is the feedback
    law's."""
    yaw_robot = float(yaw(qpos[3:7]))
    err = tab.root_pos_w[row, :2] - qpos[:2]
    left = max(float(tab.duration_s - tab.clip_t[row]), 0.5 * config.horizon_s)
    v_b = _capped_b(err / left, STEP_MAX_SPEED_M_S, yaw_robot)
    lo, hi = lower_upper(config.bounds)
    return np.clip(np.array([v_b[0], v_b[1], feedback[2]]), lo[:3], hi[:3])


def _tilts(main: Plant, qpos: np.ndarray) -> np.ndarray:
    import mujoco

    d = main.sim.ref_data
    out = np.empty(len(qpos))
    for i, q in enumerate(qpos):
        d.qpos[:] = q
        mujoco.mj_kinematics(main.model, d)
        out[i] = np.arccos(np.clip(d.xmat[main.torso_id][8], -1.0, 1.0))
    return out


def _rows(ex: Executed, tab) -> np.ndarray:
    return np.array([tab.step_of(t) for t in ex.rec.get("clip_t", [])], dtype=int)


def _objective(ex: Executed, tab, main: Plant, config: FilterConfig,
               corrector: bool = False) -> float:
    """The objective of a whole run (clip, hold and return to standing), with the reference
    clock's lateness (:func:`~.objective.clock_lag_cost`) at every step and the part of the
    clip it left not executed, as reported (``weights.not_executed`` x
    ``fraction_not_executed`` of :func:`fractions`, :func:`corrector_fractions` for the drift
    corrector's run)."""
    if not ex.rec.get("clip_t"):
        return float("inf")
    qpos = np.array(ex.rec["qpos"])
    rows = _rows(ex, tab)
    total = clip_objective(qpos, np.array(ex.rec["qvel"]), np.array(ex.rec["body"]),
                           _tilts(main, qpos), np.array(ex.decisions), tab, rows,
                           main.qpos_idx, config.weights, OBJECTIVE_BODIES,
                           ex.fall_time_s is not None,
                           run_seat_load(ex, tab, main, rows, config.weights))
    lag = clock_lag_s(ex, tab)
    total += float(np.sum(clock_lag_cost(lag, config.weights)) * tab.dt)
    if config.weights.postponed > 0.0 and np.isfinite(total):
        total += float(np.sum(postponed_cost(tab, np.arange(1, len(rows) + 1), rows,
                                             config.weights)) * tab.dt)
    if config.weights.not_executed > 0.0 and np.isfinite(total):
        fr = (corrector_fractions if corrector else fractions)(ex, tab, config)
        total += config.weights.not_executed * fr["fraction_not_executed"]
    return total


def run_seat_load(ex: Executed, tab, main: Plant, rows: np.ndarray, weights=None
                  ) -> np.ndarray | None:
    """``(T,)`` the share of the robot's weight the seat carries at each recorded step of a
    run judged against reference rows ``rows`` (0 outside a seat's phase), replayed as the
    seat interaction is scored (``mj_forward`` at the recorded state and PD targets,
    :class:`~exoactor.control.scene_objects.ObjectLoads`); None without a seat in the scene or
    with the seat-load term off in ``weights`` (None: measured whatever the weights; nothing is
    replayed when None is returned)."""
    import mujoco

    off = weights is not None and weights.seat_load <= 0.0
    if tab.seat_w is None or off or not len(rows):
        return None
    out = np.zeros(len(rows))
    on = np.flatnonzero(tab.seat_w[rows] > 0.0)
    if not len(on):
        return out
    model = main.model
    data = mujoco.MjData(model)
    nu = model.nu
    for t in on:
        data.qpos[:] = ex.rec["qpos"][t]
        data.qvel[:] = ex.rec["qvel"][t]
        data.ctrl[:] = np.asarray(ex.rec["target"][t])[:nu]
        mujoco.mj_forward(model, data)
        out[t] = main.loads.forces_n(data)[tab.seat_index[rows[t]]] / main.loads.weight_n
    return out


def _seated(ex: Executed, tab, main: Plant) -> float | None:
    """The seat phase's seated share of one run (:func:`seated_share` of
    :func:`run_seat_load`)."""
    rows = _rows(ex, tab)
    return seated_share(run_seat_load(ex, tab, main, rows), tab, rows)


def seated_share(load: np.ndarray | None, tab, rows: np.ndarray) -> float | None:
    """Share of a run's recorded steps in a seat's phase at which the seat carries at least
    :data:`~exoactor.control.scene_objects.SEATED_LOAD` of the robot's weight (the seat
    interaction's ``seated_fraction``, for the filter report); None when not measured."""
    from exoactor.control.scene_objects import SEATED_LOAD

    if load is None or tab.seat_w is None:
        return None
    on = tab.seat_w[rows] > 0.0
    return float(np.mean(load[on] >= SEATED_LOAD)) if on.any() else None


def clock_lag_s(ex: Executed, tab) -> np.ndarray:
    """``(T,)`` the run's reference-clock lateness after each recorded step: control time
    passed minus clip time passed [s] (0 without a time warp, up to rounding)."""
    clip_t = np.asarray(ex.rec.get("clip_t", []), dtype=float)
    return tab.dt * np.arange(1, len(clip_t) + 1) - (clip_t - tab.clip_t[0])


def fractions(ex: Executed, tab, config: FilterConfig) -> dict[str, float]:
    """Fractions of the clip's duration executed as asked, modified, or not executed (each
    step weighted by the clip time it covered, so a run on a slowed clock counts its clip once).

    A clip step is *not executed* when the stance blend suppressed the reference's movement:
    its weight, scaled by how much the reference's legs move there (full from
    :data:`~.objective.LEG_ACTIVITY_RAD` of swing, :func:`~.objective.moving`), is at or above
    ``not_executed_stance`` — easing a reference that stands still changes its posture
    (modified), not its movement; also under a hold plan (``ex.held``), after a fall, or when
    the run never got there. It runs
    *as asked* while every decision is within ``as_asked_tolerance`` of its range from the
    unmodified value, and is *modified* otherwise.
    """
    in_clip = (tab.clip_t[1:] > 1e-9) & (tab.clip_t[1:] <= tab.duration_s + 1e-9)
    total = int(in_clip.sum())
    if total == 0:
        return {"fraction_as_asked": 0.0, "fraction_modified": 0.0, "fraction_not_executed": 1.0}
    legs_moving = moving(tab)
    threshold = config.not_executed_stance
    as_asked = modified = 0.0
    held = ex.held or [False] * len(ex.decisions)
    clip_t = np.asarray(ex.rec.get("clip_t", []), dtype=float)
    # each step counts for the clip time it covered (under a time warp a slowed step covers
    # less than dt), so the fractions are of the clip's duration, not of its steps
    covered = np.diff(np.concatenate([tab.clip_t[:1], clip_t])) / tab.dt
    for t, dec, hold, w in zip(clip_t, ex.decisions, held, covered):
        if not (1e-9 < t <= tab.duration_s + 1e-9):
            continue
        if hold:
            continue
        if ex.fall_time_s is not None and t >= ex.fall_time_s - 1e-9:
            continue
        if not_executed(dec[4], float(legs_moving[tab.step_of(t)]), threshold):
            continue
        if modification(dec, config.bounds) <= config.as_asked_tolerance:
            as_asked += w
        else:
            modified += w
    a, m = min(1.0, as_asked / total), min(1.0, modified / total)
    rest = 1.0 - a - m
    # the step weights' float sum leaves ~1e-16 where every step ran; a real step is >= 1e-4
    return {"fraction_as_asked": a, "fraction_modified": m,
            "fraction_not_executed": rest if rest > 1e-9 else 0.0}


def corrector_fractions(ex: Executed, tab, config: FilterConfig) -> dict[str, float]:
    """:func:`fractions` of a drift-corrected run: its fed mimic read as decisions (velocity
    and yaw-rate offsets against the unmodified reference at the same clock row; stride 1; its
    clock rate from the recorded clip times); a
    step whose fed joints depart from the reference's by more than ``JOINT_EDIT_RAD`` (the
    corrector's stance and stride edits) counts as modified at least."""
    decisions = []
    clip_t = np.asarray(ex.rec.get("clip_t", []), dtype=float)
    rates = np.diff(np.concatenate([tab.clip_t[:1], clip_t])) / tab.dt
    for t, m, rate in zip(clip_t, ex.mimic, rates):
        ref = tab.mimic[tab.step_of(t)]
        d = IDENTITY.copy()
        d[[0, 1, 2]] = m[[0, 1, 5]] - ref[[0, 1, 5]]
        d[5] = rate
        if np.max(np.abs(m[6:] - ref[6:])) > JOINT_EDIT_RAD:
            d[3] = config.bounds.stride_max  # a departure at a bound: modified
        decisions.append(d)
    view = Executed(ex.rec, decisions, ex.mimic, fall_time_s=ex.fall_time_s, wall_s=ex.wall_s)
    return fractions(view, tab, config)


def _metrics(ex: Executed, main: Plant, track: TrackConfig, glitches, wall_s: float,
             extras: dict) -> TrackingMetrics:
    rec = ex.rec
    sim_time = float(rec["t"][-1]) if rec.get("t") else 0.0
    return metrics_from_record(rec, main.sim, main.table.duration_s, main.table.clip_t[-1],
                               ex.fall_time_s, glitches or GlitchReport(0, ()),
                               real_time_factor(sim_time, wall_s), track.success_body_error_m,
                               extras)


def executable_motion(ex: Executed, tab, main: Plant, motion: RobotMotion) -> RobotMotion:
    """The reference as fed to the tracker, as a 50 Hz :class:`RobotMotion`.

    Joints, pelvis height, roll and pitch are the fed mimic entries; heading and xy integrate
    the fed yaw rate and root velocities from the reference's first fed pose, so streaming this
    motion (``track executable_motion.npz --no-filter``, or ``deploy``) feeds the policy the same
    inputs up to the streamer's finite differences.
    """
    from exoactor.control.twist2 import TWIST2_JOINTS

    mimic = np.array(ex.mimic) if ex.mimic else tab.mimic[:2]
    n = len(mimic)
    dt = main.dt
    row0 = tab.step_of(tab.clip_t[0] + main.setup.streamer.lookahead_s)
    psi = float(yaw(tab.root_quat_w[row0]))
    pos = tab.root_pos_w[row0, :2].copy()
    root_pos = np.empty((n, 3))
    quat = np.empty((n, 4))
    for i in range(n):
        m = mimic[i]
        root_pos[i] = [pos[0], pos[1], m[2]]
        r = rot(yaw_quat(psi)) * _rp(m[3], m[4])
        q = r.as_quat(scalar_first=True)
        quat[i] = q if q[0] >= 0 else -q
        v_w = r.apply(np.array([m[0], m[1], 0.0]))
        pos = pos + v_w[:2] * dt
        psi += m[5] * dt
    return RobotMotion(robot="g1", fps=1.0 / dt, joint_names=tuple(TWIST2_JOINTS),
                       root_pos=root_pos, root_quat=quat, dof_pos=mimic[:, 6:].copy(),
                       source=f"{motion.source} (physics filter)")


def _rp(roll: float, pitch: float):
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("YX", [pitch, roll])


def _write(out_dir: Path | None, metrics: TrackingMetrics, raw: TrackingMetrics,
           fr: dict[str, float], rollout: Rollout, executable: RobotMotion, report: dict,
           motion: RobotMotion, track: TrackConfig, config: FilterConfig) -> dict[str, Path]:
    if out_dir is None:
        return {}
    from exoactor.fileio import write_json
    from exoactor.formats.npz import save_npz

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"rollout": save_npz(rollout, out / artefacts.ROLLOUT),
             "executable_motion": save_npz(executable, out / artefacts.EXECUTABLE_MOTION)}
    payload = {**metrics.to_dict(), **fr,
               "clip_end_late_s": _finite(metrics.extras.get("clip_end_late_s", float("nan"))),
               "raw": raw.to_dict(), "motion": motion.source,
               "controller": track.controller, "filter": report["kept"],
               "config": track.model_dump(mode="json")}
    write_json(out / artefacts.METRICS, payload)
    files["metrics"] = out / artefacts.METRICS
    write_json(out / artefacts.FILTER_REPORT, report)
    files["filter_report"] = out / artefacts.FILTER_REPORT
    plot = _plot_decisions(report, out / artefacts.FILTER_DECISIONS)
    if plot is not None:
        files["filter_plot"] = plot
    return files


def _plot_decisions(report: dict, path: Path) -> Path | None:
    """A plot of the decisions over time (skipped without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from exoactor.fileio import atomic_path

    t = np.array(report["decisions"]["clip_time_s"])
    v = np.array(report["decisions"]["values"])
    if len(t) == 0:
        return None
    fig, axes = plt.subplots(len(NAMES), 1, figsize=(8, 9), sharex=True)
    for i, (ax, name) in enumerate(zip(axes, NAMES)):
        ax.plot(t, v[:, i])
        ax.axhline(IDENTITY[i], color="grey", lw=0.5)
        ax.set_ylabel(name.replace("_", " "), fontsize=7)
    axes[-1].set_xlabel("clip time [s]")
    fig.suptitle(f"physics filter decisions ({report['kept']} kept): as asked "
                 f"{100 * report['fraction_as_asked']:.0f} %, modified "
                 f"{100 * report['fraction_modified']:.0f} %, not executed "
                 f"{100 * report['fraction_not_executed']:.0f} %", fontsize=9)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path
