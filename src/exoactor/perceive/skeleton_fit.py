"""Temporal fit of the skeleton to the 2D landmarks: one set of bone lengths for the clip.

MediaPipe's 3D world landmarks are a template body posed by a network: their bone lengths are
the same for everybody (the torso ~18 % long on the rendered truth body) and their depths
are the network's guess, while its 2D landmarks are accurate to a few pixels. This fit keeps
the 2D and finds the 3D that agrees with it, as one explicit weighted least-squares problem
over the whole clip, solved by Gauss-Newton (Levenberg damping); the normal equations are
block-diagonal over frames but for the clip's bone lengths, which the Schur complement
eliminates (batched dense 99x99 solves: linear in the clip's length):

* **reprojection** of every landmark through the camera ``K``, weighted by its visibility
  weight, with a Cauchy robust loss (iteratively reweighted) for wrong landmarks;
* **constant bone lengths**: each segment of :func:`~exoactor.perceive.filtering.bone_index_pairs`
  has one length for the clip (left and right shared), a free variable; the trunk's sides
  (:data:`GIRDLE_PAIRS`) are held near the prior's vectors instead, unless
  ``rigid_trunk``;
* **bone-length prior**: each length stays near the template's (relative standard deviation);
* **the model's 3D as a prior**: each segment's vector (and the neck and face offsets, which
  are not rigid) stays near MediaPipe's direction; this keeps the front/back choice of every
  bone and the depth where the image says nothing;
* **smoothness**: each landmark stays near its local quadratic trend over time (the
  trend of the previous iterate, a Savitzky-Golay fit: a majorisation of a penalty on
  jitter that keeps every frame's unknowns coupled to the others only through the bone
  lengths);
* **joint limits** (elbows and knees): the hinge's end stays on the side of its parent
  segment that MediaPipe's 3D puts it (no flipping through a straight limb), as a one-sided
  penalty on the distance past the straight line;

The overall size is not observable from one camera (scaling every point about the camera
centre leaves the image unchanged); it stays where the bone-length prior holds it, and the
caller sets it from the stature prior afterwards (:func:`scale_about_camera`).

All arrays are time-major; points are in the camera frame [m], x right, y down, z forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import sparse

from exoactor.perceive.filtering import bone_index_pairs, savgol
from exoactor.skeleton import BODY_33

_N = BODY_33.index
PRIOR_ONLY_PAIRS: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "left_ear"), ("right_shoulder", "right_ear"),
    ("nose", "left_eye_inner"), ("left_eye_inner", "left_eye"), ("left_eye", "left_eye_outer"),
    ("nose", "right_eye_inner"), ("right_eye_inner", "right_eye"),
    ("right_eye", "right_eye_outer"), ("nose", "mouth_left"), ("nose", "mouth_right"),
)
"""Offsets held near MediaPipe's 3D but not rigid (the neck; face points off the bones)."""
GIRDLE_PAIRS: tuple[tuple[str, str], ...] = (("left_shoulder", "left_hip"),
                                              ("right_shoulder", "right_hip"))
"""The trunk's sides: the shoulder landmarks ride on the shoulder girdle, which rises with
the arms (the image's hip-to-shoulder length grows ~10 % when the arms go overhead), so a
rigid side would turn that into a lean in depth. Held near the prior's vector instead,
unless ``SkeletonFitConfig.rigid_trunk``."""


class SkeletonFitConfig(BaseModel):
    """The temporal skeleton fit (:mod:`exoactor.perceive.skeleton_fit`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Fit the skeleton to the 2D landmarks over the clip (else: the model's 3D moved onto
    the view rays with its depths kept)."""
    iterations: int = Field(5, ge=1, le=100)
    """Gauss-Newton iterations."""
    reprojection_sigma_px: float = Field(3.0, gt=0.0)
    """Standard deviation of a landmark's 2D position [px]."""
    robust_scale: float = Field(3.0, gt=0.0)
    """Cauchy loss scale, in units of ``reprojection_sigma_px``: a landmark this far off
    counts half."""
    bone_sigma_m: float = Field(0.005, gt=0.0)
    """How far a bone may stray from its clip length in a frame [m] (small: constant)."""
    length_prior_sd: float = Field(0.15, gt=0.0)
    """Relative standard deviation of each bone length around the template's."""
    direction_sigma_m: float = Field(0.06, gt=0.0)
    """Standard deviation of a segment's vector around MediaPipe's direction (at the fitted
    length) [m]; the prior that sets depth where the image is silent."""
    jitter_sigma_m: float = Field(0.05, gt=0.0)
    """Standard deviation of a landmark about its local quadratic trend over
    ``smooth_window_s`` [m] (the smoothness term)."""
    smooth_window_s: float = Field(0.25, gt=0.0)
    """Window of that trend [s]."""
    trunk_sigma_m: float = Field(0.02, gt=0.0)
    """Standard deviation of each trunk side's vector around the prior's [m] (the prior is
    the upright pose of standing frames)."""
    rigid_trunk: bool = False
    """Hold the trunk's sides (:data:`GIRDLE_PAIRS`) at one length too (else near the
    prior's vectors, their length free)."""
    limit_sigma_m: float = Field(0.01, gt=0.0)
    """Standard deviation of an elbow or knee past its straight line, on the side the model
    does not bend it [m] (one-sided)."""


@dataclass(frozen=True)
class SkeletonFit:
    """Result of :func:`fit_skeleton`.

    Attributes:
        points_c: ``(T, J, 3)`` fitted landmarks, camera frame [m].
        lengths_m: ``(B,)`` the clip's bone lengths, one per pair of
            :func:`~exoactor.perceive.filtering.bone_index_pairs` [m].
        reprojection_px_before: weighted median 2D error of the start [px].
        reprojection_px_after: the same after the fit [px].
        iterations: Gauss-Newton iterations run.
        cost_before: objective at the start.
        cost_after: objective at the end.
    """

    points_c: np.ndarray
    lengths_m: np.ndarray
    reprojection_px_before: float
    reprojection_px_after: float
    iterations: int
    cost_before: float
    cost_after: float


def length_groups(pairs: list[tuple[int, int]], names: tuple[str, ...] = BODY_33
                  ) -> np.ndarray:
    """``(B,)`` group index of each pair: left and right of the same segment share one."""
    keys: dict[tuple[str, str], int] = {}
    out = []
    for a, b in pairs:
        k = tuple(sorted((names[a].replace("right_", "left_"), names[b].replace("right_", "left_"))))
        out.append(keys.setdefault(k, len(keys)))
    return np.array(out)


def _hinges() -> list[tuple[int, int, int]]:
    return [(_N(f"{s}_{a}"), _N(f"{s}_{b}"), _N(f"{s}_{c}")) for s in ("left", "right")
            for a, b, c in (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle"))]


def reprojection_px(points_c: np.ndarray, kp_px: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``(T, J)`` distance [px] between projected points and 2D landmarks."""
    z = np.maximum(points_c[..., 2], 1e-6)
    u = K[0, 0] * points_c[..., 0] / z + K[0, 2]
    v = K[1, 1] * points_c[..., 1] / z + K[1, 2]
    return np.hypot(u - kp_px[..., 0], v - kp_px[..., 1])


def _wmedian(x: np.ndarray, w: np.ndarray) -> float:
    x, w = x.ravel(), w.ravel()
    keep = w > 0
    if not keep.any():
        return float("nan")
    x, w = x[keep], w[keep]
    order = np.argsort(x)
    c = np.cumsum(w[order])
    return float(x[order][np.searchsorted(c, 0.5 * c[-1])])


class _Problem:
    """Residuals and their sparse Jacobian; variables: points ``(T, J, 3)`` then lengths."""

    def __init__(self, model_c: np.ndarray, kp_px: np.ndarray, weight: np.ndarray,
                 K: np.ndarray, fps: float, pairs: list[tuple[int, int]],
                 lengths0: np.ndarray, cfg: SkeletonFitConfig,
                 soft_pairs: list[tuple[int, int]] = ()) -> None:
        T, J, _ = model_c.shape
        self.T, self.J, self.K, self.cfg, self.kp, self.w = T, J, K, cfg, kp_px, weight
        self.pairs = np.array(pairs)
        self.group = length_groups(pairs)
        G = int(self.group.max()) + 1
        self.G = G
        self.L0 = np.array([lengths0[self.group == g].mean() for g in range(G)])
        prior = [(_N(a), _N(b)) for a, b in PRIOR_ONLY_PAIRS] + list(soft_pairs)
        self.dpairs = np.concatenate([self.pairs, np.array(prior)])
        d = model_c[:, self.dpairs[:, 1]] - model_c[:, self.dpairs[:, 0]]
        self.dir = d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
        self.dlen_prior = np.linalg.norm(d[:, len(pairs):], axis=-1)  # (T, prior-only)
        self.dsig = np.full(len(self.dpairs), cfg.direction_sigma_m)
        self.dsig[len(self.dpairs) - len(soft_pairs):] = cfg.trunk_sigma_m
        self.hinges = np.array(_hinges())
        # the side of each hinge's parent line the model bends it to (unit, camera frame)
        self.bend = self._bend_dir(model_c)
        self.nP = T * J * 3
        self.window = max(3, round(cfg.smooth_window_s * fps) | 1)
        self.trend: np.ndarray | None = None
        self.kpw = np.sqrt(np.clip(weight, 0.0, None))

    def _bend_dir(self, P: np.ndarray) -> np.ndarray:
        a, b, c = (P[:, self.hinges[:, i]] for i in range(3))
        u = c - a
        u /= np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-9)
        off = (b - a) - ((b - a) * u).sum(-1, keepdims=True) * u
        n = np.linalg.norm(off, axis=-1, keepdims=True)
        return np.where(n > 0.01, off / np.maximum(n, 1e-9), 0.0)

    def pidx(self, t: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Column of coordinate 0 of point ``j`` at frame ``t``."""
        return (t * self.J + j) * 3

    def residuals(self, P: np.ndarray, L: np.ndarray, robust: np.ndarray | None,
                  jac: bool = True):
        cfg, K, T, J = self.cfg, self.K, self.T, self.J
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        res: list[np.ndarray] = []
        n = 0

        def add(r: np.ndarray, rr=None, cc=None, vv=None) -> None:
            nonlocal n
            res.append(r.ravel())
            if jac:
                rows.append(rr + n)
                cols.append(cc)
                vals.append(vv)
            n += r.size

        tt, jj = np.meshgrid(np.arange(T), np.arange(J), indexing="ij")
        base = self.pidx(tt, jj)  # (T, J)
        # reprojection (2 rows per point)
        X, Y, Z = P[..., 0], P[..., 1], np.maximum(P[..., 2], 1e-3)
        s = self.kpw / cfg.reprojection_sigma_px
        if robust is not None:
            s = s * robust
        ru = s * (K[0, 0] * X / Z + K[0, 2] - self.kp[..., 0])
        rv = s * (K[1, 1] * Y / Z + K[1, 2] - self.kp[..., 1])
        r = np.stack([ru, rv], -1)  # (T, J, 2)
        if jac:
            k = np.arange(T * J) * 2
            fx, fy = K[0, 0], K[1, 1]
            b = base.ravel()
            sv = s.ravel()
            Xv, Yv, Zv = X.ravel(), Y.ravel(), Z.ravel()
            rr = np.concatenate([k, k, k + 1, k + 1])
            cc = np.concatenate([b, b + 2, b + 1, b + 2])
            vv = np.concatenate([sv * fx / Zv, -sv * fx * Xv / Zv ** 2,
                                 sv * fy / Zv, -sv * fy * Yv / Zv ** 2])
            add(r, rr, cc, vv)
        else:
            add(r)
        # bone lengths (1 row per bone and frame)
        a, bb = self.pairs[:, 0], self.pairs[:, 1]
        d = P[:, bb] - P[:, a]  # (T, B, 3)
        nd = np.maximum(np.linalg.norm(d, axis=-1), 1e-9)
        r = (nd - L[self.group]) / cfg.bone_sigma_m
        B = len(self.pairs)
        if jac:
            k = np.arange(T * B)
            u = (d / nd[..., None] / cfg.bone_sigma_m).reshape(-1, 3)
            ca = self.pidx(np.repeat(np.arange(T), B), np.tile(a, T))
            cb = self.pidx(np.repeat(np.arange(T), B), np.tile(bb, T))
            rr = np.concatenate([np.repeat(k, 3), np.repeat(k, 3), k])
            cc = np.concatenate([(cb[:, None] + np.arange(3)).ravel(),
                                 (ca[:, None] + np.arange(3)).ravel(),
                                 self.nP + np.tile(self.group, T)])
            vv = np.concatenate([u.ravel(), -u.ravel(), np.full(T * B, -1.0 / cfg.bone_sigma_m)])
            add(r, rr, cc, vv)
        else:
            add(r)
        # length prior
        r = (L - self.L0) / (cfg.length_prior_sd * self.L0)
        if jac:
            g = np.arange(self.G)
            add(r, g, self.nP + g, 1.0 / (cfg.length_prior_sd * self.L0))
        else:
            add(r)
        # the model's directions (3 rows per segment and frame), linear in the points
        a, bb = self.dpairs[:, 0], self.dpairs[:, 1]
        length = np.concatenate([np.broadcast_to(L[self.group], (T, B)), self.dlen_prior], 1)
        r = (P[:, bb] - P[:, a] - length[..., None] * self.dir) / self.dsig[:, None]
        if jac:
            D = len(self.dpairs)
            inv = np.tile(np.repeat(1.0 / self.dsig, 3), T)
            k = np.arange(T * D * 3)
            ca = self.pidx(np.repeat(np.arange(T), D), np.tile(a, T))
            cb = self.pidx(np.repeat(np.arange(T), D), np.tile(bb, T))
            off = np.tile(np.arange(3), T * D)
            rr = np.concatenate([k, k])
            cc = np.concatenate([np.repeat(cb, 3) + off, np.repeat(ca, 3) + off])
            vv = np.concatenate([inv, -inv])
            add(r, rr, cc, vv)
        else:
            add(r)
        # smoothness: near the previous iterate's local trend (fixed within an iteration)
        if self.trend is not None:
            r = (P - self.trend) / cfg.jitter_sigma_m
            if jac:
                m = T * J * 3
                add(r, np.arange(m), np.arange(m), np.full(m, 1.0 / cfg.jitter_sigma_m))
            else:
                add(r)
        # joint limits: the hinge's middle point not past the straight line (one-sided)
        h = self.hinges
        pa, pb = P[:, h[:, 0]], P[:, h[:, 1]]
        bend = self.bend
        dist = ((pb - pa) * bend).sum(-1)  # distance toward the model's side; < 0: flipped
        r = np.minimum(dist, 0.0) / cfg.limit_sigma_m
        if jac:
            H = len(h)
            active = (dist < 0).ravel()
            k = np.arange(T * H)[active]
            bv = bend.reshape(-1, 3)[active] / cfg.limit_sigma_m
            tH = np.repeat(np.arange(T), H)[active]
            ca = self.pidx(tH, np.tile(h[:, 0], T)[active])
            cb = self.pidx(tH, np.tile(h[:, 1], T)[active])
            rr = np.concatenate([np.repeat(k, 3), np.repeat(k, 3)])
            cc = np.concatenate([(cb[:, None] + np.arange(3)).ravel(),
                                 (ca[:, None] + np.arange(3)).ravel()])
            vv = np.concatenate([bv.ravel(), -bv.ravel()])
            add(r, rr, cc, vv)
        else:
            add(r)
        rvec = np.concatenate(res)
        if not jac:
            return rvec, None
        Jm = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                       np.concatenate(cols))),
                               shape=(n, self.nP + self.G))
        return rvec, Jm


def fit_skeleton(start_c: np.ndarray, model_c: np.ndarray, kp_px: np.ndarray,
                 weight: np.ndarray, K: np.ndarray, fps: float, lengths0: np.ndarray,
                 cfg: SkeletonFitConfig | None = None,
                 pairs: list[tuple[int, int]] | None = None) -> SkeletonFit:
    """Fit ``(T, 33, 3)`` camera-frame landmarks to the 2D ones over the whole clip.

    Args:
        start_c: the start (MediaPipe's 3D placed at the root fit's translation) [m].
        model_c: the model's 3D (camera axes, any origin) whose segment directions are the
            prior [m]; usually ``start_c`` itself.
        kp_px: ``(T, 33, 2)`` 2D landmarks [px] (finite: gaps filled).
        weight: ``(T, 33)`` weight of each 2D landmark (visibility; 0 ignores it).
        K: ``(3, 3)`` camera intrinsics [px].
        fps: frame rate [Hz].
        lengths0: ``(B,)`` template length of each pair of ``pairs`` [m].
        cfg: weights of the objective (default :class:`SkeletonFitConfig`).
        pairs: the rigid segments (default :func:`~exoactor.perceive.filtering.bone_index_pairs`).

    Returns:
        The fitted points and the clip's bone lengths (one per pair, left = right).
    """
    pairs = bone_index_pairs() if pairs is None else pairs
    cfg = cfg or SkeletonFitConfig()
    if not (np.isfinite(start_c).all() and np.isfinite(kp_px).all()):
        raise ValueError("fit_skeleton needs finite start points and 2D landmarks "
                         "(fill the gaps first)")
    lengths0 = np.asarray(lengths0, float)
    girdle = {(_N(a), _N(b)) for a, b in GIRDLE_PAIRS}
    soft = [] if cfg.rigid_trunk else [i for i, p in enumerate(pairs) if tuple(p) in girdle]
    rigid = [i for i in range(len(pairs)) if i not in soft]
    prob = _Problem(model_c, kp_px, weight, K, fps, [pairs[i] for i in rigid], lengths0[rigid],
                    cfg, [pairs[i] for i in soft])
    P = np.array(start_c, dtype=float, copy=True)
    L = prob.L0.copy()
    c = cfg.robust_scale

    def robust_w(P: np.ndarray) -> np.ndarray:
        e = reprojection_px(P, kp_px, K) / (cfg.reprojection_sigma_px * c)
        return np.sqrt(1.0 / (1.0 + e ** 2))  # Cauchy (IRLS weight on the residual)

    def cost(P: np.ndarray, L: np.ndarray, rw: np.ndarray) -> float:
        r, _ = prob.residuals(P, L, rw, jac=False)
        return float(r @ r)

    err0 = reprojection_px(P, kp_px, K)
    prob.trend = savgol(P, prob.window, 2)
    cost0 = cost(P, L, robust_w(P))
    mu = 1e-3
    done = 0
    T, n3 = P.shape[0], P.shape[1] * 3
    for done in range(1, cfg.iterations + 1):  # noqa: B007 (reported)
        rw = robust_w(P)
        prob.trend = savgol(P, prob.window, 2)
        r, Jm = prob.residuals(P, L, rw)
        c_now = float(r @ r)
        blocks, Bt, C, g_p, g_l = _normal_blocks(Jm, r, T, n3)
        eye = np.eye(n3)
        for _ in range(6):
            dP, dL = _schur_step(blocks, Bt, C, g_p, g_l, mu, eye)
            Pn = P + dP.reshape(P.shape)
            Ln = L + dL
            if cost(Pn, Ln, rw) < c_now:
                P, L, mu = Pn, Ln, max(mu / 3, 1e-6)
                break
            mu *= 10
        else:
            break
        if max(np.abs(dP).max(), np.abs(dL).max()) < 1e-5:
            break
    err1 = reprojection_px(P, kp_px, K)
    lengths = np.empty(len(pairs))
    lengths[rigid] = L[prob.group]
    if soft:  # the clip's median, left and right averaged
        sp = np.array([pairs[i] for i in soft])
        lengths[soft] = np.median(np.linalg.norm(P[:, sp[:, 1]] - P[:, sp[:, 0]], axis=-1)).mean()
    return SkeletonFit(points_c=P, lengths_m=lengths, reprojection_px_before=_wmedian(
        err0, weight), reprojection_px_after=_wmedian(err1, weight), iterations=done,
        cost_before=cost0, cost_after=cost(P, L, robust_w(P)))


def _normal_blocks(Jm: sparse.csr_matrix, r: np.ndarray, T: int, n3: int):
    """Per-frame blocks ``(T, n3, n3)`` of J^T J, the frame-length couplings ``(T, n3, G)``,
    the lengths' block ``(G, G)`` and the gradient parts."""
    nP = T * n3
    A = (Jm.T @ Jm).tocoo()
    g = Jm.T @ r
    rows, cols, vals = A.row, A.col, A.data
    pp = (rows < nP) & (cols < nP)
    blocks = np.zeros((T, n3, n3))
    t = rows[pp] // n3
    if (cols[pp] // n3 != t).any():
        raise AssertionError("skeleton fit: frames are coupled outside the bone lengths")
    np.add.at(blocks, (t, rows[pp] % n3, cols[pp] % n3), vals[pp])
    G = Jm.shape[1] - nP
    pl = (rows < nP) & (cols >= nP)
    Bt = np.zeros((T, n3, G))
    np.add.at(Bt, (rows[pl] // n3, rows[pl] % n3, cols[pl] - nP), vals[pl])
    ll = (rows >= nP) & (cols >= nP)
    C = np.zeros((G, G))
    np.add.at(C, (rows[ll] - nP, cols[ll] - nP), vals[ll])
    return blocks, Bt, C, g[:nP].reshape(T, n3), g[nP:]


def _schur_step(blocks: np.ndarray, Bt: np.ndarray, C: np.ndarray, g_p: np.ndarray,
                g_l: np.ndarray, mu: float, eye: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-damped Gauss-Newton step with the bone lengths eliminated (Schur)."""
    diag = np.einsum("tii->ti", blocks)
    A = blocks + mu * (diag[..., None] + 1e-9) * eye
    sol = np.linalg.solve(A, np.concatenate([g_p[..., None], Bt], -1))  # (T, n3, 1+G)
    Ainv_g, Ainv_B = sol[..., 0], sol[..., 1:]
    Cd = C + mu * np.diag(np.diag(C) + 1e-9)
    S = Cd - np.einsum("tig,tih->gh", Bt, Ainv_B)
    rhs = -g_l + np.einsum("tig,ti->g", Bt, Ainv_g)
    dL = np.linalg.solve(S, rhs)
    dP = -(Ainv_g + np.einsum("tig,g->ti", Ainv_B, dL))
    return dP.ravel(), dL


def scale_about_camera(points_c: np.ndarray, factor: float) -> np.ndarray:
    """Points scaled about the camera centre: the image is unchanged, size and depth scale."""
    return np.asarray(points_c) * factor
