"""The objects a person interacts with: inferred from the robot motion, kept in ``scene.json``,
added to the MuJoCo model of the tracking rollout, and scored after it.

Modules: :mod:`.infer` (seat, table and carried box from the motion), :mod:`.shrink` (an
object's nominal extents shrunk until the reference's body clears it), :mod:`.score`
(interaction metrics of a rollout, kinematic penetration of a reference). The ``scene.json``
layout and I/O are a file format, :mod:`exoactor.formats.scene`, read by every stage that
places the objects; :mod:`exoactor.control.scene_objects` adds them to the tracking's MuJoCo
model.
"""

from exoactor.formats.scene import SCENE_FILE, Scene, SceneObject, load_scene, save_scene

__all__ = ["SCENE_FILE", "Scene", "SceneObject", "load_scene", "save_scene"]
