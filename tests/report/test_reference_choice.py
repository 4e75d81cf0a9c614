"""The report draws what the physics had: the reference the tracker followed and the objects
that stayed in the rollout."""

from __future__ import annotations

from exoactor import artefacts
from exoactor.report.build import followed_reference, objects_in_physics


def test_the_report_draws_the_reference_the_tracker_followed() -> None:
    assert followed_reference(None) == artefacts.ROBOT_MOTION
    assert followed_reference({"fell": False}) == artefacts.ROBOT_MOTION
    assert followed_reference({"reference": artefacts.SEATED_MOTION}) == artefacts.SEATED_MOTION
    # only run-directory references are read, whatever the file says
    assert followed_reference({"reference": "../../etc/passwd"}) == artefacts.ROBOT_MOTION


def test_objects_left_out_of_the_physics_are_not_drawn() -> None:
    assert objects_in_physics(None)
    assert objects_in_physics({"interaction": {"succeeded": True}})
    assert not objects_in_physics({"interaction": {"succeeded": False,
                                                   "kept_without_objects": True}})
