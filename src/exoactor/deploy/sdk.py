"""Unitree's Python SDK (``unitree_sdk2py``) on CycloneDDS, imported and initialised safely.

The only module of exoactor that imports the SDK. Two repairs and one guard:

- ``unitree-sdk2==1.0.1`` (PyPI, Unitree's, BSD-3) imports a ``b2`` subpackage its wheel lacks;
  :func:`import_sdk` registers an empty ``unitree_sdk2py.b2`` before the first import. Its CRC
  needs a native library the wheel also lacks; :mod:`exoactor.deploy.crc` replaces it.
- DDS participants join one network interface, named explicitly (:func:`init_dds`). With no
  interface the SDK picks ``eth0`` and multicasts discovery to 239.255.0.1; on ``lo`` we also
  set ``CYCLONEDDS_URI`` so that any participant made elsewhere stays on loopback with
  multicast off.
- ``EXOACTOR_DDS_LOOPBACK_ONLY=1`` (set by the test suite) refuses any interface but ``lo``.

Topics of the G1 (unitree_hg messages): ``rt/lowcmd`` (:data:`LOWCMD_TOPIC`, operator to
robot), ``rt/lowstate`` (:data:`LOWSTATE_TOPIC`, robot to operator, 500 Hz) and, for the Dex3-1
hands, ``rt/dex3/{left,right}/cmd`` and ``.../state``.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import Any

from exoactor.errors import ExoActorError

LOWCMD_TOPIC = "rt/lowcmd"
LOWSTATE_TOPIC = "rt/lowstate"
DEX3_CMD_TOPIC = "rt/dex3/{side}/cmd"
"""Dex3-1 hand commands (unitree_hg ``HandCmd_``), ``side`` in {left, right}."""
DEX3_STATE_TOPIC = "rt/dex3/{side}/state"
"""Dex3-1 hand states (unitree_hg ``HandState_``)."""
HAND_SIDES = ("left", "right")
SIM_CONTROL_TOPIC = "rt/exoactor/sim_control"
"""Commands to the simulated robot only (``release``, ``press start``…; std_msgs String_)."""
SIM_STATUS_TOPIC = "rt/exoactor/sim_status"
"""The simulated robot's status as JSON (std_msgs String_, 10 Hz)."""
LOOPBACK_ONLY_ENV = "EXOACTOR_DDS_LOOPBACK_ONLY"
LOOPBACK = "lo"
LOOPBACK_URI = ('<CycloneDDS><Domain id="any"><General><Interfaces><NetworkInterface name="lo"/>'
                '</Interfaces><AllowMulticast>false</AllowMulticast></General></Domain>'
                '</CycloneDDS>')

_INSTALL_HINT = ("install the deploy extra: `bash scripts/install.sh` (builds cyclonedds==0.10.2 "
                 "against Debian's cyclonedds-dev and installs unitree-sdk2==1.0.1); see README "
                 "'Running on a real G1'")
_initialised: tuple[int, str] | None = None


def import_sdk() -> types.ModuleType:
    """Import ``unitree_sdk2py`` (with the missing ``b2`` subpackage supplied).

    Raises:
        ExoActorError: the SDK or CycloneDDS is not installed (the message says how to).
    """
    sys.modules.setdefault("unitree_sdk2py.b2", types.ModuleType("unitree_sdk2py.b2"))
    try:
        import unitree_sdk2py
        import unitree_sdk2py.core.channel  # noqa: F401
    except ImportError as exc:
        raise ExoActorError(f"Unitree's Python SDK is not importable ({exc}); {_INSTALL_HINT}") \
            from exc
    return unitree_sdk2py


def check_interface(interface: str) -> None:
    """Refuse a non-loopback interface when ``EXOACTOR_DDS_LOOPBACK_ONLY`` is set."""
    if not interface:
        raise ExoActorError("a DDS network interface must be named (e.g. 'lo' for the simulated "
                            "robot, or the NIC wired to the G1, such as 'enp3s0')")
    if os.environ.get(LOOPBACK_ONLY_ENV, "") not in ("", "0") and interface != LOOPBACK:
        raise ExoActorError(f"DDS interface '{interface}' refused: {LOOPBACK_ONLY_ENV} is set, "
                            f"only '{LOOPBACK}' is allowed")


def init_dds(domain_id: int, interface: str) -> None:
    """Initialise the SDK's channel factory once per process on ``interface``.

    Raises:
        ExoActorError: SDK missing, interface refused, or already initialised differently.
    """
    global _initialised
    check_interface(interface)
    if _initialised is not None:
        if _initialised != (domain_id, interface):
            raise ExoActorError(f"DDS already initialised on domain {_initialised[0]} interface "
                                f"'{_initialised[1]}'; one domain and interface per process")
        return
    if interface == LOOPBACK:
        os.environ["CYCLONEDDS_URI"] = LOOPBACK_URI
    import_sdk()
    from unitree_sdk2py.core.channel import ChannelFactoryInitialize

    ChannelFactoryInitialize(int(domain_id), interface)
    _initialised = (domain_id, interface)


def publisher(topic: str, message_type: type) -> Any:
    """A started ``ChannelPublisher`` on ``topic`` (call :func:`init_dds` first)."""
    from unitree_sdk2py.core.channel import ChannelPublisher

    pub = ChannelPublisher(topic, message_type)
    pub.Init()
    return pub


def subscriber(topic: str, message_type: type, handler: Callable[[Any], None] | None = None,
               queue_len: int = 0) -> Any:
    """A started ``ChannelSubscriber``; ``handler`` runs on the DDS listener thread."""
    from unitree_sdk2py.core.channel import ChannelSubscriber

    sub = ChannelSubscriber(topic, message_type)
    sub.Init(handler, queue_len)
    return sub


def hg_types() -> tuple[type, type, type]:
    """``(LowCmd_, LowState_, String_)`` message classes (unitree_hg and std_msgs)."""
    import_sdk()
    from unitree_sdk2py.idl.std_msgs.msg.dds_ import String_
    from unitree_sdk2py.idl.unitree_hg.msg.dds_ import LowCmd_, LowState_

    return LowCmd_, LowState_, String_


def hand_types() -> tuple[type, type]:
    """``(HandCmd_, HandState_)`` message classes of the Dex3-1 hands (unitree_hg)."""
    import_sdk()
    from unitree_sdk2py.idl.unitree_hg.msg.dds_ import HandCmd_, HandState_

    return HandCmd_, HandState_
