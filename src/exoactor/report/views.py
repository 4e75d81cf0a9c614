"""One offscreen OpenGL context that draws every view of a report frame.

:class:`ViewRenderer` holds a single GL context and MuJoCo render context for the report's
robot model and draws, per frame:

* the **scene view**: the robot alone (no floor, no sky) through a pinhole camera given as an
  :class:`~exoactor.report.scene_camera.GLFrustum`, with its coverage (alpha) read from the
  depth buffer of the same render, for compositing over the input video;
* the **world view**: the robot on the floor from a fixed free camera, with a translucent
  reference robot and polylines (paths) added to the same scene.

Speed (Mesa llvmpipe, no GPU): the G1's visual meshes hold ~390 000 triangles, which makes
rendering geometry-bound (~45 ms a frame at any size). The model is drawn from a private copy
whose meshes are simplified by vertex clustering (:func:`simplify_meshes`; 1 cm cells keep the
silhouette and shading at report sizes and cut the triangles ~20x), without multisampling,
shadows or reflections, with the collision duplicates hidden (see
:func:`exoactor.report.render._visual_model`). The caller's model is never modified.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from exoactor.report.render import _HIDDEN_GROUP, _import_mujoco, _no_gl, _visual_model

if TYPE_CHECKING:
    import mujoco

    from exoactor.report.scene_camera import GLFrustum

MESH_CELL_M = 0.015
"""Vertex-clustering cell of the simplified robot meshes [m]."""
HEADLIGHT_AMBIENT = 0.45
"""Ambient light of the camera's headlight [0-1] (MuJoCo's default 0.1 leaves the dark G1 black
against outdoor footage)."""
HEADLIGHT_DIFFUSE = 0.55
"""Diffuse light of the headlight [0-1] (MuJoCo's default 0.4)."""
_WORLD_GROUP = 4
"""Geom group the world body's geoms (floor) are moved to: hidden in the scene view."""


def simplify_meshes(model: mujoco.MjModel, cell_m: float = MESH_CELL_M) -> mujoco.MjModel:
    """A copy of ``model`` whose meshes are simplified by vertex clustering.

    The vertices of each mesh falling into one ``cell_m`` cube are merged at their mean; faces
    that collapse (two corners in one cell) or repeat are dropped. The compiled mesh arrays are
    rewritten in place in the copy (face and normal counts shrink, vertex arrays keep their
    size), so the copy only serves rendering: the GL buffers are built from it when a render
    context is made.
    """
    m = copy.copy(model)
    if cell_m <= 0:
        return m
    for i in range(m.nmesh):
        va, vn = int(m.mesh_vertadr[i]), int(m.mesh_vertnum[i])
        fa, fn = int(m.mesh_faceadr[i]), int(m.mesh_facenum[i])
        if vn < 64 or fn < 64:
            continue
        verts = m.mesh_vert[va:va + vn]
        faces = m.mesh_face[fa:fa + fn]
        normals = m.mesh_facenormal[fa:fa + fn].copy()
        cell = np.floor(verts / cell_m).astype(np.int64)
        cell -= cell.min(axis=0)
        span = cell.max(axis=0) + 1
        key = (cell[:, 0] * span[1] + cell[:, 1]) * span[2] + cell[:, 2]
        _, cluster, counts = np.unique(key, return_inverse=True, return_counts=True)
        cluster = cluster.ravel()
        order = np.argsort(cluster, kind="stable")
        first = order[np.r_[0, np.flatnonzero(np.diff(cluster[order])) + 1]]
        rep = np.empty(counts.size, dtype=np.int64)
        rep[cluster[first]] = first
        mean = np.zeros((counts.size, 3))
        np.add.at(mean, cluster, verts)
        verts[first] = mean[cluster[first]] / counts[cluster[first], None]
        new = rep[cluster[faces]]
        keep = (new[:, 0] != new[:, 1]) & (new[:, 1] != new[:, 2]) & (new[:, 0] != new[:, 2])
        new, normals = new[keep], normals[keep]
        _, unique = np.unique(np.sort(new, axis=1), axis=0, return_index=True)
        unique.sort()
        n = len(unique)
        if n == 0:
            continue
        m.mesh_face[fa:fa + n] = new[unique]
        m.mesh_facenormal[fa:fa + n] = normals[unique]
        m.mesh_facenum[i] = n
    return m


@dataclass(frozen=True)
class FreeCamera:
    """A fixed MuJoCo free camera: look-at point [m], distance [m], azimuth and elevation [deg]
    (azimuth 0 looks along +x; negative elevation looks down)."""

    lookat: tuple[float, float, float]
    distance: float
    azimuth: float
    elevation: float


@dataclass(frozen=True)
class Polyline:
    """A path drawn in the world view: ``(N, 3)`` points [m], RGBA colour, line width [px]."""

    points: np.ndarray
    rgba: tuple[float, float, float, float]
    width_px: float = 3.0


@dataclass(frozen=True)
class SceneGeom:
    """A shape drawn into both views with the robot: the hook for the objects of a scene
    description (``scene.json``), mapped into the robot world like the camera.

    Attributes:
        kind: ``"box"``, ``"sphere"``, ``"cylinder"`` or ``"capsule"``.
        size: MuJoCo geom size (half-extents for a box; radius [, half-length]) [m].
        pos_r: ``(3,)`` centre, robot world [m].
        rot_r: ``(3, 3)`` orientation, robot world.
        rgba: colour and opacity in [0, 1].
    """

    kind: str
    size: tuple[float, float, float]
    pos_r: tuple[float, float, float]
    rot_r: tuple[tuple[float, float, float], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0),
                                                     (0.0, 0.0, 1.0))
    rgba: tuple[float, float, float, float] = (0.8, 0.6, 0.3, 1.0)

    def mj_type(self) -> int:
        import mujoco

        kinds = {"box": mujoco.mjtGeom.mjGEOM_BOX, "sphere": mujoco.mjtGeom.mjGEOM_SPHERE,
                 "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
                 "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE}
        if self.kind not in kinds:
            raise ValueError(f"unknown scene shape '{self.kind}'; one of {', '.join(kinds)}")
        return int(kinds[self.kind])


class ViewRenderer:
    """Draws the scene and world views of one robot model with one GL context.

    Args:
        model: the robot's MuJoCo model (not modified).
        max_width, max_height: the largest view size that will be asked for [px].
        mesh_cell_m: vertex-clustering cell of the simplified meshes [m] (0 keeps them).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, model: mujoco.MjModel, max_width: int, max_height: int,
                 mesh_cell_m: float = MESH_CELL_M, max_geom: int = 4000):
        mujoco = _import_mujoco()
        self._mj = mujoco
        vis = _visual_model(simplify_meshes(model, mesh_cell_m), max_width, max_height,
                            in_place=True)
        vis.geom_group[vis.geom_bodyid == 0] = _WORLD_GROUP
        # the skybox is never drawn (both views turn it off): upload a 1-pixel cube instead of
        # the G1's 800x4800 one (~0.1 s of texture set-up in the render context)
        sky = vis.tex_type == mujoco.mjtTexture.mjTEXTURE_SKYBOX
        vis.tex_width[sky] = 1
        vis.tex_height[sky] = 6
        vis.vis.headlight.ambient[:] = HEADLIGHT_AMBIENT
        vis.vis.headlight.diffuse[:] = HEADLIGHT_DIFFUSE
        self.model = vis
        self.max_size = (int(max_width), int(max_height))
        try:
            self._gl = mujoco.GLContext(int(max_width), int(max_height))
            self._gl.make_current()
            self._con = mujoco.MjrContext(vis, mujoco.mjtFontScale.mjFONTSCALE_100)
            mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._con)
        except Exception as err:  # GL backends fail with many exception types
            raise _no_gl("create an OpenGL context", err) from err
        self._scene = mujoco.MjvScene(vis, maxgeom=max_geom)
        for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION):
            self._scene.flags[flag] = 0
        self._pert = mujoco.MjvPerturb()
        self._robot_opt = mujoco.MjvOption()
        self._robot_opt.geomgroup[_HIDDEN_GROUP] = 0
        self._robot_opt.geomgroup[_WORLD_GROUP] = 0
        self._world_opt = mujoco.MjvOption()
        self._world_opt.geomgroup[_HIDDEN_GROUP] = 0
        self._world_opt.geomgroup[_WORLD_GROUP] = 1
        self._cam = mujoco.MjvCamera()
        self.data = mujoco.MjData(vis)
        """Pose of the drawn robot (set ``qpos`` and call :meth:`pose`)."""
        self.ref_data = mujoco.MjData(vis)
        """Pose of the translucent reference robot of the world view."""

    def __enter__(self) -> ViewRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the GL context (idempotent)."""
        if getattr(self, "_gl", None) is not None:
            self._con.free()
            self._gl.free()
            self._gl = None

    def pose(self, qpos: np.ndarray, ref_qpos: np.ndarray | None = None) -> None:
        """Set the robot (and reference robot) configuration: kinematics only, no physics."""
        mj = self._mj
        self.data.qpos[:] = qpos
        mj.mj_kinematics(self.model, self.data)
        mj.mj_camlight(self.model, self.data)
        if ref_qpos is not None:
            self.ref_data.qpos[:] = ref_qpos
            mj.mj_kinematics(self.model, self.ref_data)

    def _read(self, width: int, height: int, depth: bool) -> tuple[np.ndarray, Any]:
        mj = self._mj
        if width > self.max_size[0] or height > self.max_size[1]:
            raise ValueError(f"view {width}x{height} exceeds the context's {self.max_size}")
        rect = mj.MjrRect(0, 0, int(width), int(height))
        self._gl.make_current()  # another renderer may have made its own context current
        mj.mjr_render(rect, self._scene, self._con)
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        z = np.empty((height, width), dtype=np.float32) if depth else None
        mj.mjr_readPixels(rgb, z, rect, self._con)
        return rgb[::-1], (z[::-1] if z is not None else None)

    def scene_view(self, frustum: GLFrustum, width: int, height: int,
                   objects: Sequence[SceneGeom] = (),
                   box: tuple[int, int, int, int] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """The posed robot alone through ``frustum``: ``(height, width, 3)`` uint8 RGB and
        ``(height, width)`` bool coverage (see :meth:`scene_patch`, which returns only the
        rendered box)."""
        rgb, cover, (y0, y1, x0, x1) = self.scene_patch(frustum, width, height, objects, box)
        full = np.zeros((height, width, 3), dtype=np.uint8)
        full_cover = np.zeros((height, width), dtype=bool)
        full[y0:y1, x0:x1] = rgb
        full_cover[y0:y1, x0:x1] = cover
        return full, full_cover

    def scene_patch(self, frustum: GLFrustum, width: int, height: int,
                    objects: Sequence[SceneGeom] = (),
                    box: tuple[int, int, int, int] | None = None
                    ) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
        """The posed robot alone through ``frustum``.

        Args:
            frustum: the camera (robot world).
            width, height: image size [px].
            objects: further shapes to draw with the robot (robot world), e.g. the objects of a
                scene the person acts on.
            box: rows ``y0:y1`` and columns ``x0:x1`` (from the top) known to hold everything
                drawn (e.g. :meth:`scene_box`), or None: only that part is rendered, through
                the sub-frustum of those pixels (llvmpipe's cost grows with the pixels drawn
                and read back); outside it the images are empty.

        Returns:
            uint8 RGB and bool coverage (True where the robot was drawn) of the rendered box,
            and the box ``(y0, y1, x0, x1)`` (the whole image when ``box`` is None); the image
            is empty (black, uncovered) outside it.
        """
        mj = self._mj
        self._scene.flags[mj.mjtRndFlag.mjRND_SKYBOX] = 0
        mj.mjv_updateScene(self.model, self.data, self._robot_opt, self._pert, self._cam,
                           mj.mjtCatBit.mjCAT_ALL, self._scene)
        left = frustum.center - frustum.half_width
        for cam in self._scene.camera:
            cam.pos[:] = frustum.pos
            cam.forward[:] = frustum.forward
            cam.up[:] = frustum.up
            cam.frustum_near = frustum.near
            cam.frustum_far = frustum.far
            cam.orthographic = 0
        _narrow(self._scene, left, frustum.top, 2.0 * frustum.half_width / width,
                (frustum.top - frustum.bottom) / height, box or (0, height, 0, width))
        self._add_objects(objects)
        y0, y1, x0, x1 = box if box is not None else (0, height, 0, width)
        if y1 <= y0 or x1 <= x0:
            return (np.zeros((0, 0, 3), np.uint8), np.zeros((0, 0), bool), (0, 0, 0, 0))
        rgb, z = self._read(x1 - x0, y1 - y0, depth=True)
        return rgb, z < 1.0 - 1e-6, (y0, y1, x0, x1)
    def scene_box(self, K: np.ndarray, T_r_c: np.ndarray, width: int, height: int,
                  objects: Sequence[SceneGeom] = (), margin_px: int = 4
                  ) -> tuple[int, int, int, int] | None:
        """Rows ``y0:y1`` and columns ``x0:x1`` of a ``width`` x ``height`` pinhole image
        (intrinsics ``K``, pose ``T_r_c`` in the robot world) that hold the posed robot's
        visible geoms and ``objects``: the projection of each one's bounding sphere, plus
        ``margin_px``. None (the whole image) when a sphere reaches behind the camera."""
        return _sphere_box(*self._spheres(self.data), *_object_spheres(objects), K=K,
                           T_r_c=T_r_c, width=width, height=height, margin_px=margin_px)

    def _spheres(self, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
        """Centres ``(G, 3)`` [m] and radii ``(G,)`` [m] of the bounding spheres of the shown
        robot geoms posed in ``data``."""
        m = self.model
        shown = (m.geom_group != _HIDDEN_GROUP) & (m.geom_group != _WORLD_GROUP) \
            & (m.geom_rgba[:, 3] > 0)
        return data.geom_xpos[shown], m.geom_rbound[shown]

    def world_pinhole(self, camera: FreeCamera, width: int, height: int
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Intrinsics ``K`` (for ``width`` x ``height``) and pose ``T_r_c`` (OpenCV axes,
        robot world) of the pinhole camera the world view renders through."""
        mj = self._mj
        self._set_free_camera(camera)
        mj.mjv_updateCamera(self.model, self.data, self._cam, self._scene)
        cam = self._scene.camera[0]
        forward, up = np.array(cam.forward, float), np.array(cam.up, float)
        px = (cam.frustum_top - cam.frustum_bottom) / height  # near-plane size of a pixel [m]
        f = cam.frustum_near / px
        K = np.array([[f, 0.0, 0.5 * width - cam.frustum_center / px],
                      [0.0, f, cam.frustum_top / px], [0.0, 0.0, 1.0]])
        T = np.eye(4)
        T[:3, :3] = np.stack([np.cross(forward, up), -up, forward], axis=1)
        T[:3, 3] = cam.pos
        return K, T

    def world_box(self, K: np.ndarray, T_r_c: np.ndarray, width: int, height: int, *,
                  reference: bool = False, points: np.ndarray | None = None,
                  margin_px: int = 6) -> tuple[int, int, int, int] | None:
        """Rows ``y0:y1`` and columns ``x0:x1`` of the world view (pinhole ``K``, ``T_r_c``:
        :meth:`world_pinhole`) holding the robot, the reference robot when ``reference``, and
        ``points`` ``(P, 3)`` [m] (e.g. the ends of the path segments that change), plus
        ``margin_px``; None when something reaches behind the camera."""
        parts = [self._spheres(self.data)]
        if reference:
            parts.append(self._spheres(self.ref_data))
        if points is not None and len(points):
            p = np.asarray(points, dtype=float).reshape(-1, 3)
            parts.append((p, np.zeros(len(p))))
        return _sphere_box(np.concatenate([c for c, _ in parts]),
                           np.concatenate([r for _, r in parts]), K=K, T_r_c=T_r_c,
                           width=width, height=height, margin_px=margin_px)

    def _set_free_camera(self, camera: FreeCamera) -> None:
        mj = self._mj
        self._cam.type = mj.mjtCamera.mjCAMERA_FREE
        self._cam.lookat[:] = camera.lookat
        self._cam.distance = camera.distance
        self._cam.azimuth = camera.azimuth
        self._cam.elevation = camera.elevation

    def _add_objects(self, objects: Sequence[SceneGeom]) -> None:
        mj = self._mj
        scn = self._scene
        for ob in objects:
            if scn.ngeom >= scn.maxgeom:
                break
            mj.mjv_initGeom(scn.geoms[scn.ngeom], ob.mj_type(), np.asarray(ob.size, float),
                            np.asarray(ob.pos_r, float),
                            np.asarray(ob.rot_r, float).reshape(9),
                            np.asarray(ob.rgba, np.float32))
            scn.ngeom += 1

    def world_view(self, camera: FreeCamera, width: int, height: int, *,
                   reference: bool = False, ref_alpha: float = 0.35,
                   ref_rgb: Sequence[float] = (0.2, 0.5, 1.0),
                   paths: Sequence[Polyline] = (), objects: Sequence[SceneGeom] = (),
                   box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """The posed robot on the floor from a fixed free camera.

        Args:
            camera: the camera.
            width, height: image size [px].
            reference: also draw the reference robot (:attr:`ref_data`), tinted and translucent.
            ref_alpha, ref_rgb: its opacity and tint.
            paths: polylines to draw (e.g. the reference and robot root paths).
            objects: further shapes to draw (robot world), as in :meth:`scene_view`.
            box: rows ``y0:y1`` and columns ``x0:x1`` (from the top) of the view to render
                alone (through the sub-frustum of those pixels), or None (the whole view).

        Returns:
            ``(height, width, 3)`` uint8 RGB, or the ``box`` part of it.
        """
        mj = self._mj
        scn = self._scene
        scn.flags[mj.mjtRndFlag.mjRND_SKYBOX] = 0
        self._set_free_camera(camera)
        mj.mjv_updateScene(self.model, self.data, self._world_opt, self._pert, self._cam,
                           mj.mjtCatBit.mjCAT_ALL, scn)
        if box is not None:
            cam = scn.camera[0]
            px = (cam.frustum_top - cam.frustum_bottom) / height
            _narrow(scn, cam.frustum_center - 0.5 * width * px, cam.frustum_top, px, px, box)
        if reference:
            start = scn.ngeom
            mj.mjv_addGeoms(self.model, self.ref_data, self._robot_opt, self._pert,
                            mj.mjtCatBit.mjCAT_DYNAMIC, scn)
            rgba = np.array([*ref_rgb, ref_alpha], dtype=np.float32)
            for k in range(start, scn.ngeom):
                scn.geoms[k].rgba[:] = rgba
        self._add_objects(objects)
        eye = np.eye(3).ravel()
        for path in paths:
            pts = np.asarray(path.points, dtype=float)
            rgba = np.asarray(path.rgba, dtype=np.float32)
            for a, b in zip(pts[:-1], pts[1:]):
                if scn.ngeom >= scn.maxgeom:
                    break
                if np.linalg.norm(b - a) < 1e-4:
                    continue
                g = scn.geoms[scn.ngeom]
                mj.mjv_initGeom(g, mj.mjtGeom.mjGEOM_LINE, np.zeros(3), np.zeros(3), eye,
                                rgba)
                mj.mjv_connector(g, mj.mjtGeom.mjGEOM_LINE, path.width_px, a, b)
                scn.ngeom += 1
        if box is None:
            return self._read(width, height, depth=False)[0]
        y0, y1, x0, x1 = box
        if y1 <= y0 or x1 <= x0:
            return np.zeros((max(y1 - y0, 0), max(x1 - x0, 0), 3), np.uint8)
        return self._read(x1 - x0, y1 - y0, depth=False)[0]


def _narrow(scene: mujoco.MjvScene, left: float, top: float, px_w: float, px_h: float,
            box: tuple[int, int, int, int] | None) -> None:
    """Point the scene's GL cameras at the pixels ``box`` (rows ``y0:y1``, columns ``x0:x1``
    from the top; None: all) of an image whose near-plane window starts at ``left``, ``top``
    with pixels ``px_w`` x ``px_h`` [m]. MuJoCo derives the left and right planes from the
    centre and the viewport's aspect, so the pixels keep their size when only the box is
    rendered into a viewport of the box's size."""
    if box is None:
        return
    y0, y1, x0, x1 = box
    for cam in scene.camera:
        cam.frustum_center = left + 0.5 * (x0 + x1) * px_w
        cam.frustum_width = 0.5 * (x1 - x0) * px_w
        cam.frustum_bottom = top - y1 * px_h
        cam.frustum_top = top - y0 * px_h


def _object_spheres(objects: Sequence[SceneGeom]) -> tuple[np.ndarray, np.ndarray]:
    """Bounding spheres (centres ``(N, 3)``, radii ``(N,)`` [m]) of scene shapes."""
    return (np.array([ob.pos_r for ob in objects], float).reshape(-1, 3),
            np.array([float(np.linalg.norm(ob.size)) for ob in objects]))


def _sphere_box(centres: np.ndarray, radii: np.ndarray, more_centres: np.ndarray | None = None,
                more_radii: np.ndarray | None = None, *, K: np.ndarray, T_r_c: np.ndarray,
                width: int, height: int, margin_px: int
                ) -> tuple[int, int, int, int] | None:
    """Rows ``y0:y1`` and columns ``x0:x1`` of a ``width`` x ``height`` pinhole image that
    hold the projections of the spheres (plus ``margin_px``); ``(0, 0, 0, 0)`` when there are
    none in view, None when one reaches behind the camera."""
    from exoactor.report.scene_camera import project_w

    c, r = np.asarray(centres, float).reshape(-1, 3), np.asarray(radii, float).ravel()
    if more_centres is not None and len(more_centres):
        c = np.concatenate([c, np.asarray(more_centres, float).reshape(-1, 3)])
        r = np.concatenate([r, np.asarray(more_radii, float).ravel()])
    if len(c) == 0:
        return (0, 0, 0, 0)
    px, z = project_w(c, K, T_r_c)
    if np.any(z - r <= 1e-3):
        return None
    f = max(float(K[0, 0]), float(K[1, 1]))
    # a point d (|d| <= r) off a centre c (camera frame) moves its image by
    # f |d_xy c_z - c_xy d_z| / (c_z (c_z + d_z)) <= f r |c| / (c_z (c_z - r))
    dist = np.linalg.norm(c - np.asarray(T_r_c, float)[:3, 3], axis=1)
    ext = f * r * dist / (z * (z - r)) + margin_px
    x0 = int(np.clip(np.floor((px[:, 0] - ext).min()), 0, width))
    x1 = int(np.clip(np.ceil((px[:, 0] + ext).max()) + 1, 0, width))
    y0 = int(np.clip(np.floor((px[:, 1] - ext).min()), 0, height))
    y1 = int(np.clip(np.ceil((px[:, 1] + ext).max()) + 1, 0, height))
    if x1 <= x0 or y1 <= y0:
        return (0, 0, 0, 0)
    return (y0, y1, x0, x1)


def merge_boxes(*boxes: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    """The smallest box holding every non-empty box (None if any is None: the whole image)."""
    if any(b is None for b in boxes):
        return None
    full = [b for b in boxes if b[1] > b[0] and b[3] > b[2]]
    if not full:
        return (0, 0, 0, 0)
    return (min(b[0] for b in full), max(b[1] for b in full), min(b[2] for b in full),
            max(b[3] for b in full))
