"""Validation rules shared by every motion container: shapes, finiteness, unit quaternions."""

from __future__ import annotations

import logging

import numpy as np

from exoactor.errors import InvalidMotionFile

logger = logging.getLogger(__name__)

QUAT_NORM_RANGE = (0.5, 1.5)
"""Stored quaternion norms accepted and renormalised (with one warning). Real files of the field
drift far from 1: a GMT motion stores 0.947-0.987, TWIST2's ``accad_A3___Swing_t2.pkl``
0.981-0.984. A zero or garbage quaternion falls outside this band and stays an error."""

QUAT_WARN_TOL = 1e-3
"""Deviation of a norm from 1 above which the renormalisation is logged (float32 rounding stays
silent)."""

QUAT_UNIT_TOL = 4 * np.finfo(np.float64).eps
"""Deviation of a norm from 1 within which a quaternion is already unit and kept bit for bit.
A division by the norm lands within a few ulp of 1, not always on it, so renormalising every
row again would change the last bits of a motion each time it is built or loaded, and with them
its content key (the filter's memo of ``control.filter.memo`` missed on a seated clip for one
1-ulp row). Kept rows make the check idempotent: a second pass changes nothing."""


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
    """Return ``(T, 4)`` quaternions renormalised to unit norm.

    Rows already unit to :data:`QUAT_UNIT_TOL` are returned unchanged (so the check is
    idempotent); norms inside :data:`QUAT_NORM_RANGE` are renormalised, with one warning naming the file,
    ``field`` (as the file calls it), the worst frame and its norm when any deviates from 1 by
    more than :data:`QUAT_WARN_TOL`. Norms outside it (zero, garbage) raise.

    Args:
        source: the file, for messages.
        field: the quaternions' name in that file (e.g. ``"root_rot"``, ``"columns 4-7"``).
        quat: ``(T, 4)`` finite quaternions, in the file's component order.
        order: that order (``"wxyz"`` or ``"xyzw"``), for messages.
    """
    norm = np.linalg.norm(quat, axis=-1)
    lo, hi = QUAT_NORM_RANGE
    bad = np.flatnonzero((norm < lo) | (norm > hi))
    if bad.size:
        i = int(bad[0])
        raise InvalidMotionFile(
            source, field, f"has norm {norm[i]:.4g} ({order} {np.round(quat[i], 4).tolist()}); "
            f"a rotation quaternion ({order}) needs a norm near 1 ({lo}-{hi} is renormalised)",
            frame=i)
    if norm.size:
        dev = np.abs(norm - 1.0)
        worst = int(np.argmax(dev))
        if dev[worst] > QUAT_WARN_TOL:
            logger.warning("%s: field '%s' (%s) holds non-unit quaternions, norms %.4g-%.4g "
                           "(worst frame %d, norm %.4g); normalised them", source, field, order,
                           norm.min(), norm.max(), worst, norm[worst])
    keep = np.abs(norm - 1.0) <= QUAT_UNIT_TOL
    return np.where(keep[:, None], quat, quat / norm[:, None])


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
