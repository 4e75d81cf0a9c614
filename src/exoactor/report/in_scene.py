"""The robot drawn into the input video through the camera perceive estimated.

Per input frame: the robot (posed from the rollout sample whose reference time is the frame's
time) is rendered through the estimated camera moved into the robot's world
(:mod:`exoactor.report.scene_camera`) and
alpha-composited over the frame, above a soft shadow on the ground plane the robot stands on;
the person's estimated skeleton is drawn faintly. Pure image functions here; the render loop
is :func:`exoactor.report.scene_video.write_scene_videos`.

Frames are ``(H, W, 3)`` uint8 RGB, row 0 at the top; pixels x right, y down.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exoactor import artefacts
from exoactor.report.scene_camera import PersonToRobot, project_w
from exoactor.skeleton import BODY_33, BODY_BONES

logger = logging.getLogger(__name__)

SHADOW_OPACITY = 0.55
"""Darkening of the ground right under a foot resting on it [0-1]."""
SHADOW_RADIUS_M = 0.09
"""Radius of the shadow of a body at ground height [m]; it widens with height."""
SHADOW_SPREAD = 0.25
"""Growth of a body's shadow radius per metre of height above the ground [m/m]."""
SHADOW_FADE_M = 0.35
"""Height over which a body's shadow fades by 1/e [m]."""
SKELETON_OPACITY = 0.35
"""Opacity of the person's skeleton lines [0-1]."""

_BONES = [(BODY_33.index(a), BODY_33.index(b)) for a, b in BODY_BONES]
_HIPS = (BODY_33.index("left_hip"), BODY_33.index("right_hip"))


def person_to_robot(human_joints_w: np.ndarray, joint_names: tuple[str, ...],
                    root_pos_w: np.ndarray, retarget_metrics: dict | None) -> PersonToRobot:
    """The retargeter's person -> robot map of a run (see :class:`PersonToRobot`).

    The scale and regrounding come from ``retarget_metrics.json`` (``extras.root_scale``,
    ``extras.ground_offset_m``, ``extras.regrounded``); the fixed point is the person's hip
    centre in the first frame, as the retargeter takes it (the root position when the hips are
    not both there). Without retarget metrics the robot is drawn unscaled (scale 1).
    """
    extras = (retarget_metrics or {}).get("extras", {})
    scale = extras.get("root_scale")
    if not isinstance(scale, (int, float)) or not np.isfinite(scale) or scale <= 0:
        logger.warning("no root_scale in the retarget metrics; drawing the robot unscaled in "
                       "the scene (it may not stand where the person did)")
        scale = 1.0
    names = tuple(joint_names)
    origin = np.asarray(root_pos_w, dtype=float)[0, :2]
    if all(n in names for n in ("left_hip", "right_hip")):
        hips = np.asarray(human_joints_w, dtype=float)[0, [names.index("left_hip"),
                                                           names.index("right_hip")]]
        if np.isfinite(hips).all():
            origin = hips.mean(axis=0)[:2]
    drop = float(extras.get("ground_offset_m", 0.0)) if extras.get("regrounded") else 0.0
    return PersonToRobot(float(scale), (float(origin[0]), float(origin[1])), drop)


def load_retarget_metrics(run_dir: Path) -> dict | None:
    """``retarget_metrics.json`` of a run, or None."""
    path = Path(run_dir) / artefacts.RETARGET_METRICS
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except json.JSONDecodeError:
        return None


def shadow_map(ground_points_r: np.ndarray, heights_m: np.ndarray, K: np.ndarray,
               T_r_c: np.ndarray, width: int, height: int) -> np.ndarray:
    """Soft shadow of bodies on the ground, as seen by the camera: ``(height, width)`` in [0, 1].

    Each body leaves a Gaussian disc on the ground under it (sun overhead) whose radius grows
    and whose darkness fades with the body's height; the disc is mapped into the image through
    the local linearisation of the ground-to-image projection, so it is an ellipse foreshortened
    like the ground.

    Args:
        ground_points_r: ``(B, 3)`` points on the ground under each body, robot world [m].
        heights_m: ``(B,)`` height of each body above the ground [m].
        K: ``(3, 3)`` intrinsics for a ``width`` x ``height`` image [px].
        T_r_c: ``(4, 4)`` camera pose in the robot world.
        width, height: image size [px].
    """
    out = np.zeros((height, width), dtype=np.float32)
    patch = shadow_patch(ground_points_r, heights_m, K, T_r_c, width, height)
    if patch is not None:
        y0, y1, x0, x1 = patch.box
        out[y0:y1, x0:x1] = patch.data
    return out


def shadow_patch(ground_points_r: np.ndarray, heights_m: np.ndarray, K: np.ndarray,
                 T_r_c: np.ndarray, width: int, height: int) -> Patch | None:
    """:func:`shadow_map` as the :class:`Patch` of the image that holds it (None: no shadow in
    view); the cost is that of the discs' pixels, not the image's."""
    g = np.asarray(ground_points_r, dtype=float)
    h = np.clip(np.asarray(heights_m, dtype=float), 0.0, None)
    radius = SHADOW_RADIUS_M + SHADOW_SPREAD * h
    weight = np.exp(-h / SHADOW_FADE_M)
    dx = np.zeros_like(g)
    dx[:, 0] = radius
    dy = np.zeros_like(g)
    dy[:, 1] = radius
    c, z = project_w(g, K, T_r_c)
    cx, zx = project_w(g + dx, K, T_r_c)
    cy, zy = project_w(g + dy, K, T_r_c)
    J = np.stack([cx - c, cy - c], axis=2) / 2.0  # (B, 2, 2); radius = 2 sigma
    cov = J @ J.transpose(0, 2, 1) + np.eye(2) * 0.25
    half = 3.0 * np.sqrt(np.stack([cov[:, 0, 0], cov[:, 1, 1]], axis=1))
    lo = np.floor(np.maximum(c - half, 0.0)).astype(int)
    hi = np.minimum(c + half + 1, [width, height]).astype(int)
    ok = (np.minimum(np.minimum(z, zx), zy) > 0.05) & (lo < hi).all(axis=1) \
        & np.isfinite(c).all(axis=1)
    if not ok.any():
        return None
    bx0, by0 = lo[ok].min(axis=0)
    bx1, by1 = hi[ok].max(axis=0)
    out = np.zeros((by1 - by0, bx1 - bx0), dtype=np.float32)
    inv = np.linalg.inv(cov[ok])
    for b, ib in zip(np.flatnonzero(ok), inv):
        (x0, y0), (x1, y1) = lo[b], hi[b]
        xs = np.arange(x0, x1) - c[b, 0]
        ys = np.arange(y0, y1)[:, None] - c[b, 1]
        q = ib[0, 0] * xs * xs + 2 * ib[0, 1] * xs * ys + ib[1, 1] * ys * ys
        blob = weight[b] * np.exp(-0.5 * q)
        region = out[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0]
        region[:] = 1.0 - (1.0 - region) * (1.0 - blob)
    return Patch(out, (int(by0), int(by1), int(bx0), int(bx1)))


def skeleton_mask(joints_w: np.ndarray, K: np.ndarray, T_w_c: np.ndarray, width: int,
                  height: int, line_px: int = 2) -> np.ndarray | None:
    """``(height, width)`` bool mask of the person's bones, or None when none is in view."""
    patch = skeleton_patch(joints_w, K, T_w_c, width, height, line_px)
    if patch is None:
        return None
    out = np.zeros((height, width), dtype=bool)
    y0, y1, x0, x1 = patch.box
    out[y0:y1, x0:x1] = patch.data
    return out


def skeleton_patch(joints_w: np.ndarray, K: np.ndarray, T_w_c: np.ndarray, width: int,
                   height: int, line_px: int = 2) -> Patch | None:
    """:func:`skeleton_mask` as the :class:`Patch` of the image that holds the bones."""
    from PIL import Image, ImageDraw

    px, z = project_w(joints_w, K, T_w_c)
    ok = np.isfinite(px).all(axis=-1) & (z > 0.05)
    bones = [(a, b) for a, b in _BONES if a < len(px) and b < len(px) and ok[a] and ok[b]]
    if not bones:
        return None
    used = px[sorted({j for bone in bones for j in bone})]
    pad = line_px + 2
    x0 = int(np.clip(np.floor(used[:, 0].min()) - pad, 0, width))
    x1 = int(np.clip(np.ceil(used[:, 0].max()) + pad + 1, 0, width))
    y0 = int(np.clip(np.floor(used[:, 1].min()) - pad, 0, height))
    y1 = int(np.clip(np.ceil(used[:, 1].max()) + pad + 1, 0, height))
    if x1 <= x0 or y1 <= y0:
        return None
    img = Image.new("L", (x1 - x0, y1 - y0), 0)
    draw = ImageDraw.Draw(img)
    for a, b in bones:
        draw.line([(px[a, 0] - x0, px[a, 1] - y0), (px[b, 0] - x0, px[b, 1] - y0)], fill=255,
                  width=line_px)
    mask = np.asarray(img) > 0
    return Patch(mask, (y0, y1, x0, x1)) if mask.any() else None


@dataclass(frozen=True)
class Patch:
    """A layer that is empty outside a box: ``data`` holds rows ``y0:y1`` and columns
    ``x0:x1`` of the image (``box``)."""

    data: np.ndarray
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class Layers:
    """What is drawn over one input frame: full-size arrays, or :class:`Patch` es of them.

    Attributes:
        robot_rgb: ``(H, W, 3)`` uint8 robot image premultiplied by its coverage (black where
            there is no robot).
        robot_alpha: ``(H, W)`` float robot coverage in [0, 1] (or bool).
        shadow: ``(H, W)`` float shadow darkness in [0, 1], or None.
        skeleton: ``(H, W)`` bool skeleton mask, or None.
    """

    robot_rgb: np.ndarray | Patch
    robot_alpha: np.ndarray | Patch
    shadow: np.ndarray | Patch | None = None
    skeleton: np.ndarray | Patch | None = None


def composite(frame: np.ndarray, layers: Layers,
              skeleton_rgb: tuple[int, int, int] = (255, 220, 40)) -> np.ndarray:
    """The frame with the shadow, the skeleton and the robot drawn over it, in that order.

    Only the pixels the layers touch are recomputed (the rest of the frame is copied). A robot
    coverage that is only 0 or 1 (a bool mask, or a rendering that was not rescaled) is drawn
    by copying its pixels: the same image as blending, without the arithmetic over its box.
    """
    alpha = _patch(layers.robot_alpha, lambda a: a > 0)
    rgb = None
    if alpha is not None:
        rgb = layers.robot_rgb if isinstance(layers.robot_rgb, Patch) else \
            _crop(layers.robot_rgb, alpha.box)
    shadow = _patch(layers.shadow, lambda a: a > 1e-3)
    skeleton = _patch(layers.skeleton, lambda a: a)
    out = frame.copy()
    if alpha is not None and not _binary(alpha.data):
        _blend_all(out, alpha, rgb, shadow, skeleton, skeleton_rgb)
        return out
    # shadow, then skeleton, in float32 and rounded once, as _blend_all does them
    region = None
    if shadow is not None:
        y0, y1, x0, x1 = shadow.box
        region = out[y0:y1, x0:x1].astype(np.float32)
        region *= (1.0 - SHADOW_OPACITY * shadow.data)[..., None]
    if skeleton is not None:
        ys, xs = np.nonzero(skeleton.data)
        ys, xs = ys + skeleton.box[0], xs + skeleton.box[2]
        line = out[ys, xs].astype(np.float32)
        if region is not None:
            y0, y1, x0, x1 = shadow.box
            inside = (ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1)
            line[inside] = region[ys[inside] - y0, xs[inside] - x0]
        line = ((1.0 - SKELETON_OPACITY) * line
                + SKELETON_OPACITY * np.array(skeleton_rgb, dtype=np.float32))
    if region is not None:
        y0, y1, x0, x1 = shadow.box
        out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    if skeleton is not None:
        out[ys, xs] = np.clip(line + 0.5, 0, 255).astype(np.uint8)
    if alpha is not None:  # premultiplied by a 0/1 coverage: the robot's own pixels
        y0, y1, x0, x1 = alpha.box
        np.copyto(out[y0:y1, x0:x1], rgb.data, where=(alpha.data > 0)[..., None])
    return out


def _binary(coverage: np.ndarray) -> bool:
    """Whether a coverage holds only 0 and 1."""
    if coverage.dtype == bool:
        return True
    return bool(np.all((coverage == 0) | (coverage == 1)))


def _blend_all(out: np.ndarray, alpha: Patch | None, rgb: Patch | None, shadow: Patch | None,
               skeleton: Patch | None, skeleton_rgb: tuple[int, int, int]) -> None:
    """:func:`composite` for any coverage in [0, 1]: every layer blended in float32 over the box
    that holds them all, rounded once (in place)."""
    present = [p for p in (alpha, shadow, skeleton) if p is not None]
    if not present:
        return
    y0, y1 = min(p.box[0] for p in present), max(p.box[1] for p in present)
    x0, x1 = min(p.box[2] for p in present), max(p.box[3] for p in present)
    region = out[y0:y1, x0:x1].astype(np.float32)

    def part(p: Patch) -> np.ndarray:
        return region[p.box[0] - y0:p.box[1] - y0, p.box[2] - x0:p.box[3] - x0]

    if shadow is not None:
        part(shadow)[:] *= (1.0 - SHADOW_OPACITY * shadow.data)[..., None]
    if skeleton is not None:
        r = part(skeleton)
        m = skeleton.data
        r[m] = ((1.0 - SKELETON_OPACITY) * r[m]
                + SKELETON_OPACITY * np.array(skeleton_rgb, dtype=np.float32))
    if alpha is not None:
        r = part(alpha)
        r[:] = r * (1.0 - alpha.data[..., None]) + rgb.data
    out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)


def _crop(image: np.ndarray, box: tuple[int, int, int, int]) -> Patch:
    y0, y1, x0, x1 = box
    return Patch(image[y0:y1, x0:x1], box)


def _patch(layer, nonzero) -> Patch | None:  # noqa: ANN001
    """``layer`` as a Patch (a full-size array is cropped to where ``nonzero`` holds)."""
    if layer is None or isinstance(layer, Patch):
        return layer
    m = nonzero(layer)
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    if not len(rows):
        return None
    return _crop(layer, (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1))

