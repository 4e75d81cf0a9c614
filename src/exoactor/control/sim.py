"""MuJoCo simulation of a robot under joint-space PD control (the only MuJoCo in ``control/``).

The PD loop runs inside MuJoCo at every physics step (1 kHz on the G1 MJCF): each controlled
joint gets an affine actuator with gain ``kp`` and bias ``[0, -kp, -kd]``, so its torque is
``kp (q_target - q) - kd dq``, clipped to ``forcerange`` (spec §1.3: identical to a per-step
Python PD loop). The MJCF's own actuators are removed; ``ctrl`` is laid out as the body joints
in the order given, then the hand joints. Gains can be changed at run time (the safety
layer's damping mode sets ``kp = 0``).

Every stepping call is guarded: NaN/inf in the state or a MuJoCo solver warning raises
:class:`~exoactor.errors.PhysicsDiverged` with the step and time, after dumping the last
states to ``dump_dir`` when one is given.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from exoactor import artefacts
from exoactor.control.controller import RobotState
from exoactor.errors import ExoActorError, PhysicsDiverged

if TYPE_CHECKING:
    from exoactor.formats.scene import Scene
    from exoactor.robots.spec import Robot

logger = logging.getLogger(__name__)

FOOT_CLEARANCE_M = 0.001
"""Height of the lowest foot contact sphere above the floor at initialisation [m]."""
DUMP_STATES = 50
"""How many past control-step states a divergence dump keeps."""

_DIVERGED = ("physics diverged at control step {step} (t = {time:.3f} s): {what}. The last "
             "{n} states are in {dump}. Usual causes: gains too high for the physics step, "
             "a target far outside the joint range, or an initial pose in penetration.")


@dataclass(frozen=True)
class JointGroup:
    """PD-driven joints of one group (body or hands), in ``ctrl`` order.

    Attributes:
        names: ``(n,)`` joint names.
        kp: ``(n,)`` stiffness [N m / rad].
        kd: ``(n,)`` damping [N m s / rad].
        torque_limit_nm: ``(n,)`` symmetric torque clip [N m].
    """

    names: tuple[str, ...]
    kp: np.ndarray
    kd: np.ndarray
    torque_limit_nm: np.ndarray


PD_MODELS_KEPT = 4
"""Compiled PD models :func:`build_pd_model` keeps per process (the most recently used; each
~90 MB with the G1's meshes)."""
_pd_models: OrderedDict[str, Any] = OrderedDict()
_pd_lock = threading.Lock()


def build_pd_model(mjcf_path: Path, groups: list[JointGroup], scene: Scene | None = None):
    """Compile ``mjcf_path`` with its actuators replaced by one PD actuator per joint of ``groups``,
    plus the boxes of ``scene`` (seats, tables: fixed; carried boxes: free bodies whose joints
    come after the robot's, see :mod:`exoactor.control.scene_objects`).

    A run builds the same model many times (the filter's loops and plant, every rollout of a
    seat search in one placement): it is compiled once per distinct input (the MJCF's path,
    size and modification time, the groups, the objects' kinds, poses, sizes, masses and
    frictions; :data:`PD_MODELS_KEPT` kept) and every call gets its own copy (a third of a
    compile's time; callers change gains and options of theirs), equal to a fresh compile.

    Returns:
        ``mujoco.MjModel`` whose ``ctrl`` is the concatenation of the groups' joints.
    """
    import copy

    key = _pd_model_key(mjcf_path, groups, scene)
    with _pd_lock:
        model = _pd_models.get(key)
        if model is not None:
            _pd_models.move_to_end(key)
    if model is None:
        model = _compile_pd_model(mjcf_path, groups, scene)
        with _pd_lock:
            _pd_models[key] = model
            while len(_pd_models) > PD_MODELS_KEPT:
                _pd_models.popitem(last=False)
    return copy.copy(model)


def _pd_model_key(mjcf_path: Path, groups: list[JointGroup], scene: Scene | None) -> str:
    """What :func:`_compile_pd_model` compiles from, as a digest."""
    import hashlib
    import json

    st = Path(mjcf_path).stat()
    h = hashlib.sha256(f"{Path(mjcf_path).resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    for g in groups:
        h.update(json.dumps(list(g.names)).encode())
        for arr in (g.kp, g.kd, g.torque_limit_nm):
            h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
    objects = [] if scene is None else [
        o.model_dump(mode="json", include={"kind", "pose", "size", "mass", "friction"})
        for o in scene.objects]
    h.update(json.dumps(objects, sort_keys=True).encode())
    return h.hexdigest()


def _compile_pd_model(mjcf_path: Path, groups: list[JointGroup], scene: Scene | None):
    """:func:`build_pd_model`'s compile."""
    import mujoco

    spec = mujoco.MjSpec.from_file(str(mjcf_path))
    for act in list(spec.actuators):
        spec.delete(act)
    known = {j.name for j in spec.joints}
    for group in groups:
        for name, kp, kd, lim in zip(group.names, group.kp, group.kd, group.torque_limit_nm):
            if name not in known:
                raise ExoActorError(f"{mjcf_path}: no joint '{name}' to drive; joints: "
                                    f"{', '.join(sorted(known))}")
            act = spec.add_actuator(name=name, target=name)
            act.trntype = mujoco.mjtTrn.mjTRN_JOINT
            act.gaintype = mujoco.mjtGain.mjGAIN_FIXED
            act.biastype = mujoco.mjtBias.mjBIAS_AFFINE
            act.gainprm[:3] = [kp, 0.0, 0.0]
            act.biasprm[:3] = [0.0, -kp, -kd]
            act.ctrllimited = 0
            act.forcelimited = 1
            act.forcerange = [-lim, lim]
    if scene is not None and scene.objects:
        from exoactor.control.scene_objects import add_objects

        add_objects(spec, scene)
    return spec.compile()


class Simulation:
    """A robot in MuJoCo with PD actuators on its body (and optionally hand) joints.

    Args:
        robot: the robot (its MJCF, joint addresses and key bodies).
        body: the PD group of the body joints (the controller's joints).
        hands: optional PD group of hand joints (``ctrl`` after the body joints).
        dump_dir: folder for the divergence dump (``nan_dump.npz``); ``None`` keeps it in memory.
        scene: objects to add to the model (``scene.json``); ``None``: the empty floor.
    """

    def __init__(self, robot: Robot, body: JointGroup, hands: JointGroup | None = None,
                 dump_dir: Path | None = None, scene: Scene | None = None):
        import mujoco

        self.robot = robot
        self.groups = [body] + ([hands] if hands is not None else [])
        self.model = build_pd_model(robot.mjcf_path, self.groups, scene)
        self.scene = scene
        self.data = mujoco.MjData(self.model)
        self.ref_data = mujoco.MjData(self.model)
        self.physics_dt_s = float(self.model.opt.timestep)
        self.dump_dir = dump_dir
        m = self.model
        self.body_qpos = np.array([m.jnt_qposadr[m.joint(n).id] for n in body.names])
        self.body_dof = np.array([m.jnt_dofadr[m.joint(n).id] for n in body.names])
        hand_names = hands.names if hands is not None else ()
        self.hand_qpos = np.array([m.jnt_qposadr[m.joint(n).id] for n in hand_names], dtype=int)
        self.hand_dof = np.array([m.jnt_dofadr[m.joint(n).id] for n in hand_names], dtype=int)
        self.n_body = len(body.names)
        self._kp = np.concatenate([g.kp for g in self.groups])
        self._kd = np.concatenate([g.kd for g in self.groups])
        feet = (robot.spec.key_bodies.left_foot, robot.spec.key_bodies.right_foot)
        foot_ids = {m.body(b).id for b in feet}
        self.foot_spheres = np.array([g for g in range(m.ngeom) if m.geom_bodyid[g] in foot_ids
                                      and m.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE])
        self.torso_id = m.body(robot.spec.key_bodies.torso).id
        self.step_count = 0
        self._recent: deque[tuple[float, np.ndarray, np.ndarray]] = deque(maxlen=DUMP_STATES)

    # ---- state -------------------------------------------------------------------------
    @property
    def time_s(self) -> float:
        return float(self.data.time)

    def state(self) -> RobotState:
        """The measured state (true simulator state; a real robot would estimate it)."""
        d = self.data
        return RobotState(time_s=float(d.time), root_pos_w=d.qpos[0:3].copy(),
                          root_quat_w=d.qpos[3:7].copy(), root_lin_vel_w=d.qvel[0:3].copy(),
                          root_ang_vel_b=d.qvel[3:6].copy(),
                          joint_pos=d.qpos[self.body_qpos].copy(),
                          joint_vel=d.qvel[self.body_dof].copy())

    def hand_pos(self) -> np.ndarray:
        """``(n_hand,)`` hand joint angles [rad]."""
        return self.data.qpos[self.hand_qpos].copy()

    def torso_tilt_rad(self) -> float:
        """Angle between the torso's z axis and world z [rad]."""
        return float(np.arccos(np.clip(self.data.xmat[self.torso_id][8], -1.0, 1.0)))

    def reference_torso_tilt_rad(self) -> float:
        """Torso tilt of the pose last set by :meth:`reference_kinematics` [rad]."""
        return float(np.arccos(np.clip(self.ref_data.xmat[self.torso_id][8], -1.0, 1.0)))

    def body_pos_w(self, body_ids: np.ndarray) -> np.ndarray:
        """``(B, 3)`` positions of bodies in world [m] in the simulated state."""
        return self.data.xpos[body_ids].copy()

    # ---- set-up ------------------------------------------------------------------------
    def compose_qpos(self, root_pos_w: np.ndarray, root_quat_w: np.ndarray,
                     joint_pos: np.ndarray, hand_pos: np.ndarray | None = None) -> np.ndarray:
        """A full ``(nq,)`` qpos from a root pose, body joint angles and hand joint angles."""
        qpos = self.model.qpos0.copy()
        qpos[0:3] = root_pos_w
        qpos[3:7] = root_quat_w
        qpos[self.body_qpos] = joint_pos
        if hand_pos is not None and len(self.hand_qpos):
            qpos[self.hand_qpos] = hand_pos
        return qpos

    def reset(self, qpos: np.ndarray, ground: bool = True) -> None:
        """Set the pose (zero velocity); with ``ground`` lift/lower it onto the floor."""
        import mujoco

        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = qpos
        if ground and len(self.foot_spheres):
            mujoco.mj_kinematics(self.model, self.data)
            lowest = np.min(self.data.geom_xpos[self.foot_spheres, 2]
                            - self.model.geom_size[self.foot_spheres, 0])
            self.data.qpos[2] += FOOT_CLEARANCE_M - lowest
        mujoco.mj_forward(self.model, self.data)
        self.step_count = 0
        self._recent.clear()

    def reference_kinematics(self, qpos: np.ndarray, body_ids: np.ndarray) -> np.ndarray:
        """FK of a reference pose on a second ``MjData``: ``(B, 3)`` body positions in world."""
        import mujoco

        self.ref_data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.ref_data)
        return self.ref_data.xpos[body_ids].copy()

    # ---- control -----------------------------------------------------------------------
    def set_gains(self, kp: np.ndarray, kd: np.ndarray) -> None:
        """Change the PD gains of every actuator (``ctrl`` order)."""
        kp = np.asarray(kp, dtype=float)
        kd = np.asarray(kd, dtype=float)
        if np.array_equal(kp, self._kp) and np.array_equal(kd, self._kd):
            return
        self.model.actuator_gainprm[:, 0] = kp
        self.model.actuator_biasprm[:, 1] = -kp
        self.model.actuator_biasprm[:, 2] = -kd
        self._kp, self._kd = kp.copy(), kd.copy()

    @property
    def gains(self) -> tuple[np.ndarray, np.ndarray]:
        """Current ``(kp, kd)`` of every actuator."""
        return self._kp.copy(), self._kd.copy()

    def step(self, target: np.ndarray, nstep: int) -> np.ndarray:
        """Hold ``target`` (``(nu,)`` [rad]) for ``nstep`` physics steps.

        Returns:
            ``(nu,)`` mean applied actuator torque over the period [N m].

        Raises:
            PhysicsDiverged: NaN/inf state or a MuJoCo warning during the period.
        """
        import mujoco

        m, d = self.model, self.data
        if not np.all(np.isfinite(target)):
            raise ExoActorError("Simulation.step got a non-finite target; targets must pass "
                                "through the safety layer first")
        d.ctrl[:] = target
        torque = np.zeros(m.nu)
        for _ in range(nstep):
            mujoco.mj_step(m, d)
            torque += d.actuator_force
        self.step_count += 1
        self._guard()
        self._recent.append((float(d.time), d.qpos.copy(), d.qvel.copy()))
        return torque / nstep

    def _guard(self) -> None:
        import mujoco

        d = self.data
        what = None
        if not (np.all(np.isfinite(d.qpos)) and np.all(np.isfinite(d.qvel))):
            what = "NaN/inf in qpos or qvel"
        else:
            for kind in (mujoco.mjtWarning.mjWARN_BADQACC, mujoco.mjtWarning.mjWARN_BADQPOS,
                         mujoco.mjtWarning.mjWARN_BADQVEL):
                if d.warning[kind].number > 0:
                    what = f"MuJoCo warning {kind.name}"
                    break
        if what is None:
            return
        dump = "memory (no dump_dir)"
        if self.dump_dir is not None and self._recent:
            from exoactor.fileio import atomic_path

            path = Path(self.dump_dir) / artefacts.NAN_DUMP
            times, qpos, qvel = zip(*self._recent)
            with atomic_path(path) as tmp:
                np.savez(tmp, time_s=np.array(times), qpos=np.array(qpos), qvel=np.array(qvel))
            dump = str(path)
        raise PhysicsDiverged(_DIVERGED.format(step=self.step_count, time=d.time, what=what,
                                               n=len(self._recent), dump=dump))
