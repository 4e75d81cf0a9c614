"""Settings of the physics filter (sampling-based predictive control over the real tracker)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DecisionBounds(BaseModel):
    """Range and sampling spread of the decision variables (see :mod:`.decisions`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    forward_vel_m_s: float = Field(1.2, gt=0.0, le=3.0)
    """Largest offset added to the forward root-velocity input, either sign [m/s]."""
    lateral_vel_m_s: float = Field(1.0, gt=0.0, le=3.0)
    """Largest offset added to the lateral root-velocity input, either sign [m/s]. At 0.5 the
    chosen offset sat at this bound for seconds while a walk drifted sideways (walk_007: 1.06 m
    at the clip's end, the offset at 0.5 m/s through its last 4 s); the policy answers a
    lateral input weakly and unevenly (over 2 s of walk_001, 0.5 m/s to the left moved it
    -0.04 m, 1.0 m/s +0.22 m; to the right 0.15 and 0.51 m), so closing a cross-track error
    needs more of it. The in-horizon fall check rejects what the robot cannot take. Measured on
    the 16 shared benchmark motions (``benchmarks/filter.py``): mean clip-end xy 0.172 m
    against 0.235 m at 0.5 (walk_007 1.06 -> 0.26 m; walk_004 0.13 -> 0.41 m), no falls."""
    yaw_rate_rad_s: float = Field(1.5, gt=0.0, le=5.0)
    """Largest offset added to the yaw-rate input, either sign [rad/s]."""
    stride_min: float = Field(0.7, gt=0.0, le=1.0)
    """Smallest stride scale of the leg joints' swing about their running mean [-]."""
    stride_max: float = Field(1.4, ge=1.0, le=3.0)
    """Largest stride scale [-]."""
    sigma_forward_m_s: float = Field(0.2, gt=0.0)
    """Sampling spread of the forward-velocity offset [m/s]."""
    sigma_lateral_m_s: float = Field(0.2, gt=0.0)
    """Sampling spread of the lateral-velocity offset [m/s] (a fifth of the range, as the
    forward offset's 0.2 of 1.2 is a sixth and the lateral one was before, 0.1 of 0.5)."""
    sigma_yaw_rate_rad_s: float = Field(0.3, gt=0.0)
    """Sampling spread of the yaw-rate offset [rad/s]."""
    sigma_stride: float = Field(0.1, gt=0.0)
    """Sampling spread of the stride scale [-]."""
    sigma_stance: float = Field(0.25, gt=0.0)
    """Sampling spread of the stance blend [-] (range 0..1)."""

    # ---- reference time warp (decision 5, :func:`~.decisions.advance_clock`) ----------------
    clock_rate_min: float = Field(0.5, gt=0.0, le=1.0)
    """Slowest reference clock rate inside the clip (rows of the reference per control step;
    1 = real time; ``clock_rate_min = clock_rate_max = 1`` turns the warp off) [-]. Measured
    on the 16 shared benchmark motions (``benchmarks/filter.py``, lateness limit 2 s): mean
    clip-end xy 0.204 m with this slow-only warp (0.5..1), 0.242 m without a warp, 0.244 m
    with 0.5..1.25; 9 of 16 motions end the clip 0.1-2.0 s late (``clip_end_late_s``)."""
    clock_rate_max: float = Field(1.0, ge=1.0, le=2.0)
    """Fastest reference clock rate inside the clip [-]. 1: the clock may wait for the robot but
    not run ahead (with 1.25 a clock that ran ahead ended walk_004 0.34 s early, 0.61 m off)."""
    sigma_clock_rate: float = Field(0.15, gt=0.0)
    """Sampling spread of the clock rate [-]."""

    # ---- the clip's own gait (decision 6, :func:`~.decisions.gait_cycle`) ------------------
    sigma_gait: float = Field(0.25, gt=0.0)
    """Spread of the gait blend's move candidate [-] (range 0..1, as the stance blend's)."""


class ObjectiveWeights(BaseModel):
    """Weights of the one objective (see :mod:`.objective`); costs are per second of horizon."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    root_xy: float = Field(1.0, ge=0.0)
    """Pelvis xy error squared [1/m^2]."""
    yaw: float = Field(4.0, ge=0.0)
    """Heading error squared [1/rad^2]."""
    key_body: float = Field(1.0, ge=0.0)
    """Mean squared world-frame error of feet and hands [1/m^2]."""
    joint: float = Field(0.2, ge=0.0)
    """Mean absolute joint error [1/rad]."""
    smooth: float = Field(0.02, ge=0.0)
    """Squared change of the (range-normalised) decisions between knots [-]."""
    tilt: float = Field(5.0, ge=0.0)
    """Squared torso tilt beyond the reference's plus 15 deg [1/rad^2]."""
    after_clip_speed: float = Field(0.2, ge=0.0)
    """Squared pelvis velocity against the reference's (at rest after a clip that ends at rest,
    slowing along a run-out) once the clip has ended [s^2/m^2]."""
    terminal: float = Field(2.0, ge=0.0)
    """Weight of the stopping-point term at the horizon's end [1/m^2]."""
    stop_lookahead_s: float = Field(0.4, ge=0.0, le=2.0)
    """Where a still-moving robot will stop: pelvis + this x (v - v_ref) [s]."""
    clip_end: float = Field(10.0, ge=0.0)
    """Weight of the pelvis pose at the moment the reference clock reaches the clip's end,
    ``|dxy|^2 + 4 dyaw^2`` counted once (not per second) [s/m^2]: the clip-end pose weighs as
    much as this many seconds of the running pose error."""
    run_end: float = Field(10.0, ge=0.0)
    """Weight of the stopping-point term at the end of a whole run (after the hold and return
    to standing), in the whole-run comparison of :func:`~.run.filter_motion` [1/m^2]."""

    # ---- doing the motion (issue 14: a robot that holds still has not executed it) ----------
    undone: float = Field(100.0, ge=0.0)
    """Weight of the motion a plan leaves undone (:func:`~.objective.undone_sq`): the mean
    squared displacement of the key bodies (hands, feet, elbows, knees, relative to the pelvis)
    by which its stance blend eases the asked pose toward standing [1/m^2], charged per second
    whatever the robot then does, so that holding still to keep position is not free. The
    weight is 1 / (0.1 m)^2, the warn limit of the pose the verdict judges
    (``key_body_error_mm``: these bodies relative to the pelvis), on the scale of the other
    pose terms, each about 1 / (its warn limit)^2: ``root_xy`` 1/m^2 = 1 / (1.0 m)^2, the
    warn limit of the clip-end drift, and ``yaw`` 4/rad^2 = 1 / (29 deg)^2, near the 25 deg
    one of the clip-end heading. Leaving the key bodies 0.1 m from the asked pose so costs what
    a drift at its warn limit does."""
    # ---- sitting on a seat of the scene (issue 16: :func:`~.objective.seat_support_sq`) -----
    seated: float = Field(100.0, ge=0.0)
    """Weight of the pelvis leaving the seat's support during the seat's evidence phase (the
    frames the scene says the person sits): the squared distance of the pelvis xy outside the
    seat's footprint shrunk by ``seated_margin_m`` [1/m^2], per second. The weight is
    1 / (0.1 m)^2, as ``undone``: a pelvis 0.1 m off the seat's support costs what leaving the
    key bodies 0.1 m from the asked pose does (the pelvis xy error alone, ``root_xy``, weighs a
    seat missed by 0.25 m at only 0.06/s). Without a seat in the scene the term is not computed
    (runs without one are unchanged)."""
    seat_load: float = Field(20.0, ge=0.0)
    """Cost of the robot not seated on the seat through the seat's whole evidence phase,
    charged per fraction of the phase's steps as the seat interaction's ``seated_fraction``
    counts it (:func:`~.objective.seat_load_cost`): at each step in the phase, the shortfall of
    the seat's load (the vertical contact force of the seat on the robot over its weight, from
    MuJoCo's contact forces, :class:`~exoactor.control.scene_objects.ObjectLoads`) below
    :data:`~exoactor.control.scene_objects.SEATED_LOAD`, ``clip(1 - load / SEATED_LOAD, 0, 1)``
    (0 when the step counts as seated, 1 when the seat carries nothing) [-]. 20: a robot seated
    in only half the phase, the interaction's bar (``scene.score.SEATED_MIN_FRACTION``; below
    it the motion is "not executable"), pays 10, what leaving the verdict's limit of 10 % of
    the clip not executed costs (``not_executed`` 100 x 0.10), so seating is weighed on the
    scale of the other verdict limits. The planning loops read the load after each step, the
    whole-run comparison by replaying the run (``mj_forward`` at each recorded state, as the
    interaction is scored). Without a seat in the scene the term is not computed (runs without
    one are unchanged); 0 turns it off."""
    seated_margin_m: float = Field(0.0, ge=0.0, le=0.5)
    """Margin inside the seat's footprint the pelvis xy must keep to count as supported [m].
    0: the pelvis over the seat. Measured (filtered runs of the dev clips' chosen seat pairs):
    a robot seated 94 % of the sofa's phase keeps its pelvis up to 0.04 m from the seat's front
    edge, and margins of 0.06 / 0.10 m drove it off its seat (seated 77 % / 91 %, clip-end
    heading 8 / 44 deg off); on the bench 0, 0.06 and 0.10 m all gave 44 % (15 % without the
    term)."""

    # ---- carrying a box of the scene (issue 16: :func:`~.objective.grasp_sq`) ---------------
    grasp: float = Field(0.0, ge=0.0)
    """Weight of the hands off the carried box during the box's evidence phase (the frames the
    scene says the person holds it): the mean over the hands of the squared distance of each
    hand to the box as simulated, beyond the reference hand's distance to the box where the
    scene puts it [1/m^2], per second. Without a carried box in the scene the term is not
    computed. Off by default (0), measured on the pick-up dev clip: no plan that stays up
    brings the far hand within 0.2 m of the box (the reference's bend at the grasp falls under
    every decision the filter has), so the term only chooses between ways of missing it. At
    100 = 1 / (0.1 m)^2 (the scale of ``seated``), with the turning hold before its heading
    feedback (measured then, not since), seeds 0 and 1: the far hand 0.39 -> 0.39 m
    on both, not executed 69 -> 69 % and 54 -> 60 %, clip-end drift 0.23 -> 0.23 and
    1.50 -> 0.97 m; with holds that all turned (an earlier variant) seed 1 chased the
    knocked-off box (drift 1.51 -> 4.07 m). Meant for a reference the robot can follow to the
    box."""

    # ---- reference time warp (:func:`~.objective.clock_lag_cost`) ---------------------------
    clock_lag: float = Field(0.02, ge=0.0)
    """Squared lateness of the reference clock behind (or ahead of) real time, per second
    [1/s^2]: a tie-breaker (a lag of 1 s costs as much as 0.14 m of pelvis error), since the
    lateness is bounded by ``FilterConfig.max_clock_lag_s`` and reported beside the clip-end
    figures."""
    postponed: float = Field(0.0, ge=0.0, le=1.0)
    """Share of the reference movement a warped clock postpones that is charged, per second, as
    the pose error it defers (:func:`~.objective.warp_cost`: ``root_xy |dxy|^2 + yaw dyaw^2``
    between the reference where an unwarped clock would be and where the warped one is) [-].
    The running pose terms judge a state against the reference at the warped clock, so a
    slowed clock alone earns credit against any reference that moves away from the robot
    (a walk it lags, the heading swing of a standing person); at 1 that credit is paid back
    in full: a robot lagging a walk by ``e`` gains from a wait of at most ``e / 2``, and a lag
    on a reference that stands still costs the tie-breaker ``clock_lag`` only. 0: off, the
    default. Measured at 1 (one machine; filter seeds as said): the standing fold_arms_wave
    task clip ends 0.50 -> 0.03 m (seed 0) and 0.25 -> 0.08 m (seed 1) off, 1.6 -> 0.6-0.7 s
    late; but the demo walk is worse (seeds 0-3: 0.40, 0.21, 0.11, 0.23 -> 0.67, 0.09, 0.27,
    0.29 m, mean 0.24 -> 0.33 m), and on the 17 filter benchmark motions (seed 0) mean
    clip-end xy 0.095 -> 0.110 m (walk_010 0.13 -> 0.37 m, walk_001 0.10 -> 0.15 m), within
    0.15 m and 3 deg 12 -> 11, yaw 1.23 -> 0.90 deg, motions ending at the 2 s lateness limit
    8 -> 2, no falls; the standing row closer (0.03 -> 0.01 m)."""
    # ---- the clip left not executed (:func:`~.objective.not_executed_cost`) -----------------
    not_executed: float = Field(100.0, ge=0.0)
    """Cost of leaving the whole clip not executed, charged per fraction of the clip's duration
    exactly as ``fraction_not_executed`` counts it (steps whose stance blend suppresses the
    reference's movement, hold plans; :func:`~.objective.not_executed`), in the plans and in
    the whole-run comparison [-]. 100: leaving the verdict's limit of 10 % of the clip not
    executed (``report.verdict.MAX_NOT_EXECUTED``; beyond it the motion is "not executable")
    costs 10, what ending the clip 1.0 m off costs (``clip_end`` 10 s/m^2 x (1.0 m)^2, the warn
    limit of ``root_xy_error_end_m``, beyond which the run is only "marginal"), so keeping
    position never buys leaving the motion undone beyond the verdict's limit. Counted on the
    clip's duration, not per second, since the verdict judges a fraction of the clip: the
    charge of one plan step does not depend on the horizon or on a slowed clock."""


class FilterConfig(BaseModel):
    """The physics filter: receding-horizon predictive sampling with the tracker in the loop."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Run the filter (``track --no-filter`` turns it off: the raw tracker)."""
    candidates: int = Field(19, ge=2, le=256)
    """Plans simulated at every re-plan (the unmodified reference is always one) [-]. 19 holds
    every distinct structured candidate (at most 17: raw, previous, hold, feedback, stand, the
    two clock moves or "stop", and +-2 sigma on the five other variables) and the
    ``random_candidates`` draws; fewer cuts the structured ones from the last
    (:func:`~.decisions.candidate_plans`)."""
    horizon_s: float = Field(1.5, gt=0.0, le=10.0)
    """Look-ahead of each plan [s]."""
    replan_s: float = Field(0.5, gt=0.0, le=5.0)
    """Part of the best plan executed before planning again [s]."""
    workers: int = Field(2, ge=1, le=64)
    """Threads (or processes, see ``parallel``) the candidates' physics is split over
    (1 = this thread only); results do not depend on it."""
    parallel: Literal["threads", "processes"] = "threads"
    """``threads``: one process, the candidates split over ``workers`` threads, each stepping
    its share in lockstep with one batched policy call per step (no process start-up, no
    pipe); ``processes``: ``workers`` worker processes each holding a share. Results do not
    depend on it."""
    planning_timestep_s: float | None = Field(None, gt=0.0, le=0.02)
    """Physics timestep of the planning rollouts only [s] (a divisor of the 20 ms control step,
    e.g. 0.002: half the physics work); the executed run always uses the model's own (1 ms).
    None plans at the model's own step, so a plan's simulated start is exactly what the robot
    does."""
    planning_solver: Literal["model", "newton"] = "newton"
    """Constraint solver of the planning rollouts only: ``model`` (the MJCF's PGS, exactly the
    executed loop) or ``newton`` (the same contact solution to ~1e-6 m over a plan, fewer
    iterations); the executed run always uses the model's. Newton, measured against the model's
    PGS (``benchmarks/filter.py``, seed 0, one run each): 16 of 17 rows equal in every figure,
    walk_002 another draw (clip-end 0.078 -> 0.052 m); the 16 shared motions' mean clip-end xy
    0.114 -> 0.112 m, yaw 1.30 -> 1.32 deg, joint error equal; ~15 % less CPU per
    motion-second (kimodo_wave, one worker, two runs each: 45-49 -> 39-42 s). A coarser
    ``planning_timestep_s`` (0.002) with it saved ~35 % but planned what the 1 ms robot does
    not do: mean clip-end xy 0.24 m on the same 16 (walk_008 1.42, walk_010 0.50 m)."""
    seed: int = 0
    """Seed of the random candidates."""
    random_candidates: int = Field(2, ge=0, le=64)
    """Random candidates around the previous best plan, per re-plan [-]."""
    attempts: int = Field(2, ge=1, le=8)
    """Whole filtered runs at most [-]: where the run the filter would keep (the cheapest of the
    filtered, raw and corrector runs, :func:`~.run.choose_run`) ends the clip more than
    ``retry_xy_m`` off, the receding-horizon run is repeated from the start with the random
    candidates drawn from another stream (``(seed, attempt)``), and the cheapest attempt on the
    whole-run objective takes part in the choice. The loop is chaotic: the planner's random
    draws move a clip-end gap by up to 1 m (walk_008: 0.21 or 1.06 m under seeds 0 and 1),
    and the whole-run objective tells the runs apart (there 3.9 against 23.4), so a second
    attempt judged by the objective turns one draw of that lottery into the better of two.
    1: one run (the filter before retries). No retry without random candidates
    (``random_candidates`` 0: every attempt would be the same run). Measured on the 17
    benchmark motions (``benchmarks/filter.py``; rows whose kept run is within ``retry_xy_m``
    make no retry and are unchanged): mean clip-end xy 0.118 -> 0.099 m under seed 0 and
    0.219 -> 0.146 m under seed 1 (walk_007 1.28 -> 0.46, walk_008 1.06 -> 0.86, kimodo_dance
    0.26 -> 0.02), no falls, joint error +0.0001 / -0.0006 rad; a retry on 58 / 40 of the
    164 motion-seconds, about +20-30 % filter time over the benchmark."""
    run_out: bool = True
    """Carry a reference that ends mid-walk on past the clip's end to a stop the robot can
    reach (``StreamerConfig.run_out``, :mod:`exoactor.control.run_out`) in every run the
    filter makes (raw, filtered, corrector), so that where the clip ends and where the robot
    stops are judged against one consistent reference (a clip cut mid-walk otherwise stops
    dead: the robot overshoots a metre and the ``run_end`` and ``clip_end`` terms pull
    apart). The clip's own figures are still taken at its end against the original reference;
    a reference that ends at rest is unchanged. ``filter_report.json`` says what was appended
    (``run_out``). Measured: the demo (cut mid-walk at 1.0 m/s) ends the clip 0.75 -> 0.03 m
    off; of the 17 benchmark motions walk_001 and kimodo_walk get a run-out (clip-end xy
    0.15 -> 0.10 and 0.11 -> 0.09 m under seed 0, 0.07 -> 0.05 and 0.19 -> 0.10 m under
    seed 1), the others are unchanged."""
    retry_xy_m: float = Field(0.15, ge=0.0)
    """Clip-end pelvis xy error of the kept run above which another attempt is made [m]: the
    issue's target for the clip-end error (``root_xy_error_end_m``, as the metrics measure
    it), so a run already within it costs nothing more."""
    bounds: DecisionBounds = Field(default_factory=DecisionBounds)
    """Decision-variable ranges and spreads."""
    weights: ObjectiveWeights = Field(default_factory=ObjectiveWeights)
    """Objective weights."""
    fall_tilt_margin_deg: float = Field(30.0, gt=0.0, le=90.0)
    """Inside a plan, a torso tilt this far beyond the reference's counts as a fall [deg]."""
    fall_height_margin_m: float = Field(0.2, gt=0.0, le=1.0)
    """Inside a plan, a pelvis this far below the reference's counts as a fall [m]."""
    as_asked_tolerance: float = Field(0.1, ge=0.0, le=1.0)
    """A step runs "as asked" while every decision is within this fraction of its range of the
    unmodified value [-]."""
    not_executed_stance: float = Field(0.5, gt=0.0, le=1.0)
    """A step with the stance blend at or above this is "not executed" (eased to standing) [-]."""
    keep_raw_when_better: bool = True
    """After the run, compare the filtered and the raw rollout on the whole-clip objective and
    keep the raw one when it is cheaper and did not fall (the filter is never worse than the raw
    tracker on its own objective)."""
    corrector_candidate: bool = True
    """Also run the whole clip once through the drift corrector (:mod:`exoactor.control.drift`:
    heading, velocity, crab and time re-plans) and keep that run when it is the cheapest on the
    same whole-run objective and did not fall. Its time re-plan (the reference clock slowed on
    runs and lagging side-steps) is an authority the sampled decisions lack; the whole-run fall
    check keeps its known falls (dances, kicks) out. Costs one more plain loop run."""

    hold_ramp_below_m: float = Field(0.1, ge=0.0, le=1.0)
    """A robot whose pelvis is more than this below its standing height gets only ramped hold
    plans (:func:`~.decisions.hold_plans`): from a seat or a squat, a step to the standing
    posture launches it off the floor (a seated G1's pelvis is ~0.3 m below standing) [m]."""

    # ---- reference time warp -------------------------------------------------------------
    max_clock_lag_s: float = Field(2.0, ge=0.0, le=10.0)
    """Largest lateness of the reference clock, either sign [s]: a plan's clock (decision 5,
    :func:`~.decisions.advance_clock`) is held at rate 1 at this lag, and a whole run whose clip
    end comes later than this in time (the drift corrector's, whose own time re-plan is not
    bounded by it) is not kept. The clip-end figures of a kept run are measured when its clock
    reaches the clip's end; ``metrics.json`` reports how late that was (``clip_end_late_s``)."""

    def applies(self, controller: str, motion) -> bool:
        """Whether the filter drives this run: it is enabled and plans for TWIST2 on the 29
        body joints, so the controller is ``"twist2"`` and ``motion`` (a
        :class:`~exoactor.formats.motion.RobotMotion`) carries no hand joints."""
        return self.enabled and controller == "twist2" and motion.hand_dof is None
