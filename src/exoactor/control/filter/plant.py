"""K closed loops of the real tracker stepped in lockstep: TWIST2 + safety layer + MuJoCo.

Each loop is exactly what :func:`exoactor.control.track.track_motion` runs for the G1 body
(29 joints, no hands): the policy's observation (mimic, proprioception, 10-frame history, last
action), one batched ONNX call for all loops per 50 Hz step, the safety layer's joint-limit clip
and target-rate limit, and 20 physics steps of PD-actuated MuJoCo. The full state of one loop
is a :class:`LoopState` (MuJoCo integration state, policy history, last action, the rate
limiter's previous target, the step on the reference clock), so a plan can be simulated from
any executed state and the executed run continued from the chosen plan's end state exactly.

The reference side (what each step feeds and is judged against) is tabulated once per motion by
:class:`ReferenceTable`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exoactor.control.filter.decisions import (
    IDENTITY,
    advance_clock,
    apply_to_mimic,
    gait_at,
    gait_cycle,
    interpolate_rows,
    judged_row,
    plan_at,
)
from exoactor.control.filter.objective import (
    GRASP_BODIES,
    LEG_ACTIVITY_RAD,
    eased_shift_b,
    leg_activity_rad,
    moving,
    point_box_distance_m,
)
from exoactor.control.reference import Pose, ReferenceStreamer, StreamerConfig
from exoactor.control.safety import SafetyConfig, clip_to_limits
from exoactor.control.scene_objects import ObjectLoads, object_geoms, object_name
from exoactor.control.twist2 import (
    ANG_VEL_SCALE,
    ANKLE_JOINTS,
    FRAME_DIM,
    HISTORY_LEN,
    JOINT_VEL_SCALE,
    TWIST2_JOINTS,
    Twist2Config,
    mimic_obs,
)
from exoactor.errors import ExoActorError
from exoactor.formats.motion import RobotMotion
from exoactor.formats.scene import Scene
from exoactor.robots.spec import METRIC_KEY_BODIES
from exoactor.rotations import roll_pitch_yaw, yaw, yaw_quat

OBJECTIVE_BODIES = (0, 1, 2, 3)
"""Indices into :data:`~exoactor.robots.spec.METRIC_KEY_BODIES` the objective weighs: hands
and feet."""
LEG_WINDOW_S = 0.5
"""Window of the leg joints' running mean the stride scale swings about [s]."""


def _joints_named(*parts: str) -> np.ndarray:
    """Indices of the TWIST2 joints whose name contains one of ``parts``."""
    return np.array([i for i, nm in enumerate(TWIST2_JOINTS) if any(p in nm for p in parts)])


LEG_JOINTS = _joints_named("hip", "knee", "ankle")
"""The leg joints: stride scaling and the legs' running mean act on these."""
STANCE_JOINTS = _joints_named("hip", "knee", "ankle", "waist")
"""The joints the stance blend eases toward standing."""


@dataclass(frozen=True)
class PlantSetup:
    """Everything a process needs to build the same loops (picklable).

    Attributes:
        motion: the cleaned motion (glitched leading frames already dropped).
        start: ``"reference"`` or ``"blend"`` (as ``TrackConfig.start``).
        streamer: streaming timings.
        safety: safety-layer settings.
        policy: TWIST2 options.
        fall_tilt_margin_deg, fall_height_margin_m: the planner's stricter fall rule.
        scene: objects in the physics (the same as the executed loop's, ``TrackConfig.scene``).
        physics_dt_s: physics timestep of the planning loops [s] (a divisor of the 20 ms
            control step); None keeps the model's own (1 ms), so plans are simulated exactly as
            the executed loop runs them.
        solver: constraint solver of the planning loops: ``"model"`` (the MJCF's, PGS on the
            G1) or ``"newton"`` (converges to the same contact forces in fewer, costlier
            iterations: trajectories agree to ~1e-6 m over a 1.5 s plan).
        max_clock_lag_s: largest lateness of a plan's reference clock, either sign [s]
            (:func:`~.decisions.advance_clock`).
        not_executed_stance: the stance blend (times the reference's leg movement) from which a
            step is not executed (``FilterConfig.not_executed_stance``,
            :func:`~.objective.not_executed_cost`).
    """

    motion: RobotMotion
    start: str = "reference"
    streamer: StreamerConfig = field(default_factory=StreamerConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    policy: Twist2Config = field(default_factory=Twist2Config)
    fall_tilt_margin_deg: float = 30.0
    fall_height_margin_m: float = 0.2
    scene: Scene | None = None
    physics_dt_s: float | None = None
    solver: str = "model"
    max_clock_lag_s: float = 2.0
    dropped_frames: int = 0
    """Leading frames of the motion the scene was inferred from that ``motion`` lacks
    (:func:`~exoactor.control.reference.drop_glitched_leading_frames`): a seat's evidence frame
    ``f`` is clip time ``(f - dropped_frames) / scene.fps``."""
    not_executed_stance: float = 0.5


def seat_rows(scene: Scene | None, clip_t: np.ndarray, fps: float, dropped_frames: int = 0
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The seat the reference sits on at each clip time of ``clip_t`` ``(N,)``: a weight
    ``(N,)`` (1 inside a seat's evidence phase, 0 elsewhere), and that seat's centre xy
    ``(N, 2)`` [m], yaw ``(N,)`` [rad], half depth and width ``(N, 2)`` [m] and index in
    ``scene.objects`` ``(N,)`` (-1 outside every phase; the first seat where phases overlap).
    None when ``scene`` has no seat with evidence.

    Args:
        scene: the objects in the physics; its ``fps`` (else ``fps``) is the frame rate of its
            evidence frames.
        clip_t: clip times [s].
        fps: the motion's frame rate [Hz].
        dropped_frames: leading motion frames dropped before streaming (clip time 0).
    """
    seats = [(i, o) for i, o in enumerate(scene.objects if scene is not None else ())
             if o.kind == "seat" and o.evidence]
    if not seats:
        return None
    rate = float(scene.fps or fps)
    n = len(clip_t)
    w, centre = np.zeros(n), np.zeros((n, 2))
    yaw_s, half = np.zeros(n), np.zeros((n, 2))
    index = np.full(n, -1, dtype=int)
    for i, o in reversed(seats):  # the first seat wins where phases overlap
        sel = o.evidence_mask(clip_t, rate, dropped_frames)
        w[sel] = 1.0
        centre[sel] = o.pose.pos[:2]
        yaw_s[sel] = o.pose.yaw_rad
        half[sel] = (o.size[0] / 2, o.size[1] / 2)
        index[sel] = i
    return w, centre, yaw_s, half, index


def box_rows(scene: Scene | None, clip_t: np.ndarray, fps: float, model,
             ref_hands_w: np.ndarray, dropped_frames: int = 0
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The carried box the reference holds at each clip time of ``clip_t`` ``(N,)``: a weight
    ``(N,)`` (1 inside a box's evidence phase, 0 elsewhere), the qpos address of that box's free
    joint in ``model`` ``(N,)``, its half sizes ``(N, 3)`` [m] and the reference hands' distance
    to it where the scene puts it ``(N, 2)`` [m] (the first box where phases overlap). None when
    ``scene`` has no carried box with evidence.

    Args:
        scene: the objects in the physics; its ``fps`` (else ``fps``) is the frame rate of its
            evidence frames.
        clip_t: clip times [s].
        fps: the motion's frame rate [Hz].
        model: the compiled model with the scene's objects (:mod:`~exoactor.control.scene_objects`).
        ref_hands_w: ``(N, 2, 3)`` the reference's hands (left, right) at ``clip_t`` [m].
        dropped_frames: leading motion frames dropped before streaming (clip time 0).
    """
    boxes = [(i, o) for i, o in enumerate(scene.objects if scene is not None else ())
             if o.kind == "box" and not o.fixed and o.evidence]
    if not boxes:
        return None
    rate = float(scene.fps or fps)
    n = len(clip_t)
    w, adr = np.zeros(n), np.zeros(n, dtype=int)
    half, ref_d = np.zeros((n, 3)), np.zeros((n, 2))
    for i, o in reversed(boxes):  # the first box wins where phases overlap
        sel = o.evidence_mask(clip_t, rate, dropped_frames)
        a = int(model.jnt_qposadr[model.joint(object_name(i, o.kind)).id])
        size = np.asarray(o.size, dtype=float) / 2
        quat = np.tile(yaw_quat(o.pose.yaw_rad), (n, 1))
        d = point_box_distance_m(ref_hands_w, np.tile(o.pose.pos, (n, 1)), quat, size)
        w[sel], adr[sel], half[sel], ref_d[sel] = 1.0, a, size, d[sel]
    return w, adr, half, ref_d


@dataclass
class LoopState:
    """The exact state of one closed loop between two control steps.

    Attributes:
        physics: MuJoCo ``mjSTATE_INTEGRATION`` state vector.
        history: ``(10, 127)`` the policy's observation history (oldest first).
        last_action: ``(29,)`` the previous raw policy output.
        fresh: the policy has not acted yet (its history is filled on the first step).
        previous_target: ``(29,)`` the safety layer's rate-limiter memory [rad].
        step: control steps taken (index of the next control step).
        decisions: ``(7,)`` the decisions in use (knot 0 of the next plan).
        clock: position on the reference, in rows of the :class:`ReferenceTable`
            (fractional under a time warp).
    """

    physics: np.ndarray
    history: np.ndarray
    last_action: np.ndarray
    fresh: bool
    previous_target: np.ndarray
    step: int
    decisions: np.ndarray
    clock: float = 0.0

    def copy(self) -> LoopState:
        return LoopState(self.physics.copy(), self.history.copy(), self.last_action.copy(),
                         self.fresh, self.previous_target.copy(), self.step,
                         self.decisions.copy(), self.clock)


class ReferenceTable:
    """The reference at every control step of a run, tabulated once.

    Step ``k`` happens at clip time ``t_k = -blend_in + k dt``; it feeds ``mimic[k]`` (the
    reference at ``t_k + lookahead``) and its result is judged against the reference at
    ``t_{k+1}`` (row ``k + 1`` of the metric arrays).

    Attributes:
        clip_t: ``(N + 1,)`` clip times [s].
        mimic: ``(N + 1, 35)`` unmodified mimic entries fed at each step.
        root_pos_w, root_quat_w, lin_vel_w: ``(N + 1, 3 | 4 | 3)`` reference pelvis.
        joint_pos: ``(N + 1, 29)`` reference joints [rad].
        body_pos_w: ``(N + 1, 8, 3)`` reference key bodies in world [m].
        torso_tilt_rad: ``(N + 1,)``.
        leg_mean: ``(N + 1, 12)`` running mean of the fed leg joints [rad].
        stand_mimic: ``(35,)`` mimic entries of standing at rest.
        moving_legs: ``(N + 1,)`` in [0, 1], how far the reference's legs move
            (:func:`~exoactor.control.filter.objective.moving`).
        gait: ``(P, 12)`` one cycle of the clip's own gait, the fed leg joints
            (:func:`~exoactor.control.filter.decisions.gait_cycle`), or None.
        eased_shift_b: ``(N + 1, 2, 8, 3)`` key-body movement the stance blend takes away
            (:func:`~exoactor.control.filter.objective.eased_shift_b`) [m].
        duration_s: the clip's duration [s].
        run_out: the :class:`~exoactor.control.run_out.RunOut` the reference is carried on by
            after the clip (``StreamerConfig.run_out``), or None.
        seat_w, seat_centre, seat_yaw, seat_half, seat_index: the seat the reference sits on
            at each row (:func:`seat_rows`; None without a seat in the scene).
        seat_steps: rows inside a seat's phase (0 without a seat): the denominator of the
            seat-load term (:func:`~exoactor.control.filter.objective.seat_load_cost`).
        box_w, box_adr, box_half, box_ref_hand_m: the carried box the reference holds at each
            row (:func:`box_rows`; None without a carried box in the scene).
    """

    def __init__(self, setup: PlantSetup, sim, stand: Pose, start_pose: Pose | None,
                 dt: float, body_ids: np.ndarray, legs: np.ndarray):
        stream = ReferenceStreamer(setup.motion, stand, start_pose, setup.streamer)
        self.duration_s = stream.duration_s
        self.run_out = stream.run_out
        self.dt = dt
        t0 = -stream.blend_in_s
        n = int(np.ceil((stream.end_s - t0) / dt - 1e-9))
        self.clip_t = t0 + dt * np.arange(n + 1)
        look = setup.streamer.lookahead_s
        rows = [stream.sample(t) for t in self.clip_t]
        self.mimic = np.stack([mimic_obs(stream.sample(t + look)) for t in self.clip_t])
        self.root_pos_w = np.stack([r.root_pos_w for r in rows])
        self.root_quat_w = np.stack([r.root_quat_w for r in rows])
        self.lin_vel_w = np.stack([r.root_lin_vel_w for r in rows])
        self.joint_pos = np.stack([r.joint_pos for r in rows])
        bodies, tilt = [], []
        for r in rows:
            bodies.append(sim.reference_kinematics(
                sim.compose_qpos(r.root_pos_w, r.root_quat_w, r.joint_pos), body_ids))
            tilt.append(sim.reference_torso_tilt_rad())
        self.body_pos_w = np.stack(bodies)
        self.torso_tilt_rad = np.array(tilt)
        half = max(1, int(round(LEG_WINDOW_S / dt / 2)))
        legs_fed = self.mimic[:, 6:][:, legs]
        pad = np.concatenate([np.repeat(legs_fed[:1], half, 0), legs_fed,
                              np.repeat(legs_fed[-1:], half, 0)])
        csum = np.concatenate([np.zeros((1, len(legs))), np.cumsum(pad, axis=0)])
        self.leg_mean = (csum[2 * half + 1:] - csum[:-2 * half - 1]) / (2 * half + 1)
        self.stand_mimic = np.concatenate([[0.0, 0.0, stand.root_pos_w[2], 0.0, 0.0, 0.0],
                                           stand.joint_pos])
        self.moving_legs = moving(self)
        inside = (self.clip_t >= 0.0) & (self.clip_t <= self.duration_s + 1e-9)
        self.gait = gait_cycle(legs_fed, leg_activity_rad(self), inside, dt, LEG_ACTIVITY_RAD)
        self.eased_shift_b = eased_shift_b(sim, self.joint_pos, stand.joint_pos, STANCE_JOINTS,
                                           body_ids, self.moving_legs)
        seats = seat_rows(setup.scene, self.clip_t, setup.motion.fps, setup.dropped_frames)
        self.seat_w = None if seats is None else seats[0]
        self.seat_centre, self.seat_yaw, self.seat_half, self.seat_index = \
            (None, None, None, None) if seats is None else seats[1:]
        self.seat_steps = 0 if seats is None else int(np.sum(seats[0] > 0.0))
        boxes = box_rows(setup.scene, self.clip_t, setup.motion.fps, sim.model,
                         self.body_pos_w[:, list(GRASP_BODIES)], setup.dropped_frames)
        self.box_w, self.box_adr, self.box_half, self.box_ref_hand_m = \
            (None, None, None, None) if boxes is None else boxes

    @property
    def steps(self) -> int:
        """Number of control steps of the whole run."""
        return len(self.clip_t) - 1

    def step_of(self, clip_time_s: float) -> int:
        """The step at or after ``clip_time_s``."""
        return int(np.clip(np.ceil((clip_time_s - self.clip_t[0]) / self.dt - 1e-9), 0,
                           self.steps))


@dataclass
class StepRecord:
    """What the executed part of a plan produced, per control step (arrays over steps)."""

    qpos: np.ndarray
    qvel: np.ndarray
    torque: np.ndarray
    target: np.ndarray
    body_pos_w: np.ndarray
    fed_mimic: np.ndarray
    decisions: np.ndarray
    fell: np.ndarray


@dataclass
class PlanOutcome:
    """Result of simulating K plans from one state.

    Attributes:
        cost: ``(K,)`` the objective (inf where the plan falls within the horizon).
        fall_step: ``(K,)`` horizon step of the first (planner-rule) fall, or -1.
        records: per plan, the first ``record_steps`` steps.
        states: per plan, the loop state after ``record_steps`` steps (None if it fell first).
    """

    cost: np.ndarray
    fall_step: np.ndarray
    records: list[StepRecord]
    states: list[LoopState | None]


class Plant:
    """``n`` closed loops of TWIST2 + safety layer + MuJoCo for one motion.

    Args:
        setup: the motion and loop settings.
        n: loops (most plans simulated at once).
        threads: threads the loops are split over (MuJoCo and onnxruntime release the GIL,
            so the groups run in parallel); the result does not depend on it (each loop has
            its own ``MjData``; the policy's rows do not depend on the batch).
    """

    def __init__(self, setup: PlantSetup, n: int, threads: int = 1):
        import mujoco

        from exoactor.control.sim import JointGroup, Simulation
        from exoactor.control.twist2 import TWIST2_JOINTS, Twist2Controller
        from exoactor.robots import get_robot

        if setup.motion.hand_dof is not None:
            raise ExoActorError(f"{setup.motion.source}: the physics filter drives the 29 body "
                                "joints only; track motions with hand_dof with --no-filter")
        self.setup = setup
        robot = get_robot("g1")
        self.robot = robot
        ctrl = Twist2Controller(TWIST2_JOINTS, setup.policy)
        self.session = ctrl._session
        self.input_name = ctrl._input
        self.default = ctrl.default_joint_pos.copy()
        self.action_scale = setup.policy.action_scale
        self.action_clip = setup.policy.action_clip
        self.history_first = setup.policy.history_init == "first"
        self.dt = ctrl.control_dt_s
        jidx = {nm: i for i, nm in enumerate(robot.joint_names)}
        body_idx = np.array([jidx[nm] for nm in TWIST2_JOINTS])
        g = ctrl.gains
        group = JointGroup(TWIST2_JOINTS, g.kp, g.kd,
                           np.minimum(g.torque_limit_nm, robot.torque_limits[body_idx]))
        self.sim = Simulation(robot, group, scene=setup.scene)
        self.model = self.sim.model
        if setup.physics_dt_s is not None:
            sub = max(1, round(self.dt / setup.physics_dt_s))
            if abs(sub * setup.physics_dt_s - self.dt) > 1e-9:
                raise ExoActorError(f"planning physics step {setup.physics_dt_s} s does not divide "
                                    f"the {self.dt} s control step; use e.g. 0.001 or 0.002")
            if abs(setup.physics_dt_s - float(self.model.opt.timestep)) > 1e-12:
                self.model.opt.timestep = setup.physics_dt_s
        self.decimation = max(1, round(self.dt / float(self.model.opt.timestep)))
        if setup.solver == "newton":
            self.model.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
        elif setup.solver != "model":
            raise ExoActorError(f"planning solver '{setup.solver}': use 'model' or 'newton'")
        self.lower = robot.joint_limits[body_idx, 0]
        self.upper = robot.joint_limits[body_idx, 1]
        self.max_step = setup.safety.max_target_rate_rad_s * self.dt
        self.margin = setup.safety.joint_limit_margin_rad
        self.legs = LEG_JOINTS
        self.stance_joints = STANCE_JOINTS
        key = robot.spec.key_bodies.as_dict()
        self.body_ids = np.array([robot.body_id(key[k]) for k in METRIC_KEY_BODIES])
        m = self.model
        foot_ids = {m.body(key["left_foot"]).id, m.body(key["right_foot"]).id}
        self.floor_geoms = np.array([i for i in range(m.ngeom) if m.geom_bodyid[i] == 0])
        self.foot_geom = np.array([m.geom_bodyid[i] in foot_ids for i in range(m.ngeom)])
        is_floor = np.zeros(m.ngeom, bool)
        is_floor[self.floor_geoms] = True
        self._floor_mask = is_floor
        scene_geom = np.zeros(m.ngeom, bool)
        scene_geom[object_geoms(m)] = True
        self.falls_on_floor_geom = ~self.foot_geom & ~scene_geom & ~is_floor
        """Geoms whose floor contact is a fall: the robot's, other than its feet (a scene
        object on the floor, e.g. a carried box set down or knocked off its support, is not
        the robot lying there)."""
        self.loads = ObjectLoads(m)
        """The scene objects' forces on the robot (the seat-load term)."""
        self.torso_id = self.sim.torso_id
        self.qpos_idx = self.sim.body_qpos
        self.dof_idx = self.sim.body_dof
        self.state_spec = mujoco.mjtState.mjSTATE_INTEGRATION
        self.state_size = mujoco.mj_stateSize(m, self.state_spec)
        self.datas = [mujoco.MjData(m) for _ in range(n)]
        self.threads = max(1, min(int(threads), n))
        self._pool = None

        first = setup.motion.slice(0, 1)
        stand = Pose(np.array([0.0, 0.0, robot.spec.root_height_m]), np.array([1.0, 0, 0, 0]),
                     self.default)
        if setup.start == "reference":
            qpos0 = self.sim.compose_qpos(first.root_pos[0], first.root_quat[0], first.dof_pos[0])
            self.sim.reset(qpos0)
            start_pose = None
        else:
            heading = yaw_quat(float(yaw(first.root_quat[0])))
            qpos0 = self.sim.compose_qpos(np.r_[first.root_pos[0, :2], robot.spec.root_height_m],
                                          heading, self.default)
            self.sim.reset(qpos0)
            start_pose = Pose(self.sim.data.qpos[0:3].copy(), heading, self.default)
        self.table = ReferenceTable(setup, self.sim, stand, start_pose, self.dt, self.body_ids,
                                    self.legs)
        from exoactor.control.filter.objective import clip_end_row

        self.end_row = clip_end_row(self.table)
        self.max_lag_rows = setup.max_clock_lag_s / self.dt
        self._initial = self._capture(self.sim.data)

    # ---- state -------------------------------------------------------------------------
    def _capture(self, data) -> np.ndarray:
        import mujoco

        out = np.empty(self.state_size)
        mujoco.mj_getState(self.model, data, out, self.state_spec)
        return out

    def _restore(self, data, physics: np.ndarray) -> None:
        import mujoco

        mujoco.mj_setState(self.model, data, physics, self.state_spec)
        mujoco.mj_forward(self.model, data)

    def initial_state(self) -> LoopState:
        """The state before the first step (robot placed as ``track`` places it)."""
        q0 = self.sim.data.qpos[self.qpos_idx].copy()
        return LoopState(self._initial.copy(), np.zeros((HISTORY_LEN, FRAME_DIM)),
                         np.zeros(len(self.default)), True, q0, 0, IDENTITY.copy(), 0.0)

    # ---- simulation --------------------------------------------------------------------
    def simulate(self, states: list[LoopState], plans: np.ndarray, horizon_steps: int,
                 record_steps: int, weights, strict: bool = True) -> PlanOutcome:
        """Simulate ``len(plans)`` plans in lockstep, each from its state.

        The plans are split into ``threads`` contiguous groups simulated in parallel (one in
        the calling thread); within a group, per 50 Hz step the observations are built at
        once, the policy runs once for the group (one batched ONNX call; onnxruntime and MuJoCo
        release the GIL) and MuJoCo steps each loop still up (all of them while recording).
        Groups meet once per call, not per step, so a loaded machine's scheduling delays do
        not add up step by step. The outcome does not depend on the grouping (tested bit for
        bit).

        Args:
            states: one state per plan (all at the same step; each on its own reference clock).
            plans: ``(K, 3, 7)`` plans over ``horizon_steps``.
            horizon_steps: steps the plans span (cut at the run's end).
            record_steps: leading steps to record and snapshot (the part that may be executed).
            weights: :class:`~exoactor.control.filter.config.ObjectiveWeights`.
            strict: use the planner's fall rule (else the project's rule only).
        """
        k_count = len(plans)
        if k_count > len(self.datas):
            raise ExoActorError(f"Plant has {len(self.datas)} loops, asked to simulate {k_count}")
        groups = [g for g in np.array_split(np.arange(k_count), min(self.threads, k_count))
                  if len(g)]
        if len(groups) == 1:
            return self._simulate(self.datas[:k_count], states, plans, horizon_steps,
                                  record_steps, weights, strict)
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="plant")

        def group(g: np.ndarray) -> PlanOutcome:
            return self._simulate([self.datas[j] for j in g], [states[j] for j in g], plans[g],
                                  horizon_steps, record_steps, weights, strict)

        futures = [self._pool.submit(group, g) for g in groups[1:]]
        try:
            outs = [group(groups[0])]
        finally:
            outs += [f.result() for f in futures]
        return PlanOutcome(np.concatenate([o.cost for o in outs]),
                           np.concatenate([o.fall_step for o in outs]),
                           [r for o in outs for r in o.records],
                           [st for o in outs for st in o.states])

    def _simulate(self, datas: list, states: list[LoopState], plans: np.ndarray,
                  horizon_steps: int, record_steps: int, weights, strict: bool) -> PlanOutcome:
        """:meth:`simulate` for one group of loops, in the calling thread."""
        from exoactor.control.filter.objective import (
            not_executed_cost,
            step_cost,
            terminal_cost,
            warp_cost,
        )

        k_count = len(plans)
        tab = self.table
        safety = self.setup.safety
        k0 = states[0].step
        clock = np.array([float(s.clock) for s in states])
        n = max(0, min(horizon_steps, int(np.ceil(tab.steps - clock.max() - 1e-9))))
        record_steps = min(record_steps, n)
        for d, s in zip(datas, states):
            self._restore(d, s.physics)
        history = np.stack([s.history for s in states])
        last_action = np.stack([s.last_action for s in states])
        fresh = np.array([s.fresh for s in states])
        previous = np.stack([s.previous_target for s in states])
        alive = np.ones(k_count, bool)
        fall_step = np.full(k_count, -1)
        cost = np.zeros(k_count)
        rec = {k: [] for k in ("qpos", "qvel", "torque", "target", "body", "mimic", "dec", "fell")}
        snap: list[LoopState | None] = [None] * k_count
        prev_dec = np.stack([s.decisions for s in states])
        nq, nv, nu = self.model.nq, self.model.nv, self.model.nu
        qpos = np.empty((k_count, nq))
        qvel = np.empty((k_count, nv))
        body = np.empty((k_count, len(self.body_ids), 3))
        cos_tilt = np.empty(k_count)
        on_floor = np.zeros(k_count, bool)
        self._read(datas, range(k_count), qpos, qvel, body, cos_tilt, on_floor, False)
        jp_default = self.default
        ankles = list(ANKLE_JOINTS)
        for i in range(n):
            k = k0 + i
            dec = plan_at(plans, i / max(horizon_steps, 1))
            row = _whole_row(clock)
            if row is not None:  # every clock on the same whole row (no warp): that row exactly
                fed, leg_mean = tab.mimic[row], tab.leg_mean[row]
            else:
                fed = interpolate_rows(tab.mimic, clock)
                leg_mean = interpolate_rows(tab.leg_mean, clock)
            mimic = apply_to_mimic(fed, dec, leg_mean, self.legs, tab.stand_mimic,
                                   self.stance_joints, gait_at(tab.gait, k))
            jp = qpos[:, self.qpos_idx]
            jv = JOINT_VEL_SCALE * qvel[:, self.dof_idx]
            jv[:, ankles] = 0.0
            rp = roll_pitch_yaw(qpos[:, 3:7])[:, :2]
            proprio = np.concatenate([ANG_VEL_SCALE * qvel[:, 3:6], rp, jp - jp_default, jv,
                                      last_action], axis=1)
            frame = np.concatenate([mimic, proprio], axis=1)
            if self.history_first and fresh.any():
                history[fresh] = frame[fresh][:, None, :]
            obs = np.concatenate([frame, history.reshape(k_count, -1), mimic], axis=1)
            action = self.session.run(None, {self.input_name: obs.astype(np.float32)})[0]
            action = action.astype(np.float64)
            history[:, :-1] = history[:, 1:]
            history[:, -1] = frame
            fresh[:] = False
            last_action = action
            target = jp_default + self.action_scale * np.clip(action, -self.action_clip,
                                                               self.action_clip)
            target = clip_to_limits(target, self.lower, self.upper, self.margin)
            target = previous + np.clip(target - previous, -self.max_step, self.max_step)
            previous = target
            recording = i < record_steps
            torque = np.zeros((k_count, nu)) if recording else None
            active = alive | recording
            for j in range(k_count):
                if active[j]:
                    self._step(datas[j], target[j], None if torque is None else torque[j])
            self._read(datas, range(k_count), qpos, qvel, body, cos_tilt, on_floor, strict)
            # judge against the reference at the clock after the step (t_{k+1} without a warp)
            clock_before = clock
            clock = advance_clock(clock, k, dec[:, 5], self.end_row, self.max_lag_rows)
            kk = np.minimum(judged_row(clock), tab.steps)
            tilt = np.arccos(np.clip(cos_tilt, -1.0, 1.0))
            fell_project = self._fallen(qpos[:, 2], tilt, tab.root_pos_w[kk, 2],
                                        tab.torso_tilt_rad[kk], safety)
            fell = fell_project.copy()
            if strict:
                fell |= np.degrees(tilt - tab.torso_tilt_rad[kk]) > self.setup.fall_tilt_margin_deg
                fell |= qpos[:, 2] < tab.root_pos_w[kk, 2] - self.setup.fall_height_margin_m
                fell |= on_floor
            new_fall = alive & fell
            fall_step[new_fall] = i
            alive &= ~fell
            load = self.seat_load(datas, kk, weights)
            if load is None:
                c = _by_row(kk, (qpos, qvel, body, tilt, dec, prev_dec),
                            lambda r, a: step_cost(*a, tab, r, self.qpos_idx, weights,
                                                   OBJECTIVE_BODIES))
            else:
                c = _by_row(kk, (qpos, qvel, body, tilt, dec, prev_dec, load),
                            lambda r, a: step_cost(*a[:6], tab, r, self.qpos_idx, weights,
                                                   OBJECTIVE_BODIES, seat_load=a[6]))
            c = c + warp_cost((k + 1 - clock) * self.dt, tab, k + 1, kk, weights)
            c = c + not_executed_cost(dec[:, 4], clock_before, clock, tab, weights,
                                      self.setup.not_executed_stance)
            cost += np.where(alive, c, 0.0) * self.dt
            prev_dec = dec
            if recording:
                rec["qpos"].append(qpos.copy())
                rec["qvel"].append(qvel.copy())
                rec["torque"].append(torque)
                rec["target"].append(target.copy())
                rec["body"].append(body.copy())
                rec["mimic"].append(mimic)
                rec["dec"].append(dec)
                rec["fell"].append(fell_project)
                if i == record_steps - 1:
                    for j, d in enumerate(datas):
                        snap[j] = LoopState(self._capture(d), history[j].copy(),
                                            last_action[j].copy(), False, previous[j].copy(),
                                            k + 1, dec[j].copy(), float(clock[j]))
            if not alive.any() and i >= record_steps - 1:
                break
        if n:
            end = np.minimum(judged_row(clock), tab.steps)
            cost += np.where(alive, _by_row(end, (qpos, qvel),
                                            lambda r, a: terminal_cost(*a, tab, r, weights)),
                             0.0)
        cost[~alive] = np.inf
        records = []
        for j in range(k_count):
            if record_steps:
                records.append(StepRecord(*(np.array([r[j] for r in rec[key]]) for key in
                                            ("qpos", "qvel", "torque", "target", "body",
                                             "mimic", "dec", "fell"))))
            else:
                records.append(None)
        return PlanOutcome(cost, fall_step, records, snap)

    # ---- helpers ------------------------------------------------------------------------
    def seat_load(self, datas, rows: np.ndarray, weights) -> np.ndarray | None:
        """``(K,)`` the share of the robot's weight the seat of each loop's reference row
        ``rows`` ``(K,)`` carries, from the contact forces of the loop's last physics step
        (0 for a loop outside every seat's phase); None when no row is in a seat's phase or
        the seat-load term is off (``weights.seat_load``), so runs without a seat read
        nothing."""
        tab = self.table
        if tab.seat_w is None or weights.seat_load <= 0.0:
            return None
        on = tab.seat_w[rows] > 0.0
        if not on.any():
            return None
        out = np.zeros(len(rows))
        for j in np.flatnonzero(on):
            out[j] = self.loads.forces_n(datas[j])[tab.seat_index[rows[j]]] / self.loads.weight_n
        return out

    def _read(self, datas, idx, qpos, qvel, body, cos_tilt, on_floor, contacts: bool) -> None:
        """Copy the state of loops ``idx`` into their rows of the step arrays."""
        body_ids, torso = self.body_ids, self.torso_id
        for j in idx:
            d = datas[j]
            qpos[j] = d.qpos
            qvel[j] = d.qvel
            body[j] = d.xpos[body_ids]
            cos_tilt[j] = d.xmat[torso][8]
            if contacts:
                on_floor[j] = self._body_on_floor(d)

    @staticmethod
    def _fallen(height: np.ndarray, tilt: np.ndarray, ref_height: float, ref_tilt: float,
                config: SafetyConfig) -> np.ndarray:
        """:func:`~exoactor.control.safety.is_fallen` over loops (the same comparisons)."""
        low = (height < config.fall_height_m) & (height < ref_height - config.fall_height_margin_m)
        tilt_deg = np.degrees(tilt)
        ref_deg = np.degrees(ref_tilt)
        tilted = (tilt_deg > config.fall_tilt_deg) & (tilt_deg > ref_deg + config.fall_tilt_margin_deg)
        return low | tilted

    def close(self) -> None:
        """Stop the physics threads (the plant stays usable: they restart on demand)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _step(self, data, target: np.ndarray, torque: np.ndarray | None) -> None:
        import mujoco

        data.ctrl[:] = target
        if torque is None:
            mujoco.mj_step(self.model, data, nstep=self.decimation)
        else:
            for _ in range(self.decimation):
                mujoco.mj_step(self.model, data)
                torque += data.actuator_force
            torque /= self.decimation
        if not (np.all(np.isfinite(data.qpos)) and np.all(np.isfinite(data.qvel))):
            from exoactor.errors import PhysicsDiverged

            raise PhysicsDiverged(f"physics diverged in a filter rollout at t = {data.time:.3f} s")

    def _body_on_floor(self, data) -> bool:
        """A robot geom other than the feet touches the floor (scene objects do not count)."""
        if data.ncon == 0:
            return False
        g = data.contact.geom[:data.ncon]
        floor = self._floor_mask[g]
        other = np.where(floor[:, 0], g[:, 1], g[:, 0])
        hit = floor.any(axis=1) & self.falls_on_floor_geom[other]
        return bool(hit.any())


def _whole_row(clock: np.ndarray) -> int | None:
    """The row every clock is on, when they all sit on the same whole row; else None."""
    r = clock[0]
    if r == np.floor(r) and np.all(clock == r):
        return int(r)
    return None


def _by_row(rows: np.ndarray, arrays: tuple, cost) -> np.ndarray:
    """``(K,)`` ``cost(row, arrays)`` evaluated per group of plans judged against the same
    reference row, each array cut to the group's plans (one call when they all share it)."""
    first = int(rows[0])
    if np.all(rows == first):
        return cost(first, arrays)
    out = np.empty(len(rows))
    for r in np.unique(rows):
        j = np.flatnonzero(rows == r)
        out[j] = cost(int(r), tuple(a[j] for a in arrays))
    return out
