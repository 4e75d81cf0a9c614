"""Candidate plans evaluated in this process (physics over threads) or over worker processes.

``parallel="threads"`` (the default): one :class:`~exoactor.control.filter.plant.Plant` in
this process holds a loop per candidate, split into ``workers`` groups simulated by as many
threads (MuJoCo and onnxruntime release the GIL); within a group the policy runs once per
50 Hz step for all its loops (one batched ONNX call). No process start-up (imports, model,
reference table: ~2-3 CPU-s per process) and no pipe round trips.

``parallel="processes"``: each worker process builds its own plant once, then simulates its
share of every re-plan's candidates; only states, plans and the short executed records cross
the pipe.

Either way identical plans from the same state are simulated once (the loop is deterministic,
so their outcomes are equal); the results do not depend on the mode or the number of workers.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
from multiprocessing.connection import Connection

import numpy as np

from exoactor.control.filter.plant import LoopState, PlanOutcome, Plant, PlantSetup
from exoactor.errors import ExoActorError

logger = logging.getLogger(__name__)


def _serve(conn: Connection, setup: PlantSetup, n: int) -> None:
    try:
        plant = Plant(setup, n)
        conn.send(("ready", None))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", repr(exc)))
        return
    while True:
        msg = conn.recv()
        if msg is None:
            return
        try:
            conn.send(("ok", plant.simulate(*msg)))
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            conn.send(("error", repr(exc)))


class Evaluator:
    """Simulates candidate plans: in this process with the physics over ``workers`` threads,
    or over ``workers`` processes.

    Args:
        setup: the motion and loop settings.
        candidates: most plans simulated at once.
        workers: threads or processes (1 = this thread).
        local: an existing plant to use in-process (must have ``candidates`` loops).
        parallel: ``"threads"`` or ``"processes"``.
    """

    def __init__(self, setup: PlantSetup, candidates: int, workers: int = 1,
                 local: Plant | None = None, parallel: str = "threads"):
        if parallel not in ("threads", "processes"):
            raise ExoActorError(f"parallel '{parallel}': use 'threads' or 'processes'")
        self.workers = max(1, min(workers, candidates))
        if parallel == "processes" and self.workers > 1 and mp.current_process().daemon:
            logger.info("physics filter in a daemon process: candidates run in-process")
            parallel = "threads"
        self._procs: list[tuple[mp.Process, Connection]] = []
        self.local = None
        self._own_local = False
        if parallel == "threads" or self.workers == 1:
            if local is not None and len(local.datas) >= candidates:
                self.local = local
                self._threads_before = local.threads
                local.threads = self.workers
            else:
                self.local = Plant(setup, candidates, threads=self.workers)
                self._own_local = True
            return
        ctx = mp.get_context("spawn")
        share = int(np.ceil(candidates / self.workers))
        for _ in range(self.workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, setup, share), daemon=True)
            proc.start()
            self._procs.append((proc, parent))
        for _, conn in self._procs:
            kind, detail = conn.recv()
            if kind != "ready":
                self.close()
                raise ExoActorError(f"a physics-filter worker failed to start: {detail}")

    def simulate(self, states: list[LoopState], plans: np.ndarray, horizon_steps: int,
                 record_steps: int, weights) -> PlanOutcome:
        """Simulate ``plans`` (one state per plan) and gather the outcomes in plan order.

        Plans equal to an earlier one from the same state object are simulated once and their
        outcome copied.
        """
        first = _first_of_each(states, plans)
        unique = np.flatnonzero(first == np.arange(len(plans)))
        if len(unique) == len(plans):
            return self._simulate(states, plans, horizon_steps, record_steps, weights)
        out = self._simulate([states[i] for i in unique], plans[unique], horizon_steps,
                             record_steps, weights)
        where = np.searchsorted(unique, first)
        return PlanOutcome(out.cost[where].copy(), out.fall_step[where].copy(),
                           [out.records[w] for w in where],
                           [None if out.states[w] is None else out.states[w].copy()
                            for w in where])

    def _simulate(self, states: list[LoopState], plans: np.ndarray, horizon_steps: int,
                  record_steps: int, weights) -> PlanOutcome:
        if self.local is not None:
            return self.local.simulate(states, plans, horizon_steps, record_steps, weights)
        parts = np.array_split(np.arange(len(plans)), len(self._procs))
        busy = []
        for (_, conn), idx in zip(self._procs, parts):
            if len(idx):
                conn.send(([states[i] for i in idx], plans[idx], horizon_steps, record_steps,
                           weights))
                busy.append(conn)
        outs = []
        for conn in busy:
            kind, out = conn.recv()
            if kind != "ok":
                raise ExoActorError(f"a physics-filter worker failed: {out}")
            outs.append(out)
        return PlanOutcome(np.concatenate([o.cost for o in outs]),
                           np.concatenate([o.fall_step for o in outs]),
                           [r for o in outs for r in o.records],
                           [s for o in outs for s in o.states])

    def close(self) -> None:
        if self.local is not None:
            self.local.close()
            if not self._own_local:
                self.local.threads = self._threads_before
        for proc, conn in self._procs:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(None)
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        self._procs = []

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _first_of_each(states: list[LoopState], plans: np.ndarray) -> np.ndarray:
    """``(K,)`` for each plan, the index of the first plan equal to it (bit for bit) that starts
    from the same state object."""
    first = np.arange(len(plans))
    seen: dict[tuple[int, bytes], int] = {}
    for i, (s, p) in enumerate(zip(states, plans)):
        key = (id(s), np.ascontiguousarray(p).tobytes())
        first[i] = seen.setdefault(key, i)
    return first
