"""A small CPU mesh rasteriser: painter's algorithm with OpenCV, Lambert shading, supersampling.

No GL context, no extra dependency, deterministic: good enough to show a pose detector a
shaded, coloured body on a plain room (a wall and a tiled floor). Triangles facing away from
the camera are culled; the others are filled far to near with sub-pixel vertex positions at
``supersample`` times the output size, then the image is area-averaged down.

Frames: world ``_w`` (z up) [m]; camera ``_c`` (x right, y down, z forward); pixels ``_px``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exoactor.perceive.camera import project
from exoactor.perceive.grounding import transform

_SHIFT = 4  # OpenCV fixed-point fraction bits of the polygon vertices
_NEAR_M = 0.05


@dataclass(frozen=True)
class Camera:
    """A static pinhole camera.

    Attributes:
        K: ``(3, 3)`` intrinsics [px].
        T_c_w: ``(4, 4)`` world -> camera transform.
        width_px: image width [px].
        height_px: image height [px].
    """

    K: np.ndarray
    T_c_w: np.ndarray
    width_px: int
    height_px: int


@dataclass(frozen=True)
class Light:
    """Lighting of the scene (colours are linear RGB in [0, 1]).

    Attributes:
        direction_w: ``(3,)`` direction the light travels (world), normalised on use.
        ambient: ambient fraction of the surface colour.
        diffuse: diffuse fraction of the surface colour.
        headlight: extra diffuse fraction from a light at the camera.
    """

    direction_w: tuple[float, float, float] = (-0.4, 0.5, -1.0)
    ambient: float = 0.35
    diffuse: float = 0.55
    headlight: float = 0.25


def _fill(img: np.ndarray, tri_px: np.ndarray, rgb: np.ndarray, scale: int) -> None:
    """Fill ``(N, k, 2)`` polygons [px] in order with ``(N, 3)`` uint8 colours, on an image
    ``scale`` times larger (pixel centres at integer coordinates in both)."""
    import cv2

    pts = np.round((tri_px * scale + (scale - 1) / 2) * (1 << _SHIFT)).astype(np.int32)
    for p, c in zip(pts, rgb.tolist(), strict=True):
        cv2.fillConvexPoly(img, p, c, lineType=cv2.LINE_8, shift=_SHIFT)


def room_background(camera: Camera, wall_rgb: tuple[float, float, float] = (0.84, 0.85, 0.86),
                    tiles_rgb: tuple[tuple[float, float, float], ...] = ((0.56, 0.58, 0.54),
                                                                         (0.64, 0.66, 0.61)),
                    tile_m: float = 0.5, extent_m: float = 12.0, supersample: int = 2
                    ) -> np.ndarray:
    """``(H * s, W * s, 3)`` uint8 supersampled image of a tiled floor (z = 0, squares of
    ``tile_m`` [m] within ``extent_m`` [m] of the origin) in front of a plain wall."""
    s = supersample
    img = np.empty((camera.height_px * s, camera.width_px * s, 3), np.uint8)
    img[:] = np.round(255 * np.asarray(wall_rgb)).astype(np.uint8)
    n = int(extent_m / tile_m)
    i, j = np.meshgrid(np.arange(-n, n), np.arange(-n, n), indexing="ij")
    i, j = i.ravel(), j.ravel()
    corners = np.stack([np.stack([i + a, j + b, np.zeros_like(i)], -1) * tile_m
                        for a, b in ((0, 0), (1, 0), (1, 1), (0, 1))], 1)  # (N, 4, 3)
    P = transform(camera.T_c_w, corners)
    keep = (P[..., 2] > _NEAR_M).all(1)
    P, parity = P[keep], ((i + j) % 2)[keep]
    order = np.argsort(-P[..., 2].mean(1))
    rgb = np.round(255 * np.asarray(tiles_rgb))[parity[order]].astype(np.uint8)
    _fill(img, project(P[order], camera.K), rgb, s)
    return img


def render_mesh(vertices_w: np.ndarray, faces: np.ndarray, face_rgb: np.ndarray, camera: Camera,
                background: np.ndarray, light: Light = Light(), supersample: int = 2
                ) -> np.ndarray:
    """Render one frame.

    Args:
        vertices_w: ``(V, 3)`` mesh vertices, world [m].
        faces: ``(F, 3)`` int triangles, counter-clockwise seen from outside.
        face_rgb: ``(F, 3)`` float face colours in [0, 1].
        camera: the camera.
        background: ``(H * s, W * s, 3)`` uint8 supersampled background (see
            :func:`room_background`), not modified.
        light: the lighting.
        supersample: the factor ``s`` the background was made with.

    Returns:
        ``(H, W, 3)`` uint8 RGB image.
    """
    import cv2

    P = transform(camera.T_c_w, vertices_w)
    tri_c = P[faces]  # (F, 3, 3)
    n_c = np.cross(tri_c[:, 1] - tri_c[:, 0], tri_c[:, 2] - tri_c[:, 0])
    centre_c = tri_c.mean(1)
    front = ((n_c * centre_c).sum(-1) < 0) & (tri_c[..., 2] > _NEAR_M).all(1)
    n_c, centre_c, idx = n_c[front], centre_c[front], np.flatnonzero(front)
    n_c /= np.maximum(np.linalg.norm(n_c, axis=-1, keepdims=True), 1e-12)
    light_c = camera.T_c_w[:3, :3] @ np.asarray(light.direction_w, float)
    light_c /= np.linalg.norm(light_c)
    view_c = centre_c / np.linalg.norm(centre_c, axis=-1, keepdims=True)
    shade = (light.ambient + light.diffuse * np.clip(-(n_c @ light_c), 0, None)
             + light.headlight * np.clip(-(n_c * view_c).sum(-1), 0, None))
    rgb = np.clip(255 * face_rgb[idx] * shade[:, None], 0, 255).astype(np.uint8)
    order = np.argsort(-centre_c[:, 2])
    img = background.copy()
    _fill(img, project(tri_c[idx[order]], camera.K), rgb[order], supersample)
    if supersample == 1:
        return img
    return cv2.resize(img, (camera.width_px, camera.height_px), interpolation=cv2.INTER_AREA)
