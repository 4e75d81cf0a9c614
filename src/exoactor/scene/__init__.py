"""The objects a person interacts with: inferred from the robot motion, kept in ``scene.json``,
added to the MuJoCo model of the tracking rollout, and scored after it.

Modules: :mod:`.model` (the ``scene.json`` layout and I/O), :mod:`.infer` (seat, table and
carried box from the motion), :mod:`.physics` (objects into an ``MjSpec``), :mod:`.score`
(interaction metrics of a rollout, kinematic penetration of a reference).
"""

from exoactor.scene.model import SCENE_FILE, Scene, SceneObject, load_scene, save_scene

__all__ = ["SCENE_FILE", "Scene", "SceneObject", "load_scene", "save_scene"]
