"""Network audit for every Python process started with this folder on PYTHONPATH.

An audit hook records each attempt to reach a non-loopback address (``socket.connect`` /
``sendto`` to an IP outside 127.0.0.0/8 or ::1, and name lookups of anything but localhost or a
loopback literal) as one line ``<pid> <event> <target> <argv>`` in ``$EXOACTOR_NET_AUDIT_LOG``,
after a ``start`` line per process. The
batch tests put it on PYTHONPATH so Ray's workers and agents (other processes, out of reach of
``tests/conftest.py``'s in-process guard) are audited too. Recording only: it blocks nothing.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

_LOG = os.environ.get("EXOACTOR_NET_AUDIT_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "", None}


def _loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a name: looking it up may leave the machine
    return ip.is_loopback or ip.is_unspecified


def _record(event: str, target: object) -> None:
    try:
        with open(_LOG, "a") as fh:  # type: ignore[arg-type]
            fh.write(f"{os.getpid()} {event} {target!r} {sys.argv[:2]!r}\n")
    except OSError:
        pass


def _hook(event: str, args: tuple) -> None:
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[-1]
        if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6) and \
                isinstance(address, tuple) and address and not _loopback(address[0]):
            _record(event, address)
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr") \
            and args and not _loopback(args[0]):
        _record(event, args[0])


if _LOG:
    _record("start", None)  # proves which processes the audit covered
    sys.addaudithook(_hook)
