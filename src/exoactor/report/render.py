"""Kinematic video rendering of robot motions with MuJoCo's offscreen renderer.

A ``(T, nq)`` qpos sequence is posed frame by frame (``mj_kinematics`` + ``mj_camlight``, no
physics) and rendered offscreen, then encoded to an H.264 / yuv420p mp4 with ffmpeg (through
``imageio-ffmpeg``). Frames are ``(H, W, 3)`` uint8 RGB, row 0 at the top.

Conventions: world frame z-up, qpos as MuJoCo lays it out (free joint first: position [m], then
orientation wxyz). The tracking camera is a MuJoCo free camera; its azimuth is the horizontal
direction it looks along [deg] (0 looks along +x), its elevation is negative when looking down.

Speed (Mesa llvmpipe, no GPU): rendering uses a private copy of the model with multisampling
off (``vis.quality.offsamples = 0``), shadows and reflections off, and the robot's collision
geoms (group 0, duplicates of the visual meshes in group 1) hidden. The caller's model is never
modified.

Headless machines need an OpenGL backend: ``MUJOCO_GL=egl`` (Mesa EGL) or ``MUJOCO_GL=osmesa``,
set before ``mujoco`` is first imported.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from exoactor.errors import ExoActorError, UnknownName

if TYPE_CHECKING:
    import mujoco

    from exoactor.formats.motion import RobotMotion
    from exoactor.robots.spec import Robot

logger = logging.getLogger(__name__)

TRACK_CAMERA = "track"
"""Name of the default camera: a free camera that follows ``track_body``."""
TRACK_DISTANCE_M = 3.0
"""Distance of the tracking camera from its look-at point [m]."""
TRACK_ELEVATION_DEG = -15.0
"""Elevation of the tracking camera [deg]; negative looks down."""
TRACK_AZIMUTH_OFFSET_DEG = 135.0
"""Camera azimuth relative to the body's heading [deg]: 180 is head-on, 135 a 3/4 front view
from the body's right-hand side."""
TRACK_SMOOTH_S = 0.25
"""Standard deviation of the zero-phase Gaussian smoothing of the look-at path [s]."""
HEADING_WINDOW_S = 1.0
"""The camera azimuth follows the body's mean heading over this first stretch of the clip [s]."""

_HIDDEN_GROUP = 5
"""Geom group the collision duplicates are moved to (disabled in the scene options)."""

_NO_GL = (
    "could not {what} for offscreen rendering (MUJOCO_GL={backend}): {err}. "
    "Fix on a headless machine: `apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri "
    "libopengl0` and run with `MUJOCO_GL=egl` (or `apt-get install libosmesa6` and "
    "`MUJOCO_GL=osmesa`); MUJOCO_GL must be set before mujoco is imported.")
_BAD_QPOS = "qpos has shape {shape}; expected (T, {nq}) with T >= 1 for this model (nq = {nq})"
_NONFINITE_QPOS = "qpos frame {frame} is not finite (NaN or inf); cannot render it"
_BAD_SIZE = ("video size {width}x{height} px is invalid; width and height must be positive even "
             "numbers (H.264 yuv420p)")
_BAD_FPS = "fps must be a positive finite number, got {fps!r}"
_UNKNOWN_CAMERA = "unknown camera '{camera}'; available: {options}"
_UNKNOWN_BODY = "unknown track_body '{body}'; bodies: {options}"


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render_qpos` wrote.

    Attributes:
        path: the mp4 file.
        num_frames: number of video frames.
        fps: frame rate stored in the file [Hz].
        width: frame width [px].
        height: frame height [px].
        seconds: wall-clock time spent rendering and encoding [s].
        ms_per_frame: ``seconds`` per frame [ms].
    """

    path: Path
    num_frames: int
    fps: float
    width: int
    height: int
    seconds: float
    ms_per_frame: float

    @property
    def duration_s(self) -> float:
        """Play time of the video [s]."""
        return self.num_frames / self.fps


def smooth_path(pos_w: np.ndarray, fps: float, sigma_s: float = TRACK_SMOOTH_S) -> np.ndarray:
    """Zero-phase Gaussian smoothing of a path along time (edges padded with the end values).

    Args:
        pos_w: ``(T, D)`` float positions (any frame, any unit).
        fps: sample rate of ``pos_w`` [Hz].
        sigma_s: standard deviation of the Gaussian [s]; 0 returns a copy.

    Returns:
        ``(T, D)`` float64 smoothed positions, same frame and unit.
    """
    pos = np.asarray(pos_w, dtype=np.float64)
    sigma = sigma_s * fps
    if sigma <= 0 or pos.shape[0] < 2:
        return pos.copy()
    half = math.ceil(3 * sigma)
    k = np.arange(-half, half + 1)
    kernel = np.exp(-0.5 * (k / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(pos, ((half, half), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, d], kernel, mode="valid")
                     for d in range(pos.shape[1])], axis=1)


def heading_deg(xmat_w: np.ndarray) -> float:
    """Circular mean of a body's heading: the yaw of its x axis projected on the ground.

    Args:
        xmat_w: ``(T, 9)`` row-major body-to-world rotation matrices (MuJoCo ``data.xmat``).

    Returns:
        Heading in degrees, ``atan2`` convention (0 along +x, 90 along +y).
    """
    from exoactor.rotations import circular_mean, matrix_yaw

    xmat = np.asarray(xmat_w, dtype=np.float64).reshape(-1, 3, 3)
    return float(np.degrees(circular_mean(matrix_yaw(xmat))))


def iter_frames(model: mujoco.MjModel, qpos: np.ndarray, fps: float, *, width: int = 640,
                height: int = 480, camera: str = TRACK_CAMERA, track_body: str = "pelvis",
                caption: str | None = None, max_frames: int | None = None,
                ) -> Iterator[np.ndarray]:
    """Render a qpos sequence kinematically, one frame at a time.

    Inputs are checked (and the camera path computed) on the call; the renderer is created on
    the first ``next()`` and closed when the generator finishes or is closed, so frames can be
    composed (side by side, captions) without writing files.

    Args:
        model: the MuJoCo model ``qpos`` belongs to (not modified).
        qpos: ``(T, nq)`` float joint positions (free-joint root position [m] in world,
            orientation wxyz, hinge angles [rad]).
        fps: frame rate of ``qpos`` [Hz]; sets the time scale of the camera smoothing.
        width: frame width [px], positive and even.
        height: frame height [px], positive and even.
        camera: ``"track"`` (a free camera following ``track_body`` from a 3/4 front view at
            :data:`TRACK_DISTANCE_M`) or the name of a camera of the model.
        track_body: body the tracking camera follows.
        caption: text drawn in the top-left corner of every frame, if given.
        max_frames: render only the first ``max_frames`` frames.

    Yields:
        ``(height, width, 3)`` uint8 RGB frames.

    Raises:
        ExoActorError: bad qpos, size or fps, or no OpenGL backend could be loaded or created
            (the message names the packages to install and the ``MUJOCO_GL`` to set).
        UnknownName: unknown ``camera`` or ``track_body``.
    """
    _import_mujoco()
    qpos = _check_inputs(model, qpos, fps, width, height)
    width, height = int(width), int(height)
    if max_frames is not None:
        qpos = qpos[: max(int(max_frames), 1)]
    vis_model = _visual_model(model, width, height)
    cam = _make_camera(vis_model, qpos, fps, camera, track_body)
    return _frames(vis_model, qpos, cam, width, height, caption)


def _frames(vis_model: mujoco.MjModel, qpos: np.ndarray, cam: _Camera, width: int, height: int,
            caption: str | None) -> Iterator[np.ndarray]:
    """The frame generator behind :func:`iter_frames` (inputs already checked)."""
    import mujoco

    option = mujoco.MjvOption()
    option.geomgroup[_HIDDEN_GROUP] = 0
    data = mujoco.MjData(vis_model)
    renderer = _make_renderer(vis_model, width, height)
    try:
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        for t in range(qpos.shape[0]):
            data.qpos[:] = qpos[t]
            mujoco.mj_kinematics(vis_model, data)
            mujoco.mj_camlight(vis_model, data)
            if cam.lookat_w is not None:
                cam.free.lookat[:] = cam.lookat_w[t]
            renderer.update_scene(data, camera=cam.free if cam.fixed_id < 0 else cam.fixed_id,
                                  scene_option=option)
            frame = renderer.render()
            if caption:
                frame = draw_caption(frame, caption)
            yield frame
    finally:
        renderer.close()


def render_qpos(model: mujoco.MjModel, qpos: np.ndarray, fps: float, out_path: str | Path, *,
                width: int = 640, height: int = 480, camera: str = TRACK_CAMERA,
                track_body: str = "pelvis", caption: str | None = None,
                max_frames: int | None = None) -> RenderResult:
    """Render a qpos sequence kinematically to an H.264 mp4 (yuv420p), written atomically.

    Args:
        model: the MuJoCo model ``qpos`` belongs to (not modified).
        qpos: ``(T, nq)`` joint positions, see :func:`iter_frames`.
        fps: frame rate of ``qpos`` [Hz], stored in the video.
        out_path: the mp4 to write; its folder is created. On error nothing is written and an
            existing file is left untouched.
        width, height, camera, track_body, caption, max_frames: see :func:`iter_frames`.

    Returns:
        A :class:`RenderResult` with the frame count and timings.
    """
    from exoactor.fileio import atomic_path
    from exoactor.media import open_h264
    from exoactor.ui import progress

    out_path = Path(out_path)
    start = time.perf_counter()
    num = 0
    frames = iter_frames(model, qpos, fps, width=width, height=height, camera=camera,
                         track_body=track_body, caption=caption, max_frames=max_frames)
    total = len(qpos) if max_frames is None else min(len(qpos), max(int(max_frames), 1))
    try:
        with atomic_path(out_path) as tmp:
            writer = open_h264(tmp, width, height, fps)
            try:
                for frame in progress(frames, f"render {out_path.name}", total=total,
                                      unit="frame"):
                    writer.send(np.ascontiguousarray(frame))
                    num += 1
            finally:
                writer.close()
    finally:
        frames.close()
    seconds = time.perf_counter() - start
    result = RenderResult(out_path, num, float(fps), width, height, seconds,
                          1000.0 * seconds / max(num, 1))
    logger.info("rendered %d frames to %s (%.1f ms/frame)", num, out_path, result.ms_per_frame)
    return result


def render_motion(motion: RobotMotion, out_path: str | Path, *, robot: Robot | str | None = None,
                  width: int = 640, height: int = 480, fps: float | None = None,
                  caption: str | None = None) -> RenderResult:
    """Render a :class:`~exoactor.formats.RobotMotion` to an mp4, tracking the pelvis.

    Args:
        motion: the robot motion to show.
        out_path: the mp4 to write (atomically).
        robot: the robot (or its registry name) to pose; default ``motion.robot``.
        width: frame width [px], positive and even.
        height: frame height [px], positive and even.
        fps: video frame rate [Hz]; the motion is resampled to it first. Default: the motion's.
        caption: text drawn in the top-left corner, if given.

    Returns:
        A :class:`RenderResult`.
    """
    from exoactor.formats.resample import resample_robot_motion
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_qpos

    _import_mujoco()  # fail with the fix, not inside the robot loader
    if robot is None or isinstance(robot, str):
        robot = get_robot(robot or motion.robot)
    if fps is not None:
        motion = resample_robot_motion(motion, fps)
    qpos = motion_qpos(robot, motion)
    return render_qpos(robot.model, qpos, motion.fps, out_path, width=width, height=height,
                       track_body=robot.spec.key_bodies.pelvis, caption=caption)


def draw_caption(frame: np.ndarray, text: str) -> np.ndarray:
    """``frame`` with ``text`` in white on a dark box in its top-left corner.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB image.
        text: the caption (one or more lines).

    Returns:
        A new ``(H, W, 3)`` uint8 RGB image.
    """
    from PIL import Image, ImageDraw

    size = max(10, frame.shape[0] // 24)
    font = _font(size)
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    margin = max(2, size // 3)
    box = draw.multiline_textbbox((2 * margin, 2 * margin), text, font=font)
    draw.rectangle((box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin),
                   fill=(20, 20, 20))
    draw.multiline_text((2 * margin, 2 * margin), text, font=font, fill=(255, 255, 255))
    return np.asarray(image)


# --- helpers -----------------------------------------------------------------------------------


@cache
def font_path() -> Path | None:
    """The TrueType font captions are drawn with: DejaVu Sans as shipped with matplotlib (a
    dependency; Bitstream Vera / DejaVu licence), or None when it cannot be found."""
    try:
        import matplotlib
    except ImportError:
        return None
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return path if path.is_file() else None


@cache
def _font_codepoints() -> frozenset[int] | None:
    path = font_path()
    if path is None:
        return None
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(str(path), lazy=True).getBestCmap())


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` (other than line breaks) the caption font has no glyph for.

    Without the TrueType font, Pillow's built-in font is used, which is trusted only for
    printable ASCII.
    """
    points = _font_codepoints()
    out = []
    for ch in dict.fromkeys(text):
        if ch in "\n\r":
            continue
        known = (ord(ch) in points) if points is not None else (" " <= ch <= "~")
        if not known:
            out.append(ch)
    return out


@cache
@cache
def _font(size: int) -> Any:
    """The caption font at ``size`` px: :func:`font_path`, else Pillow's built-in font (loaded
    once per size)."""
    from PIL import ImageFont

    path = font_path()
    if path is not None:
        return ImageFont.truetype(str(path), size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


@dataclass
class _Camera:
    free: Any
    """The ``mujoco.MjvCamera`` used in track mode."""
    fixed_id: int
    """Id of a model camera, or -1 for the free camera."""
    lookat_w: np.ndarray | None
    """``(T, 3)`` look-at point per frame in world [m] (track mode)."""


def _check_inputs(model: mujoco.MjModel, qpos: np.ndarray, fps: float, width: int,
                  height: int) -> np.ndarray:
    """Validate the render inputs; return ``qpos`` as a ``(T, nq)`` float64 array."""
    arr = np.asarray(qpos, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != model.nq or arr.shape[0] < 1:
        raise ExoActorError(_BAD_QPOS.format(shape=arr.shape, nq=model.nq))
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise ExoActorError(_NONFINITE_QPOS.format(frame=int(np.argmax(bad))))
    if not (isinstance(fps, (int, float, np.number)) and math.isfinite(fps) and fps > 0):
        raise ExoActorError(_BAD_FPS.format(fps=fps))
    if (int(width) != width or int(height) != height or width <= 0 or height <= 0
            or width % 2 or height % 2):
        raise ExoActorError(_BAD_SIZE.format(width=width, height=height))
    return arr


def _visual_model(model: mujoco.MjModel, width: int, height: int, *,
                  in_place: bool = False) -> mujoco.MjModel:
    """A copy of ``model`` (or, with ``in_place``, ``model`` itself: for a private copy the
    caller already made; copying the G1 costs ~70 ms) set up for fast offscreen rendering at
    ``width`` x ``height``.

    No multisampling; an offscreen buffer at least as large as the frame; and, when the model
    has visual geoms (group 1), the robot's group-0 collision geoms moved to a hidden group (the
    world body's geoms, such as the floor, stay visible).
    """
    import copy

    vis = model if in_place else copy.copy(model)
    vis.vis.quality.offsamples = 0
    vis.vis.global_.offwidth = max(int(vis.vis.global_.offwidth), int(width))
    vis.vis.global_.offheight = max(int(vis.vis.global_.offheight), int(height))
    if np.any(vis.geom_group == 1):
        collision = (vis.geom_group == 0) & (vis.geom_bodyid > 0)
        vis.geom_group[collision] = _HIDDEN_GROUP
    return vis


def _make_camera(model: mujoco.MjModel, qpos: np.ndarray, fps: float, camera: str,
                 track_body: str) -> _Camera:
    """The camera: a model camera by name, or the tracking free camera with its look-at path."""
    import mujoco

    free = mujoco.MjvCamera()
    if camera != TRACK_CAMERA:
        cam_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if cam_id < 0:
            options = [TRACK_CAMERA, *(model.camera(i).name for i in range(model.ncam))]
            raise UnknownName(_UNKNOWN_CAMERA.format(camera=camera, options=", ".join(options)))
        return _Camera(free, cam_id, None)
    body_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, track_body)
    if body_id < 0:
        options = ", ".join(model.body(i).name for i in range(1, model.nbody))
        raise UnknownName(_UNKNOWN_BODY.format(body=track_body, options=options))
    data = mujoco.MjData(model)
    pos_w = np.empty((qpos.shape[0], 3))
    xmat_w = np.empty((qpos.shape[0], 9))
    for t in range(qpos.shape[0]):
        data.qpos[:] = qpos[t]
        mujoco.mj_kinematics(model, data)
        pos_w[t] = data.xpos[body_id]
        xmat_w[t] = data.xmat[body_id]
    window = max(1, round(HEADING_WINDOW_S * fps))
    free.type = mujoco.mjtCamera.mjCAMERA_FREE
    free.distance = TRACK_DISTANCE_M
    free.elevation = TRACK_ELEVATION_DEG
    free.azimuth = heading_deg(xmat_w[:window]) + TRACK_AZIMUTH_OFFSET_DEG
    return _Camera(free, -1, smooth_path(pos_w, fps))


def _make_renderer(model: mujoco.MjModel, width: int, height: int) -> mujoco.Renderer:
    """A ``mujoco.Renderer``, or an :class:`ExoActorError` naming the fix if GL is missing."""
    mujoco = _import_mujoco()
    try:
        return mujoco.Renderer(model, height=height, width=width)
    except Exception as err:  # GL backends fail with many exception types
        raise _no_gl("create an OpenGL context", err) from err


def _import_mujoco() -> Any:
    """``import mujoco``; it fails (with many exception types) when ``MUJOCO_GL`` names a
    backend whose libraries are missing, which becomes an :class:`ExoActorError` with the fix."""
    try:
        import mujoco
    except Exception as err:  # ImportError, AttributeError (PyOpenGL), RuntimeError
        raise _no_gl("import mujoco", err) from err
    return mujoco


def _no_gl(what: str, err: BaseException) -> ExoActorError:
    backend = os.environ.get("MUJOCO_GL", "<unset, glfw>")
    return ExoActorError(_NO_GL.format(what=what, backend=backend,
                                       err=f"{type(err).__name__}: {err}"))
