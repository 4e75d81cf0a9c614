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
from exoactor.perceive.truth.lean import HAND_REGION, LeanConfig, hand_rest_height_m, lean_rotations
from exoactor.perceive.truth.lift import LiftConfig, grasp_frame, lift_rotations, palm_gap_m
from exoactor.perceive.truth.raster import Camera, Light, render_mesh, room_background
from exoactor.perceive.truth.sit import SitDownConfig, seat_height_m, sit_down_rotations
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
    action: Literal["walk", "raise_arms", "sit", "lean", "lift"] = "walk"
    """What the body does: walk along +x (:mod:`.walk`), stand and raise both arms
    (:mod:`.stand`), sit down on a box (:mod:`.sit`; the box is drawn, its top at the
    seated body's seat contact), lean on a table with both hands (:mod:`.lean`; the table is
    drawn, its top at the resting palms) or squat and stand up with a box held between the
    palms (:mod:`.lift`; the box is drawn, as wide as the palms' gap, moving with the hands
    once lifted)."""
    walk: WalkConfig = WalkConfig()
    """The gait (``action="walk"``)."""
    raise_arms: RaiseArmsConfig = RaiseArmsConfig()
    """The arm raise (``action="raise_arms"``)."""
    sit: SitDownConfig = SitDownConfig()
    """The sit-down (``action="sit"``)."""
    lean: LeanConfig = LeanConfig()
    """The lean on a table (``action="lean"``)."""
    lift: LiftConfig = LiftConfig()
    """The lift of a box (``action="lift"``)."""
    box_depth_m: float = Field(0.25, gt=0.0, le=1.0)
    """Depth of the lifted box along the facing direction (``action="lift"``) [m]."""
    box_height_m: float = Field(0.30, gt=0.0, le=1.0)
    """Height of the lifted box (``action="lift"``) [m]; it stands on the floor until lifted
    (the palms must be below its top: checked)."""
    seat_depth_m: float = Field(0.40, gt=0.0, le=1.0)
    """Depth of the drawn seat box along the facing direction (``action="sit"``) [m]."""
    seat_width_m: float = Field(0.50, gt=0.0, le=2.0)
    """Width of the drawn seat box (``action="sit"``) [m]."""
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
        seat_top_m: ``action="sit"``: height of the seated body's seat contact = the drawn
            box's top, world [m] (:func:`~exoactor.perceive.truth.sit.seat_height_m` on the
            last frame); None otherwise.
        seat_box_w: ``action="sit"``: ``(2, 3)`` the box's min and max corners, world [m].
        table_top_m: ``action="lean"``: height of the drawn table's top = the lowest vertex of
            the resting hands (:func:`~exoactor.perceive.truth.lean.hand_rest_height_m`),
            world [m]; None otherwise.
        table_box_w: ``action="lean"``: ``(2, 3)`` the table's min and max corners [m].
        box_size_m: ``action="lift"``: the lifted box's (depth, width, height) [m], width along
            world y = the palms' gap (:func:`~exoactor.perceive.truth.lift.palm_gap_m`).
        box_corners_w: ``action="lift"``: ``(T, 2, 3)`` the box's min and max corners on
            every frame [m] (on the floor until the grasp frame, then moving with the hands).
    """

    video_path: Path
    truth_path: Path
    joints_w: np.ndarray
    fps: float
    K: np.ndarray
    T_c_w: np.ndarray
    image_size_px: tuple[int, int]
    fov_deg: float
    seat_top_m: float | None = None
    seat_box_w: np.ndarray | None = None
    table_top_m: float | None = None
    table_box_w: np.ndarray | None = None
    box_size_m: tuple[float, float, float] | None = None
    box_corners_w: np.ndarray | None = None


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


_BOX_RGB = np.array([0.55, 0.38, 0.22])
"""Colour of the drawn seat box and table (wood)."""
_CARTON_RGB = np.array([0.80, 0.66, 0.42])
"""Colour of the drawn lifted box (cardboard)."""


def _forearm_axes(rest_joints: np.ndarray) -> dict[str, np.ndarray]:
    """``"L"``/``"R"`` -> unit elbow-to-wrist direction of the rest pose (Anny's frame)."""
    out = {}
    for side, name in (("L", "left"), ("R", "right")):
        d = rest_joints[BODY_33.index(f"{name}_wrist")] - rest_joints[BODY_33.index(f"{name}_elbow")]
        out[side] = d / np.linalg.norm(d)
    return out


def _seat_box(body: AnnyBody, seated_v_w: np.ndarray, seated_j_w: np.ndarray,
              cfg: TruthClipConfig) -> tuple[float, np.ndarray]:
    """The seat's top height [m] (the seated body's seat contact) and the box's ``(2, 3)`` min
    and max corners [m]: ``seat_depth_m`` deep with its front edge 0.12 m behind the knees,
    ``seat_width_m`` wide about the hips, the body facing +x."""
    family = np.array([lab.split(".")[0].rstrip("0123456789-") for lab in body.bone_labels])
    knees = seated_j_w[[BODY_33.index("left_knee"), BODY_33.index("right_knee")]]
    hips = seated_j_w[[BODY_33.index("left_hip"), BODY_33.index("right_hip")]]
    top = seat_height_m(seated_v_w, family[body.dominant_bone], float(knees[:, 0].mean()))
    front = float(knees[:, 0].mean()) - 0.12
    y = float(hips[:, 1].mean())
    box = np.array([[front - cfg.seat_depth_m, y - cfg.seat_width_m / 2, 0.0],
                    [front, y + cfg.seat_width_m / 2, top]])
    return top, box


def _families(body: AnnyBody) -> np.ndarray:
    """``(V,)`` each vertex's dominant bone family (label without side and number)."""
    family = np.array([lab.split(".")[0].rstrip("0123456789-") for lab in body.bone_labels])
    return family[body.dominant_bone]


def _hand_sides(body: AnnyBody) -> np.ndarray:
    """``(V,)`` +1 on left-hand vertices, -1 on right-hand ones, 0 elsewhere."""
    side = np.array([lab.rsplit(".", 1)[-1] if "." in lab else "" for lab in body.bone_labels])
    side = side[body.dominant_bone]
    hand = np.isin(_families(body), HAND_REGION)
    return np.where(hand & (side == "L"), 1, np.where(hand & (side == "R"), -1, 0))


def _table_box(body: AnnyBody, rest_v_w: np.ndarray) -> tuple[float, np.ndarray]:
    """The table's top [m] (the resting hands' lowest vertex) and its ``(2, 3)`` corners [m]:
    from 0.10 m behind the hands (but clear of the body below the top) to 0.30 m beyond
    them, 0.25 m to either side of them, the body facing +x."""
    family = _families(body)
    top = hand_rest_height_m(rest_v_w, family)
    hands = rest_v_w[np.isin(family, HAND_REGION)]
    arms = np.isin(family, ("upperarm", "lowerarm", "shoulder", "clavicle")) \
        | np.isin(family, HAND_REGION)
    below = rest_v_w[~arms & (rest_v_w[:, 2] < top + 0.02)]
    near = max(float(hands[:, 0].min()) - 0.10, float(below[:, 0].max()) + 0.03)
    box = np.array([[near, float(hands[:, 1].min()) - 0.25, 0.0],
                    [float(hands[:, 0].max()) + 0.30, float(hands[:, 1].max()) + 0.25, top]])
    return top, box


def _lifted_box(body: AnnyBody, verts_w: np.ndarray, cfg: TruthClipConfig
                ) -> tuple[tuple[float, float, float], np.ndarray]:
    """The lifted box's (depth, width, height) [m] and ``(T, 2, 3)`` corners [m]: as wide
    as the palms' gap, centred between the hands at the grasp frame, standing on the floor
    until then and carried with the hands' midpoint after it."""
    sides = _hand_sides(body)
    g = min(grasp_frame(cfg.lift, cfg.fps), len(verts_w) - 1)
    width = palm_gap_m(verts_w[g], sides)
    if width <= 0.05:
        raise ValueError(f"lift: the palms are {width:.3f} m apart at the grasp; no box fits")
    hands = verts_w[:, sides != 0]
    mid = 0.5 * (hands.min(1) + hands.max(1))
    if float(hands[g, :, 2].min()) > cfg.box_height_m:
        raise ValueError(f"lift: the palms do not reach the box's top ({cfg.box_height_m} m) "
                         "at the grasp; lower the squat or the box")
    lo = np.array([mid[g, 0] - cfg.box_depth_m / 2, mid[g, 1] - width / 2, 0.0])
    hi = np.array([mid[g, 0] + cfg.box_depth_m / 2, mid[g, 1] + width / 2, cfg.box_height_m])
    move = np.where(np.arange(len(verts_w))[:, None] > g, mid - mid[g], 0.0)
    corners = np.stack([lo + move, hi + move], axis=1)
    return (cfg.box_depth_m, width, cfg.box_height_m), corners


def box_mesh(corners: np.ndarray, cells: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """``(V, 3)`` vertices and ``(F, 3)`` outward (counter-clockwise seen from outside) faces
    of an axis-aligned box (``corners``: min and max, (2, 3) [m]) without its bottom; each face
    is a ``cells`` x ``cells`` grid, so the painter's order of the renderer stays right next to
    a body."""
    lo, hi = np.asarray(corners, float)
    centre = (lo + hi) / 2
    verts, faces = [], []
    g = np.linspace(0.0, 1.0, cells + 1)
    for axis in range(3):
        for end in (lo, hi):
            if axis == 2 and end is lo:
                continue  # the bottom lies on the floor
            a, b = [i for i in range(3) if i != axis]
            u, w = np.meshgrid(g, g, indexing="ij")
            pts = np.zeros(u.shape + (3,))
            pts[..., axis] = end[axis]
            pts[..., a] = lo[a] + u * (hi[a] - lo[a])
            pts[..., b] = lo[b] + w * (hi[b] - lo[b])
            base = sum(len(v) for v in verts)
            verts.append(pts.reshape(-1, 3))
            idx = np.arange((cells + 1) ** 2).reshape(cells + 1, cells + 1) + base
            for i in range(cells):
                for j in range(cells):
                    faces += [[idx[i, j], idx[i + 1, j], idx[i + 1, j + 1]],
                              [idx[i, j], idx[i + 1, j + 1], idx[i, j + 1]]]
    v = np.concatenate(verts)
    f = np.array(faces)
    tri = v[f]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    inward = (n * (tri.mean(1) - centre)).sum(-1) < 0
    f[inward] = f[inward][:, ::-1]
    return v, f


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


def sit_down_config(frames: int = 90, fps: float = 30.0, pitch_deg: float = 15.0,
                    azimuth_deg: float = 35.0, distance_m: float = 3.6, **changes
                    ) -> TruthClipConfig:
    """A person who sits down on a box (``action="sit"``), seen three-quarter from the front
    (``azimuth_deg`` from the facing direction) by a camera ``distance_m`` away that looks down
    at the seat by ``pitch_deg``. ``changes`` update further :class:`TruthClipConfig` fields."""
    p, a = np.radians(pitch_deg), np.radians(azimuth_deg)
    target = np.array([-0.2, 0.0, 0.65])
    eye = target + distance_m * np.array([np.cos(p) * np.cos(a), np.cos(p) * np.sin(a),
                                          np.sin(p)])
    return TruthClipConfig(frames=frames, fps=fps, action="sit",
                           camera_eye_m=tuple(float(x) for x in eye),
                           camera_target_m=tuple(float(x) for x in target), **changes)


def _view(azimuth_deg: float, pitch_deg: float, distance_m: float, target: np.ndarray
          ) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    p, a = np.radians(pitch_deg), np.radians(azimuth_deg)
    eye = target + distance_m * np.array([np.cos(p) * np.cos(a), np.cos(p) * np.sin(a),
                                          np.sin(p)])
    return tuple(float(x) for x in eye), tuple(float(x) for x in target)


def lean_config(frames: int = 90, fps: float = 30.0, pitch_deg: float = 15.0,
                azimuth_deg: float = 60.0, distance_m: float = 3.6, **changes
                ) -> TruthClipConfig:
    """A person who leans on a table (``action="lean"``), seen from ``azimuth_deg`` off the
    facing direction by a camera ``distance_m`` away that looks down by ``pitch_deg``."""
    eye, target = _view(azimuth_deg, pitch_deg, distance_m, np.array([0.2, 0.0, 0.8]))
    return TruthClipConfig(frames=frames, fps=fps, action="lean", camera_eye_m=eye,
                           camera_target_m=target, **changes)


def lift_config(frames: int = 96, fps: float = 30.0, pitch_deg: float = 15.0,
                azimuth_deg: float = 60.0, distance_m: float = 3.6, **changes
                ) -> TruthClipConfig:
    """A person who squats and stands up with a box (``action="lift"``), seen from
    ``azimuth_deg`` off the facing direction by a camera ``distance_m`` away that looks down
    by ``pitch_deg``."""
    eye, target = _view(azimuth_deg, pitch_deg, distance_m, np.array([0.1, 0.0, 0.7]))
    return TruthClipConfig(frames=frames, fps=fps, action="lift", camera_eye_m=eye,
                           camera_target_m=target, **changes)


def make_truth_clip(out_path: str | Path, config: TruthClipConfig | None = None,
                    cache_dir: str | Path | None = None) -> TruthClip:
    """Render the body (walking, raising its arms or sitting down) to ``out_path``
    (``.mp4``) and write its truth beside it.

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
    rotations = {"walk": lambda: walk_rotations(cfg.walk, cfg.frames, cfg.fps),
                 "raise_arms": lambda: raise_arms_rotations(cfg.raise_arms, cfg.frames, cfg.fps),
                 "sit": lambda: sit_down_rotations(cfg.sit, cfg.frames, cfg.fps),
                 "lean": lambda: lean_rotations(cfg.lean, cfg.frames, cfg.fps,
                                                _forearm_axes(rest.joints[0])),
                 "lift": lambda: lift_rotations(cfg.lift, cfg.frames, cfg.fps)}[cfg.action]()
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
    faces = body.faces
    seat_top = box = None
    if cfg.action == "sit":
        seat_top, box = _seat_box(body, verts_w[-1], joints_w[-1], cfg)
        bv, bf = box_mesh(box)
        faces = np.concatenate([faces, bf + len(verts_w[0])])
        colours = np.concatenate([colours, np.broadcast_to(_BOX_RGB, (len(bf), 3))])
        verts_w = np.concatenate([verts_w, np.broadcast_to(bv, (len(verts_w),) + bv.shape)], 1)
    table_top = table_box = box_size = box_corners = None
    if cfg.action == "lean":
        table_top, table_box = _table_box(body, verts_w[-1])
        bv, bf = box_mesh(table_box)
        faces = np.concatenate([faces, bf + len(verts_w[0])])
        colours = np.concatenate([colours, np.broadcast_to(_BOX_RGB, (len(bf), 3))])
        verts_w = np.concatenate([verts_w, np.broadcast_to(bv, (len(verts_w),) + bv.shape)], 1)
    if cfg.action == "lift":
        box_size, box_corners = _lifted_box(body, verts_w, cfg)
        bvs = []
        for c in box_corners:
            bv, bf = box_mesh(c)
            bvs.append(bv)
        faces = np.concatenate([faces, bf + len(verts_w[0])])
        colours = np.concatenate([colours, np.broadcast_to(_CARTON_RGB, (len(bf), 3))])
        verts_w = np.concatenate([verts_w, np.stack(bvs)], 1)
    background = room_background(cam, supersample=cfg.supersample)
    light = Light()
    with atomic_path(out_path) as tmp:
        writer = open_h264(tmp, cfg.width_px, cfg.height_px, cfg.fps, quality=cfg.quality)
        try:
            for v in verts_w:
                img = render_mesh(v, faces, colours, cam, background, light, cfg.supersample)
                writer.send(np.ascontiguousarray(img))
        finally:
            writer.close()
    truth_path = out_path.with_name(out_path.stem + TRUTH_SUFFIX)
    with atomic_path(truth_path) as tmp:
        np.savez(tmp, joints_w=joints_w, fps=cfg.fps, K=K, T_c_w=T_c_w,
                 image_size_px=np.array([cfg.width_px, cfg.height_px]), fov_deg=cfg.fov_deg,
                 joint_names=np.array(BODY_33), config=json.dumps(cfg.model_dump(mode="json")),
                 **({} if seat_top is None else {"seat_top_m": seat_top, "seat_box_w": box}),
                 **({} if table_top is None else {"table_top_m": table_top,
                                                  "table_box_w": table_box}),
                 **({} if box_size is None else {"box_size_m": np.array(box_size),
                                                 "box_corners_w": box_corners}))
    logger.info("rendered %d frames to %s (truth %s)", cfg.frames, out_path, truth_path)
    return TruthClip(out_path, truth_path, joints_w, cfg.fps, K, T_c_w,
                     (cfg.width_px, cfg.height_px), cfg.fov_deg, seat_top, box, table_top,
                     table_box, box_size, box_corners)


def load_truth(truth_path: str | Path) -> TruthClip:
    """Read a truth file written by :func:`make_truth_clip` (the video is its sibling)."""
    truth_path = Path(truth_path)
    with np.load(truth_path) as z:
        size = tuple(int(x) for x in z["image_size_px"])
        video = truth_path.with_name(truth_path.name.removesuffix(TRUTH_SUFFIX) + ".mp4")
        seat = float(z["seat_top_m"]) if "seat_top_m" in z.files else None
        box = z["seat_box_w"] if "seat_box_w" in z.files else None
        table = float(z["table_top_m"]) if "table_top_m" in z.files else None
        table_box = z["table_box_w"] if "table_box_w" in z.files else None
        lifted = (tuple(float(x) for x in z["box_size_m"]) if "box_size_m" in z.files
                  else None)
        corners = z["box_corners_w"] if "box_corners_w" in z.files else None
        return TruthClip(video, truth_path, z["joints_w"], float(z["fps"]), z["K"], z["T_c_w"],
                         (size[0], size[1]), float(z["fov_deg"]), seat, box, table, table_box,
                         lifted, corners)
