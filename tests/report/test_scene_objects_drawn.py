"""The report draws scene.json's objects: each becomes a box of the same centre, half size and
heading in both views."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exoactor.formats.scene import ObjectPose, Scene, SceneObject, save_scene
from exoactor.report.build import _scene_geoms


def test_scene_json_objects_become_view_shapes(tmp_path: Path) -> None:
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(1.0, 2.0, 0.2), yaw_rad=np.pi / 2),
                       size=(0.4, 0.5, 0.4))
    table = SceneObject(kind="table", pose=ObjectPose(pos=(0.0, -1.0, 0.7)), size=(0.6, 1.0, 0.04))
    path = save_scene(Scene(objects=(seat, table)), tmp_path / "scene.json")
    geoms = _scene_geoms(path)
    assert [g.kind for g in geoms] == ["box", "box"]
    assert np.allclose(geoms[0].pos_r, (1.0, 2.0, 0.2))
    assert np.allclose(geoms[0].size, (0.2, 0.25, 0.2))
    # the seat's depth axis (local x) points along its heading (+y after a quarter turn)
    assert np.allclose(np.array(geoms[0].rot_r) @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    assert np.allclose(geoms[1].size, (0.3, 0.5, 0.02))
    assert geoms[0].rgba != geoms[1].rgba
