"""A mink limit keeping pairs of collision geoms apart (an arm and the body, the two arms).

Like ``mink.CollisionAvoidanceLimit`` (same distance query and normal Jacobian), with one
difference that matters when starting from, or slipping into, a penetrating pose: mink's bound
only stops a pair closer than the margin from getting closer, while this one asks the step to
recover ``gain`` of the missing distance,

    d + ∂d/∂q Δq >= d + gain (d_min - d)        i.e.  -∂d/∂q Δq <= gain (d - d_min),

for every pair closer than the detection distance. Mesh distances are not smooth, so a long
step can still end inside; :meth:`GeomPairsLimit.min_distance` lets the solver check a step and
shorten it.

Pairs whose bounding spheres are farther apart than the threshold asked for are not queried.
"""

from __future__ import annotations

import mink
import mujoco
import numpy as np
from mink.limits.collision_avoidance_limit import compute_contact_normal_jacobian
from mink.limits.limit import Constraint


class GeomPairsLimit(mink.Limit):
    """Linearised minimum distance between the two geoms of every pair.

    Args:
        model: MuJoCo model.
        pairs: ``(P, 2)`` geom ids (pairs of geoms on one body are dropped).
        min_distance_m: distance to keep [m].
        detection_m: pairs closer than this enter the QP [m].
        gain: fraction of the distance error a step may use or must recover, in (0, 1].
    """

    def __init__(self, model: mujoco.MjModel, pairs: np.ndarray,
                 min_distance_m: float = 0.01, detection_m: float = 0.1, gain: float = 0.85):
        self.model = model
        pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
        self.pairs = pairs[model.geom_bodyid[pairs[:, 0]] != model.geom_bodyid[pairs[:, 1]]]
        self.min_distance_m = float(min_distance_m)
        self.detection_m = float(detection_m)
        self.gain = float(gain)
        self.last_min_distance_m = self.detection_m
        """Smallest pair distance [m] found by the last :meth:`compute_qp_inequalities`."""
        self._rsum = model.geom_rbound[self.pairs].sum(axis=1)
        self._fromto = np.empty(6)
        self._normal = np.empty(3)
        self._jac1 = np.empty((3, model.nv))
        self._jac2 = np.empty((3, model.nv))

    def _distances(self, data: mujoco.MjData, threshold_m: float,
                   with_jacobian: bool = False) -> tuple[list[float], list[np.ndarray]]:
        """Distances [m] (capped at the detection distance) of the pairs whose bounding spheres
        are within ``threshold_m``, and, if asked, the distance gradients ``(nv,)`` of those
        closer than the detection distance."""
        diff = data.geom_xpos[self.pairs[:, 0]] - data.geom_xpos[self.pairs[:, 1]]
        idx = np.flatnonzero(np.einsum("ij,ij->i", diff, diff) <= (self._rsum + threshold_m) ** 2)
        dists, grads = [], []
        m, fromto, distmax = self.model, self._fromto, self.detection_m
        for a, b in self.pairs[idx].tolist():
            d = mujoco.mj_geomDistance(m, data, a, b, distmax, fromto)
            dists.append(d)
            if with_jacobian and d < self.detection_m:
                row = compute_contact_normal_jacobian(m, data, a, b, fromto, self._normal,
                                                      self._jac1, self._jac2)
                grads.append(row if d >= 0 else -row)  # witness points swap when penetrating
        return dists, grads

    def min_distance(self, data: mujoco.MjData, below_m: float = 0.0) -> float:
        """Smallest pair distance [m] if some pair is closer than ``below_m`` (at most the
        detection distance), else ``below_m``."""
        return min([below_m, *self._distances(data, below_m)[0]])

    def compute_qp_inequalities(self, configuration: mink.Configuration,
                                dt: float) -> Constraint:
        del dt  # a position constraint
        dists, grads = self._distances(configuration.data, self.detection_m, with_jacobian=True)
        near = np.array([d for d in dists if d < self.detection_m])
        self.last_min_distance_m = float(near.min()) if near.size else self.detection_m
        if not grads:
            return Constraint()
        return Constraint(G=-np.array(grads), h=self.gain * (near - self.min_distance_m))
