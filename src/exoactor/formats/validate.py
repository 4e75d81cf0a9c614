"""Validation rules shared by every motion container: shapes, finiteness, unit quaternions."""

from __future__ import annotations

import numpy as np

from exoactor.errors import InvalidMotionFile

QUAT_NORM_TOL = 0.05
"""Largest accepted deviation of a stored quaternion's norm from 1. Smaller deviations are
renormalised: real files of the field drift (TWIST2's ``accad_A3___Swing_t2.pkl`` stores norms of
0.981-0.984); a zero, garbage or mis-ordered quaternion is far outside it."""


def check_array(source: str, field: str, value: object, shape: tuple[int | None, ...],
                finite: bool = True) -> np.ndarray:
    """Return ``value`` as a float array after checking its shape (None = any) and finiteness."""
    if value is None:
        raise InvalidMotionFile(source, field, "is missing")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidMotionFile(source, field, f"is not numeric ({exc})") from None
    want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
    if arr.ndim != len(shape) or any(s is not None and a != s for a, s in zip(arr.shape, shape)):
        raise InvalidMotionFile(source, field, f"has shape {arr.shape}, expected {want}")
    if finite and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidMotionFile(source, field, f"holds NaN/inf at index {tuple(int(i) for i in bad)}",
                                frame=int(bad[0]) if arr.ndim > 1 else None)
    return arr


def check_unit_quat(source: str, field: str, quat: np.ndarray, order: str = "wxyz") -> np.ndarray:
    """Check ``(T, 4)`` quaternions have unit norm; return them renormalised."""
    norm = np.linalg.norm(quat, axis=-1)
    bad = np.flatnonzero(np.abs(norm - 1.0) > QUAT_NORM_TOL)
    if bad.size:
        raise InvalidMotionFile(
            source, field, f"has norm {norm[bad[0]]:.4g}; quaternions must be unit {order}",
            frame=int(bad[0]))
    return quat / norm[:, None]


def check_length(source: str, field: str, arr: np.ndarray, length: int) -> None:
    if arr.shape[0] != length:
        raise InvalidMotionFile(source, field,
                                f"has {arr.shape[0]} frames but the motion has {length}")


def check_fps(source: str, fps: object) -> float:
    try:
        value = float(fps)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidMotionFile(source, "fps", f"is {fps!r}, not a number") from None
    if not np.isfinite(value) or value <= 0:
        raise InvalidMotionFile(source, "fps", f"is {value}; must be a positive frame rate [Hz]")
    return value
