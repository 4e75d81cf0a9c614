"""The report's videos in one render pass: ``robot_in_scene.mp4``, ``side_by_side.mp4`` and,
for runs without an input video, a world view.

One :class:`~exoactor.report.views.ViewRenderer` (one GL context, simplified meshes) draws,
for each input frame, the robot through the estimated camera (composited over the frame,
:mod:`exoactor.report.in_scene`) and the world view from a fixed camera that shows the
reference robot (translucent), the reference root path and the robot's root path so far, so
drift is visible. The input is decoded and downscaled by ffmpeg, and each output is encoded by
its own ffmpeg process, so decoding and encoding run beside the rendering.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from exoactor.fileio import atomic_path
from exoactor.media import resize_image
from exoactor.report.in_scene import Layers, composite, shadow_map, skeleton_mask, upscale
from exoactor.report.scene_camera import PersonToRobot, gl_frustum, robot_camera, scale_intrinsics
from exoactor.report.views import FreeCamera, Polyline, SceneGeom, ViewRenderer
from exoactor.ui import progress

logger = logging.getLogger(__name__)

SCENE_MAX_WIDTH_PX = 960
"""Widest ``robot_in_scene.mp4`` [px]; wider input videos are downscaled to it."""
RENDER_SCALE = 1.0
"""Resolution of the robot render relative to ``robot_in_scene.mp4`` (upscaled when < 1). With
the simplified meshes, llvmpipe renders 960x540 faster than Pillow upscales 480x270 to it."""
SHADOW_SCALE = 0.5
"""Resolution of the (blurry by nature) shadow map relative to ``robot_in_scene.mp4``."""
PANEL_HEIGHT_PX = 360
"""Height of the side-by-side panels [px]."""
WORLD_WIDTH_PX = 480
"""Width of the world view [px]."""
WORLD_VIEW_FPS = 15.0
"""Update rate of the side-by-side's world view [Hz] (frames in between repeat the last one):
the world view costs three times the scene view to draw."""
CAPTION_STRIP_PX = 36
"""Height of the caption strip under the side-by-side panels [px]."""
ENCODER_PRESET = "ultrafast"
"""x264 preset of the report's videos (``ultrafast`` encodes the demo's scene video in ~0.7x
the CPU time of ``superfast``; the files are larger, at the same quality setting)."""
DECODE_SCALER = "fast_bilinear"
"""ffmpeg scaler that downsizes the input video (``fast_bilinear`` costs ~0.85x ``bilinear``
on the demo's 1768x994 -> 960x540, with no visible difference at that size)."""
REF_PATH_RGBA = (0.2, 0.5, 1.0, 0.9)
"""Colour of the reference root path (and the reference robot's tint)."""
ROBOT_PATH_RGBA = (1.0, 0.45, 0.1, 1.0)
"""Colour of the robot's root path."""
WORLD_FOVY_DEG = 45.0
"""Vertical field of view of MuJoCo's free camera (``vis.global.fovy`` default) [deg]."""


def _even(x: float) -> int:
    n = int(round(x))
    return max(2, n - (n % 2))


@dataclass(frozen=True)
class SceneCamera:
    """The estimated camera of the input video.

    Attributes:
        K: ``(3, 3)`` intrinsics for the video's full size [px].
        T_w_c: ``(4, 4)`` camera pose in the perceive world.
        person_to_robot: the retargeter's person -> robot world map.
    """

    K: np.ndarray
    T_w_c: np.ndarray
    person_to_robot: PersonToRobot


@dataclass
class Poses:
    """What to draw at a time: robot and reference configurations and their root paths.

    Attributes:
        qpos_at: time [s] -> ``(nq,)`` robot configuration.
        ref_qpos_at: time [s] -> ``(nq,)`` reference configuration, or None (no ghost).
        ref_path_w: ``(N, 3)`` reference root path, robot world [m].
        robot_path_w: ``(M, 3)`` robot root path [m] and ``robot_path_t`` its ``(M,)`` times
            [s]; the part up to the current time is drawn.
        human_joints_at: time [s] -> ``(33, 3)`` person joints, perceive world [m], or None.
        skeleton: draw the person's skeleton faintly in the scene view.
    """

    qpos_at: Callable[[float], np.ndarray]
    ref_qpos_at: Callable[[float], np.ndarray] | None = None
    ref_path_w: np.ndarray | None = None
    robot_path_w: np.ndarray | None = None
    robot_path_t: np.ndarray | None = None
    human_joints_at: Callable[[float], np.ndarray | None] | None = None
    skeleton: bool = True
    objects: Sequence[SceneGeom] = ()
    """Static shapes of the scene, robot world (drawn in both views; see :class:`SceneGeom`:
    the hook for a ``scene.json`` scene description)."""

    def paths(self, t_s: float) -> list[Polyline]:
        out = []
        if self.ref_path_w is not None and len(self.ref_path_w) > 1:
            out.append(Polyline(_thin(self.ref_path_w), REF_PATH_RGBA, 3.0))
        if self.robot_path_w is not None and self.robot_path_t is not None:
            done = self.robot_path_w[self.robot_path_t <= t_s + 1e-9]
            if len(done) > 1:
                out.append(Polyline(_thin(done), ROBOT_PATH_RGBA, 4.0))
        return out


def _thin(points: np.ndarray, max_points: int = 40) -> np.ndarray:
    p = np.asarray(points, dtype=float).copy()
    p[:, 2] = 0.01
    step = max(1, math.ceil(len(p) / max_points))
    return np.vstack([p[::step], p[-1:]]) if step > 1 else p


def fixed_world_camera(paths_w: Sequence[np.ndarray], aspect: float,
                       elevation_deg: float = -22.0) -> FreeCamera:
    """A fixed camera that keeps every path (and a robot standing on it) in view.

    It looks across the paths' main direction (their principal axis on the ground) from the
    side, at their centre, from far enough that the whole extent fits the horizontal field of
    view with margin.
    """
    pts = np.concatenate([np.asarray(p, dtype=float)[:, :2] for p in paths_w if len(p)])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = 0.5 * (lo + hi)
    d = pts - pts.mean(axis=0)
    axis = np.linalg.svd(d, full_matrices=False)[2][0] if np.ptp(d, axis=0).max() > 1e-3 \
        else np.array([1.0, 0.0])
    along = d @ axis
    extent = float(np.ptp(along)) + 1.2
    half_v = math.radians(WORLD_FOVY_DEG) / 2
    half_h = math.atan(math.tan(half_v) * aspect)
    distance = max(3.0, 1.15 * (extent / 2) / math.tan(half_h) + 0.6,
                   0.8 / math.tan(half_v) + 0.6)
    azimuth = math.degrees(math.atan2(axis[1], axis[0])) + 90.0
    return FreeCamera((float(centre[0]), float(centre[1]), 0.6), distance, azimuth,
                      elevation_deg)


def _decode(path: Path, width: int, height: int
            ) -> tuple[Callable[[], tuple[Iterator[np.ndarray], float, int]],
                       Callable[[], None]]:
    """Start decoding ``path``, scaled by ffmpeg to ``width`` x ``height``, in the background.

    Returns a function that waits for the decoder's header and returns the frames, the fps and
    the frame count as the container declares it (for progress only: counting would decode
    twice), and one that stops the decoder (idempotent; exhausting or closing the frames does
    too). ffmpeg takes ~0.2 s to start, which overlaps whatever the caller does meanwhile
    (setting up the renderer).
    """
    import concurrent.futures

    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path), output_params=[
        "-vf", f"scale={width}:{height}:flags={DECODE_SCALER}"])
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="report-decode")
    header = pool.submit(next, gen)
    pool.shutdown(wait=False)

    def frames() -> Iterator[np.ndarray]:
        try:
            for raw in gen:
                yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
        finally:
            gen.close()

    def started() -> tuple[Iterator[np.ndarray], float, int]:
        try:
            meta = header.result()
        except BaseException:
            gen.close()
            raise
        n_frames = max(1, int(round(float(meta.get("duration") or 0.0) * float(meta["fps"]))))
        return frames(), float(meta["fps"]), int(n_frames)

    def stop() -> None:
        with contextlib.suppress(BaseException):  # started() reports it; here only clean up
            header.result()
        gen.close()

    return started, stop


def video_size(path: Path) -> tuple[int, int]:
    """(width, height) of a video [px] (from OpenCV's demuxer when installed: starting an
    ffmpeg process to read the header costs ~0.2 s)."""
    try:
        import cv2
    except ImportError:
        pass
    else:
        cap = cv2.VideoCapture(str(path))
        try:
            w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
            h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        finally:
            cap.release()
        if w > 0 and h > 0:
            return w, h
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        return tuple(next(gen)["size"])  # type: ignore[return-value]
    finally:
        gen.close()


def caption_strip(text: str, width: int, height: int = CAPTION_STRIP_PX) -> np.ndarray:
    """A dark ``(height, width, 3)`` strip with ``text`` in light grey (characters the font has
    no glyph for become ``?``, never a box)."""
    from PIL import Image, ImageDraw

    from exoactor.report.render import _font, missing_glyphs

    for ch in missing_glyphs(text):
        text = text.replace(ch, "?")
    image = Image.new("RGB", (width, height), (16, 16, 16))
    ImageDraw.Draw(image).text((10, (height - 18) // 2 - 1), text, font=_font(18),
                               fill=(235, 235, 235))
    return np.asarray(image)


@functools.cache
def _label_patch(text: str, height: int) -> np.ndarray:
    """The top-left corner :func:`~exoactor.report.render.draw_caption` draws on a frame of
    ``height`` rows, as a patch (drawn once per text and size)."""
    from exoactor.report.render import draw_caption

    blank = np.zeros((height, 2000, 3), np.uint8)
    drawn = draw_caption(blank, text)
    rows = np.flatnonzero(drawn.any(axis=(1, 2)))
    cols = np.flatnonzero(drawn.any(axis=(0, 2)))
    return drawn[: rows[-1] + 1, : cols[-1] + 1].copy()


def _label(frame: np.ndarray, text: str) -> np.ndarray:
    """``frame`` with ``text`` in a dark box in its top-left corner (a copy)."""
    patch = _label_patch(text, frame.shape[0])
    out = frame.copy()
    h, w = min(patch.shape[0], out.shape[0]), min(patch.shape[1], out.shape[1])
    box = patch[:h, :w]
    # the patch's black margin is transparent
    keep = ~box.any(axis=-1)
    out[:h, :w] = np.where(keep[..., None], out[:h, :w], box)
    return out


@dataclass
class SceneVideos:
    """What :func:`write_scene_videos` wrote."""

    robot_in_scene: Path | None
    side_by_side: Path | None
    thumbnail: Path | None
    frames: int
    fps: float
    seconds: dict[str, float] = field(default_factory=dict)


def write_scene_videos(model, video: Path, camera: SceneCamera | None, poses: Poses,  # noqa: ANN001
                       *, scene_out: Path | None, side_out: Path | None,
                       thumbnail_out: Path | None = None,
                       caption: Callable[[float], str] | None = None,
                       scene_label: str = "robot (physics) in the scene",
                       world_label: str = "world: fixed camera") -> SceneVideos:
    """Render the robot into every frame of ``video`` and write the report's videos.

    Args:
        model: the robot's MuJoCo model (not modified).
        video: the input video (``video.mp4`` of the run).
        camera: the estimated camera, or None (then the side-by-side shows the plain input and
            no ``robot_in_scene.mp4`` is written).
        poses: what to draw at each frame's time (``i / fps``).
        scene_out: ``robot_in_scene.mp4`` to write (one frame per input frame), or None.
        side_out: ``side_by_side.mp4`` to write (scene | world view + caption strip), or None.
        thumbnail_out: a JPEG of the middle frame of the scene video, or None.
        caption: time [s] -> text of the caption strip.
        scene_label, world_label: panel titles of the side-by-side.

    Files are written atomically; on error nothing is left behind.
    """
    import time

    from exoactor.media import open_h264

    src_w, src_h = video_size(video)
    s = min(1.0, SCENE_MAX_WIDTH_PX / src_w)
    out_w, out_h = _even(src_w * s), _even(src_h * s)
    decoding, stop_decoding = _decode(video, out_w, out_h)
    rw, rh = _even(out_w * RENDER_SCALE), _even(out_h * RENDER_SCALE)
    panel_w = _even(out_w * PANEL_HEIGHT_PX / out_h)
    do_scene = camera is not None and scene_out is not None
    if camera is not None:
        K_out = scale_intrinsics(camera.K, out_w / src_w, out_h / src_h)
        K_r = scale_intrinsics(camera.K, rw / src_w, rh / src_h)
        T_r_c = robot_camera(camera.T_w_c, camera.person_to_robot)
        frustum = gl_frustum(K_r, T_r_c, rw, rh,
                             near=0.05 * camera.person_to_robot.scale)
        sw, sh = _even(out_w * SHADOW_SCALE), _even(out_h * SHADOW_SCALE)
        K_sh = scale_intrinsics(camera.K, sw / src_w, sh / src_h)
    paths_all = [p for p in (poses.ref_path_w, poses.robot_path_w) if p is not None and len(p)]
    world_cam = fixed_world_camera(paths_all or [np.zeros((1, 3))],
                                   WORLD_WIDTH_PX / PANEL_HEIGHT_PX)
    timing = {"render": 0.0, "compose": 0.0, "encode": 0.0}
    max_w = max(rw, WORLD_WIDTH_PX)
    max_h = max(rh, PANEL_HEIGHT_PX)
    written = 0
    thumb = None
    world_tick, world = -1, None
    try:
        views = ViewRenderer(model, max_w, max_h)
    except BaseException:
        stop_decoding()
        raise
    with views, contextlib.closing(SimpleNamespace(close=stop_decoding)):
        frames, fps, n_frames = decoding()
        mid = n_frames // 2
        body_ids = np.arange(1, views.model.nbody)
        with _outputs(scene_out if do_scene else None, side_out) as (scene_tmp, side_tmp):
            scene_w = open_h264(scene_tmp, out_w, out_h, fps, ENCODER_PRESET) \
                if scene_tmp else None
            side_w = open_h264(side_tmp, panel_w + WORLD_WIDTH_PX,
                                  PANEL_HEIGHT_PX + CAPTION_STRIP_PX, fps, ENCODER_PRESET) \
                if side_tmp else None
            try:
                for i, frame in enumerate(progress(frames, "report videos", total=n_frames,
                                                   unit="frame")):
                    t = i / fps
                    t0 = time.perf_counter()
                    ref = poses.ref_qpos_at(t) if poses.ref_qpos_at else None
                    views.pose(poses.qpos_at(t), ref)
                    if camera is not None:
                        box = views.scene_box(K_r, T_r_c, rw, rh, poses.objects)
                        rgb, cover = views.scene_view(frustum, rw, rh, poses.objects, box)
                    tick = int(math.floor(t * WORLD_VIEW_FPS + 1e-6))
                    if side_w is not None and tick != world_tick:
                        world = views.world_view(world_cam, WORLD_WIDTH_PX, PANEL_HEIGHT_PX,
                                                 reference=ref is not None,
                                                 paths=poses.paths(t),
                                                 objects=poses.objects)
                        world_tick = tick
                    t1 = time.perf_counter()
                    if camera is not None:
                        big, alpha = upscale(rgb, cover, out_w, out_h)
                        xpos = views.data.xpos[body_ids]
                        ground = xpos.copy()
                        ground[:, 2] = 0.0
                        shadow = resize_image(shadow_map(ground, xpos[:, 2], K_sh, T_r_c, sw, sh),
                                               out_w, out_h)
                        skel = None
                        if poses.skeleton and poses.human_joints_at is not None:
                            joints = poses.human_joints_at(t)
                            if joints is not None:
                                skel = skeleton_mask(joints, K_out, camera.T_w_c, out_w, out_h)
                        scene = composite(frame, Layers(big, alpha, shadow, skel))
                    else:
                        scene = frame
                    if i <= mid and thumbnail_out is not None:  # the middle, or the last
                        thumb = scene
                    side = None
                    if side_w is not None:
                        left = _label(resize_image(scene, panel_w, PANEL_HEIGHT_PX),
                                      scene_label if camera is not None else "input video")
                        right = _label(world, world_label)
                        strip = caption_strip(caption(t) if caption else f"t = {t:5.2f} s",
                                              panel_w + WORLD_WIDTH_PX)
                        side = np.ascontiguousarray(np.vstack([np.hstack([left, right]), strip]))
                    t2 = time.perf_counter()
                    if scene_w is not None:
                        scene_w.send(np.ascontiguousarray(scene))
                    if side is not None:
                        side_w.send(side)
                    t3 = time.perf_counter()
                    timing["render"] += t1 - t0
                    timing["compose"] += t2 - t1
                    timing["encode"] += t3 - t2
                    written += 1
            finally:
                for w in (scene_w, side_w):
                    if w is not None:
                        w.close()
    thumb_path = None
    if thumbnail_out is not None and thumb is not None:
        from PIL import Image

        with atomic_path(Path(thumbnail_out)) as tmp:
            Image.fromarray(thumb).save(tmp, format="JPEG", quality=85)
        thumb_path = Path(thumbnail_out)
    logger.info("report videos: %d frames; render %.2f s, compose %.2f s, encode %.2f s",
                written, timing["render"], timing["compose"], timing["encode"])
    return SceneVideos(scene_out if do_scene else None, side_out, thumb_path, written, fps,
                       timing)


def _outputs(*paths: Path | None):  # noqa: ANN202
    """Atomic temporary paths for the outputs (None passes through), as one context."""
    import contextlib

    @contextlib.contextmanager
    def cm():  # noqa: ANN202
        with contextlib.ExitStack() as stack:
            yield tuple(None if p is None else stack.enter_context(atomic_path(Path(p)))
                        for p in paths)

    return cm()


def write_world_video(model, poses: Poses, duration_s: float, fps: float, out: Path,  # noqa: ANN001
                      label: str) -> Path:
    """The world view alone (fixed camera, reference ghost and paths) for runs without a video.

    One frame every ``1 / fps`` over ``[0, duration_s]``.
    """
    from exoactor.media import open_h264

    paths_all = [p for p in (poses.ref_path_w, poses.robot_path_w) if p is not None and len(p)]
    cam = fixed_world_camera(paths_all or [np.zeros((1, 3))], WORLD_WIDTH_PX / PANEL_HEIGHT_PX)
    n = int(math.floor(duration_s * fps + 1e-9)) + 1
    with ViewRenderer(model, WORLD_WIDTH_PX, PANEL_HEIGHT_PX) as views, \
            atomic_path(Path(out)) as tmp:
        writer = open_h264(tmp, WORLD_WIDTH_PX, PANEL_HEIGHT_PX, fps, ENCODER_PRESET)
        try:
            for i in progress(range(n), f"render {Path(out).name}", unit="frame"):
                t = i / fps
                ref = poses.ref_qpos_at(t) if poses.ref_qpos_at else None
                views.pose(poses.qpos_at(t), ref)
                frame = views.world_view(cam, WORLD_WIDTH_PX, PANEL_HEIGHT_PX,
                                         reference=ref is not None, paths=poses.paths(t))
                writer.send(np.ascontiguousarray(_label(frame, label)))
        finally:
            writer.close()
    return Path(out)
