"""The robot model the IK works on: the robot's MJCF plus one site per correspondence point.

:class:`RetargetModel` holds the compiled MuJoCo model (real state, hence a class) and what is
calibrated on it once: the rest (default, standing) pose, the keypoint positions there, the
rotation from each keypoint-built frame to its body, the sole geometry of each foot, and the
arm/body collision geoms. Its :meth:`~RetargetModel.fk` is MuJoCo's forward kinematics, used for
metrics and for building ground truth; it adds sites only, so bodies, joints and ``qpos`` are
those of the robot model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

import numpy as np

from exoactor.retarget.correspondence import (
    Correspondence,
    FrameMatch,
    correspondence_for,
    validate_correspondence,
)
from exoactor.retarget.frames import frame_from_axes, mean_points

logger = logging.getLogger(__name__)

SITE_PREFIX = "kp/"
"""Name prefix of the sites added for correspondence points."""

ARM_COLLISION_BODIES = ("shoulder_yaw", "elbow", "wrist")
"""Substrings of the arm bodies kept out of the torso, pelvis and legs, and out of the other
arm's (the sides told apart by the hands' kinematic chains)."""
TRUNK_COLLISION_BODIES = ("torso", "pelvis", "hip", "knee")
"""Substrings of the bodies the arms must not enter."""


@dataclass(frozen=True)
class RobotPoints:
    """Kinematic quantities of robot frames, from MuJoCo FK.

    Attributes:
        keypoint_pos_w: ``(T, K, 3)`` correspondence points in world [m].
        foot_pos_w: ``(T, 2, 3)`` foot body origins (left, right) in world [m].
        sole_height_m: ``(T, 2)`` lowest sole point of each foot above z = 0 [m].
        sole_points_height_m: ``(T, 2, S)`` lowest point of every sole sphere above z = 0 [m].
        body_pos_w: ``(T, B, 3)`` positions of every body but the world [m].
        arm_clearance_m: ``(T,)`` smallest distance [m] of the collision pairs (an arm to the
            torso, pelvis, legs or the other arm; capped at the detection distance of 0.1 m).
    """

    keypoint_pos_w: np.ndarray
    foot_pos_w: np.ndarray
    sole_height_m: np.ndarray
    sole_points_height_m: np.ndarray
    body_pos_w: np.ndarray
    arm_clearance_m: np.ndarray


class RetargetModel:
    """A robot model with correspondence sites and the calibration the retargeter needs.

    Attributes:
        robot: the :class:`~exoactor.robots.Robot` (its ``model`` has no sites added).
        corr: the correspondence.
        model: compiled MuJoCo model with one site per keypoint.
        site_ids: ``(K,)`` site ids, in ``corr.keypoints`` order.
        rest_qpos: ``(nq,)`` default pose standing with the soles on z = 0.
        rest_keypoint_pos_w: ``(K, 3)`` correspondence points in the rest pose [m].
        keypoint_offset_b: ``(K, 3)`` each point in its body's frame [m].
        frame_offset: ``(F, 3, 3)`` rotation from each keypoint frame to its body frame.
        frame_body_ids: ``(F,)`` body ids of ``corr.frames``.
        foot_body_ids: ``(2,)`` left/right foot body ids.
        sole_geom_ids: per foot, the ids of its sphere geoms (the sole contacts).
        sole_center_b: ``(2, S, 3)`` sole sphere centres in the foot frame [m].
        sole_radius_m: ``(2, S)`` their radii [m].
        ankle_height_m: height of a foot body origin above the ground when the foot is flat [m].
        arm_geoms, trunk_geoms: collision geom ids of the arms and of the torso/pelvis/legs.
        collision_pairs: ``(P, 2)`` geom id pairs the IK keeps apart: every arm geom with every
            trunk geom, and every left-arm geom with every right-arm geom (arms that fold or
            clap must not pass through each other: the physics robot cannot).
        arm_body_ids: per arm (left, right), the ids of its bodies: those on the path from its
            hand body to the root that are not on the other hand's path.
        arm_dof_ids: per arm (left, right), the ``(J,)`` dof indices of its joints (those of
            its bodies).
        arm_qpos_adr: per arm, the ``(J,)`` qpos addresses of the same joints.
        arm_keypoint_ids: per arm, the ``(A,)`` indices (into ``corr.keypoints``) of the
            keypoints carried by its bodies.
    """

    def __init__(self, robot_name: str, corr: Correspondence | None = None):
        import mujoco

        from exoactor.robots import get_robot

        self.robot = get_robot(robot_name)
        self.corr = corr or correspondence_for(robot_name)
        validate_correspondence(self.corr, self.robot.body_names, str(self.robot.mjcf_path))
        spec = mujoco.MjSpec.from_file(str(self.robot.mjcf_path))
        for k in self.corr.keypoints:
            spec.body(k.body).add_site(name=SITE_PREFIX + k.keypoint, pos=list(k.offset_m),
                                       size=[0.01, 0.01, 0.01], group=5)
        self.model = spec.compile()
        m = self.model
        self.site_ids = np.array([mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE,
                                                    SITE_PREFIX + k.keypoint)
                                  for k in self.corr.keypoints])
        self.keypoint_offset_b = np.array([k.offset_m for k in self.corr.keypoints], dtype=float)
        self.keypoint_body_ids = np.array([self.body_id(k.body) for k in self.corr.keypoints])
        self.frame_body_ids = np.array([self.body_id(f.body) for f in self.corr.frames])
        self.foot_body_ids = np.array([self.body_id(f.body) for f in self.corr.feet])
        self.pelvis_body_id = self.body_id(self.corr.pelvis_body)
        self.hand_body_ids = np.array([self.body_id(b) for b in self.corr.hand_bodies])
        self._calibrate_feet()
        self._calibrate_rest()
        self._find_arms()
        self._find_collision_geoms()

    # ------------------------------------------------------------------ set-up
    def body_id(self, name: str) -> int:
        import mujoco

        return mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, name)

    def _calibrate_feet(self) -> None:
        import mujoco

        m = self.model
        centers, radii, ids = [], [], []
        for foot in self.corr.feet:
            bid = self.body_id(foot.body)
            geoms = [g for g in range(m.ngeom) if m.geom_bodyid[g] == bid
                     and m.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE]
            if not geoms:
                from exoactor.errors import UnknownName

                raise UnknownName(f"{self.robot.mjcf_path}: foot body '{foot.body}' has no sphere "
                                  "geoms; the retargeter needs the sole contact spheres")
            ids.append(np.array(geoms))
            centers.append(m.geom_pos[geoms].copy())
            radii.append(m.geom_size[geoms, 0].copy())
        if len(ids[0]) != len(ids[1]):
            raise ValueError("left and right feet have different sole sphere counts")
        self.sole_geom_ids: tuple[np.ndarray, np.ndarray] = (ids[0], ids[1])
        self.sole_center_b = np.stack(centers)
        self.sole_radius_m = np.stack(radii)
        self.ankle_height_m = float(-(self.sole_center_b[0, :, 2] - self.sole_radius_m[0]).min())

    def _calibrate_rest(self) -> None:
        import mujoco

        m, robot = self.model, self.robot
        data = mujoco.MjData(m)
        q = m.qpos0.copy()
        q[robot.qpos_adr] = robot.default_joint_pos
        q[3:7] = (1.0, 0.0, 0.0, 0.0)
        data.qpos[:] = q
        mujoco.mj_kinematics(m, data)
        lowest = min(float((data.geom_xpos[g, 2] - self.sole_radius_m[i]).min())
                     for i, g in enumerate(self.sole_geom_ids))
        q[2] -= lowest
        data.qpos[:] = q
        mujoco.mj_kinematics(m, data)
        self.rest_qpos = q
        self.rest_keypoint_pos_w = data.site_xpos[self.site_ids].copy()
        offsets = []
        for f, bid in zip(self.corr.frames, self.frame_body_ids):
            R_frame = self.keypoint_frame(self.rest_keypoint_pos_w[None], f)[0]
            R_body = data.xmat[bid].reshape(3, 3)
            offsets.append(R_frame.T @ R_body)
        self.frame_offset = np.array(offsets)

    def _find_collision_geoms(self) -> None:
        m = self.model
        colliding = [g for g in range(m.ngeom) if m.geom_contype[g] or m.geom_conaffinity[g]]

        def on(g: int, parts: tuple[str, ...]) -> bool:
            name = m.body(m.geom_bodyid[g]).name
            return any(p in name for p in parts) and "hand_" not in name

        self.arm_geoms = [g for g in colliding if on(g, ARM_COLLISION_BODIES)]
        self.trunk_geoms = [g for g in colliding if on(g, TRUNK_COLLISION_BODIES)]
        left, right = ([g for g in self.arm_geoms if m.geom_bodyid[g] in own]
                       for own in self.arm_body_ids)
        pairs = [(a, b) for a in self.arm_geoms for b in self.trunk_geoms]
        pairs += [(a, b) for a in left for b in right]
        self.collision_pairs = np.array(pairs, dtype=int).reshape(-1, 2)

    def _find_arms(self) -> None:
        import mujoco

        m = self.model

        def chain(body: int) -> set[int]:
            bodies = set()
            while body > 0:
                bodies.add(body)
                body = int(m.body_parentid[body])
            return bodies

        left, right = (chain(int(b)) for b in self.hand_body_ids)
        self.arm_body_ids: tuple[set[int], set[int]] = (left - right, right - left)
        dofs, adrs, kps = [], [], []
        for own in self.arm_body_ids:
            joints = [j for j in range(m.njnt) if m.jnt_bodyid[j] in own
                      and int(m.jnt_type[j]) in (int(mujoco.mjtJoint.mjJNT_HINGE),
                                                   int(mujoco.mjtJoint.mjJNT_SLIDE))]
            dofs.append(np.array([m.jnt_dofadr[j] for j in joints], dtype=int))
            adrs.append(np.array([m.jnt_qposadr[j] for j in joints], dtype=int))
            kps.append(np.flatnonzero(np.isin(self.keypoint_body_ids, list(own))))
        self.arm_dof_ids: tuple[np.ndarray, np.ndarray] = (dofs[0], dofs[1])
        self.arm_qpos_adr: tuple[np.ndarray, np.ndarray] = (adrs[0], adrs[1])
        self.arm_keypoint_ids: tuple[np.ndarray, np.ndarray] = (kps[0], kps[1])

    # ------------------------------------------------------------------ helpers
    def keypoint_frame(self, points_w: np.ndarray, frame: FrameMatch) -> np.ndarray:
        """``(T, 3, 3)`` rotation of ``frame`` built from ``(T, K, 3)`` points in world [m]."""
        idx = self.corr.index
        x = (mean_points(points_w, [idx(n) for n in frame.x_to])
             - mean_points(points_w, [idx(n) for n in frame.x_from]))
        z = (mean_points(points_w, [idx(n) for n in frame.z_to])
             - mean_points(points_w, [idx(n) for n in frame.z_from]))
        return frame_from_axes(x, z)

    def fk(self, qpos: np.ndarray, clearance_max_m: float = 0.1) -> RobotPoints:
        """Forward kinematics of ``(T, nq)`` qpos (the robot model's layout)."""
        import mujoco

        m = self.model
        data = mujoco.MjData(m)
        T = len(qpos)
        kp = np.empty((T, len(self.site_ids), 3))
        foot = np.empty((T, 2, 3))
        sole = np.empty((T, 2, self.sole_center_b.shape[1]))
        body = np.empty((T, m.nbody - 1, 3))
        clear = np.full(T, clearance_max_m)
        fromto = np.zeros(6)
        pairs = self.collision_pairs
        reach = (m.geom_rbound[pairs].sum(axis=1) + clearance_max_m) ** 2
        for t in range(T):
            data.qpos[:] = qpos[t]
            mujoco.mj_kinematics(m, data)
            kp[t] = data.site_xpos[self.site_ids]
            foot[t] = data.xpos[self.foot_body_ids]
            for i, g in enumerate(self.sole_geom_ids):
                sole[t, i] = data.geom_xpos[g, 2] - self.sole_radius_m[i]
            body[t] = data.xpos[1:]
            diff = data.geom_xpos[pairs[:, 0]] - data.geom_xpos[pairs[:, 1]]
            for a, b in pairs[np.einsum("ij,ij->i", diff, diff) <= reach].tolist():
                d = mujoco.mj_geomDistance(m, data, a, b, clearance_max_m, fromto)
                clear[t] = min(clear[t], d)
        return RobotPoints(kp, foot, sole.min(axis=2), sole, body, clear)


@cache
def retarget_model(robot_name: str) -> RetargetModel:
    """The (cached) :class:`RetargetModel` of ``robot_name`` with its registered correspondence."""
    return RetargetModel(robot_name)
