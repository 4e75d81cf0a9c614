"""Robot specs, registered by name. ``get_robot("g1")`` returns a model-backed :class:`Robot`."""

from __future__ import annotations

from functools import cache

from exoactor.errors import UnknownName
from exoactor.robots.g1 import G1, G1_HANDS
from exoactor.robots.spec import KeyBodies, Robot, RobotSpec

ROBOT_SPECS: dict[str, RobotSpec] = {spec.name: spec for spec in (G1, G1_HANDS)}

__all__ = ["ROBOT_SPECS", "KeyBodies", "Robot", "RobotSpec", "get_robot", "get_spec"]


def get_spec(name: str) -> RobotSpec:
    """The :class:`RobotSpec` registered as ``name``."""
    try:
        return ROBOT_SPECS[name]
    except KeyError:
        raise UnknownName(
            f"unknown robot '{name}'; available: {', '.join(sorted(ROBOT_SPECS))}") from None


@cache
def get_robot(name: str = "g1") -> Robot:
    """The robot ``name`` with its MJCF resolved through the asset resolver and compiled."""
    from exoactor.assets import resolve_asset

    spec = get_spec(name)
    return Robot(spec, resolve_asset(spec.asset))
