"""Reuse of physics filter runs within one scope: the same motion, settings and scene are
filtered once.

A ``run`` filters the seat pair it chooses twice: the ``objects`` stage runs its finalists
through the filter (:func:`exoactor.scene.contact_ref.choose_seated`) and the ``track`` stage
then filters the chosen reference again, in the same scene, with the same settings (20-70 s
per sitting clip). The filter is deterministic (its loop is, and its sampling is seeded), so
the second run would compute what the first did. Inside :func:`remembering`,
:func:`~exoactor.control.filter.run.filter_motion` keeps what it computed under a key of its
whole input (:func:`run_key`) and answers a later call with an equal key from it.

The key is the content, not a name: the motion's arrays (bytes, shape, dtype), robot, fps and
joint names, and the filter and tracking settings as JSON (the scene's objects included). So
an edit of ``scene.json``, another reference, or any other setting computes afresh. The
motion's ``source`` (a label: the file it was read from) is not part of the key; a reused
result is labelled with the caller's. Figures of the run's own timing (``wall_s``, the real
time factor) are those of the run that computed it.

The scope is explicit and in memory: outside :func:`remembering` every call computes (so a
test that runs the filter twice still runs it twice), and nothing outlives the scope (so a
new process, or new code, never reads an old result; a ``--force track`` in a new process
recomputes).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

MAX_ENTRIES = 8
"""Most filter runs one scope keeps (oldest dropped first); the objects stage filters at most
``ContactRefConfig.filter_finalists`` + 1 pairs."""

_lock = threading.Lock()
_memo: FilterMemo | None = None
_scopes = 0


def run_key(motion: Any, config: Any, track: Any) -> str:
    """sha256 of everything :func:`~exoactor.control.filter.run.filter_motion` computes from:
    ``motion``'s robot, fps, joint names and arrays (bytes, shape and dtype of each), and
    ``config`` and ``track`` (pydantic models) as JSON. Not ``motion.source`` (a label)."""
    h = hashlib.sha256()
    head = {"robot": motion.robot, "fps": float(motion.fps).hex(),
            "joint_names": list(motion.joint_names),
            "config": config.model_dump(mode="json"), "track": track.model_dump(mode="json")}
    h.update(json.dumps(head, sort_keys=True).encode())
    for name in ("root_pos", "root_quat", "dof_pos", "hand_dof"):
        arr = getattr(motion, name)
        if arr is None:
            h.update(f"{name}:none".encode())
            continue
        arr = np.ascontiguousarray(arr)
        h.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


class FilterMemo:
    """Filter runs computed in one scope, by :func:`run_key` (at most :data:`MAX_ENTRIES`)."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self._runs: OrderedDict[str, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any:
        """The stored value for ``key`` (None when absent); counts hits and misses."""
        with _lock:
            value = self._runs.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
                self._runs.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` (the oldest entry goes beyond ``max_entries``)."""
        with _lock:
            self._runs[key] = value
            self._runs.move_to_end(key)
            while len(self._runs) > self.max_entries:
                self._runs.popitem(last=False)


def active() -> FilterMemo | None:
    """The memo of the open :func:`remembering` scopes (None when none is open)."""
    return _memo


@contextlib.contextmanager
def remembering() -> Iterator[FilterMemo]:
    """Within this block, filter runs with equal inputs are computed once. Blocks open at the
    same time (nested, or in other threads) share one memo, which is dropped when the last
    one closes: keys are contents, so sharing never gives a result for other inputs."""
    global _memo, _scopes
    with _lock:
        if _memo is None:
            _memo = FilterMemo()
        memo = _memo
        _scopes += 1
    try:
        yield memo
    finally:
        with _lock:
            _scopes -= 1
            if _scopes == 0:
                _memo = None
                if memo.hits:
                    logger.info("physics filter: %d run(s) reused, %d computed", memo.hits,
                                memo.misses)


def relabelled(obj: Any, source: str) -> Any:
    """A shallow copy of the frozen container ``obj`` (a motion or rollout) with ``source``
    set, its arrays shared and not re-validated (so bit-identical)."""
    out = copy.copy(obj)
    object.__setattr__(out, "source", source)
    return out
