"""Decision variables of the physics filter, plans over them, and candidate generation.

Six variables act on what the tracker is fed (its mimic observation) and when, each with
authority over the TWIST2 policy (``shared/specs/physics-filter-notes.md``, ablation):

=====  ==============================================================  ==========
index  acts on                                                         unmodified
=====  ==============================================================  ==========
0      forward root-velocity input: ``+ dvx`` [m/s]                    0
1      lateral root-velocity input: ``+ dvy`` [m/s]                    0
2      yaw-rate input: ``+ dw`` [rad/s]                                0
3      stride: leg joints' swing about their running mean ``x s``      1
4      stance: blend legs, waist, pelvis height and tilt toward the    0
       standing posture, and the reference's own velocities toward 0
       (beyond 1, hold plans only: the arms too, by ``stance - 1``;
       beyond 2, the yaw rate back to the reference's, by
       ``stance - 2``)
5      reference clock rate (time warp): rows of the reference passed  1
       per control step (< 1 waits / slows, > 1 speeds up); the fed
       root velocities are *not* scaled, so a slowed clock lets a
       robot that lags catch up with a reference that waits for it
6      gait: blend the fed leg joints toward one cycle of the clip's   0
       own gait (:func:`gait_cycle`, phased by the control step), so
       that a robot whose reference stands still can take steps; the
       velocity offsets steer them
=====  ==============================================================  ==========

A *plan* is piecewise linear in these over the horizon, with knots at ``t0``, ``t0 + H/2`` and
``t0 + H``; knot 0 is the value in use (continuity) except in the unmodified-reference plan,
which is the identity throughout.

The clock (:func:`advance_clock`): each plan carries its own fractional position on the reference
(rows of the :class:`~.plant.ReferenceTable`); the fed mimic is the table interpolated there. The
warp acts only inside the clip: a step that would end within the clip's last row or beyond its
end lands exactly on the clip's end row (so the clip end is judged once, at the row the metrics
measure it at), and from there the clock runs at rate 1 (the hold and return to standing as
usual). Its lateness (control steps taken minus rows passed) is bounded by an explicit limit
(``FilterConfig.max_clock_lag_s``) either way: at the limit the rate is held at 1 until the
lag shrinks. (The prototype scaled the fed velocities with the rate and found the warp carried
nothing for the *settled* error; unscaled, it is the wait that the drift corrector's time
re-plan uses to close the clip-end gap.)
"""

from __future__ import annotations

import numpy as np

from exoactor.control.filter.config import DecisionBounds
from exoactor.control.run_out import GAIT_MIN_CORRELATION, GAIT_PERIOD_S

NUM_DECISIONS = 7
NAMES = ("forward_vel_offset_m_s", "lateral_vel_offset_m_s", "yaw_rate_offset_rad_s",
         "stride_scale", "stance_blend", "clock_rate", "gait_blend")
IDENTITY = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0])
"""The unmodified reference."""
KNOTS = 3
CLOCK = 5
"""Index of the clock rate."""
GAIT = 6
"""Index of the gait blend."""
GAIT_CANDIDATES = 2
"""Plans :func:`candidate_plans` adds beyond ``count`` where the gait is offered ("step" and
one gait move)."""


def lower_upper(bounds: DecisionBounds) -> tuple[np.ndarray, np.ndarray]:
    """``(7,)`` lower and upper limits of the decisions."""
    lo = np.array([-bounds.forward_vel_m_s, -bounds.lateral_vel_m_s, -bounds.yaw_rate_rad_s,
                   bounds.stride_min, 0.0, bounds.clock_rate_min, 0.0])
    hi = np.array([bounds.forward_vel_m_s, bounds.lateral_vel_m_s, bounds.yaw_rate_rad_s,
                   bounds.stride_max, 1.0, bounds.clock_rate_max, 1.0])
    return lo, hi


def sigmas(bounds: DecisionBounds) -> np.ndarray:
    """``(7,)`` sampling spreads."""
    return np.array([bounds.sigma_forward_m_s, bounds.sigma_lateral_m_s,
                     bounds.sigma_yaw_rate_rad_s, bounds.sigma_stride, bounds.sigma_stance,
                     bounds.sigma_clock_rate, bounds.sigma_gait])


def half_ranges(bounds: DecisionBounds) -> np.ndarray:
    """``(7,)`` largest departure from the identity each variable allows (for normalising; a
    variable fixed at the identity, e.g. the clock with ``clock_rate_min = clock_rate_max = 1``,
    gets a tiny positive range so that it never counts as a departure)."""
    lo, hi = lower_upper(bounds)
    return np.maximum(np.maximum(np.abs(hi - IDENTITY), np.abs(IDENTITY - lo)), 1e-9)


def plan_at(plans: np.ndarray, frac: np.ndarray | float) -> np.ndarray:
    """Decisions of piecewise-linear plans at horizon fraction(s) ``frac`` in [0, 1].

    Args:
        plans: ``(K, 3, 7)`` knot values.
        frac: scalar fraction of the horizon (clipped to [0, 1]).

    Returns:
        ``(K, 7)``.
    """
    x = float(np.clip(frac, 0.0, 1.0)) * (KNOTS - 1)
    i = min(int(np.floor(x)), KNOTS - 2)
    a = x - i
    return (1.0 - a) * plans[:, i] + a * plans[:, i + 1]


def shift_plan(plan: np.ndarray, shift_frac: float) -> np.ndarray:
    """A ``(3, 7)`` plan re-knotted after advancing by ``shift_frac`` of its horizon (the tail
    beyond its end holds the last knot)."""
    fracs = shift_frac + np.linspace(0.0, 1.0, KNOTS)
    return np.stack([plan_at(plan[None], f)[0] for f in fracs])


def candidate_plans(current: np.ndarray, previous_best: np.ndarray | None, feedback: np.ndarray,
                    count: int, n_random: int, bounds: DecisionBounds,
                    rng: np.random.Generator,
                    after_clip: bool = False,
                    gait: bool = False,
                    step: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """The plans simulated at one re-plan.

    Candidates, in order (cut to ``count``): 0 the unmodified reference (identity throughout);
    1 the previous best plan shifted to now (or "hold" when there is none); 2 hold the current
    decisions; 3 a feedback plan (``feedback``: decisions a proportional heading/position law
    asks for, as one more candidate, never imposed); 4 ease to standing (stance -> 1); once the
    clip has ended (``after_clip``) 5 "stop": every offset to 0, stride 1, stance 1 (come to
    rest where the robot is, rather than walk on under the offsets in use); while it runs, the
    clock candidates "clock_rate-" and "clock_rate+" (the shifted best with the clock rate moved
    by -+2 sigma: wait for a robot that lags, or catch up; only with a warp allowed, i.e.
    ``clock_rate_min < clock_rate_max``: without one the candidates are those of the filter
    before the warp, random draws included); then for each other variable the
    shifted best moved by +-2 sigma at knots 1-2 ("coordinate" candidates); then ``n_random``
    Gaussian perturbations of the shifted best. A candidate that clipping makes equal to an
    earlier one is dropped; when more remain than ``count`` allows, the last structured ones
    are cut, never the ``n_random`` draws (at most ``count - 2``), so ``seed`` and
    ``random_candidates`` always act; fewer than ``count`` are filled with more draws.

    Where the gait is offered (``gait``: the clip has one and its reference stands still here,
    or the plan in use steps), :data:`GAIT_CANDIDATES` plans come *in addition* to ``count``,
    right after the fixed ones: "step" (the shifted best with the gait blend at 1 and the
    offsets ``step`` (else the feedback law's) at knots 1-2: take steps toward the reference)
    and the shifted best with the gait blend moved by +2 sigma (or -2 sigma where it is on
    already and + would clip back onto it). Elsewhere the gait is left as it is and the
    candidates are those of the filter without it. The random draws never move the gait.

    Args:
        current: ``(7,)`` decisions in use now (knot 0 of every plan but the identity).
        previous_best: ``(3, 7)`` the previous best plan already shifted to now, or None.
        feedback: ``(7,)`` the feedback law's decisions.
        count: number of plans wanted (>= 2).
        n_random: random perturbations, always among the ``count`` plans.
        bounds: ranges and spreads.
        rng: random generator.
        after_clip: the reference clock is past the clip's end (adds the "stop" plan).
        gait: offer the gait candidates (above).
        step: ``(3,)`` velocity and yaw-rate offsets of the "step" plan (None: the feedback
            law's).

    Returns:
        ``(count, 3, 7)`` plans (clipped to the bounds) and a short label per plan.
    """
    lo, hi = lower_upper(bounds)
    sig = sigmas(bounds)
    base = previous_best.copy() if previous_best is not None else np.tile(current, (KNOTS, 1))
    base[0] = current
    plans = [np.tile(IDENTITY, (KNOTS, 1)), base.copy(), np.tile(current, (KNOTS, 1))]
    labels = ["raw", "previous", "hold"]
    fb = base.copy()
    fb[1:] = feedback
    plans.append(fb)
    labels.append("feedback")
    stand = base.copy()
    stand[1:, 4] = 1.0
    plans.append(stand)
    labels.append("stand")
    if after_clip:
        stop = np.tile(current, (KNOTS, 1))
        stop[1:] = IDENTITY
        stop[1:, 4] = 1.0
        plans.append(stop)
        labels.append("stop")
    n_fixed = len(plans)
    if gait:
        stepping = base.copy()
        stepping[1:, :3] = feedback[:3] if step is None else step
        stepping[1:, GAIT] = 1.0
        move = base.copy()
        up = base[1:, GAIT] + 2.0 * sig[GAIT]
        move[1:, GAIT] = np.where(np.all(base[1:, GAIT] >= hi[GAIT]), base[1:, GAIT]
                                  - 2.0 * sig[GAIT], up)
        plans += [stepping, move]
        labels += ["step", f"{NAMES[GAIT]}{'+' if np.any(move[1:, GAIT] > base[1:, GAIT]) else '-'}"]
    clock = CLOCK
    warp = bool(hi[clock] > lo[clock])  # bounds 1..1: no warp, no clock candidates or noise
    sampled = clock + 1 if warp else clock
    if warp and not after_clip:  # the warp acts inside the clip only (advance_clock)
        for sign in (-1.0, 1.0):
            p = base.copy()
            p[1:, clock] += sign * 2.0 * sig[clock]
            plans.append(p)
            labels.append(f"{NAMES[clock]}{'+' if sign > 0 else '-'}")
    for j in range(clock):
        for sign in (1.0, -1.0):
            p = base.copy()
            p[1:, j] += sign * 2.0 * sig[j]
            plans.append(p)
            labels.append(f"{NAMES[j]}{'+' if sign > 0 else '-'}")
    # a move clipped back onto its base (the clock sped up at rate 1, the stance eased off at
    # 0, "previous" = "hold" at the first re-plan) repeats an earlier plan: keep one copy (the
    # evaluator simulates equal plans once, but each copy took one of the ``count`` slots)
    structured, kept_labels, seen = [], [], set()
    extra = 0
    for i, (plan, label) in enumerate(zip(plans, labels)):
        plan = np.clip(plan, lo, hi)
        key = plan.tobytes()
        if key not in seen or not structured:
            seen.add(key)
            structured.append(plan)
            kept_labels.append(label)
            extra += int(gait and n_fixed <= i < n_fixed + GAIT_CANDIDATES)
    count += extra  # the gait candidates come in addition to ``count``
    # the n_random draws always take part: the structured candidates are cut instead (the last
    # first), keeping at least "raw" and one other
    n_draws = min(n_random, max(count - 2, 0))
    n_structured = min(len(structured), count - n_draws)
    plans, labels = structured[:n_structured], kept_labels[:n_structured]
    while len(plans) < count:  # the draws, then more of them up to ``count``
        p = base.copy()
        p[1:, :sampled] += rng.normal(0.0, 1.0, (KNOTS - 1, sampled)) * sig[:sampled]
        plans.append(np.clip(p, lo, hi))
        labels.append("random")
    out = np.stack(plans)
    out[0] = IDENTITY  # the raw plan is exactly the unmodified reference
    return out, labels


HOLD = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 1.0, 0.0])
"""Decisions of the hold posture: no offsets, stride 1, stance 2, clock rate 1, no gait: the whole body
at the standing posture (legs, waist, pelvis height and tilt by the stance blend's first unit, the
arms by its part beyond 1, :func:`apply_to_mimic`), the reference's own root velocities and
yaw rate fed as 0."""
HOLD_TURN = np.array([0.0, 0.0, 0.0, 1.0, 3.0, 1.0, 0.0])
"""Decisions of the turning hold: :data:`HOLD`, but the reference's own yaw rate fed as it is
(stance 3, :func:`apply_to_mimic`): the robot stands still and turns as the reference turns, so
that it faces where the reference faces when the hold ends (the velocities fed after a hold
are in the robot's heading frame; on the pick-up dev clip a hold that stopped the turn left the
robot 35-55 deg behind its reference)."""


def hold_plans(current: np.ndarray, heading_rate_rad_s: float = 0.0, ramp: bool = False
               ) -> tuple[np.ndarray, list[str]]:
    """The "hold" plans, simulated only where every ordinary plan falls within the horizon
    (graceful degradation: keep the robot up rather than follow the reference).

    A robot near its standing height (``ramp`` False): ``hold_stand``: :data:`HOLD` at every
    knot (the standing posture at once; the safety layer's rate limit smooths the jump in
    targets); ``hold_stand_ramp``: from the decisions in use to :data:`HOLD` at the horizon's
    middle knot; ``hold_stand_turn``: :data:`HOLD_TURN` (standing, turning with the reference)
    with, at knots 1-2, the yaw-rate offset ``heading_rate_rad_s`` that turns the robot toward
    the reference's heading (the feedback law's heading part), so a hold closes the heading gap
    instead of keeping it. The objective chooses among them: turning with a reference that
    turns is right, turning with a perception glitch (a spin and back within a second) is not.

    A robot well below its standing height (``ramp`` True, :func:`hold_must_ramp`: seated,
    squatting, crouched) gets ``hold_stand_ramp`` alone: no hold steps to the standing posture
    (nor to the turning hold's, which is standing too). Fed the standing posture in one control
    step from a deep seat, TWIST2 extends its legs as fast as it can and leaves the floor
    (bench dev clip, i16j: pelvis 0.54 -> 0.975 m with no foot contact, landing at 7.4x its
    weight). From near standing the step is small, and the instant holds stay as they were
    (the turning one above all: the pick-up dev clip needs it, i16k). A turning hold that
    ramps (standing by the middle knot, turning by the end) was tried and dropped: on the bench
    its filtered runs fell where the plain ramp's did not (i16l).

    Args:
        current: ``(7,)`` decisions in use now.
        heading_rate_rad_s: yaw-rate offset toward the reference's heading [rad/s] (the
            feedback candidate's, already within the bounds).
        ramp: the robot is well below standing (:func:`hold_must_ramp`).

    Returns:
        ``(3, 3, 7)`` plans and their labels (``(1, 3, 7)`` with ``ramp``).
    """
    current = np.asarray(current, dtype=float)
    stand_ramp = np.tile(HOLD, (KNOTS, 1))
    stand_ramp[0] = current
    if ramp:
        return stand_ramp[None], ["hold_stand_ramp"]
    now = np.tile(HOLD, (KNOTS, 1))
    turn = np.tile(HOLD_TURN, (KNOTS, 1))
    turn[1:, 2] = heading_rate_rad_s
    return np.stack([now, stand_ramp, turn]), ["hold_stand", "hold_stand_ramp",
                                               "hold_stand_turn"]


def hold_must_ramp(pelvis_z_m: float, stand_pelvis_z_m: float, below_m: float) -> bool:
    """Whether a hold must ramp (:func:`hold_plans`): the robot's pelvis is more than
    ``below_m`` below its standing height [m]."""
    return bool(pelvis_z_m < stand_pelvis_z_m - below_m)


def is_hold(label: str) -> bool:
    """Whether a plan label is one of :func:`hold_plans`'."""
    return label.startswith("hold_stand")


def modification(decisions: np.ndarray, bounds: DecisionBounds) -> np.ndarray:
    """``(..., )`` largest departure of decisions ``(..., 7)`` from the identity, as a fraction
    of each variable's range (0 = unmodified, 1 = at a bound)."""
    return np.max(np.abs(np.asarray(decisions) - IDENTITY) / half_ranges(bounds), axis=-1)


def apply_to_mimic(mimic: np.ndarray, decisions: np.ndarray, leg_mean: np.ndarray,
                   legs: np.ndarray, stand_mimic: np.ndarray,
                   stance_joints: np.ndarray, gait_legs: np.ndarray | None = None) -> np.ndarray:
    """Modify TWIST2 mimic observations by decisions (vectorised over candidates).

    Args:
        mimic: ``(35,)`` the unmodified mimic entries ``[v_x_b, v_y_b, z, roll, pitch, w_z_b,
            joints (29)]`` of this step, or ``(K, 35)``: one per candidate (each on its own
            reference clock).
        decisions: ``(K, 7)`` (the clock rate, index 5, does not act on the mimic).
        leg_mean: ``(len(legs),)`` running mean of the reference leg joints here [rad], or
            ``(K, len(legs))``.
        legs: indices of the leg joints (within the 29).
        stand_mimic: ``(35,)`` mimic entries of the standing posture at rest.
        stance_joints: indices of the joints the stance blend moves (legs and waist); a
            stance beyond 1 (hold plans) blends the other joints by ``stance - 1``, one
            beyond 2 (:data:`HOLD_TURN`) the yaw rate back to the reference's by
            ``stance - 2``.
        gait_legs: ``(len(legs),)`` the leg joints of the clip's own gait at this control
            step (:func:`gait_at`) [rad], toward which the gait blend (index 6) moves the fed
            legs after the stride scale and before the stance blend; None: no gait (the
            blend does nothing).

    Returns:
        ``(K, 35)``.
    """
    d = np.atleast_2d(decisions)
    out = np.array(np.broadcast_to(mimic, (len(d), np.shape(mimic)[-1])))
    joints = out[:, 6:]
    swing = np.asarray(mimic)[..., 6:][..., legs] - leg_mean
    # written as "value + change" so that the identity leaves every entry bit-exact
    joints[:, legs] += (d[:, 3:4] - 1.0) * swing
    if gait_legs is not None and d.shape[1] > GAIT:
        joints[:, legs] += d[:, GAIT:GAIT + 1] * (np.asarray(gait_legs) - joints[:, legs])
    b = np.minimum(d[:, 4:5], 1.0)
    out[:, [0, 1, 5]] -= b * out[:, [0, 1, 5]]
    out[:, 2:5] += b * (stand_mimic[2:5] - out[:, 2:5])
    joints[:, stance_joints] += b * (stand_mimic[6:][stance_joints] - joints[:, stance_joints])
    # a stance beyond 1 (hold plans only; sampled plans are clipped to [0, 1]) blends the other
    # joints (arms) too, by ``stance - 1``; within [0, 1] this adds exact zeros
    others = np.setdiff1d(np.arange(joints.shape[1]), stance_joints)
    w = np.clip(d[:, 4:5] - 1.0, 0.0, 1.0)
    joints[:, others] += w * (stand_mimic[6:][others] - joints[:, others])
    # a stance beyond 2 (the turning hold, :data:`HOLD_TURN`) blends the yaw rate back to the
    # reference's by ``stance - 2``; below 2 every entry is left as it is
    turn = np.clip(d[:, 4] - 2.0, 0.0, 1.0)
    if np.any(turn > 0.0):
        yaw_rate = np.broadcast_to(np.asarray(mimic)[..., 5], (len(d),))
        sel = turn > 0.0
        out[sel, 5] += (turn * b[:, 0] * yaw_rate)[sel]
    out[:, 0] += d[:, 0]
    out[:, 1] += d[:, 1]
    out[:, 5] += d[:, 2]
    return out


def advance_clock(clock_row: np.ndarray, steps: int, rate: np.ndarray, end_row: int,
                  max_lag_rows: float) -> np.ndarray:
    """Reference clocks after one control step (vectorised over plans).

    Args:
        clock_row: ``(K,)`` position on the reference before the step, in rows of the
            :class:`~.plant.ReferenceTable` (fractional under a warp).
        steps: control steps taken before this one (the nominal clock is ``steps`` rows).
        rate: ``(K,)`` the plans' clock-rate decisions for this step.
        end_row: the clip's end row (:func:`~.objective.clip_end_row`).
        max_lag_rows: largest lateness, ``steps - clock_row``, either sign [rows].

    Returns:
        ``(K,)`` the clocks after the step. Rules: a rate within 1e-9 of 1 is 1 (an unwarped
        clock stays on whole rows, bit-exact with the tabulated reference); on or past the clip's
        end the rate is 1; at the lateness limit the rate is held at 1 (no later, no earlier); a
        step that would end within the clip's last row or beyond its end lands exactly on
        ``end_row``.
    """
    p = np.asarray(clock_row, dtype=float)
    r = np.where(np.abs(np.asarray(rate, dtype=float) - 1.0) < 1e-9, 1.0, rate)
    r = np.where(p >= end_row - 1e-9, 1.0, r)
    lag = (steps + 1) - (p + r)  # the lateness this step would leave
    r = np.where(lag > max_lag_rows, np.maximum(r, 1.0), r)
    r = np.where(lag < -max_lag_rows, np.minimum(r, 1.0), r)
    new = p + r
    land = (p < end_row - 1e-9) & (new > end_row - 1.0 + 1e-9)
    return np.where(land, float(end_row), new)


def interpolate_rows(values: np.ndarray, clock_row: np.ndarray) -> np.ndarray:
    """``values`` (rows first) at fractional rows ``clock_row`` ``(K,)``: linear between the
    neighbouring rows; a whole row returns that row bit for bit."""
    p = np.clip(np.asarray(clock_row, dtype=float), 0.0, len(values) - 1)
    i0 = np.floor(p).astype(int)
    a = p - i0
    i1 = np.minimum(i0 + 1, len(values) - 1)
    a = a.reshape(a.shape + (1,) * (values.ndim - 1))
    return values[i0] + a * (values[i1] - values[i0])


def judged_row(clock_row: np.ndarray) -> np.ndarray:
    """``(K,)`` the reference row a state at clock ``clock_row`` is judged against: the row at
    or after the clock (as :meth:`~.plant.ReferenceTable.step_of` for clip times)."""
    return np.ceil(np.asarray(clock_row, dtype=float) - 1e-9).astype(int)


GAIT_WINDOW_S = 3.0
"""Length of the windows searched for the clip's most periodic leg movement [s]."""
GAIT_WINDOW_STRIDE_S = 0.2
"""Spacing of the windows searched [s]."""


def gait_cycle(legs_fed: np.ndarray, activity: np.ndarray, inside: np.ndarray, dt: float,
               min_activity: float) -> np.ndarray | None:
    """One cycle of the clip's own gait: the fed leg joints over one period where they repeat
    best, or None when the clip has no periodic leg movement.

    Over windows of ``GAIT_WINDOW_S`` inside the clip (every ``GAIT_WINDOW_STRIDE_S``) whose
    mean leg activity counts as moving (``min_activity``), the normalised autocorrelation of
    the leg joints about the window's mean, at each lag in :data:`GAIT_PERIOD_S`; the window
    and lag where it is largest give the cycle: that many rows of the fed legs from the
    window's start (consecutive cycles there differ little, so the cycle repeats with the
    clip's own step-to-step continuity). None when the largest correlation is below
    :data:`GAIT_MIN_CORRELATION` (dances, waves, standing).

    Args:
        legs_fed: ``(N, L)`` fed leg joints per control step [rad].
        activity: ``(N,)`` leg activity per step [rad]
            (:func:`~exoactor.control.filter.objective.leg_activity_rad`).
        inside: ``(N,)`` whether the step is within the clip.
        dt: control step [s].
        min_activity: smallest mean activity of a window that counts as moving [rad].

    Returns:
        ``(P, L)`` the cycle (P rows, one per control step), or None.
    """
    rows = np.flatnonzero(inside)
    width = int(round(GAIT_WINDOW_S / dt))
    lags = np.arange(int(round(GAIT_PERIOD_S[0] / dt)), int(round(GAIT_PERIOD_S[1] / dt)) + 1)
    lags = lags[lags < width // 2]
    if not len(rows) or len(rows) < width or not len(lags):
        return None
    best = (-np.inf, 0, 0)
    for a in range(rows[0], rows[-1] + 2 - width, max(1, int(round(GAIT_WINDOW_STRIDE_S / dt)))):
        if activity[a:a + width].mean() < min_activity:
            continue
        x = legs_fed[a:a + width] - legs_fed[a:a + width].mean(axis=0)
        for p in lags:
            r = np.sum(x[:-p] * x[p:]) / np.sqrt(np.sum(x[:-p] ** 2) * np.sum(x[p:] ** 2)
                                                 + 1e-12)
            if r > best[0]:
                best = (r, a, int(p))
    if best[0] < GAIT_MIN_CORRELATION:
        return None
    _, a, p = best
    return legs_fed[a:a + p].copy()


def gait_at(cycle: np.ndarray | None, step: int) -> np.ndarray | None:
    """The gait's leg joints at control step ``step`` (the cycle repeated from step 0, so a plan
    and its execution feed the same phase), or None without a gait."""
    return None if cycle is None else cycle[step % len(cycle)]
