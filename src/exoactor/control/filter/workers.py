"""Candidate plans evaluated in this process or split over worker processes.

Each worker process builds its own :class:`~exoactor.control.filter.plant.Plant` (own ONNX
session, own MuJoCo data) once, then simulates its share of every re-plan's candidates; only
states, plans and the short executed records cross the pipe.
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
    """Simulates candidate plans, in-process (``workers = 1``) or over worker processes.

    Args:
        setup: the motion and loop settings.
        candidates: most plans simulated at once.
        workers: processes (1 = this process).
        local: an existing plant to use in-process (must have ``candidates`` loops).
    """

    def __init__(self, setup: PlantSetup, candidates: int, workers: int = 1,
                 local: Plant | None = None):
        self.workers = max(1, min(workers, candidates))
        if self.workers > 1 and mp.current_process().daemon:
            logger.info("physics filter in a daemon process: candidates run in-process")
            self.workers = 1
        self._procs: list[tuple[mp.Process, Connection]] = []
        self.local = None
        if self.workers == 1:
            self.local = local if local is not None and len(local.datas) >= candidates \
                else Plant(setup, candidates)
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
        """Simulate ``plans`` (one state per plan) and gather the outcomes in plan order."""
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
