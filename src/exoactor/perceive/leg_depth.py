"""Which way each leg bone points in depth: the choice a standing body's balance makes.

One camera sees each bone's direction only up to the sign of its depth: a thigh reaching toward
the camera and one reaching away from it draw the same line in the image. The pose model picks
a sign for every bone, and where its guess is wrong the body it builds is one no person could
hold. Measured on the rendered frontal lift (``lift_config(azimuth_deg=0)``, 96 frames): in the
squat MediaPipe's 3D sends the knees 0.16-0.29 m *behind* the hips (truth: 0.38 m in front) and
the ankles 0.56-0.65 m behind, so the centre of mass of the standing person ends up to 0.64 m
outside the support of their planted feet in 32 of 96 frames (truth: never).

This step picks, for every frame, whether each thigh and each shank keeps the model's depth
sign or takes the other one, as one explicit cost minimised over the clip (a Viterbi pass over
the 16 combinations of the four bones):

* **balance**, in frames where both feet are planted in the image (a static stance, so no
  dynamic move can hold the centre of mass outside the feet): the squared horizontal distance
  of the whole-body centre of mass (:func:`~exoactor.skeleton.centre_of_mass_w`, de Leva's
  segment masses) *ahead of* the foremost foot point along the hips' facing direction, beyond a
  margin (:func:`com_ahead_of_feet_m`; behind the feet is what a seat carries, so it is free);
* **joint limits**: a hip extended further than ``hip_extension_max_deg`` behind the trunk or
  a knee bent forward (hyperextended) further than ``knee_hyperextension_max_deg``, each a
  squared excess; this is what keeps a seated person seated (the thighs of a seated person
  flipped backward under an upright trunk would be extended 90 deg);
* **the model's choice**: flipping a bone costs its depth change (twice its vector's component
  along the view ray) plus a floor, so a bone seen end-on flips only when balance or a joint
  limit asks for it, and one seen side-on is never flipped for nothing;
* **symmetry**: a flip that makes the left and right thighs (or shanks) differ more in depth
  than the model has them costs that difference (bones the image draws alike point alike);
* **continuity**: changing a bone's choice between two frames costs the jump it makes.

A flipped bone is the model's vector mirrored about the plane perpendicular to its view ray
(its image line kept to first order); the bones below it keep their own vectors, so the foot
follows. The temporal skeleton fit that runs next takes this pose as its prior of the
segments' directions and puts every landmark back on its 2D observation.

Pure functions on camera-frame arrays (x right, y down, z forward) [m].
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.skeleton import BODY_33, centre_of_mass_w

_I = BODY_33.index
LEGS: tuple[tuple[int, int, int, tuple[int, ...]], ...] = tuple(
    (_I(f"{s}_hip"), _I(f"{s}_knee"), _I(f"{s}_ankle"), (_I(f"{s}_heel"), _I(f"{s}_foot_index")))
    for s in ("left", "right"))
"""Hip, knee, ankle and the foot points below the ankle, left then right."""
BONES: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (1, 0), (1, 1))
"""The four bones a choice is made for: (leg, 0 = thigh / 1 = shank)."""
BONE_NAMES = ("left_thigh", "left_shank", "right_thigh", "right_shank")
STATES = np.array(list(itertools.product((False, True), repeat=len(BONES))))
"""``(16, 4)`` every combination of flips (left thigh, left shank, right thigh, right shank);
row 0 is the model's pose."""


def _bone(b: int) -> tuple[int, int, list[int]]:
    """Bone ``b`` of :data:`BONES`: its top and bottom landmarks and every landmark below
    its top (what moves when it flips)."""
    leg, seg = BONES[b]
    hip, knee, ankle, foot = LEGS[leg]
    return (hip, knee, [knee, ankle, *foot]) if seg == 0 else (knee, ankle, [ankle, *foot])


_SOLE = tuple(i for leg in LEGS for i in (leg[2],) + leg[3])
_HIPS = (_I("left_hip"), _I("right_hip"))
_SHOULDERS = (_I("left_shoulder"), _I("right_shoulder"))


class LegDepthConfig(BaseModel):
    """The leg-depth choice (:mod:`exoactor.perceive.leg_depth`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Choose each leg bone's depth sign by balance and joint limits (else: the model's)."""
    balance_margin_m: float = Field(0.05, ge=0.0, le=0.5)
    """The centre of mass may lie this far ahead of the feet at no cost [m] (landmark noise;
    the heel and toe points are the model's)."""
    balance_sigma_m: float = Field(0.05, gt=0.0)
    """Scale of the balance cost beyond the margin [m]."""
    hip_extension_max_deg: float = Field(30.0, ge=0.0, le=90.0)
    """A thigh further behind the trunk's line than this is past the hip's range [deg]
    (anatomical extension about 20-30 deg)."""
    knee_hyperextension_max_deg: float = Field(10.0, ge=0.0, le=90.0)
    """A shank bent forward of its thigh further than this is past the knee's range [deg]."""
    limit_sigma_deg: float = Field(10.0, gt=0.0)
    """Scale of the joint-limit cost beyond a limit [deg]."""
    flip_sigma_m: float = Field(0.6, gt=0.0)
    """Scale of the cost of a flipped bone's depth change (its departure from the model) [m]."""
    flip_floor_m: float = Field(0.3, ge=0.0)
    """Added to every flipped bone's depth change in that cost [m]: a flip is never free, so a
    bone seen side-on keeps the model's sign unless balance asks for another."""
    symmetry_sigma_m: float = Field(0.3, gt=0.0)
    """Scale of the cost of a flip that makes the left and right thighs (or shanks) differ more
    in depth than the model has them [m]: bones the image draws alike point alike."""
    switch_sigma_m: float = Field(0.05, gt=0.0)
    """Scale of the cost of the jump a bone makes when its choice changes between frames [m]."""


@dataclass(frozen=True)
class LegDepthChoice:
    """Result of :func:`choose_leg_depth`.

    Attributes:
        flips: ``(T, 4)`` bool, each bone flipped (left thigh, left shank, right thigh, right
            shank).
        points_c: ``(T, J, 3)`` the landmarks with the flips applied.
        com_ahead_before_m: ``(T,)`` how far the centre of mass lies ahead of the feet in the
            model's pose (:func:`com_ahead_of_feet_m`) [m].
        com_ahead_after_m: the same for the chosen pose.
        stance: ``(T,)`` the frames the balance term counted (both feet planted).
    """

    flips: np.ndarray
    points_c: np.ndarray
    stance: np.ndarray
    com_ahead_before_m: np.ndarray
    com_ahead_after_m: np.ndarray


def flipped_vector(v: np.ndarray, mid_c: np.ndarray) -> np.ndarray:
    """``v`` ``(..., 3)`` mirrored about the plane perpendicular to the view ray through
    ``mid_c`` ``(..., 3)``: same length, same image direction to first order, the other depth
    sign."""
    r = mid_c / np.maximum(np.linalg.norm(mid_c, axis=-1, keepdims=True), 1e-9)
    return v - 2.0 * np.sum(v * r, axis=-1, keepdims=True) * r


def apply_flips(points_c: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """``(T, J, 3)`` landmarks with each leg bone flagged in ``flips`` ``(T, 4)`` flipped
    (:func:`flipped_vector`); every point below a flipped bone moves with it."""
    out = np.array(points_c, dtype=float, copy=True)
    for b in range(len(BONES)):
        tt = np.flatnonzero(flips[:, b])
        if not len(tt):
            continue
        top, bottom, below = _bone(b)
        v = out[tt, bottom] - out[tt, top]
        delta = flipped_vector(v, out[tt, top] + 0.5 * v) - v
        out[np.ix_(tt, below)] += delta[:, None]
    return out


def _horizontal_basis(up_c: np.ndarray) -> np.ndarray:
    """``(3, 2)`` two orthonormal horizontal axes for the up direction ``up_c``."""
    up = np.asarray(up_c, float) / np.linalg.norm(up_c)
    e1 = np.cross(up, [1.0, 0.0, 0.0] if abs(up[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return np.stack([e1, np.cross(up, e1)], 1)


def facing_h(points_c: np.ndarray, up_c: np.ndarray) -> np.ndarray:
    """``(T, 2)`` unit horizontal facing direction of the hips (left hip to right hip turned
    forward about up), in :func:`_horizontal_basis` coordinates."""
    basis = _horizontal_basis(up_c)
    up = np.asarray(up_c, float) / np.linalg.norm(up_c)
    left = points_c[:, _HIPS[0]] - points_c[:, _HIPS[1]]
    fwd = np.cross(left, up) @ basis
    return fwd / np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-9)


def com_ahead_of_feet_m(points_c: np.ndarray, up_c: np.ndarray,
                        facing: np.ndarray | None = None) -> np.ndarray:
    """``(T,)`` how far the whole-body centre of mass lies ahead of the foremost point of both
    feet (ankles, heels, toes) along the horizontal facing direction (0 when it is not ahead)
    [m]. Only this side counts: a centre of mass *behind* the feet is what a seat carries, and
    one beside them is not what a leg's depth moves."""
    basis = _horizontal_basis(up_c)
    fwd = facing_h(points_c, up_c) if facing is None else facing
    com = centre_of_mass_w(points_c, BODY_33) @ basis
    soles = points_c[:, list(_SOLE)] @ basis
    ahead = np.sum(com * fwd, -1) - np.max(np.sum(soles * fwd[:, None], -1), axis=1)
    return np.where(np.isfinite(ahead), np.maximum(ahead, 0.0), 0.0)


def _limit_cost(points_c: np.ndarray, cfg: LegDepthConfig) -> np.ndarray:
    """``(T,)`` the joint-limit cost of a pose (hips past extension, knees bent forward)."""
    hips = points_c[:, list(_HIPS)]
    trunk = points_c[:, list(_SHOULDERS)].mean(1) - hips.mean(1)
    trunk /= np.maximum(np.linalg.norm(trunk, axis=-1, keepdims=True), 1e-9)
    left = hips[:, 0] - hips[:, 1]
    left -= np.sum(left * trunk, -1, keepdims=True) * trunk
    left /= np.maximum(np.linalg.norm(left, axis=-1, keepdims=True), 1e-9)
    fwd = np.cross(left, trunk)
    cost = np.zeros(len(points_c))
    s = np.radians(cfg.limit_sigma_deg)
    for hip, knee, ankle, _ in LEGS:
        thigh = points_c[:, knee] - points_c[:, hip]
        shank = points_c[:, ankle] - points_c[:, knee]
        # sagittal angle of the thigh from the trunk's downward line (+ forward = flexion)
        flex = np.arctan2(np.sum(thigh * fwd, -1), -np.sum(thigh * trunk, -1))
        ext = np.maximum(-flex - np.radians(cfg.hip_extension_max_deg), 0.0)
        # knee: the shank turns backward of the thigh (about +left) when it bends
        n = np.linalg.norm(thigh, axis=-1) * np.linalg.norm(shank, axis=-1)
        bend = np.arcsin(np.clip(np.sum(np.cross(thigh, shank) * left, -1)
                                 / np.maximum(n, 1e-12), -1.0, 1.0))
        hyper = np.maximum(-bend - np.radians(cfg.knee_hyperextension_max_deg), 0.0)
        cost += (ext / s) ** 2 + (hyper / s) ** 2
    return cost


def _depth_m(points_c: np.ndarray) -> np.ndarray:
    """``(T, 4)`` each bone's signed extent along its view ray (+ away from the camera) [m]."""
    out = np.zeros((len(points_c), len(BONES)))
    for b in range(len(BONES)):
        top, bottom, _ = _bone(b)
        v = points_c[:, bottom] - points_c[:, top]
        mid = points_c[:, top] + 0.5 * v
        r = mid / np.maximum(np.linalg.norm(mid, axis=-1, keepdims=True), 1e-9)
        out[:, b] = np.sum(v * r, -1)
    return out


def choose_leg_depth(points_c: np.ndarray, up_c: np.ndarray, stance: np.ndarray,
                     cfg: LegDepthConfig | None = None) -> LegDepthChoice:
    """Each leg bone's depth sign over the clip (see the module docstring).

    Args:
        points_c: ``(T, 33, 3)`` BODY_33 landmarks, camera frame [m].
        up_c: ``(3,)`` the up direction in the camera frame.
        stance: ``(T,)`` bool, frames where both feet are planted (the balance term counts
            only there).
        cfg: weights and limits (None: the defaults).
    """
    cfg = cfg or LegDepthConfig()
    P = np.asarray(points_c, float)
    T = len(P)
    stance = np.asarray(stance, bool)
    facing = facing_h(P, up_c)  # the hips: a leg's depth does not turn them
    before = com_ahead_of_feet_m(P, up_c, facing)
    if not cfg.enabled or T == 0:
        return LegDepthChoice(np.zeros((T, len(BONES)), bool), P.copy(), stance, before, before)
    signed = _depth_m(P)
    depth = 2.0 * np.abs(signed)  # how far a flipped bone's end moves
    asym0 = (signed[:, [0, 1]] - signed[:, [2, 3]]) ** 2
    unary = np.zeros((T, len(STATES)))
    for k, state in enumerate(STATES):
        Q = apply_flips(P, np.repeat(state[None], T, 0)) if state.any() else P
        out = before if not state.any() else com_ahead_of_feet_m(Q, up_c, facing)
        bal = np.where(stance, (np.maximum(out - cfg.balance_margin_m, 0.0)
                                / cfg.balance_sigma_m) ** 2, 0.0)
        flipped = np.where(state, -signed, signed)
        asym = np.maximum((flipped[:, [0, 1]] - flipped[:, [2, 3]]) ** 2 - asym0, 0.0)
        unary[:, k] = bal + _limit_cost(Q, cfg) + np.sum(
            ((depth[:, state] + cfg.flip_floor_m) / cfg.flip_sigma_m) ** 2, axis=1) + np.sum(
            asym, axis=1) / cfg.symmetry_sigma_m ** 2
    # Viterbi over the 16 states; a change of a bone's choice costs its jump
    diff = STATES[:, None, :] != STATES[None, :, :]                       # (K, K, 4)
    score = unary[0].copy()
    back = np.zeros((T, len(STATES)), dtype=np.int64)
    for t in range(1, T):
        jump = np.sum(diff * (0.5 * (depth[t - 1] + depth[t]) / cfg.switch_sigma_m) ** 2, -1)
        total = score[:, None] + jump                                      # from, to
        back[t] = np.argmin(total, axis=0)
        score = total[back[t], np.arange(len(STATES))] + unary[t]
    path = np.zeros(T, dtype=np.int64)
    path[-1] = int(np.argmin(score))
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    flips = STATES[path]
    Q = apply_flips(P, flips)
    return LegDepthChoice(flips, Q, stance, before, com_ahead_of_feet_m(Q, up_c, facing))
