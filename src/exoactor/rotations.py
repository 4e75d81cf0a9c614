"""Rotation helpers: a thin wrapper over :class:`scipy.spatial.transform.Rotation`.

Every quaternion here is **wxyz** (scalar first), shape ``(..., 4)``. Conversions to the xyzw
order of some file formats live in :mod:`exoactor.formats` only, through :func:`wxyz_to_xyzw`
and :func:`xyzw_to_wxyz`.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp


def wxyz_to_xyzw(quat_wxyz: np.ndarray) -> np.ndarray:
    """Reorder ``(..., 4)`` quaternions from wxyz to xyzw."""
    return np.roll(np.asarray(quat_wxyz), -1, axis=-1)


def xyzw_to_wxyz(quat_xyzw: np.ndarray) -> np.ndarray:
    """Reorder ``(..., 4)`` quaternions from xyzw to wxyz."""
    return np.roll(np.asarray(quat_xyzw), 1, axis=-1)


def rot(quat_wxyz: np.ndarray) -> Rotation:
    """A scipy ``Rotation`` from wxyz quaternions of shape ``(4,)`` or ``(N, 4)``."""
    return Rotation.from_quat(np.asarray(quat_wxyz, dtype=float), scalar_first=True)


def as_wxyz(r: Rotation) -> np.ndarray:
    """wxyz quaternion(s) of a scipy ``Rotation``, with non-negative w."""
    q = r.as_quat(scalar_first=True, canonical=True)
    return q


def normalize(quat_wxyz: np.ndarray) -> np.ndarray:
    """Unit-normalise ``(..., 4)`` quaternions."""
    q = np.asarray(quat_wxyz, dtype=float)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def continuous(quat_wxyz: np.ndarray) -> np.ndarray:
    """Flip signs along time so consecutive ``(T, 4)`` quaternions have a positive dot product."""
    q = np.array(quat_wxyz, dtype=float)
    for i in range(1, len(q)):
        if np.dot(q[i], q[i - 1]) < 0:
            q[i] = -q[i]
    return q


def quat_apply(quat_wxyz: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Rotate vectors ``(N, 3)`` by quaternions ``(N, 4)`` (or one of either)."""
    return rot(quat_wxyz).apply(vec)


def quat_apply_inverse(quat_wxyz: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Rotate vectors by the inverse of the quaternions (world -> body frame)."""
    return rot(quat_wxyz).apply(vec, inverse=True)


def yaw(quat_wxyz: np.ndarray) -> np.ndarray:
    """Heading angle [rad] about world z of ``(..., 4)`` wxyz quaternions (ZYX Euler yaw)."""
    q = np.asarray(quat_wxyz, dtype=float)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def roll_pitch_yaw(quat_wxyz: np.ndarray) -> np.ndarray:
    """ZYX Euler angles ``(..., 3)`` as (roll, pitch, yaw) [rad]."""
    q = np.asarray(quat_wxyz, dtype=float)
    flat = q.reshape(-1, 4)
    zyx = rot(flat).as_euler("ZYX")
    return zyx[:, ::-1].reshape(*q.shape[:-1], 3)


def yaw_quat(yaw_rad: np.ndarray) -> np.ndarray:
    """wxyz quaternions of pure rotations about z by ``yaw_rad``."""
    h = 0.5 * np.asarray(yaw_rad, dtype=float)
    zeros = np.zeros_like(h)
    return np.stack([np.cos(h), zeros, zeros, np.sin(h)], axis=-1)


def yaw_matrix(yaw_rad: np.ndarray | float) -> np.ndarray:
    """``(..., 3, 3)`` rotations about world z by ``yaw_rad`` [rad]."""
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    zero, one = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1),
                     np.stack([zero, zero, one], -1)], -2)


def heading_frame(yaw_rad: np.ndarray | float) -> np.ndarray:
    """``(..., 2, 2)`` rotation from a heading frame (x forward, y left, on the ground) to world
    xy; its transpose takes world xy vectors into the heading frame."""
    return yaw_matrix(yaw_rad)[..., :2, :2]


def matrix_yaw(R: np.ndarray) -> np.ndarray:
    """Heading [rad] of each ``(..., 3, 3)`` rotation's x axis projected on the ground."""
    return np.arctan2(R[..., 1, 0], R[..., 0, 0])


def circular_mean(angles_rad: np.ndarray) -> float:
    """Mean direction [rad] of angles."""
    a = np.asarray(angles_rad)
    return float(np.arctan2(np.sin(a).mean(), np.cos(a).mean()))


def wrap_angle(angle_rad: np.ndarray) -> np.ndarray:
    """Wrap angles to ``[-pi, pi)``."""
    return (np.asarray(angle_rad) + np.pi) % (2.0 * np.pi) - np.pi


def slerp(times_s: np.ndarray, quat_wxyz: np.ndarray, query_s: np.ndarray) -> np.ndarray:
    """Spherical interpolation of ``(T, 4)`` wxyz quaternions sampled at ``times_s``.

    Query times outside the sample range are clamped to the ends.
    """
    times_s = np.asarray(times_s, dtype=float)
    query = np.clip(np.asarray(query_s, dtype=float), times_s[0], times_s[-1])
    if len(times_s) == 1:
        return np.repeat(normalize(quat_wxyz)[:1], len(query), axis=0)
    return as_wxyz(Slerp(times_s, rot(quat_wxyz))(query))


class SegmentSlerp:
    """Slerp within the segments of a ``(T, 4)`` wxyz quaternion sequence, each segment's
    interpolator built on first use and kept.

    ``SegmentSlerp(q)(i, a)`` equals ``slerp(np.array([0.0, 1.0]), q[[i, i + 1]],
    np.array([a]))[0]`` bit for bit (the same scipy interpolator, built once per segment instead
    of once per call: a tracker samples each segment many times).
    """

    def __init__(self, quat_wxyz: np.ndarray):
        self._quat = np.asarray(quat_wxyz, dtype=float)
        self._segments: dict[int, Slerp] = {}

    def __call__(self, i: int, a: float) -> np.ndarray:
        """``(4,)`` wxyz at fraction ``a`` (clamped to [0, 1]) of the way from sample ``i`` to
        sample ``i + 1``."""
        interp = self._segments.get(i)
        if interp is None:
            interp = self._segments[i] = Slerp(_UNIT_TIMES, rot(self._quat[[i, i + 1]]))
        return as_wxyz(interp(np.clip(np.array([a], dtype=float), 0.0, 1.0)))[0]


_UNIT_TIMES = np.array([0.0, 1.0])


def angular_velocity_w(quat_wxyz: np.ndarray, fps: float) -> np.ndarray:
    """World-frame angular velocity ``(T, 3)`` [rad/s] by central differences.

    Uses ``q[i+1] * q[i-1]^-1`` mapped through the rotation-vector (exp map) over ``2 dt``;
    one-sided differences at the ends.
    """
    r = rot(quat_wxyz)
    n = len(r)
    if n < 2:
        return np.zeros((n, 3))
    dt = 1.0 / fps
    nxt = np.r_[np.arange(1, n), n - 1]
    prv = np.r_[0, np.arange(0, n - 1)]
    span = (nxt - prv) * dt
    rv = (r[nxt] * r[prv].inv()).as_rotvec()
    return rv / span[:, None]


def rotvec(quat_wxyz: np.ndarray) -> np.ndarray:
    """``(..., 3)`` rotation vectors (axis times angle [rad]) of wxyz quaternions."""
    return rot(quat_wxyz).as_rotvec()


def shortest_rotvec(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """``(N, 3)`` rotation vectors of the shortest rotations turning the directions of
    ``(N, 3)`` vectors ``a`` onto those of ``b``: about ``a x b`` by the angle between them.
    Where the two are parallel (``|a x b| <= eps``) or one is zero, no rotation."""
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    angle = np.arctan2(sin, np.sum(np.asarray(a) * b, axis=-1))
    return np.where(sin[:, None] > eps, axis / np.maximum(sin, eps)[:, None] * angle[:, None],
                    0.0)
