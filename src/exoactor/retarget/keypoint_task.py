"""A mink task driving many robot points (sites) to world targets at once."""

from __future__ import annotations

import mink
import mujoco
import numpy as np


class KeypointTask(mink.Task):
    """Position task over K sites: error ``site_pos_w - target_w`` stacked as ``(3K',)``.

    Only keypoints with a positive weight enter the task (the others cost nothing to compute).
    The cost of keypoint k is ``cost_per_m * sqrt(weight_k)`` on each coordinate, so its
    squared error is weighted by ``cost_per_m**2 * weight_k``.

    Args:
        model: MuJoCo model holding the sites.
        site_ids: ``(K,)`` site ids.
        cost_per_m: position cost at unit weight [1/m].
        lm_damping: mink's Levenberg-Marquardt damping of the task.
    """

    def __init__(self, model: mujoco.MjModel, site_ids: np.ndarray, cost_per_m: float = 10.0,
                 lm_damping: float = 0.0):
        super().__init__(cost=np.zeros(0), gain=1.0, lm_damping=lm_damping)
        self.model = model
        self.site_ids = np.asarray(site_ids, dtype=int)
        self.cost_per_m = float(cost_per_m)
        self._active = np.zeros(0, dtype=int)
        self._target_w = np.zeros((0, 3))

    def set_target(self, target_w: np.ndarray, weight: np.ndarray) -> None:
        """Targets ``(K, 3)`` in world [m] and weights ``(K,)`` (>= 0; 0 or NaN target = off)."""
        target_w = np.asarray(target_w, dtype=float)
        weight = np.asarray(weight, dtype=float)
        active = np.flatnonzero((weight > 0) & np.isfinite(target_w).all(axis=1))
        self._active = active
        self._target_w = target_w[active]
        self.cost = np.repeat(self.cost_per_m * np.sqrt(weight[active]), 3)

    @property
    def active(self) -> np.ndarray:
        """``(K',)`` indices of the keypoints in the task (the error's rows, 3 each)."""
        return self._active

    def compute_error(self, configuration: mink.Configuration) -> np.ndarray:
        pos = configuration.data.site_xpos[self.site_ids[self._active]]
        return (pos - self._target_w).ravel()

    def compute_jacobian(self, configuration: mink.Configuration) -> np.ndarray:
        jac = np.empty((3 * len(self._active), self.model.nv))
        data = configuration.data
        for row, k in enumerate(self._active):
            mujoco.mj_jacSite(self.model, data, jac[3 * row:3 * row + 3], None,
                              int(self.site_ids[k]))
        return jac
