"""Putting a static camera's clip in the world: stature, planted feet, the depth cap of the
view-ray step, and the pelvis orientation.

Pure functions on time-major arrays (``(T, 33, ...)`` :data:`~exoactor.skeleton.BODY_33`
landmarks). Camera frame ``_c``: x right, y down, z forward [m]; world ``_w``: z up [m];
pixels ``_px``.

* **Stature** (:func:`stature_posterior_m`): the pose model's bone lengths imply a stature,
  but MediaPipe's world landmarks are close to one template for every adult, so that figure
  carries little information. It is combined with an adult prior (a Gaussian) in the usual
  precision-weighted way; the whole relative skeleton is then scaled by the result, and the
  depth follows (a person small in the frame is far away, not small).
* **Planted feet** (:func:`planted_feet_2d`): a foot whose image position does not move is on
  the ground (the camera is static). The 2D detections are far steadier than the depth of a
  monocular 3D model, so this decides when the root fit must keep a foot still in the scene:
  the root's translation, not the foot, then absorbs the changes of the body's apparent size
  (arms raised, a turn), and a person standing in place stays in place.
* **Contact-anchored root trajectory** (:func:`anchored_shift_w`, :func:`planted_trend`): a
  foot planted in the image and in contact does not slide, so each planted run of a foot
  is held at one point of the world; the person (and the camera with them, so the image is
  unchanged) shifts horizontally to keep it there. What that removes is what the root fit
  cannot tell from the person moving: depth errors from the body's apparent size and camera
  translation (a dolly; rotation is compensated upstream). Over a planted run a foot's
  position relative to the hips is taken as a smooth trend (the body moving over the
  foot), not the pose model's noisy depth of it, and it is held more loosely in depth
  (along the camera's horizontal viewing direction) than across the image.
* **Depth cap** (:func:`cap_depth_change`): moving landmarks onto their view rays and
  restoring bone lengths turns bones out of the image plane when their image length is a
  little short; the change of each landmark's depth relative to the hip centre is capped.
* **Hidden legs** (:func:`legs_seen`, :func:`unseen_leg_weight`, :func:`hang_unseen_legs_c`):
  a leg whose knee and ankle the camera does not see (behind a table) is the pose model's
  guess; it is no evidence of planted feet, and it stands under its hip.
* **Upright prior** (:func:`standing_weight`, :func:`upright_trunk_c`,
  :func:`straighten_knees_c`): in frames where the actor stands, the pose model's lean in
  depth of trunk and legs and its bent knees are removed, every landmark sliding along its
  view ray (the image is unchanged).
* **Pelvis** (:func:`pelvis_quat_w`): yaw and roll from the hips; pitch from the trunk only
  beyond what the lumbar spine takes (lumbopelvic rhythm), so a trunk leaning a few degrees
  (or a pose model's lean) does not pitch the root.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from exoactor.rotations import as_wxyz, continuous, shortest_rotvec
from exoactor.signals import runs
from exoactor.skeleton import BODY_33

_I = BODY_33.index
HIPS = (_I("left_hip"), _I("right_hip"))
SHOULDERS = (_I("left_shoulder"), _I("right_shoulder"))
FEET: tuple[tuple[int, int, int], ...] = tuple(
    (_I(f"{s}_ankle"), _I(f"{s}_heel"), _I(f"{s}_foot_index")) for s in ("left", "right"))
"""Ankle, heel and toe of the left and right foot."""
ARM_POINTS: tuple[int, ...] = tuple(
    _I(f"{s}_{p}") for s in ("left", "right")
    for p in ("elbow", "wrist", "pinky", "index", "thumb"))
"""Landmarks that move with the arms (not the shoulders)."""


def stature_posterior_m(measured_m: float, prior_m: float = 1.70, prior_sd_m: float = 0.09,
                        measure_sd_m: float = 0.15) -> float:
    """Stature [m]: the precision-weighted mean of a measurement and a Gaussian prior.

    Args:
        measured_m: the stature the bone lengths imply [m] (NaN or <= 0: the prior alone).
        prior_m, prior_sd_m: mean and standard deviation of the prior [m].
        measure_sd_m: standard deviation of the measurement [m].
    """
    if not np.isfinite(measured_m) or measured_m <= 0:
        return float(prior_m)
    wp, wm = prior_sd_m ** -2, measure_sd_m ** -2
    return float((wp * prior_m + wm * measured_m) / (wp + wm))


def planted_feet_2d(kp_px: np.ndarray, valid: np.ndarray, fps: float, speed: float = 0.02,
                    min_s: float = 0.1, seen: np.ndarray | None = None) -> np.ndarray:
    """``(T, 2)`` bool, each foot (left, right) still in the image.

    A foot's image position is the mean of its ankle, heel and toe; it is still when it moves
    by less than ``speed`` times the actor's image height (median landmark-box height) per
    0.1 s, measured by a central difference over about 0.1 s. Runs shorter than ``min_s``
    are dropped; invalid frames are never planted.

    Args:
        kp_px: ``(T, 33, 2)`` smoothed, gap-filled landmarks [px].
        valid: ``(T,)`` frames with a detection.
        fps: frame rate [Hz].
        speed: threshold [image heights per 0.1 s].
        min_s: shortest planted run [s].
        seen: ``(T, 33)`` bool, landmarks the camera sees; a foot is planted only in frames
            where its leg is seen (:func:`legs_seen`: a hidden leg's image position is the
            pose model's guess, which holds still while the guessed leg swings in depth).
            None: all.
    """
    T = len(kp_px)
    out = np.zeros((T, 2), dtype=bool)
    leg_seen = None if seen is None else legs_seen(seen)
    if T < 3 or not valid.any():
        return out
    height = np.nanmedian(np.nanmax(kp_px[valid, :, 1], 1) - np.nanmin(kp_px[valid, :, 1], 1))
    if not np.isfinite(height) or height <= 0:
        return out
    h = max(1, round(0.05 * fps))
    per_01s = 0.1 * fps / (2 * h)
    n_min = max(1, round(min_s * fps))
    for f, idx in enumerate(FEET):
        p = kp_px[:, list(idx)].mean(1)
        lo, hi = np.clip(np.arange(T) - h, 0, T - 1), np.clip(np.arange(T) + h, 0, T - 1)
        span = (hi - lo) / (2 * h)  # shorter at the ends
        d = np.linalg.norm(p[hi] - p[lo], axis=-1) * per_01s / np.maximum(span, 1e-9)
        still = valid & (d < speed * height)
        if leg_seen is not None:
            still &= leg_seen[:, f]
        for a, b in runs(still):
            if b - a >= n_min:
                out[a:b, f] = True
    return out


def cap_depth_change(points_c: np.ndarray, reference_c: np.ndarray, cap_m: float
                     ) -> np.ndarray:
    """``(T, J, 3)`` points whose depth relative to the hip centre differs from the
    reference's by at most ``cap_m`` [m]; each moved point keeps its pixel (it slides along
    its view ray)."""
    root = points_c[:, list(HIPS)].mean(1, keepdims=True)
    root_ref = reference_c[:, list(HIPS)].mean(1, keepdims=True)
    d = points_c[..., 2] - root[..., 2]
    d_ref = reference_c[..., 2] - root_ref[..., 2]
    z_new = root[..., 2] + d_ref + np.clip(d - d_ref, -cap_m, cap_m)
    z_new = np.maximum(z_new, 0.05)
    s = z_new / np.where(np.abs(points_c[..., 2]) < 1e-9, 1e-9, points_c[..., 2])
    return points_c * s[..., None]


def pelvis_quat_w(joints_w: np.ndarray, lumbar_deg: tuple[float, float] = (15.0, 30.0)
                  ) -> np.ndarray:
    """``(T, 4)`` wxyz pelvis orientation (x forward, y left, z up) from world landmarks.

    y: from the right to the left hip. z: world up made perpendicular to y, then pitched
    forward (about y) by the trunk's flexion beyond ``lumbar_deg[1]`` or back by its
    extension beyond ``lumbar_deg[0]`` (the trunk: hip centre to shoulder centre). x = y x z.
    """
    left = joints_w[:, HIPS[0]] - joints_w[:, HIPS[1]]
    y = left / np.maximum(np.linalg.norm(left, axis=-1, keepdims=True), 1e-9)
    up = np.array([0.0, 0.0, 1.0])
    u = up - (y @ up)[:, None] * y
    u /= np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-9)
    fwd = np.cross(y, u)
    spine = joints_w[:, list(SHOULDERS)].mean(1) - joints_w[:, list(HIPS)].mean(1)
    flex = np.arctan2(np.sum(spine * fwd, -1), np.sum(spine * u, -1))
    ext_max, flex_max = np.radians(lumbar_deg[0]), np.radians(lumbar_deg[1])
    pitch = flex - np.clip(flex, -ext_max, flex_max)
    z = np.cos(pitch)[:, None] * u + np.sin(pitch)[:, None] * fwd
    x = np.cross(y, z)
    return continuous(as_wxyz(Rotation.from_matrix(np.stack([x, y, z], -1))))


def standing_weight(joints_c: np.ndarray, valid: np.ndarray, fps: float,
                    max_bend_deg: float = 35.0, smooth_s: float = 0.3,
                    max_model_bend_deg: float = 60.0) -> np.ndarray:
    """``(T,)`` weight in [0, 1] of the frames where the actor stands: knees bent less than
    ``max_bend_deg`` and the trunk within ``max_bend_deg`` of the legs' line; a moving
    average over ``smooth_s`` so that it ramps.

    The knees' bend is judged on the straightest leg the image allows (each knee slid along
    its view ray toward its hip-ankle line, :func:`straighten_knees_c`): seen from the front a
    knee's bend is depth, which the pose model gets worst (it bends standing knees by 15-40
    deg), and a threshold on that depth would switch the upright prior on and off while the
    actor stands still (the pelvis then wanders in depth over planted feet). The model's own
    bend must still be below ``max_model_bend_deg`` (a seated or squatting knee, ~90 deg,
    whose 2D can also lie on the hip-ankle line when seen from the front).
    """
    def ang(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        c = np.sum(a * b, -1) / np.maximum(np.linalg.norm(a, axis=-1)
                                           * np.linalg.norm(b, axis=-1), 1e-12)
        return np.arccos(np.clip(c, -1.0, 1.0))

    lim = np.radians(max_bend_deg)
    hip = joints_c[:, list(HIPS)].mean(1)
    sh = joints_c[:, list(SHOULDERS)].mean(1)
    ank = joints_c[:, [FEET[0][0], FEET[1][0]]].mean(1)
    ok = valid & (ang(sh - hip, hip - ank) < lim)
    straight = straighten_knees_c(joints_c, np.ones(len(joints_c)))
    for h, (a, _, _) in zip(HIPS, FEET, strict=True):
        k = _I("left_knee") if h == HIPS[0] else _I("right_knee")
        for P, limit in ((straight, lim), (joints_c, np.radians(max_model_bend_deg))):
            ok &= ang(P[:, k] - P[:, h], P[:, a] - P[:, k]) < limit
    from scipy.ndimage import uniform_filter1d

    n = max(1, min(round(smooth_s * fps), len(ok)))
    return uniform_filter1d(ok.astype(float), n, mode="nearest")


def upright_trunk_c(joints_c: np.ndarray, up_c: np.ndarray, weight: np.ndarray,
                    max_lean_deg: tuple[float, float] = (25.0, 35.0)) -> np.ndarray:
    """Remove ``weight`` ``(T,)`` of the lean toward / away from the camera of the trunk (hip
    centre -> shoulder centre) and of the legs (ankle centre -> hip centre).

    A lean is the axis's component along the horizontal viewing direction of the hips per
    unit of height. Only a lean up to ``max_lean_deg[0]`` is removed in full, none beyond
    ``max_lean_deg[1]`` (linear between): a larger lean is the person's, not the model's.
    Every landmark above the hips (face, shoulders, arms, hands) moves by the trunk's shear,
    every one below by the legs', in proportion to its height above or below the hip centre;
    each slides along its view ray, so the image is unchanged.
    """
    P = np.array(joints_c, dtype=float, copy=True)
    up = np.asarray(up_c, dtype=float)
    hip = P[:, list(HIPS)].mean(1)
    v = hip / np.maximum(np.linalg.norm(hip, axis=-1, keepdims=True), 1e-9)
    h = v - (v @ up)[:, None] * up
    h /= np.maximum(np.linalg.norm(h, axis=-1, keepdims=True), 1e-9)
    full, none = np.tan(np.radians(max_lean_deg[0])), np.tan(np.radians(max_lean_deg[1]))
    ankles = P[:, [FEET[0][0], FEET[1][0]]].mean(1)
    upper = np.arange(HIPS[0])
    lower = np.arange(HIPS[0], P.shape[1])
    for idx, axis in ((upper, P[:, list(SHOULDERS)].mean(1) - hip), (lower, hip - ankles)):
        lean = np.sum(axis * h, -1) / np.maximum(axis @ up, 1e-3)  # offset per metre of height
        # a small lean is the model's error; a large one is the person's (a bend)
        w = weight * np.clip((none - np.abs(lean)) / (none - full), 0.0, 1.0)
        rise = (P[:, idx] - hip[:, None]) @ up  # (T, n), negative below the hips
        shift = -(w * lean)[:, None] * rise  # wanted change along h [m]
        r = P[:, idx] / np.maximum(np.linalg.norm(P[:, idx], axis=-1, keepdims=True), 1e-9)
        along = np.sum(r * h[:, None], -1)
        ok = np.abs(along) > 0.2
        ds = np.where(ok, shift / np.where(ok, along, 1.0), 0.0)
        P[:, idx] += ds[..., None] * r
    return P


def legs_seen(seen: np.ndarray) -> np.ndarray:
    """``(T, 2)`` bool, each leg (left, right) seen: its knee or its ankle is. (A leg whose
    knee and ankle are both unseen is hidden, e.g. behind a table; one landmark briefly
    unseen, an ankle behind the other leg in a squat, does not hide the leg.)"""
    seen = np.asarray(seen, dtype=bool)
    return np.stack([seen[:, _I(f"{s}_knee")] | seen[:, _I(f"{s}_ankle")]
                     for s in ("left", "right")], 1)


def unseen_leg_weight(seen: np.ndarray, fps: float, smooth_s: float = 0.3) -> np.ndarray:
    """``(T, 2)`` weight in [0, 1] of the frames where each leg (left, right) is hidden
    (:func:`legs_seen`); a moving average over ``smooth_s`` so that it ramps."""
    from scipy.ndimage import uniform_filter1d

    out = (~legs_seen(seen)).astype(float)
    n = max(1, min(round(smooth_s * fps), len(out)))
    return uniform_filter1d(out, n, axis=0, mode="nearest")


def hang_unseen_legs_c(joints_c: np.ndarray, up_c: np.ndarray, weight: np.ndarray
                       ) -> np.ndarray:
    """Turn each leg (knee, ankle, heel, toe) about its hip by ``weight`` ``(T, 2)`` (left,
    right) of the way to hip-above-ankle along ``up_c``: the standing prior for legs the
    camera does not see.

    A leg hidden behind furniture is the pose model's guess. Seen from the front, a person
    leaning on a table has legs that MediaPipe turns 60-80 deg toward the camera (it guesses a
    seated or kneeling pose once the trunk leans), which lifts the feet 0.3-0.4 m off the
    floor and makes the leaning frames pass for straight ones. The image says nothing of such
    legs, so they are taken as standing: each rotated rigidly (its bend and foot kept) so
    that the ankle is below the hip. The rotation is the shortest one, scaled by the weight.
    (A person sitting behind a desk with the legs hidden throughout is then perceived
    standing.)
    """
    P = np.array(joints_c, dtype=float, copy=True)
    down = -np.asarray(up_c, dtype=float) / np.linalg.norm(up_c)
    for f, s in enumerate(("left", "right")):
        w = np.asarray(weight, dtype=float)[:, f]
        if not np.any(w > 0):
            continue
        hip = P[:, _I(f"{s}_hip")]
        chain = [_I(f"{s}_knee"), *FEET[f]]
        leg = P[:, FEET[f][0]] - hip
        leg /= np.maximum(np.linalg.norm(leg, axis=-1, keepdims=True), 1e-9)
        R = Rotation.from_rotvec(shortest_rotvec(leg, down, 1e-9) * w[:, None]).as_matrix()
        P[:, chain] = hip[:, None] + np.einsum("tij,tkj->tki", R, P[:, chain] - hip[:, None])
    return P


def straighten_knees_c(joints_c: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Move each knee along its view ray toward the line from its hip to its ankle, by
    ``weight`` ``(T,)`` of the way (the image is unchanged).

    Seen from the front, a knee's bend is depth, which the pose model gets worst: it bends
    the knees of people standing straight by 15-35 deg. In frames where the actor stands
    (``weight``), the leg is taken as straight as the image allows.
    """
    P = np.array(joints_c, dtype=float, copy=True)
    for s in ("left", "right"):
        hip, knee, ankle = P[:, _I(f"{s}_hip")], P[:, _I(f"{s}_knee")], P[:, _I(f"{s}_ankle")]
        r = knee / np.maximum(np.linalg.norm(knee, axis=-1, keepdims=True), 1e-9)
        e = ankle - hip
        e /= np.maximum(np.linalg.norm(e, axis=-1, keepdims=True), 1e-9)
        # closest point of the ray s*r to the line hip + u*e
        b = np.sum(r * e, -1)
        d = np.sum(r * hip, -1)
        f = np.sum(e * hip, -1)
        den = 1.0 - b * b
        ok = den > 1e-6
        s_ray = np.where(ok, (d - b * f) / np.where(ok, den, 1.0), np.linalg.norm(knee, axis=-1))
        target = s_ray[:, None] * r
        w = np.where(ok & (s_ray > 0), weight, 0.0)[:, None]
        P[:, _I(f"{s}_knee")] = (1 - w) * knee + w * target
    return P


def anchored_shift_w(feet_w: np.ndarray, planted: np.ndarray, fps: float,
                     anchor_sigma_m: float | tuple[float, float] = 0.02,
                     accel_sigma_m_s2: float = 2.0, speed_sigma_m_s: float = 0.1,
                     start: int = 0, axes_w: np.ndarray | None = None) -> np.ndarray:
    """``(T, 2)`` horizontal shift [m] of the whole scene (person and camera together, so the
    image is unchanged) that keeps planted feet where they were put down.

    One linear least-squares problem over the clip, per horizontal axis. Unknowns: the shift
    ``d(t)`` of every frame and one anchor ``a_r`` per planted run ``r`` of a foot (a foot
    does not slide while it bears weight). Residuals:

    * anchor: ``(foot(t) + d(t) - a_r) / anchor_sigma_m`` for every frame of run ``r`` — one
      point per run, not a chain of frame-to-frame changes, so a slow drift cannot
      accumulate;
    * smoothness: the shift's acceleration over ``accel_sigma_m_s2`` and its speed over
      ``speed_sigma_m_s``: between planted runs (a step, a flight) the shift holds, and a
      real step (the foot lifted, put down elsewhere) moves the person because it starts a
      new anchor.

    What the shift removes is the image motion of planted feet that the body's fitted
    position cannot explain as standing still: depth errors from the body's apparent size
    (arms raised lengthen the 2D body) and camera translation (the background's rotation is
    compensated upstream, a dolly or crane is not). ``d(start)`` is 0 (the world origin is
    where the person stood at the first detection).

    The anchor residual's spread may differ along two horizontal axes (``axes_w``): a
    monocular pose model places a foot relative to the hips far worse in depth than across
    the image, so along the camera's horizontal viewing direction the anchor trusts the foot
    less and the root fit's own placement more.

    Args:
        feet_w: ``(T, 2, 2)`` horizontal position of each foot (left, right) [m].
        planted: ``(T, 2)`` bool, the foot bears weight and stays put.
        fps: frame rate [Hz].
        anchor_sigma_m: expected spread of a planted foot's point about its anchor [m]
            (heel and toe rolls, landmark noise); a pair: along the two rows of ``axes_w``.
        accel_sigma_m_s2: expected acceleration of the shift [m/s^2].
        speed_sigma_m_s: expected speed of the shift [m/s].
        start: the frame whose shift is zero.
        axes_w: ``(2, 2)`` orthonormal horizontal axes (rows) that a pair of
            ``anchor_sigma_m`` refers to; None: the world's x and y.
    """
    T = len(feet_w)
    feet_runs = [(f, a, b) for f in range(planted.shape[1]) for a, b in runs(planted[:, f])]
    if T < 3 or not feet_runs:
        return np.zeros((T, 2))
    sigma = np.broadcast_to(np.asarray(anchor_sigma_m, dtype=float), (2,))
    axes = np.eye(2) if axes_w is None else np.asarray(axes_w, dtype=float)
    if not np.allclose(axes @ axes.T, np.eye(2), atol=1e-6):
        raise ValueError(f"axes_w must be orthonormal rows, got {axes.tolist()}")
    along = feet_w @ axes.T  # (T, 2 feet, 2 axes)
    out = np.stack([_anchored_shift_1d(along[..., k], feet_runs, fps, float(sigma[k]),
                                       accel_sigma_m_s2, speed_sigma_m_s, start)
                    for k in range(2)], 1)
    return out @ axes


def _anchored_shift_1d(feet: np.ndarray, feet_runs: list[tuple[int, int, int]], fps: float,
                       anchor_sigma_m: float, accel_sigma_m_s2: float,
                       speed_sigma_m_s: float, start: int) -> np.ndarray:
    """``(T,)`` shift along one axis for :func:`anchored_shift_w` (``feet``: ``(T, 2)``)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    T = len(feet)
    n = T + len(feet_runs)
    rows, cols, vals = [], [], []
    r0 = 0
    sa = 1.0 / anchor_sigma_m
    rhs_parts = []
    for k, (f, a, b) in enumerate(feet_runs):
        t = np.arange(a, b)
        rr = r0 + np.arange(len(t))
        rows += [rr, rr]
        cols += [t, np.full(len(t), T + k)]
        vals += [np.full(len(t), sa), np.full(len(t), -sa)]
        rhs_parts.append(-sa * feet[t, f])
        r0 += len(t)
    s = 1.0 / (accel_sigma_m_s2 / fps ** 2)
    t = np.arange(1, T - 1)
    rr = r0 + np.arange(len(t))
    for off, v in ((-1, s), (0, -2 * s), (1, s)):
        rows.append(rr)
        cols.append(t + off)
        vals.append(np.full(len(t), v))
    r0 += len(t)
    s = 1.0 / (speed_sigma_m_s / fps)
    t = np.arange(1, T)
    rr = r0 + np.arange(len(t))
    for off, v in ((-1, -s), (0, s)):
        rows.append(rr)
        cols.append(t + off)
        vals.append(np.full(len(t), v))
    r0 += len(t)
    rows.append(np.array([r0]))  # the gauge: d(start) = 0
    cols.append(np.array([start]))
    vals.append(np.array([1e3]))
    r0 += 1
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(r0, n))
    rhs = np.zeros(r0)
    anchor_rhs = np.concatenate(rhs_parts)
    rhs[:len(anchor_rhs)] = anchor_rhs
    out = spsolve((A.T @ A).tocsc(), A.T @ rhs)[:T]
    return out - out[start]


def planted_trend(x: np.ndarray, planted: np.ndarray, order: int = 2) -> np.ndarray:
    """``(T, D)`` copy of ``x`` with each planted run (``(T,)`` bool) replaced by its
    least-squares polynomial of ``order`` in time (a short run: of its length - 1)."""
    out = np.array(x, dtype=float, copy=True)
    for a, b in runs(planted):
        t = np.arange(b - a, dtype=float)
        k = min(order, b - a - 1)
        if k < 1:
            continue
        V = np.vander(t / max(t[-1], 1.0), k + 1)
        coef, *_ = np.linalg.lstsq(V, out[a:b], rcond=None)
        out[a:b] = V @ coef
    return out
