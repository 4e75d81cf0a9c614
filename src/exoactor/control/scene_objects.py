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
