"""The physics filter's one objective, vectorised over candidate plans.

Lexicographic in spirit, weighted in practice (weights in
:class:`~exoactor.control.filter.config.ObjectiveWeights`):

1. a fall within the horizon excludes a plan (infinite cost; :class:`.plant.Plant` decides);
2. world-frame key-body error: pelvis xy and heading against the reference along the clip, and
   the feet and hands in world; and the motion a plan leaves *undone* (:func:`undone_sq`:
   how far its stance blend moves hands, feet, elbows and knees, relative to the pelvis, from
   the asked pose toward standing), so that carrying out the motion counts on its own and is
   not traded for position alone (a robot eased to standing keeps its place but does not do
   the motion); and the part of the clip a plan leaves *not executed*, charged per fraction
   of the clip exactly as ``fraction_not_executed`` counts it (:func:`not_executed_cost`: the
   verdict judges that fraction, so the plans and the whole-run comparison pay for it on the
   same scale);
3. joint error against the *unmodified* reference (so easing or re-shaping the motion costs);
4. smoothness of the decisions;
plus, where the scene has a seat, a *seat-support* term during the seat's evidence phase (the
pelvis xy outside the seat's footprint less a margin, :func:`seat_support_sq`: a robot that
squats beside its seat is not seated, however close its pose) and a *seat-load* term (the
share of the phase's steps at which the seat carries less than the seated share of the robot's
weight, from MuJoCo's contact forces, :func:`seat_load_cost`: the seat interaction's own
``seated_fraction`` rule, so a pelvis over the seat that does not rest on it is not seated
either), where it has a carried box a
*grasp* term during the box's evidence phase (each hand's distance to the box as simulated,
beyond the reference hand's distance to the box where the scene puts it, :func:`grasp_sq`: a
robot whose hands are not on the box does not carry it, however close its pose; off by
default, ``ObjectiveWeights.grasp``), a torso-tilt
excess term (a
margin before the fall rule), a pelvis-speed term after the clip (the pelvis velocity
against the reference's: come to rest as it does, after a clip carried on to a reachable stop
along with it), a
*clip-end* term (the pelvis pose at the step where the reference clock reaches the clip's
end, ``|dxy|^2 + 4 dyaw^2``, counted once with weight ``clip_end``: where the robot is when
the clip ends is the figure the motion is judged by) and a terminal
*stopping-point* term: at the horizon's end a robot still moving is charged for where it will
stop, ``|dxy + tau (v - v_ref)|^2 + 4 dyaw^2``.

Costs are integrated over time (per second), so horizons of different length compare.
"""

from __future__ import annotations

import numpy as np

from exoactor.control.scene_objects import SEATED_LOAD
from exoactor.rotations import heading_frame, wrap_angle, yaw

TILT_FREE_RAD = np.radians(15.0)
"""Torso tilt beyond the reference's that costs nothing [rad]."""
LEG_ACTIVITY_RAD = 0.04
"""Leg swing of the reference from which it counts as moving in full: the stance blend then
suppresses its movement (:func:`moving`; :func:`~exoactor.control.filter.run.fractions`) [rad]."""
_LEGS = np.arange(12)
"""Leg joints in the TWIST2 order (hips, knees, ankles)."""


def step_cost(qpos: np.ndarray, qvel: np.ndarray, body_pos_w: np.ndarray, tilt_rad: np.ndarray,
              decisions: np.ndarray, previous_decisions: np.ndarray, table, k: int,
              joint_qpos: np.ndarray, weights, bodies: tuple[int, ...],
              seat_load: np.ndarray | None = None) -> np.ndarray:
    """``(K,)`` running cost rate at reference row ``k`` [1/s].

    Args:
        qpos, qvel: ``(K, nq)``, ``(K, nv)`` robot states after the step.
        body_pos_w: ``(K, B, 3)`` key bodies in world [m].
        tilt_rad: ``(K,)`` torso tilt [rad].
        decisions, previous_decisions: ``(K, 5)`` this and the previous step's decisions.
        table: the :class:`~exoactor.control.filter.plant.ReferenceTable`.
        k: reference row the state is judged against.
        joint_qpos: qpos addresses of the body joints.
        weights: the objective weights.
        bodies: indices of the key bodies the objective weighs.
        seat_load: ``(K,)`` the share of the robot's weight the seat of row ``k`` carries
            (:class:`~exoactor.control.scene_objects.ObjectLoads`), where row ``k`` is in a
            seat's phase; None: not measured (the seat-load term is not charged).
    """
    dxy = qpos[:, :2] - table.root_pos_w[k, :2]
    dyaw = wrap_angle(yaw(qpos[:, 3:7]) - yaw(table.root_quat_w[k]))
    bodies = list(bodies)
    db = body_pos_w[:, bodies] - table.body_pos_w[k, bodies]
    body = np.mean(np.sum(db * db, axis=-1), axis=-1)
    # np.take: a C-ordered copy, so each row is summed alike whatever K (``qpos[:, idx]`` is
    # column-ordered for K > 1, and numpy sums its rows in another order than one row's)
    joint = np.mean(np.abs(np.take(qpos, joint_qpos, axis=1) - table.joint_pos[k]), axis=-1)
    tilt = np.maximum(0.0, tilt_rad - table.torso_tilt_rad[k] - TILT_FREE_RAD) ** 2
    pose = np.sum(dxy * dxy, axis=-1)
    c = (weights.root_xy * pose + weights.yaw * dyaw * dyaw
         + weights.key_body * body + weights.joint * joint + weights.tilt * tilt)
    if weights.undone > 0.0:
        c = c + weights.undone * undone_sq(decisions, table, k)
    seat_w = getattr(table, "seat_w", None)  # None: no seat in the scene
    if seat_w is not None and seat_w[k] > 0.0:
        if weights.seated > 0.0:
            c = c + weights.seated * seat_w[k] * seat_support_sq(qpos, table, k,
                                                                 weights.seated_margin_m)
        if seat_load is not None and weights.seat_load > 0.0:
            c = c + seat_w[k] * seat_load_cost(seat_load, table, weights)
    box_w = getattr(table, "box_w", None)  # None: no carried box in the scene
    if weights.grasp > 0.0 and box_w is not None and box_w[k] > 0.0:
        c = c + weights.grasp * box_w[k] * grasp_sq(qpos, body_pos_w, table, k)
    if k == clip_end_row(table):  # counted once: the caller integrates rates over dt
        c = c + weights.clip_end * (pose + 4.0 * dyaw * dyaw) / table.dt
    if table.clip_t[k] > table.duration_s:  # come to rest as the reference does
        c = c + weights.after_clip_speed * np.sum((qvel[:, :2] - table.lin_vel_w[k, :2]) ** 2,
                                                  axis=-1)
    change = (decisions - previous_decisions) / _HALF_RANGE
    return c + weights.smooth * np.sum(change * change, axis=-1) / table.dt


def seat_support_sq(qpos: np.ndarray, table, k: int, margin_m: float) -> np.ndarray:
    """``(K,)`` how far the pelvis is off the support of the seat the reference sits on at row
    ``k``: the squared distance of the pelvis xy (``qpos[:, :2]``) outside the seat's footprint
    shrunk by ``margin_m`` on every side [m^2] (0 inside it).

    Args:
        qpos: ``(K, nq)`` robot states.
        table: the :class:`~exoactor.control.filter.plant.ReferenceTable` (its ``seat_*``
            arrays: the seat of each row, :func:`~exoactor.control.filter.plant.seat_rows`).
        k: reference row.
        margin_m: margin inside the footprint [m].
    """
    fwd, lat = heading_frame(table.seat_yaw[k]).T  # the seat's depth and width axes in world xy
    d = qpos[:, :2] - table.seat_centre[k]
    half = np.maximum(table.seat_half[k] - margin_m, 0.0)
    out_f = np.maximum(np.abs(d @ fwd) - half[0], 0.0)
    out_l = np.maximum(np.abs(d @ lat) - half[1], 0.0)
    return out_f * out_f + out_l * out_l


def seat_load_shortfall(load: np.ndarray) -> np.ndarray:
    """``(K,)`` how far a step is from counting as seated: ``clip(1 - load / SEATED_LOAD, 0,
    1)`` for the share ``load`` ``(K,)`` of the robot's weight the seat carries (0 at or above
    :data:`~exoactor.control.scene_objects.SEATED_LOAD`, the seat interaction's rule for a
    seated step; 1 when it carries nothing)."""
    return np.clip(1.0 - np.asarray(load, dtype=float) / SEATED_LOAD, 0.0, 1.0)


def seat_load_cost(load: np.ndarray, table, weights) -> np.ndarray:
    """``(K,)`` running cost rate [1/s] of a step in a seat's phase with the seat carrying the
    share ``load`` ``(K,)`` of the robot's weight: ``weights.seat_load`` times the step's share
    of the phase's steps (``table.seat_steps``) times :func:`seat_load_shortfall`, so that a
    whole phase unseated costs ``seat_load`` and the charge counts the phase as the seat
    interaction's ``seated_fraction`` does (a share of its steps seated)."""
    share = 1.0 / max(int(table.seat_steps), 1)
    return weights.seat_load * share * seat_load_shortfall(load) / table.dt


def point_box_distance_m(points_w: np.ndarray, centre_w: np.ndarray, quat_wxyz: np.ndarray,
                         half_m: np.ndarray) -> np.ndarray:
    """``(K, H)`` distance of points ``(K, H, 3)`` to the surface of boxes ``(K,)`` with centres
    ``centre_w`` ``(K, 3)``, orientations ``quat_wxyz`` ``(K, 4)`` and half sizes ``half_m``
    ``(3,)`` [m] (0 inside)."""
    from exoactor.rotations import rot

    r_wb = rot(np.asarray(quat_wxyz, dtype=float)).as_matrix().reshape(-1, 3, 3)  # box -> world
    local = np.einsum("khi,kij->khj", np.asarray(points_w) - np.asarray(centre_w)[:, None], r_wb)
    excess = np.maximum(np.abs(local) - np.asarray(half_m), 0.0)
    return np.linalg.norm(excess, axis=-1)


GRASP_BODIES = (0, 1)
"""Indices into :data:`~exoactor.robots.spec.METRIC_KEY_BODIES` of the hands (left, right)."""


def grasp_sq(qpos: np.ndarray, body_pos_w: np.ndarray, table, k: int) -> np.ndarray:
    """``(K,)`` how far the hands are off the carried box of row ``k``: the mean over the two
    hands of the squared distance of the hand (its key body) to the box's surface *as simulated*
    (the box's free joint in ``qpos``, so a box that is carried, pushed or dropped is where it
    went), beyond the same hand's distance in the reference to the box where the scene puts it
    [m^2]. 0 for hands as near the box as the reference's (on it while the reference holds it);
    a hand that the reference keeps off the box is not pulled onto it.

    Args:
        qpos: ``(K, nq)`` robot and scene states (the box's pose at ``table.box_adr[k]``).
        body_pos_w: ``(K, B, 3)`` key bodies in world [m].
        table: the :class:`~exoactor.control.filter.plant.ReferenceTable` (its ``box_*``
            arrays, :func:`~exoactor.control.filter.plant.box_rows`).
        k: reference row.
    """
    adr = int(table.box_adr[k])
    d = point_box_distance_m(body_pos_w[:, list(GRASP_BODIES)], qpos[:, adr:adr + 3],
                             qpos[:, adr + 3:adr + 7], table.box_half[k])
    off = np.maximum(d - table.box_ref_hand_m[k], 0.0)
    return np.mean(off * off, axis=-1)


def undone_sq(decisions: np.ndarray, table, k: int) -> np.ndarray:
    """``(K,)`` the motion a plan leaves undone at row ``k``: the mean over the key bodies of the
    squared displacement, relative to the pelvis and in its frame, by which the plan's stance
    blend moves the asked pose toward standing where the reference's legs move [m^2].

    A stance ``b`` in [0, 1] blends the legs and waist toward standing (``b = 1``: the key bodies
    ``table.eased_shift_b[k, 0]`` from the asked pose); its part beyond 1 (hold plans) blends
    the arms too (``b = 2``: a further ``eased_shift_b[k, 1]``), linearly in ``b`` between these
    exact end points (:func:`eased_shift_b`). A reference that stands, in whatever posture,
    gives 0 (easing it changes its posture, not its movement); one that jumps or strides gives
    the size of the jump or stride. Velocity offsets and the stride scale change how the
    motion is done, not whether, and are not charged here.

    Args:
        decisions: ``(K, 5)`` decisions of the step.
        table: the :class:`~exoactor.control.filter.plant.ReferenceTable` (its
            ``eased_shift_b``, :func:`eased_shift_b`).
        k: reference row.
    """
    b = decisions[:, 4]
    legs = np.clip(b, 0.0, 1.0)[:, None, None]
    arms = np.clip(b - 1.0, 0.0, 1.0)[:, None, None]
    shift = legs * table.eased_shift_b[k, 0][None] + arms * table.eased_shift_b[k, 1][None]
    return np.mean(np.sum(shift * shift, axis=-1), axis=-1)


def leg_activity_rad(tab) -> np.ndarray:
    """``(N + 1,)`` how much the reference's legs move at each step: the mean absolute swing of
    the leg joints about their running mean, averaged over the same 0.5 s window [rad]."""
    swing = np.abs(tab.mimic[:, 6:][:, _LEGS] - tab.leg_mean).mean(axis=1)
    w = max(1, int(round(0.5 / tab.dt)))
    return np.convolve(np.pad(swing, (w // 2, w - 1 - w // 2), mode="edge"), np.ones(w) / w,
                       mode="valid")


def moving(tab) -> np.ndarray:
    """``(N + 1,)`` in [0, 1]: how far the reference's legs are moving at each step (full from
    :data:`LEG_ACTIVITY_RAD` of swing, :func:`leg_activity_rad`)."""
    return np.minimum(1.0, leg_activity_rad(tab) / LEG_ACTIVITY_RAD)


def eased_shift_b(sim, joint_pos: np.ndarray, stand_joint_pos: np.ndarray,
                  stance_joints: np.ndarray, body_ids: np.ndarray,
                  moving_legs: np.ndarray) -> np.ndarray:
    """``(N, 2, B, 3)`` the motion of the key bodies the stance blend takes away at each
    reference row, relative to the pelvis and in its frame [m]: ``[:, 0]`` by blending the legs
    and waist to standing (stance 1), ``[:, 1]`` by blending the rest (arms) too (stance 2).

    The shift from the asked pose to the eased one, where the reference's legs move: the first
    part is scaled by ``moving_legs`` (:func:`moving`), the rule of
    :func:`~exoactor.control.filter.run.fractions` (easing a reference that stands still
    changes its posture, it is modified; easing one whose legs move suppresses the movement,
    it is not executed). The second part (hold plans only, never executed as asked) is not
    scaled. Relative to the pelvis the key bodies depend on the joint angles alone, so this
    is forward kinematics with the pelvis at the origin.

    Args:
        sim: a :class:`~exoactor.control.sim.Simulation` (its reference kinematics).
        joint_pos: ``(N, 29)`` the asked joints, one row per control step [rad].
        stand_joint_pos: ``(29,)`` the standing posture's joints [rad].
        stance_joints: indices of the joints the stance blend moves up to 1 (legs, waist).
        body_ids: MuJoCo ids of the key bodies.
        moving_legs: ``(N,)`` in [0, 1], :func:`moving` of the same rows.
    """
    origin, upright = np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0])

    def bodies(q: np.ndarray) -> np.ndarray:
        return sim.reference_kinematics(sim.compose_qpos(origin, upright, q), body_ids)

    whole = bodies(np.asarray(stand_joint_pos, dtype=float))
    shift = np.empty((len(joint_pos), 2, len(body_ids), 3))
    for i, q in enumerate(np.asarray(joint_pos, dtype=float)):
        eased_q = q.copy()
        eased_q[stance_joints] = stand_joint_pos[stance_joints]
        eased = bodies(eased_q)
        shift[i, 0] = float(moving_legs[i]) * (eased - bodies(q))
        shift[i, 1] = whole - eased
    return shift


def clip_end_row(table) -> int:
    """The reference row of the clip's end: the last step whose clip time is within the clip
    (the step ``root_xy_error_end_m`` is measured at)."""
    return int(np.searchsorted(table.clip_t, table.duration_s + 1e-9, side="right") - 1)


def terminal_cost(qpos: np.ndarray, qvel: np.ndarray, table, k: int, weights,
                  weight: float | None = None) -> np.ndarray:
    """``(K,)`` stopping-point cost at the horizon's end (reference row ``k``), weighted by
    ``weight`` (default ``weights.terminal``)."""
    k = min(k, len(table.clip_t) - 1)
    stop = (qpos[:, :2] - table.root_pos_w[k, :2]
            + weights.stop_lookahead_s * (qvel[:, :2] - table.lin_vel_w[k, :2]))
    dyaw = wrap_angle(yaw(qpos[:, 3:7]) - yaw(table.root_quat_w[k]))
    w = weights.terminal if weight is None else weight
    return w * (np.sum(stop * stop, axis=-1) + 4.0 * dyaw * dyaw)


# Normalisation of decision changes: the default bounds' half ranges (a fixed scale, so the
# objective does not move when the bounds are widened).
_HALF_RANGE = np.array([1.0, 0.5, 1.2, 0.4, 1.0, 0.5, 1.0])


def clip_objective(qpos: np.ndarray, qvel: np.ndarray, body_pos_w: np.ndarray,
                   tilt_rad: np.ndarray, decisions: np.ndarray, table, rows: np.ndarray,
                   joint_qpos: np.ndarray, weights, bodies: tuple[int, ...],
                   fell: bool, seat_load: np.ndarray | None = None) -> float:
    """The objective of one whole executed run (the same terms, summed over its steps; the
    stopping point at the run's end, after the hold and return to standing, weighs
    ``run_end``: where the robot is left counts like where the clip ended).

    Args:
        qpos, qvel, body_pos_w, tilt_rad, decisions: per executed step (``(T, ...)``).
        rows: ``(T,)`` reference row each step is judged against.
        fell: the run fell (infinite cost).
        seat_load: ``(T,)`` the share of the robot's weight the seat carries at each step (0
            outside a seat's phase), or None (the seat-load term is not charged).
    """
    if fell:
        return float("inf")
    total = 0.0
    prev = decisions[:1]
    for t, k in enumerate(rows):
        total += float(step_cost(qpos[t:t + 1], qvel[t:t + 1], body_pos_w[t:t + 1],
                                 tilt_rad[t:t + 1], decisions[t:t + 1], prev, table, int(k),
                                 joint_qpos, weights, bodies,
                                 None if seat_load is None else seat_load[t:t + 1])[0]
                       ) * table.dt
        prev = decisions[t:t + 1]
    if len(rows):
        total += float(terminal_cost(qpos[-1:], qvel[-1:], table, int(rows[-1]), weights,
                                     weights.run_end)[0])
    return total


# ---- reference time warp (decision 5, :func:`~.decisions.advance_clock`) ---------------------

def clock_lag_cost(lag_s: np.ndarray, weights) -> np.ndarray:
    """``(K,)`` running cost rate of the reference clock's lateness ``lag_s`` ``(K,)`` (control
    time passed minus reference time passed; negative: ahead) [1/s]: ``clock_lag * lag^2``."""
    lag = np.asarray(lag_s, dtype=float)
    return weights.clock_lag * lag * lag


def postponed_sq(table, nominal_rows, judged_rows: np.ndarray) -> np.ndarray:
    """``(2, K)`` the reference movement a warped clock postpones at one step: the pelvis pose
    of the reference where an unwarped clock would be (rows ``nominal_rows``, an int or
    ``(K,)``: control steps taken) against the pose at the rows the states are judged against
    (``judged_rows`` ``(K,)``, :func:`~.decisions.judged_row` of their clocks): ``|dxy|^2``
    [m^2] and ``dyaw^2`` [rad^2]. 0 without a warp, and for a lag on a reference that stands
    still; a lag that holds back a walk of ``v`` m/s by ``tau`` s gives ``(v tau)^2``."""
    last = len(table.clip_t) - 1
    n = np.minimum(np.asarray(nominal_rows, dtype=int), last)
    rows = np.minimum(np.asarray(judged_rows, dtype=int), last)
    dxy = table.root_pos_w[n, :2] - table.root_pos_w[rows, :2]
    dyaw = wrap_angle(yaw(table.root_quat_w[n]) - yaw(table.root_quat_w[rows]))
    return np.stack([np.sum(dxy * dxy, axis=-1), np.broadcast_to(dyaw * dyaw, rows.shape)])


def postponed_cost(table, nominal_rows, judged_rows: np.ndarray, weights) -> np.ndarray:
    """``(K,)`` running cost rate of the reference movement a warped clock postpones
    (:func:`postponed_sq`), charged as the pose error it defers, ``weights.postponed x
    (root_xy |dxy|^2 + yaw dyaw^2)`` [1/s] (0 when ``weights.postponed`` is 0).

    The running pose terms judge a state against the reference at the warped clock, so a
    slowed clock alone moves the judged reference toward a robot that lags it (or hides a
    heading swing the robot lags) and earns credit for it; this pays the credit back with
    what the robot still has to do. A lag on a reference that stands still costs nothing
    here (the tie-breaker :func:`clock_lag_cost` still applies)."""
    rows = np.asarray(judged_rows, dtype=int)
    if weights.postponed <= 0.0:
        return np.zeros(rows.shape)
    sq = postponed_sq(table, nominal_rows, rows)
    return weights.postponed * (weights.root_xy * sq[0] + weights.yaw * sq[1])


def warp_cost(lag_s: np.ndarray, table, nominal_row: int, judged_rows: np.ndarray,
              weights) -> np.ndarray:
    """``(K,)`` running cost rate of the plans' warped reference clocks at one step [1/s]: the
    lateness tie-breaker (:func:`clock_lag_cost`, exactly, when ``weights.postponed`` is 0)
    plus the movement the warp postpones (:func:`postponed_cost`)."""
    c = clock_lag_cost(lag_s, weights)
    if weights.postponed <= 0.0:
        return c
    return c + postponed_cost(table, nominal_row, judged_rows, weights)


# ---- the clip left not executed (``fraction_not_executed``, :func:`~.run.fractions`) ----------

def not_executed(stance: np.ndarray, moving_legs: np.ndarray | float,
                 threshold: float) -> np.ndarray:
    """Whether a step is *not executed* under stance blend(s) ``stance`` where the reference's
    legs move by ``moving_legs`` (:func:`moving`): the stance blend suppresses the movement
    (``stance * moving_legs >= threshold``, ``FilterConfig.not_executed_stance``), or it is a
    hold plan's (stance beyond 1, :func:`~.decisions.hold_plans`). The one rule behind both the
    reported ``fraction_not_executed`` and its charge in the objective (:func:`not_executed_cost`).
    """
    b = np.asarray(stance, dtype=float)
    return (b > 1.0 + 1e-9) | (b * moving_legs >= threshold)


def clip_rows(table) -> int:
    """Reference rows inside the clip (clip time in (0, duration]): the denominator of the
    fractions of the clip (:func:`~.run.fractions`)."""
    t = np.asarray(table.clip_t[1:], dtype=float)
    return int(np.sum((t > 1e-9) & (t <= table.duration_s + 1e-9)))


def not_executed_cost(stance: np.ndarray, clock_before: np.ndarray, clock_after: np.ndarray,
                      table, weights, threshold: float) -> np.ndarray:
    """``(K,)`` running cost rate [1/s] of the part of the clip a step leaves not executed,
    charged as ``fraction_not_executed`` counts it: ``weights.not_executed`` times the fraction
    of the clip's duration the step covers (reference rows passed, ``clock_after -
    clock_before``, over :func:`clip_rows`; so a step on a slowed clock is charged for the clip
    time it covers, once) where :func:`not_executed` holds and the step's clip time is inside
    the clip.

    Args:
        stance: ``(K,)`` the step's stance blend decisions.
        clock_before, clock_after: ``(K,)`` the plans' reference clocks around the step [rows].
        table: the :class:`~exoactor.control.filter.plant.ReferenceTable` (its ``clip_t``,
            ``duration_s``, ``dt`` and ``moving_legs``, :func:`moving`).
        weights: the objective weights.
        threshold: ``FilterConfig.not_executed_stance``.
    """
    if weights.not_executed <= 0.0:
        return np.zeros(len(np.atleast_1d(stance)))
    after = np.asarray(clock_after, dtype=float)
    t = table.clip_t[0] + after * table.dt
    rows = np.minimum(np.ceil(after - 1e-9).astype(int), len(table.clip_t) - 1)
    off = not_executed(stance, table.moving_legs[rows], threshold)
    inside = (t > 1e-9) & (t <= table.duration_s + 1e-9)
    covered = after - np.asarray(clock_before, dtype=float)
    share = covered / max(clip_rows(table), 1)
    return weights.not_executed * np.where(off & inside, share, 0.0) / table.dt
