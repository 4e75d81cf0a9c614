"""Retarget stage: :class:`~exoactor.formats.HumanMotion` → G1 :class:`~exoactor.formats.RobotMotion`.

Differential IK with mink on the robot's MJCF (:mod:`.ik`), swept over the clip with arm restarts
that leave a wrong IK branch (:mod:`.sweep`), a typed keypoint → body
correspondence (:mod:`.correspondence`), per-segment scaling (:mod:`.scaling`), feet pinned flat
on the ground while in contact (:mod:`.contacts`), Dex3-1 hand joints (:mod:`.hands`), input
repair (:mod:`.repair`) and metrics (:mod:`.metrics`).

Entry points: :func:`retarget` (in memory) and :func:`retarget_file` (``HUMAN.npz`` →
``ROBOT.npz`` + ``retarget_metrics.json``). Importing this package loads neither MuJoCo nor mink
(the IK imports mink through :func:`exoactor.mink_loader.import_mink`, which keeps JAX out).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "RetargetConfig": "exoactor.retarget.config",
    "RetargetResult": "exoactor.retarget.api",
    "RetargetMetrics": "exoactor.retarget.metrics",
    "retarget": "exoactor.retarget.api",
    "retarget_file": "exoactor.retarget.api",
    "METRICS_FILE": "exoactor.retarget.api",
    "human_from_robot": "exoactor.retarget.groundtruth",
    "compare_motions": "exoactor.retarget.groundtruth",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'exoactor.retarget' has no attribute {name!r}")
    return getattr(import_module(module), name)
