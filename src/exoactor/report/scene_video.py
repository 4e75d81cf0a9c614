"""The report's videos in one render pass: ``robot_in_scene.mp4``, ``side_by_side.mp4`` and,
for runs without an input video, a world view.

One :class:`~exoactor.report.views.ViewRenderer` (one GL context, simplified meshes) draws,
for each input frame, the robot through the estimated camera (composited over the frame,
:mod:`exoactor.report.in_scene`) and the world view from a fixed camera that shows the
reference robot (translucent), the reference root path and the robot's root path so far, so
drift is visible. The input is decoded and downscaled by ffmpeg, and each output is encoded by
its own ffmpeg process fed from a thread (the side-by-side's frames are assembled there too), so
decoding, encoding and compositing run beside the rendering. Only the boxes that change are
rendered and composited: the robot's box in the scene view, the robots' box in the world view.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from exoactor.fileio import atomic_path
from exoactor.media import open_h264, resize_image
from exoactor.report.in_scene import Layers, Patch, composite, shadow_patch, skeleton_patch
from exoactor.report.scene_camera import PersonToRobot, gl_frustum, robot_camera, scale_intrinsics
from exoactor.report.views import ViewRenderer
from exoactor.report.world_view import (  # noqa: F401 - re-exported: the report's other modules use them here
    REF_PATH_RGBA,
    ROBOT_PATH_RGBA,
    WORLD_FOVY_DEG,
    Poses,
    WorldCanvas,
    fixed_world_camera,
)
from exoactor.ui import progress

if TYPE_CHECKING:
    from exoactor.report.render_process import RenderProcess

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
"""Update rate of the side-by-side's world view [Hz] (frames in between repeat the last one;
each update redraws only the box around the robots, see :class:`WorldCanvas`)."""
RENDER_PROCESS: bool | None = False
"""Draw the report's GL views in a second process (see :mod:`exoactor.report.render_process`):
MuJoCo's render call holds the GIL, so in one process it stalls the decoding and encoding
threads, and in a second one it runs beside them. That costs ~1 CPU-s more per report
(measured 0.9-1.5: the second interpreter, the model, the pipes). Off by default: on 2 cores
at load 1.3-3 (``benchmarks/report.py --render-process on``, 3 clips, 3 repeats) it was no
faster in wall time (0.97-1.17x of in-process) for 11-35 % more CPU. True / False force it;
None decides per report with :func:`render_process_pays`. The videos are the same either way,
bit for bit."""
LOOKAHEAD_FRAMES = 3
"""Frames whose views are asked for ahead of the frame being composited."""
CAPTION_STRIP_PX = 36
"""Height of the caption strip under the side-by-side panels [px]."""
ENCODER_PRESET = "ultrafast"
"""x264 preset of the report's videos (``ultrafast`` encodes the demo's scene video in ~0.7x
the CPU time of ``superfast``; the files are larger, at the same quality setting)."""
DECODE_SCALER = "fast_bilinear"
"""ffmpeg scaler that downsizes the input video (``fast_bilinear`` costs ~0.85x ``bilinear``
on the demo's 1768x994 -> 960x540, with no visible difference at that size)."""


def render_process_pays(samples: int = 5, interval_s: float = 0.01) -> bool:
    """Whether a render process would find a free core now: at least 2 CPUs for this process
    and, on average over ``samples`` looks ``interval_s`` apart, at most that number minus two
    other runnable tasks (Linux's ``/proc/loadavg``; elsewhere the 1-minute load average minus
    this process). On a busy machine the second process only adds its CPU time: measured under
    load 10-20 on 2 cores, 10-27 % more CPU and no faster."""
    import os
    import time

    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    if cpus < 2:
        return False
    try:
        running = []
        for k in range(samples):
            if k:
                time.sleep(interval_s)
            with open("/proc/loadavg") as fh:  # "1m 5m 15m running/total last-pid"
                running.append(int(fh.read().split()[3].split("/")[0]))
        others = sum(running) / len(running) - 1.0  # this process is running while it reads
    except (OSError, ValueError, IndexError):
        try:
            others = os.getloadavg()[0] - 1.0
        except (AttributeError, OSError):
            return False
    return others <= cpus - 2


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
        frames_T_w_c: optional ``(N, 4, 4)`` pose of each perceived frame (a compensated
            camera rotation, the contact anchoring's shift), at ``frames_fps`` [Hz].
    """

    K: np.ndarray
    T_w_c: np.ndarray
    person_to_robot: PersonToRobot
    frames_T_w_c: np.ndarray | None = None
    frames_fps: float = 30.0

    def at(self, t: float) -> np.ndarray:
        """``(4, 4)`` camera pose at time ``t`` [s] (the nearest perceived frame)."""
        if self.frames_T_w_c is None or not len(self.frames_T_w_c):
            return self.T_w_c
        k = min(max(int(round(t * self.frames_fps)), 0), len(self.frames_T_w_c) - 1)
        return self.frames_T_w_c[k]


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
    no glyph for become ``?``, never a box).

    Successive captions that differ only in the digits before their first ``|`` (the time)
    reuse the last strip drawn for that shape and redraw only that head: the same pixels as a
    full drawing (the head's glyphs do not depend on what follows, and the digits share one
    advance width), for a fraction of the cost.
    """
    from exoactor.report.render import missing_glyphs

    for ch in missing_glyphs(text):
        text = text.replace(ch, "?")
    head, bar, _ = text.partition("|")
    if not bar or not head.endswith(" ") or not _digits_share_an_advance():
        return _draw_strip(text, width, height)
    key = (_DIGIT.sub("0", head), text[len(head):], width, height)
    base = _STRIPS.get(key)
    if base is None:
        if len(_STRIPS) > 64:
            _STRIPS.clear()
        strip = _STRIPS[key] = _draw_strip(text, width, height)
        return strip.copy()
    from PIL import Image, ImageDraw

    from exoactor.report.render import _font

    font = _font(_CAPTION_SIZE_PX)
    # everything left of the first space after the head's last glyph is the head's alone
    cut = min(width, int(_CAPTION_X_PX + font.getlength(head.rstrip()) + 0.5 * font.getlength(" ")))
    image = Image.new("RGB", (cut, height), _STRIP_RGB)
    ImageDraw.Draw(image).text((_CAPTION_X_PX, (height - 18) // 2 - 1), head.rstrip(),
                               font=font, fill=_CAPTION_RGB)
    out = base.copy()
    out[:, :cut] = np.asarray(image)
    return out


_CAPTION_SIZE_PX = 18
_CAPTION_X_PX = 10
_STRIP_RGB = (16, 16, 16)
_CAPTION_RGB = (235, 235, 235)
_DIGIT = re.compile(r"[0-9]")
_STRIPS: dict[tuple, np.ndarray] = {}
"""Caption strips by shape (:func:`caption_strip`)."""


def _draw_strip(text: str, width: int, height: int) -> np.ndarray:
    from PIL import Image, ImageDraw

    from exoactor.report.render import _font

    image = Image.new("RGB", (width, height), _STRIP_RGB)
    ImageDraw.Draw(image).text((_CAPTION_X_PX, (height - 18) // 2 - 1), text,
                               font=_font(_CAPTION_SIZE_PX), fill=_CAPTION_RGB)
    return np.asarray(image)


@functools.cache
def _digits_share_an_advance() -> bool:
    """Whether the caption font draws every digit with the same advance (tabular figures)."""
    from exoactor.report.render import _font

    font = _font(_CAPTION_SIZE_PX)
    return len({font.getlength(d) for d in "0123456789"}) == 1


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


@functools.cache
def _label_stamp(text: str, height: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_label_patch` and the mask of its drawn (not black) pixels."""
    patch = _label_patch(text, height)
    return patch, patch.any(axis=-1)


def _stamp(frame: np.ndarray, text: str) -> None:
    """Draw ``text`` in a dark box in the top-left corner of ``frame`` (in place)."""
    patch, mask = _label_stamp(text, frame.shape[0])
    h, w = min(patch.shape[0], frame.shape[0]), min(patch.shape[1], frame.shape[1])
    # the patch's black margin is transparent
    np.copyto(frame[:h, :w], patch[:h, :w], where=mask[:h, :w, None])


def _label(frame: np.ndarray, text: str) -> np.ndarray:
    """``frame`` with ``text`` in a dark box in its top-left corner (a copy)."""
    out = frame.copy()
    _stamp(out, text)
    return out


def _side_frame(scene: np.ndarray, world: np.ndarray, scene_label: str, world_label: str,
                caption: str, panel_w: int) -> np.ndarray:
    """A side-by-side frame: the scene scaled to the panel height | the world view, with their
    labels, over the caption strip."""
    side = np.empty((PANEL_HEIGHT_PX + CAPTION_STRIP_PX, panel_w + world.shape[1], 3), np.uint8)
    left = side[:PANEL_HEIGHT_PX, :panel_w]
    left[:] = resize_image(scene, panel_w, PANEL_HEIGHT_PX)
    _stamp(left, scene_label)
    right = side[:PANEL_HEIGHT_PX, panel_w:]
    right[:] = world
    _stamp(right, world_label)
    side[PANEL_HEIGHT_PX:] = caption_strip(caption, side.shape[1])
    return side


def _robot_layers(rgb: np.ndarray, cover: np.ndarray, box: tuple[int, int, int, int],
                  sx: float, sy: float) -> tuple[Patch, Patch]:
    """The rendered robot box as premultiplied RGB and coverage patches of the output frame
    (rendered at ``sx`` x ``sy`` of its size; upscaled when below 1, with a float coverage;
    otherwise the bool coverage as rendered)."""
    if sx == 1.0 and sy == 1.0:
        return Patch(rgb, box), Patch(cover, box)
    a = Patch(cover.astype(np.float32), box)
    return _scale_patch(Patch(rgb, box), 1.0 / sx, 1.0 / sy), _scale_patch(a, 1.0 / sx, 1.0 / sy)


def _scale_patch(patch: Patch | None, sx: float, sy: float) -> Patch | None:
    """``patch`` of an image resized by ``sx`` x ``sy`` [px/px] (bilinear)."""
    if patch is None or (sx == 1.0 and sy == 1.0):
        return patch
    y0, y1, x0, x1 = patch.box
    box = (int(round(y0 * sy)), int(round(y1 * sy)), int(round(x0 * sx)), int(round(x1 * sx)))
    if box[1] <= box[0] or box[3] <= box[2]:
        return None
    return Patch(resize_image(patch.data, box[3] - box[2], box[1] - box[0]), box)


def _sizes(src_w: int, src_h: int) -> tuple[int, int, int, int]:
    """Width and height of ``robot_in_scene.mp4`` and of the robot's render [px] for an input
    video of ``src_w`` x ``src_h``."""
    s = min(1.0, SCENE_MAX_WIDTH_PX / src_w)
    out_w, out_h = _even(src_w * s), _even(src_h * s)
    return out_w, out_h, _even(out_w * RENDER_SCALE), _even(out_h * RENDER_SCALE)


def _buffer_size(render_w: int, render_h: int) -> tuple[int, int]:
    """The GL buffer [px] that holds the robot's render and the world view."""
    return max(render_w, WORLD_WIDTH_PX), max(render_h, PANEL_HEIGHT_PX)


def view_buffer_size(video: Path) -> tuple[int, int]:
    """``(width, height)`` [px] of the GL buffer :func:`write_scene_videos` draws ``video``'s
    views in (to :meth:`~exoactor.report.render_process.RenderProcess.preload` a render
    process)."""
    return _buffer_size(*_sizes(*video_size(video))[2:])


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
                       world_label: str = "world: fixed camera",
                       render_process: bool | RenderProcess | None = None) -> SceneVideos:
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
        render_process: draw the GL views in a second process
            (:class:`~exoactor.report.render_process.RenderProcess`; a started one is used, and
            closed), else in this one; None: as :data:`RENDER_PROCESS` says. The videos are the
            same bit for bit.

    Files are written atomically; on error nothing is left behind (and the render process is
    stopped).
    """
    import time

    from exoactor.report.frame_views import LocalViews, ViewJob, ViewRequest, without_functions
    from exoactor.report.render_process import RenderProcess

    if render_process is None:
        render_process = RENDER_PROCESS if RENDER_PROCESS is not None else render_process_pays()
    with contextlib.ExitStack() as stack:
        views = None
        if isinstance(render_process, RenderProcess):
            views = stack.enter_context(render_process)
        elif render_process:  # it imports MuJoCo while this process starts decoding
            views = stack.enter_context(RenderProcess())
        src_w, src_h = video_size(video)
        out_w, out_h, rw, rh = _sizes(src_w, src_h)
        decoding, stop_decoding = _decode(video, out_w, out_h)
        stack.callback(stop_decoding)
        panel_w = _even(out_w * PANEL_HEIGHT_PX / out_h)
        do_scene = camera is not None and scene_out is not None
        K_r = T_r_c0 = frustum0 = None
        if camera is not None:
            K_out = scale_intrinsics(camera.K, out_w / src_w, out_h / src_h)
            K_r = scale_intrinsics(camera.K, rw / src_w, rh / src_h)
            T_r_c0 = robot_camera(camera.T_w_c, camera.person_to_robot)
            frustum0 = gl_frustum(K_r, T_r_c0, rw, rh, near=0.05 * camera.person_to_robot.scale)
            sw, sh = _even(out_w * SHADOW_SCALE), _even(out_h * SHADOW_SCALE)
            K_sh = scale_intrinsics(camera.K, sw / src_w, sh / src_h)
        paths_all = [p for p in (poses.ref_path_w, poses.robot_path_w)
                     if p is not None and len(p)]
        world_cam = fixed_world_camera(paths_all or [np.zeros((1, 3))],
                                       WORLD_WIDTH_PX / PANEL_HEIGHT_PX)
        job = ViewJob(*_buffer_size(rw, rh), (rw, rh) if camera is not None else None, K_r, world_cam,
                      (WORLD_WIDTH_PX, PANEL_HEIGHT_PX), without_functions(poses))
        if views is not None:
            views.load(model, job)
        else:
            views = stack.enter_context(LocalViews(model, job))
        timing = {"render": 0.0, "compose": 0.0, "encode": 0.0}
        written = 0
        thumb = world = None
        frames, fps, n_frames = decoding()
        mid = n_frames // 2
        sent: collections.deque[ViewRequest] = collections.deque()
        last_tick = -1

        def submit(i: int) -> None:
            """Ask for frame ``i``'s views (the views are drawn ahead of their frames)."""
            nonlocal last_tick
            t = i / fps
            T_r_c, frustum = T_r_c0, frustum0
            if camera is not None and camera.frames_T_w_c is not None:  # the camera moves
                T_r_c = robot_camera(camera.at(t), camera.person_to_robot)
                frustum = gl_frustum(K_r, T_r_c, rw, rh,
                                     near=0.05 * camera.person_to_robot.scale)
            tick = int(math.floor(t * WORLD_VIEW_FPS + 1e-6))
            due = side_out is not None and tick != last_tick
            if due:
                last_tick = tick
            request = ViewRequest(t, poses.qpos_at(t),
                                  poses.ref_qpos_at(t) if poses.ref_qpos_at else None,
                                  T_r_c, frustum, due)
            views.submit(request)
            sent.append(request)

        with _outputs(scene_out if do_scene else None, side_out) as (scene_tmp, side_tmp):
            scene_w = _BackgroundWriter(open_h264(scene_tmp, out_w, out_h, fps,
                                                  ENCODER_PRESET)) if scene_tmp else None
            side_w = _BackgroundWriter(open_h264(
                side_tmp, panel_w + WORLD_WIDTH_PX, PANEL_HEIGHT_PX + CAPTION_STRIP_PX, fps,
                ENCODER_PRESET)) if side_tmp else None
            try:
                for i, frame in enumerate(progress(frames, "report videos", total=n_frames,
                                                   unit="frame")):
                    while written + len(sent) <= i + LOOKAHEAD_FRAMES:
                        submit(written + len(sent))
                    t = i / fps
                    t0 = time.perf_counter()
                    request = sent.popleft()
                    drawn = views.result()
                    if drawn.world is not None:
                        world = drawn.world
                    t1 = time.perf_counter()
                    if camera is not None:
                        rgb, alpha = _robot_layers(*drawn.robot, rw / out_w, rh / out_h)
                        xpos = drawn.body_xpos
                        ground = xpos.copy()
                        ground[:, 2] = 0.0
                        shadow = _scale_patch(shadow_patch(ground, xpos[:, 2], K_sh,
                                                           request.T_r_c, sw, sh),
                                              out_w / sw, out_h / sh)
                        skel = None
                        if poses.skeleton and poses.human_joints_at is not None:
                            joints = poses.human_joints_at(t)
                            if joints is not None:
                                skel = skeleton_patch(joints, K_out, camera.at(t), out_w,
                                                      out_h)
                        scene = composite(frame, Layers(rgb, alpha, shadow, skel))
                    else:
                        scene = frame
                    if i <= mid and thumbnail_out is not None:  # the middle, or the last
                        thumb = scene
                    side = None
                    if side_w is not None:  # assembled in the encoder's thread
                        # ``world`` is the views' own array, never changed: shared by frames
                        side = functools.partial(
                            _side_frame, scene, world,
                            scene_label if camera is not None else "input video", world_label,
                            caption(t) if caption else f"t = {t:5.2f} s", panel_w)
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
                views.close()  # while the encoders finish (the views asked ahead are dropped)
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


class _BackgroundWriter:
    """An encoder fed from a thread: :meth:`send` queues a frame and returns, so the pipe
    writes to ffmpeg (which block while it encodes) overlap the next frame's rendering.

    Args:
        writer: a primed imageio-ffmpeg writer (see :func:`exoactor.media.open_h264`).
        depth: frames that may wait in the queue.
    """

    def __init__(self, writer, depth: int = 3):  # noqa: ANN001
        import queue
        import threading

        self._writer = writer
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="report-encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self._error is None:
                try:
                    self._writer.send(frame() if callable(frame) else frame)
                except BaseException as err:  # reported by send / close in the caller
                    self._error = err

    def send(self, frame: np.ndarray | Callable[[], np.ndarray]) -> None:
        """Queue ``frame`` (it must not be modified afterwards), or a function that makes it
        (called in the encoder's thread)."""
        if self._error is not None:
            raise self._error
        self._queue.put(frame)

    def close(self) -> None:
        """Encode what is queued, finish the file, and re-raise an encoder error."""
        self._queue.put(None)
        self._thread.join()
        self._writer.close()
        if self._error is not None:
            raise self._error


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

    paths_all = [p for p in (poses.ref_path_w, poses.robot_path_w) if p is not None and len(p)]
    cam = fixed_world_camera(paths_all or [np.zeros((1, 3))], WORLD_WIDTH_PX / PANEL_HEIGHT_PX)
    n = int(math.floor(duration_s * fps + 1e-9)) + 1
    with ViewRenderer(model, WORLD_WIDTH_PX, PANEL_HEIGHT_PX) as views, \
            atomic_path(Path(out)) as tmp:
        canvas = WorldCanvas(views, cam, WORLD_WIDTH_PX, PANEL_HEIGHT_PX, poses)
        writer = open_h264(tmp, WORLD_WIDTH_PX, PANEL_HEIGHT_PX, fps, ENCODER_PRESET)
        try:
            for i in progress(range(n), f"render {Path(out).name}", unit="frame"):
                t = i / fps
                ref = poses.ref_qpos_at(t) if poses.ref_qpos_at else None
                views.pose(poses.qpos_at(t), ref)
                frame = canvas.update(t, reference=ref is not None)
                writer.send(np.ascontiguousarray(_label(frame, label)))
        finally:
            writer.close()
    return Path(out)
