"""Scene objects into a MuJoCo model (the hook of :func:`exoactor.control.sim.build_pd_model`).

Each object becomes a body named ``scene_<i>_<kind>`` with one box geom ``scene_<i>_<kind>``:
seats and tables are bodies without joints (welded to the world, so their geoms are *not* on
body 0 and nothing that looks for "the floor" mistakes them for it); a carried box gets a free
joint appended after the robot's joints, so the robot's qpos/qvel addresses do not move and
its pose is ``qpos[robot_nq:]``. Geoms collide with everything (contype = conaffinity = 1).
"""

from __future__ import annotations

import numpy as np

from exoactor.formats.scene import Scene
from exoactor.rotations import yaw_quat

PREFIX = "scene_"
"""Prefix of the bodies and geoms of scene objects."""
RGBA = {"seat": (0.55, 0.38, 0.22, 1.0), "table": (0.45, 0.45, 0.5, 1.0),
        "box": (0.85, 0.65, 0.25, 1.0)}
"""Colours by kind (brown seat, grey table, cardboard box)."""


def object_name(index: int, kind: str) -> str:
    return f"{PREFIX}{index}_{kind}"


def add_objects(spec, scene: Scene | None) -> None:
    """Add ``scene``'s boxes to a ``mujoco.MjSpec`` (before compiling)."""
    import mujoco

    if scene is None:
        return
    for i, obj in enumerate(scene.objects):
        name = object_name(i, obj.kind)
        body = spec.worldbody.add_body(name=name, pos=list(obj.pose.pos),
                                       quat=list(yaw_quat(obj.pose.yaw_rad)))
        if not obj.fixed:
            body.add_freejoint(name=name)
        geom = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX,
                             size=[s / 2 for s in obj.size], rgba=list(RGBA.get(obj.kind,
                                                                                 RGBA["box"])))
        geom.contype = 1
        geom.conaffinity = 1
        geom.condim = 3
        geom.friction = [obj.friction, 0.005, 0.0001]
        if obj.fixed:
            geom.mass = 0.0
        else:
            geom.mass = float(obj.mass)


def object_geoms(model) -> np.ndarray:
    """``(n_objects,)`` geom ids of the scene objects of a compiled model (in scene order)."""
    ids = []
    for g in range(model.ngeom):
        name = model.geom(g).name
        if name.startswith(PREFIX):
            ids.append((int(name[len(PREFIX):].split("_")[0]), g))
    return np.array([g for _, g in sorted(ids)], dtype=int)


def robot_nq(model) -> int:
    """qpos entries of the robot (those before the first scene free joint)."""
    for j in range(model.njnt):
        if model.joint(j).name.startswith(PREFIX):
            return int(model.jnt_qposadr[j])
    return int(model.nq)


SEATED_LOAD = 0.25
"""Share of the robot's weight a seat must carry for a step to count as seated [-]
(sitting-notes: a seat the policy really sits on carries 52-75 %). The one definition behind
the seat interaction's ``seated_fraction`` (:func:`exoactor.scene.score.interaction_metrics`)
and the physics filter's seat-load term (:func:`exoactor.control.filter.objective.seat_load_shortfall`)."""


class ObjectLoads:
    """The vertical force each scene object of a compiled model exerts on the robot.

    Per object, the vertical component of the summed world-frame contact force of its geom on
    the robot's geoms (so squeezing forces that cancel do not count as carried weight) [N],
    read from a ``MjData`` whose contacts and constraint forces are current (after
    ``mj_forward`` or ``mj_step``); :attr:`weight_n` is the robot's weight (every body but the
    world and the objects') [N].
    """

    def __init__(self, model):
        self.model = model
        self.geoms = object_geoms(model)
        obj_body = {int(model.geom_bodyid[g]) for g in self.geoms}
        robot_geom = model.geom_bodyid >= 1
        robot_geom &= ~np.isin(model.geom_bodyid, list(obj_body))
        self.robot_geom = robot_geom
        self.weight_n = float(np.sum(model.body_mass[1:][~np.isin(np.arange(1, model.nbody),
                                                                  list(obj_body))])) * 9.81
        self.index = np.full(model.ngeom, -1, dtype=int)
        """Object index of each geom (-1: not an object's)."""
        self.index[self.geoms] = np.arange(len(self.geoms))

    def forces_n(self, data) -> np.ndarray:
        """``(n_objects,)`` upward force of each object on the robot [N]."""
        import mujoco

        out = np.zeros(len(self.geoms))
        n = data.ncon
        if n == 0 or not len(self.geoms):
            return out
        g = data.contact.geom[:n]
        obj = self.index[g]
        touch = ((obj[:, 0] >= 0) & self.robot_geom[g[:, 1]]) \
            | ((obj[:, 1] >= 0) & self.robot_geom[g[:, 0]])
        f6 = np.zeros(6)
        for c in np.flatnonzero(touch):
            g1, g2 = int(g[c, 0]), int(g[c, 1])
            for go, gr in ((g1, g2), (g2, g1)):
                if self.index[go] >= 0 and self.robot_geom[gr]:
                    # force of geom1 on geom2 along the frame; on the robot, up = weight carried
                    mujoco.mj_contactForce(self.model, data, int(c), f6)
                    f_w = data.contact.frame[c].reshape(3, 3).T @ f6[:3]
                    out[self.index[go]] += f_w[2] if go == g1 else -f_w[2]
        return out
