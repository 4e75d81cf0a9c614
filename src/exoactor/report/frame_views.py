"""What the GL renderer draws for each frame of the report's videos, as requests and results.

A video's fixed settings are one :class:`ViewJob`; each frame is one :class:`ViewRequest` (the
robot's configuration, the camera, whether the world view is due), answered by
:func:`draw_views` with a :class:`FrameViews`: the robot's patch through the estimated camera,
the world view when it was redrawn, and the robot's body positions (for the shadow).

:class:`LocalViews` answers requests in this process. The same requests can be answered in a
second process (:class:`~exoactor.report.render_process.RenderProcess`), with the same results
bit for bit: MuJoCo's render call holds the GIL, so only there does it run beside the decoding,
compositing and encoding of the report's videos. Both have the interface of :class:`Views`:
:meth:`~Views.submit` requests in order, possibly ahead, and take each :meth:`~Views.result`
in the same order.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from exoactor.report.views import FreeCamera, ViewRenderer
from exoactor.report.world_view import Poses, WorldCanvas

if TYPE_CHECKING:
    import mujoco

    from exoactor.report.scene_camera import GLFrustum

Box = tuple[int, int, int, int]
"""Rows ``y0:y1`` and columns ``x0:x1`` of an image [px]."""


@dataclass(frozen=True)
class ViewJob:
    """The settings of every frame's views (fixed for a video).

    Attributes:
        max_width, max_height: the largest view that will be drawn [px] (the GL buffer).
        scene_size: ``(width, height)`` of the robot's render through the estimated camera
            [px], or None (no scene view).
        K_scene: ``(3, 3)`` intrinsics of that render [px], or None.
        world_camera: the world view's fixed camera, or None (no world view).
        world_size: ``(width, height)`` of the world view [px].
        poses: the root paths and scene objects (a :class:`~exoactor.report.world_view.Poses`
            whose functions are dropped: see :func:`without_functions`).
    """

    max_width: int
    max_height: int
    scene_size: tuple[int, int] | None
    K_scene: np.ndarray | None
    world_camera: FreeCamera | None
    world_size: tuple[int, int]
    poses: Poses


@dataclass(frozen=True)
class ViewRequest:
    """One frame's views.

    Attributes:
        t_s: the frame's time [s].
        qpos: ``(nq,)`` the robot's configuration.
        ref_qpos: ``(nq,)`` the reference robot's configuration (world view), or None.
        T_r_c: ``(4, 4)`` the estimated camera's pose, robot world (OpenCV axes), or None (no
            scene view).
        frustum: the same camera as an OpenGL frustum for the job's ``scene_size``, or None.
        world: redraw the world view.
    """

    t_s: float
    qpos: np.ndarray
    ref_qpos: np.ndarray | None
    T_r_c: np.ndarray | None
    frustum: GLFrustum | None
    world: bool


@dataclass(frozen=True)
class FrameViews:
    """What :func:`draw_views` drew for a :class:`ViewRequest`.

    Attributes:
        robot: the robot's render through the estimated camera: uint8 RGB and bool coverage of
            its box, and the box (see :meth:`ViewRenderer.scene_patch`), or None (no scene view).
        world: ``(height, width, 3)`` uint8 world view (its own array), or None when not
            redrawn.
        body_xpos: ``(nbody - 1, 3)`` positions of the robot's bodies but the world [m].
    """

    robot: tuple[np.ndarray, np.ndarray, Box] | None
    world: np.ndarray | None
    body_xpos: np.ndarray


def without_functions(poses: Poses) -> Poses:
    """``poses`` with its functions of time dropped: the paths and objects the world view draws,
    which can be pickled."""
    return replace(poses, qpos_at=None, ref_qpos_at=None, human_joints_at=None)


def draw_views(views: ViewRenderer, canvas: WorldCanvas | None, job: ViewJob,
               request: ViewRequest) -> FrameViews:
    """Pose the robots and draw ``request``'s views with ``views`` (and ``canvas``, the world
    view's state, which carries over from the previous request)."""
    views.pose(request.qpos, request.ref_qpos)
    robot = None
    if request.frustum is not None and job.scene_size is not None:
        w, h = job.scene_size
        objects = job.poses.objects
        box = views.scene_box(job.K_scene, request.T_r_c, w, h, objects)
        robot = views.scene_patch(request.frustum, w, h, objects, box)
    world = None
    if request.world and canvas is not None:
        world = canvas.update(request.t_s, reference=request.ref_qpos is not None).copy()
    return FrameViews(robot, world, views.data.xpos[1:].copy())


class Views(Protocol):
    """Answers :class:`ViewRequest` s in order (see the module's doc)."""

    def submit(self, request: ViewRequest) -> None:
        """Queue ``request``."""

    def result(self) -> FrameViews:
        """The views of the oldest request not yet answered."""

    def close(self) -> None:
        """Free the renderer (idempotent)."""


class LocalViews:
    """:class:`Views` drawn in this process, each when its result is asked for.

    Args:
        model: the robot's MuJoCo model (not modified).
        job: the video's view settings, or None (then give them to :meth:`start`).
        size: ``(width, height)`` of the GL buffer [px] when ``job`` is None (the job's
            ``max_width`` and ``max_height`` must equal it).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, model: mujoco.MjModel, job: ViewJob | None = None,
                 size: tuple[int, int] | None = None):
        if size is None:
            size = (job.max_width, job.max_height)
        self.views = ViewRenderer(model, *size)
        self.job: ViewJob | None = None
        self.canvas: WorldCanvas | None = None
        self._pending: collections.deque[ViewRequest] = collections.deque()
        if job is not None:
            self.start(job)

    def __enter__(self) -> LocalViews:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, job: ViewJob) -> None:
        """Draw the views of ``job`` from now on."""
        if (job.max_width, job.max_height) != self.views.max_size:
            raise ValueError(f"the job's views ({job.max_width}x{job.max_height}) need another "
                             f"GL buffer than this one's {self.views.max_size}")
        self.job = job
        self.canvas = None
        if job.world_camera is not None:
            self.canvas = WorldCanvas(self.views, job.world_camera, *job.world_size, job.poses)

    def submit(self, request: ViewRequest) -> None:
        self._pending.append(request)

    def result(self) -> FrameViews:
        return draw_views(self.views, self.canvas, self.job, self._pending.popleft())

    def close(self) -> None:
        self.views.close()
