"""A rendered walking clip and its true joints: ``<name>.mp4`` and ``<name>_truth.npz``.

The Anny body (:mod:`.body`) walks (:mod:`.walk`) along +x; its meshes are rasterised
(:mod:`.raster`) with a static pinhole camera of known intrinsics and pose. The truth file
holds, with ``fps``:

* ``joints_w`` ``(T, 33, 3)`` BODY_33 points [m] (NaN where the body defines none), in the
  perceive stage's world frame: z up, ground z = 0, the hip centre of frame 0 above the
  origin, x along the facing direction the stage computes (hips and shoulders over the first
  0.5 s, :func:`~exoactor.perceive.grounding.facing_c`);
* ``K`` ``(3, 3)`` [px], ``T_c_w`` ``(4, 4)``, ``image_size_px`` (width, height),
  ``fov_deg`` (horizontal), ``joint_names`` and the resolved ``config`` (JSON).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.fileio import atomic_path
from exoactor.media import SOURCE_QUALITY, open_h264
from exoactor.perceive.camera import intrinsics
from exoactor.perceive.grounding import facing_c, world_from_camera
from exoactor.perceive.synthetic import look_at_camera
from exoactor.perceive.truth.body import AnnyBody
from exoactor.perceive.truth.raster import Camera, Light, render_mesh, room_background
from exoactor.perceive.truth.stand import RaiseArmsConfig, raise_arms_rotations
from exoactor.perceive.truth.walk import WalkConfig, root_path, walk_rotations
from exoactor.skeleton import BODY_33

logger = logging.getLogger(__name__)

TRUTH_SUFFIX = "_truth.npz"
"""Suffix of the truth file written beside the clip (``walk.mp4`` -> ``walk_truth.npz``)."""

ANNY_TO_WORLD = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
"""Rotation (+90 deg about z) from Anny's model frame (facing -y) to ours (facing +x)."""

_RGB = {"skin": (0.87, 0.66, 0.52), "shirt": (0.16, 0.34, 0.72), "trousers": (0.22, 0.22, 0.28),
        "shoes": (0.10, 0.08, 0.08), "hair": (0.20, 0.13, 0.08), "eyes": (0.08, 0.08, 0.08)}
_SKIN_BONES = ("upperarm02", "lowerarm", "wrist", "finger", "metacarpal", "neck", "head")


class TruthClipConfig(BaseModel):
    """The rendered clip: length, camera, body and gait."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    frames: int = Field(90, ge=2, le=1800)
    """Frames to render."""
    fps: float = Field(30.0, gt=0.0, le=240.0)
    """Frame rate [Hz]."""
    width_px: int = Field(640, ge=64, le=3840)
    """Image width [px] (even)."""
    height_px: int = Field(480, ge=64, le=2160)
    """Image height [px] (even)."""
    fov_deg: float = Field(60.0, gt=10.0, lt=120.0)
    """Horizontal field of view [deg]."""
    camera_eye_m: tuple[float, float, float] = (4.5, -3.5, 1.5)
    """Camera position, world [m] (front-left of the walk: the body crosses a 3/4 view)."""
    camera_target_m: tuple[float, float, float] = (1.5, 0.0, 0.85)
    """Point the camera looks at, world [m]; no roll."""
    action: Literal["walk", "raise_arms"] = "walk"
    """What the body does: walk along +x (:mod:`.walk`) or stand and raise both arms
    (:mod:`.stand`)."""
    walk: WalkConfig = WalkConfig()
    """The gait (``action="walk"``)."""
    raise_arms: RaiseArmsConfig = RaiseArmsConfig()
    """The arm raise (``action="raise_arms"``)."""
    phenotype: dict[str, float] = Field(default_factory=dict)
    """Anny phenotype values in [0, 1] (gender, age, muscle, weight, height, proportions);
    missing ones are 0.5."""
    supersample: int = Field(2, ge=1, le=4)
    """Rasterisation at this many times the image size, then area-averaged."""
    quality: float = Field(SOURCE_QUALITY, ge=1.0, le=10.0)
    """H.264 quality of imageio-ffmpeg (10 best)."""


@dataclass(frozen=True, eq=False)
class TruthClip:
    """A rendered clip and its truth.

    Attributes:
        video_path: the ``.mp4``.
        truth_path: the ``_truth.npz``.
        joints_w: ``(T, 33, 3)`` true BODY_33 points, world [m] (see the module docstring);
            NaN where the body defines none.
        fps: frame rate [Hz].
        K: ``(3, 3)`` intrinsics [px].
        T_c_w: ``(4, 4)`` world -> camera transform.
        image_size_px: (width, height) [px].
        fov_deg: horizontal field of view [deg].
    """

    video_path: Path
    truth_path: Path
    joints_w: np.ndarray
    fps: float
    K: np.ndarray
    T_c_w: np.ndarray
    image_size_px: tuple[int, int]
    fov_deg: float


def _face_colours(body: AnnyBody, rest: np.ndarray, rest_joints: np.ndarray) -> np.ndarray:
    """``(F, 3)`` colours by body region (skin, short-sleeved shirt, trousers, shoes, hair)."""
    labels = np.array(body.bone_labels)[body.dominant_bone]
    region = np.full(len(labels), "shirt", dtype=object)
    base = np.array([lab.split(".")[0].rstrip("0123456789-") for lab in labels])
    region[np.isin(base, ("upperleg", "lowerleg", "pelvis"))] = "trousers"
    region[np.isin(base, ("foot", "toe"))] = "shoes"
    region[np.array([any(lab.startswith(b) for b in _SKIN_BONES) for lab in labels])] = "skin"
    hip_z = rest_joints[BODY_33.index("left_hip"), 2]
    torso = np.isin(base, ("root", "spine")) & (rest[:, 2] < hip_z + 0.08)
    region[torso] = "trousers"
    eye = rest_joints[BODY_33.index("left_eye")]
    ear = rest_joints[BODY_33.index("left_ear")]
    head = base == "head"
    hair = head & ((rest[:, 2] > eye[2] + 0.035) | ((rest[:, 1] > ear[1] + 0.01)
                                                    & (rest[:, 2] > ear[2] - 0.05)))
    region[hair] = "hair"
    region[base == "eye"] = "eyes"
    rgb = np.array([_RGB[r] for r in region])
    return rgb[body.faces].mean(1)


def _canonical(joints_w: np.ndarray, fps: float) -> np.ndarray:
    """``(4, 4)`` transform into the perceive stage's convention (module docstring)."""
    z = np.array([0.0, 0.0, 1.0])
    fwd = facing_c(joints_w, np.ones(len(joints_w), bool), z, fps)
    hip0 = joints_w[0, [BODY_33.index("left_hip"), BODY_33.index("right_hip")]].mean(0)
    return world_from_camera(z, fwd, np.array([hip0[0], hip0[1], 0.0]))


def frontal_pitched_config(frames: int = 60, fps: float = 30.0, pitch_deg: float = 20.0,
                           distance_m: float = 4.0, **changes) -> TruthClipConfig:
    """The failing kind of task clip: the body stands facing the camera, which looks down at
    its hips by ``pitch_deg`` from ``distance_m`` away (slightly off-centre), and raises its
    arms. ``changes`` update further :class:`TruthClipConfig` fields."""
    p = np.radians(pitch_deg)
    target = np.array([0.0, 0.0, 0.95])
    eye = target + distance_m * np.array([np.cos(p), 0.08, np.sin(p)])
    return TruthClipConfig(frames=frames, fps=fps, action="raise_arms",
                           camera_eye_m=tuple(float(x) for x in eye),
                           camera_target_m=tuple(float(x) for x in target), **changes)


def make_truth_clip(out_path: str | Path, config: TruthClipConfig | None = None,
                    cache_dir: str | Path | None = None) -> TruthClip:
    """Render the body (walking or raising its arms) to ``out_path`` (``.mp4``) and write its truth beside it.

    Args:
        out_path: the video to write; the truth goes to ``<stem>_truth.npz``.
        config: clip settings (defaults: 90 frames at 30 Hz, 640x480, 60 deg).
        cache_dir: Anny's model-data cache (None: ``$ANNY_CACHE_DIR`` or ``~/.cache/anny``).

    Raises:
        BodyModelError: anny is not installed.
    """
    cfg = config or TruthClipConfig()
    out_path = Path(out_path)
    body = AnnyBody(cfg.phenotype, cache_dir)
    rest = body.pose({"root": np.eye(3)[None]})
    rotations = (walk_rotations(cfg.walk, cfg.frames, cfg.fps) if cfg.action == "walk"
                 else raise_arms_rotations(cfg.raise_arms, cfg.frames, cfg.fps))
    posed = body.pose(rotations)
    shift = root_path(posed.joints, posed.vertices)[:, None]
    verts_w = (posed.vertices + shift) @ ANNY_TO_WORLD.T
    joints_w = (posed.joints + shift) @ ANNY_TO_WORLD.T
    T_w0 = _canonical(joints_w, cfg.fps)
    verts_w = verts_w @ T_w0[:3, :3].T + T_w0[:3, 3]
    joints_w = joints_w @ T_w0[:3, :3].T + T_w0[:3, 3]

    K = intrinsics(cfg.width_px, cfg.height_px, cfg.fov_deg)
    T_c_w = look_at_camera(np.array(cfg.camera_eye_m), np.array(cfg.camera_target_m))
    cam = Camera(K, T_c_w, cfg.width_px, cfg.height_px)
    colours = _face_colours(body, rest.vertices[0], rest.joints[0])
    background = room_background(cam, supersample=cfg.supersample)
    light = Light()
    with atomic_path(out_path) as tmp:
        writer = open_h264(tmp, cfg.width_px, cfg.height_px, cfg.fps, quality=cfg.quality)
        try:
            for v in verts_w:
                img = render_mesh(v, body.faces, colours, cam, background, light, cfg.supersample)
                writer.send(np.ascontiguousarray(img))
        finally:
            writer.close()
    truth_path = out_path.with_name(out_path.stem + TRUTH_SUFFIX)
    with atomic_path(truth_path) as tmp:
        np.savez(tmp, joints_w=joints_w, fps=cfg.fps, K=K, T_c_w=T_c_w,
                 image_size_px=np.array([cfg.width_px, cfg.height_px]), fov_deg=cfg.fov_deg,
                 joint_names=np.array(BODY_33), config=json.dumps(cfg.model_dump(mode="json")))
    logger.info("rendered %d frames to %s (truth %s)", cfg.frames, out_path, truth_path)
    return TruthClip(out_path, truth_path, joints_w, cfg.fps, K, T_c_w,
                     (cfg.width_px, cfg.height_px), cfg.fov_deg)


def load_truth(truth_path: str | Path) -> TruthClip:
    """Read a truth file written by :func:`make_truth_clip` (the video is its sibling)."""
    truth_path = Path(truth_path)
    with np.load(truth_path) as z:
        size = tuple(int(x) for x in z["image_size_px"])
        video = truth_path.with_name(truth_path.name.removesuffix(TRUTH_SUFFIX) + ".mp4")
        return TruthClip(video, truth_path, z["joints_w"], float(z["fps"]), z["K"], z["T_c_w"],
                         (size[0], size[1]), float(z["fov_deg"]))
