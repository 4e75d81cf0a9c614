"""Robot specs, registered by name. ``get_robot("g1")`` returns a model-backed :class:`Robot`."""

from __future__ import annotations

from functools import cache

from exoactor.errors import UnknownName
from exoactor.robots.g1 import G1, G1_HANDS
from exoactor.robots.spec import KeyBodies, Robot, RobotSpec

ROBOT_SPECS: dict[str, RobotSpec] = {spec.name: spec for spec in (G1, G1_HANDS)}

__all__ = ["ROBOT_SPECS", "KeyBodies", "Robot", "RobotSpec", "get_robot", "get_spec",
           "robot_name"]


def get_spec(name: str, *, hands: bool = False) -> RobotSpec:
    """The :class:`RobotSpec` registered as ``name`` (its ``hands`` variant with ``hands``).

    Raises:
        UnknownName: no robot ``name``, or it has no hand variant.
    """
    try:
        spec = ROBOT_SPECS[name]
    except KeyError:
        raise UnknownName(
            f"unknown robot '{name}'; available: {', '.join(sorted(ROBOT_SPECS))}") from None
    if not hands or spec.hand_joint_count:
        return spec
    if "hands" not in spec.variants:
        with_hands = sorted(n for n, s in ROBOT_SPECS.items() if s.hand_joint_count)
        raise UnknownName(f"robot '{name}' has no hand variant; robots with hands: "
                          f"{', '.join(with_hands) or 'none'}")
    return ROBOT_SPECS[spec.variants["hands"]]


def robot_name(name: str = "g1", *, hands: bool = False) -> str:
    """Registry name of robot ``name``, or of its hand variant with ``hands``."""
    return get_spec(name, hands=hands).name


def get_robot(name: str = "g1", *, hands: bool = False) -> Robot:
    """The robot ``name`` (its hand variant with ``hands``, e.g. ``get_robot("g1", hands=True)``
    is the 43-DoF G1 with two Dex3-1 hands) with its MJCF resolved through the asset resolver
    and compiled: one compiled model per spec, however it is asked for (``get_robot("g1")``,
    ``get_robot("g1", hands=False)`` and ``get_robot(name="g1")`` are the same object)."""
    return _compiled(get_spec(name, hands=hands).name)


@cache
def _compiled(spec_name: str) -> Robot:
    """The compiled robot of the registered spec ``spec_name`` (once per process)."""
    from exoactor.assets import resolve_asset

    spec = ROBOT_SPECS[spec_name]
    return Robot(spec, resolve_asset(spec.asset))
