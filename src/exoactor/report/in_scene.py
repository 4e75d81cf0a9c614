"""The robot drawn into the input video through the camera perceive estimated.

Per input frame: the robot (posed from the rollout sample whose reference time is the frame's
time) is rendered through the estimated camera moved into the robot's world
(:mod:`exoactor.report.scene_camera`), at a lower internal resolution, upscaled, and
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
    path = Path(run_dir) / "retarget_metrics.json"
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
    for b in range(len(g)):
        if min(z[b], zx[b], zy[b]) <= 0.05:
            continue
        J = np.stack([cx[b] - c[b], cy[b] - c[b]], axis=1) / 2.0  # radius = 2 sigma
        cov = J @ J.T + np.eye(2) * 0.25
        half = 3.0 * np.sqrt(np.diag(cov))
        x0, x1 = int(max(c[b, 0] - half[0], 0)), int(min(c[b, 0] + half[0] + 1, width))
        y0, y1 = int(max(c[b, 1] - half[1], 0)), int(min(c[b, 1] + half[1] + 1, height))
        if x0 >= x1 or y0 >= y1:
            continue
        inv = np.linalg.inv(cov)
        xs = np.arange(x0, x1) - c[b, 0]
        ys = np.arange(y0, y1)[:, None] - c[b, 1]
        q = inv[0, 0] * xs * xs + 2 * inv[0, 1] * xs * ys + inv[1, 1] * ys * ys
        blob = weight[b] * np.exp(-0.5 * q)
        region = out[y0:y1, x0:x1]
        region[:] = 1.0 - (1.0 - region) * (1.0 - blob)
    return out


def skeleton_mask(joints_w: np.ndarray, K: np.ndarray, T_w_c: np.ndarray, width: int,
                  height: int, line_px: int = 2) -> np.ndarray | None:
    """``(height, width)`` bool mask of the person's bones, or None when none is in view."""
    from PIL import Image, ImageDraw

    px, z = project_w(joints_w, K, T_w_c)
    ok = np.isfinite(px).all(axis=-1) & (z > 0.05)
    lines = [(tuple(px[a]), tuple(px[b])) for a, b in _BONES if a < len(px) and b < len(px)
             and ok[a] and ok[b]]
    if not lines:
        return None
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    for p, q in lines:
        draw.line([p, q], fill=255, width=line_px)
    return np.asarray(img) > 0


@dataclass(frozen=True)
class Layers:
    """What is drawn over one input frame (all at the frame's size).

    Attributes:
        robot_rgb: ``(H, W, 3)`` uint8 robot image premultiplied by its coverage (black where
            there is no robot).
        robot_alpha: ``(H, W)`` float robot coverage in [0, 1].
        shadow: ``(H, W)`` float shadow darkness in [0, 1], or None.
        skeleton: ``(H, W)`` bool skeleton mask, or None.
    """

    robot_rgb: np.ndarray
    robot_alpha: np.ndarray
    shadow: np.ndarray | None = None
    skeleton: np.ndarray | None = None


def composite(frame: np.ndarray, layers: Layers,
              skeleton_rgb: tuple[int, int, int] = (255, 220, 40)) -> np.ndarray:
    """The frame with the shadow, the skeleton and the robot drawn over it, in that order.

    Only the box holding the layers is recomputed (the rest of the frame is copied).
    """
    box = _layer_box(layers)
    out = frame.copy()
    if box is None:
        return out
    y0, y1, x0, x1 = box
    region = out[y0:y1, x0:x1].astype(np.float32)
    if layers.shadow is not None:
        region *= (1.0 - SHADOW_OPACITY * layers.shadow[y0:y1, x0:x1])[..., None]
    if layers.skeleton is not None:
        m = layers.skeleton[y0:y1, x0:x1]
        region[m] = ((1.0 - SKELETON_OPACITY) * region[m]
                     + SKELETON_OPACITY * np.array(skeleton_rgb, dtype=np.float32))
    a = layers.robot_alpha[y0:y1, x0:x1, None]
    region = region * (1.0 - a) + layers.robot_rgb[y0:y1, x0:x1]
    out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return out


def _layer_box(layers: Layers) -> tuple[int, int, int, int] | None:
    """Rows ``y0:y1`` and columns ``x0:x1`` covering every non-empty layer, or None."""
    masks = [layers.robot_alpha > 0]
    if layers.shadow is not None:
        masks.append(layers.shadow > 1e-3)
    if layers.skeleton is not None:
        masks.append(layers.skeleton)
    rows = np.zeros(masks[0].shape[0], dtype=bool)
    cols = np.zeros(masks[0].shape[1], dtype=bool)
    for m in masks:
        rows |= m.any(axis=1)
        cols |= m.any(axis=0)
    if not rows.any():
        return None
    r, c = np.flatnonzero(rows), np.flatnonzero(cols)
    return int(r[0]), int(r[-1]) + 1, int(c[0]), int(c[-1]) + 1


def upscale(rgb: np.ndarray, alpha: np.ndarray, width: int, height: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear upscale of a rendered view (drawn on black, so premultiplied by its coverage)
    and its coverage to ``width`` x ``height``: premultiplied uint8 RGB and float coverage."""
    from exoactor.media import resize_image

    a = alpha.astype(np.float32)
    if alpha.dtype == np.uint8:
        a /= 255.0
    return resize_image(rgb, width, height), resize_image(a, width, height)
