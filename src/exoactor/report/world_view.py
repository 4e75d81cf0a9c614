"""The report's world view: the robot on the floor from a fixed camera, with the reference robot
(translucent), the reference root path and the robot's root path so far, so drift is visible.

:class:`Poses` says what to draw at each time, :func:`fixed_world_camera` picks the camera, and
:class:`WorldCanvas` redraws only the part of the view that changes from one time to the next.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from exoactor.report.views import FreeCamera, Polyline, SceneGeom, ViewRenderer

REF_PATH_RGBA = (0.2, 0.5, 1.0, 0.9)
"""Colour of the reference root path (and the reference robot's tint)."""
ROBOT_PATH_RGBA = (1.0, 0.45, 0.1, 1.0)
"""Colour of the robot's root path."""
WORLD_FOVY_DEG = 45.0
"""Vertical field of view of MuJoCo's free camera (``vis.global.fovy`` default) [deg]."""


@dataclass
class Poses:
    """What to draw at a time: robot and reference configurations and their root paths.

    Attributes:
        qpos_at: time [s] -> ``(nq,)`` robot configuration.
        ref_qpos_at: time [s] -> ``(nq,)`` reference configuration, or None (no ghost).
        ref_path_w: ``(N, 3)`` reference root path, robot world [m].
        robot_path_w: ``(M, 3)`` robot root path [m] and ``robot_path_t`` its ``(M,)`` times
            [s]; the part up to the current time is drawn.
        human_joints_at: time [s] -> ``(33, 3)`` person joints, perceive world [m], or None.
        skeleton: draw the person's skeleton faintly in the scene view.
    """

    qpos_at: Callable[[float], np.ndarray]
    ref_qpos_at: Callable[[float], np.ndarray] | None = None
    ref_path_w: np.ndarray | None = None
    robot_path_w: np.ndarray | None = None
    robot_path_t: np.ndarray | None = None
    human_joints_at: Callable[[float], np.ndarray | None] | None = None
    skeleton: bool = True
    objects: Sequence[SceneGeom] = ()
    """Static shapes of the scene, robot world (drawn in both views; see :class:`SceneGeom`:
    the hook for a ``scene.json`` scene description)."""

    def paths(self, t_s: float) -> list[Polyline]:
        """The reference root path and the robot's root path up to ``t_s``."""
        out = []
        if self.ref_path_w is not None and len(self.ref_path_w) > 1:
            out.append(Polyline(_thin(self.ref_path_w), REF_PATH_RGBA, 3.0))
        done = self.robot_path_so_far(t_s)
        if done is not None:
            out.append(Polyline(done, ROBOT_PATH_RGBA, 4.0))
        return out

    def robot_path_so_far(self, t_s: float, max_points: int = 40) -> np.ndarray | None:
        """``(P, 3)`` points of the robot's root path up to ``t_s`` on the ground (z = 1 cm),
        or None (fewer than two samples so far).

        The whole path is thinned to at most ``max_points`` samples once, and the part up to
        ``t_s`` is those samples plus the latest one: a point, once drawn, stays (only the last
        two segments change from one time to the next, so the world view is redrawn only
        there and around the robots).
        """
        if self.robot_path_w is None or self.robot_path_t is None:
            return None
        n = int(np.searchsorted(self.robot_path_t, t_s + 1e-9, side="right"))
        if n < 2:
            return None
        step = max(1, math.ceil(len(self.robot_path_w) / max_points))
        idx = np.arange(0, n, step)
        if idx[-1] != n - 1:
            idx = np.r_[idx, n - 1]
        p = np.asarray(self.robot_path_w, dtype=float)[idx].copy()
        p[:, 2] = 0.01
        return p


def _thin(points: np.ndarray, max_points: int = 40) -> np.ndarray:
    p = np.asarray(points, dtype=float).copy()
    p[:, 2] = 0.01
    step = max(1, math.ceil(len(p) / max_points))
    return np.vstack([p[::step], p[-1:]]) if step > 1 else p


class WorldCanvas:
    """The world view of successive times, redrawn only where it changes.

    The fixed camera, the floor, the scene objects and the reference path do not change, so
    after a first full render each update renders (through the sub-frustum of those pixels) only
    the box that holds the robots now and at the previous update and the path segments that
    changed, and pastes it into the last image: identical to a full render (same camera, same
    GL state), at the cost of the box's pixels.
    """

    def __init__(self, views: ViewRenderer, camera: FreeCamera, width: int, height: int,
                 poses: Poses):
        self.views, self.camera, self.size, self.poses = views, camera, (width, height), poses
        self.K, self.T_r_c = views.world_pinhole(camera, width, height)
        self.image: np.ndarray | None = None
        self._last_box: tuple[int, int, int, int] | None = None

    def update(self, t_s: float, reference: bool) -> np.ndarray:
        """The world view at ``t_s`` (the robots must already be posed); a view into the
        canvas (copy it to keep it)."""
        from exoactor.report.views import merge_boxes

        w, h = self.size
        path = self.poses.robot_path_so_far(t_s)
        fresh = path[-3:] if path is not None else None
        box = self.views.world_box(self.K, self.T_r_c, w, h, reference=reference, points=fresh)
        draw = None if self.image is None else merge_boxes(box, self._last_box)
        kw = {"reference": reference, "paths": self.poses.paths(t_s),
              "objects": self.poses.objects}
        if draw is None:
            self.image = self.views.world_view(self.camera, w, h, **kw)
        elif draw[1] > draw[0] and draw[3] > draw[2]:
            y0, y1, x0, x1 = draw
            self.image[y0:y1, x0:x1] = self.views.world_view(self.camera, w, h, box=draw, **kw)
        self._last_box = box
        return self.image


def fixed_world_camera(paths_w: Sequence[np.ndarray], aspect: float,
                       elevation_deg: float = -22.0) -> FreeCamera:
    """A fixed camera that keeps every path (and a robot standing on it) in view.

    It looks across the paths' main direction (their principal axis on the ground) from the
    side, at their centre, from far enough that the whole extent fits the horizontal field of
    view with margin.
    """
    pts = np.concatenate([np.asarray(p, dtype=float)[:, :2] for p in paths_w if len(p)])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = 0.5 * (lo + hi)
    d = pts - pts.mean(axis=0)
    axis = np.linalg.svd(d, full_matrices=False)[2][0] if np.ptp(d, axis=0).max() > 1e-3 \
        else np.array([1.0, 0.0])
    along = d @ axis
    extent = float(np.ptp(along)) + 1.2
    half_v = math.radians(WORLD_FOVY_DEG) / 2
    half_h = math.atan(math.tan(half_v) * aspect)
    distance = max(3.0, 1.15 * (extent / 2) / math.tan(half_h) + 0.6,
                   0.8 / math.tan(half_v) + 0.6)
    azimuth = math.degrees(math.atan2(axis[1], axis[0])) + 90.0
    return FreeCamera((float(centre[0]), float(centre[1]), 0.6), distance, azimuth,
                      elevation_deg)
