"""Stateful model calls on worker threads, in order ("lanes").

A tracking model (MediaPipe's video-mode hand graph) must see its frames in order, one call at
a time. A lane is one worker thread with a first-in-first-out queue: everything submitted to
lane ``k`` runs there, in submission order. Several lanes run side by side (the left and the
right hand's graphs), and the caller goes on (tracking the body in the next frames) while they
work, up to ``depth`` items ahead of the oldest unfinished one; the results come back in
submission order, so what the models compute does not depend on the threads' timing.

MediaPipe and OpenCV release the GIL while they compute, so lanes use the other core.

A job that raises stops the lanes: the exception comes back, as :class:`LaneJobFailed`
naming the item and lane, from the :meth:`OrderedLanes.submit` or :meth:`OrderedLanes.drain`
that collects that item; :meth:`OrderedLanes.close` (or leaving the ``with`` block) cancels
the jobs not started and waits only for the ones running.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

_Key = TypeVar("_Key")


class LaneJobFailed(RuntimeError):
    """A job of an :class:`OrderedLanes` raised; ``key`` and ``lane`` say which, the cause
    is chained (``__cause__``)."""

    def __init__(self, key: Any, lane: int, cause: BaseException):
        super().__init__(f"lane {lane} failed on item {key!r}: {type(cause).__name__}: {cause}")
        self.key = key
        self.lane = lane


class OrderedLanes(Generic[_Key]):
    """Jobs on ``lanes`` worker threads (see the module docstring).

    Args:
        lanes: worker threads, one per stateful model [1, ...).
        depth: items submitted but not yet collected before :meth:`submit` collects the oldest
            [1, ...); 1 waits for item ``i - 1`` when ``i`` is submitted.
        name: thread name prefix.
    """

    def __init__(self, lanes: int, depth: int = 2, name: str = "exoactor-lane"):
        if lanes < 1 or depth < 1:
            raise ValueError(f"OrderedLanes needs lanes >= 1 and depth >= 1, got {lanes}, {depth}")
        self.depth = depth
        self._pools = [ThreadPoolExecutor(1, thread_name_prefix=f"{name}-{k}")
                       for k in range(lanes)]
        self._pending: deque[tuple[_Key, list[Future | None]]] = deque()

    def __enter__(self) -> OrderedLanes[_Key]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def lanes(self) -> int:
        return len(self._pools)

    def submit(self, key: _Key, jobs: Sequence[Callable[[], Any] | None]
               ) -> list[tuple[_Key, list[Any]]]:
        """Queue one item: ``jobs[k]`` on lane ``k`` (None: nothing on that lane, its result
        None). Returns the items collected to keep at most ``depth`` in flight, oldest first,
        as ``(key, [result of each lane])``.

        Raises:
            LaneJobFailed: a job of a collected item raised.
        """
        if len(jobs) != len(self._pools):
            raise ValueError(f"{len(jobs)} jobs for {len(self._pools)} lanes")
        futures = [None if job is None else pool.submit(job)
                   for pool, job in zip(self._pools, jobs, strict=True)]
        self._pending.append((key, futures))
        done = []
        while len(self._pending) > self.depth:
            done.append(self._collect())
        return done

    def drain(self) -> Iterator[tuple[_Key, list[Any]]]:
        """Every item still in flight, in submission order (waits for them)."""
        while self._pending:
            yield self._collect()

    def close(self) -> None:
        """Cancel the jobs not started, wait for the running ones, stop the threads."""
        for _, futures in self._pending:
            for f in futures:
                if f is not None:
                    f.cancel()
        self._pending.clear()
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def _collect(self) -> tuple[_Key, list[Any]]:
        key, futures = self._pending.popleft()
        results = []
        for lane, f in enumerate(futures):
            if f is None:
                results.append(None)
                continue
            try:
                results.append(f.result())
            except Exception as exc:  # noqa: BLE001 - handed to the caller, named
                self.close()  # nothing more runs once one job failed
                raise LaneJobFailed(key, lane, exc) from exc
        return key, results
