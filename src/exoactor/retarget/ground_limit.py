"""A mink limit keeping the robot's soles on the right side of the ground plane z = 0."""

from __future__ import annotations

import mink
import mujoco
import numpy as np
from mink.limits.limit import Constraint


class GroundLimit(mink.Limit):
    """Linearised sole constraints, one foot = one group of sole spheres.

    * every sphere's lowest point stays above the ground: ``h_i + J_z,i Δq >= 0``;
    * a foot marked in contact (:meth:`set_contact`) also comes down: the mean height of its
      spheres' lowest points is at most ``contact_tol_m``,
      ``mean(h) + mean(J_z) Δq <= contact_tol_m``. Together they put its lowest point within
      ``contact_tol_m`` of the ground whatever its tilt.

    Args:
        model: MuJoCo model.
        feet_geom_ids: per foot, its sphere geom ids.
        feet_radii_m: per foot, their radii [m].
        contact_tol_m: highest mean sole height of a contact foot [m].
    """

    def __init__(self, model: mujoco.MjModel, feet_geom_ids: list[np.ndarray],
                 feet_radii_m: list[np.ndarray], contact_tol_m: float = 0.004):
        self.model = model
        self.geom_ids = np.concatenate(feet_geom_ids).astype(int)
        self.radii_m = np.concatenate(feet_radii_m).astype(float)
        self.foot_of = np.concatenate([np.full(len(g), i) for i, g in enumerate(feet_geom_ids)])
        self.body_ids = model.geom_bodyid[self.geom_ids]
        self.contact_tol_m = float(contact_tol_m)
        self.contact = np.zeros(len(feet_geom_ids), dtype=bool)
        self._jac = np.empty((3, model.nv))

    def set_contact(self, contact: np.ndarray) -> None:
        """Which feet ``(n_feet,)`` bool must rest on the ground."""
        self.contact = np.asarray(contact, dtype=bool).copy()

    def violation_m(self, data: mujoco.MjData) -> float:
        """Largest violation [m] of the (non-linearised) sole constraints at ``data`` (0 if
        none)."""
        height = data.geom_xpos[self.geom_ids, 2] - self.radii_m
        worst = max(0.0, float(-height.min()))
        for foot in np.flatnonzero(self.contact):
            worst = max(worst, float(height[self.foot_of == foot].mean()) - self.contact_tol_m)
        return worst

    def compute_qp_inequalities(self, configuration: mink.Configuration,
                                dt: float) -> Constraint:
        del dt  # a position constraint
        data = configuration.data
        n = len(self.geom_ids)
        Jz = np.empty((n, self.model.nv))
        height = data.geom_xpos[self.geom_ids, 2] - self.radii_m
        for i, (g, b) in enumerate(zip(self.geom_ids, self.body_ids)):
            mujoco.mj_jac(self.model, data, self._jac, None, data.geom_xpos[g], int(b))
            Jz[i] = self._jac[2]
        G, h = [-Jz], [height]
        for foot in np.flatnonzero(self.contact):
            sel = self.foot_of == foot
            G.append(Jz[sel].mean(axis=0, keepdims=True))
            h.append(np.array([self.contact_tol_m - height[sel].mean()]))
        return Constraint(G=np.vstack(G), h=np.concatenate(h))
