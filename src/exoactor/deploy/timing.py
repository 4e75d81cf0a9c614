"""Fixed-rate loops on a general-purpose OS, and what rate they actually held.

:class:`RateLoop` sleeps to absolute deadlines (no accumulated drift), sleeping coarsely then
spinning the last ``spin_s``; a missed deadline is counted and the schedule re-based instead of
bursting to catch up. :class:`LoopStats` summarises the achieved period: rate, jitter
(standard deviation and 99th percentile of the period error) and overruns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LoopStats:
    """Achieved timing of a loop.

    Attributes:
        target_hz: the rate asked for [Hz].
        achieved_hz: ticks per second over the run [Hz].
        period_mean_ms, period_std_ms: mean and standard deviation of the period [ms].
        jitter_p99_ms: 99th percentile of ``|period - target period|`` [ms].
        period_max_ms: longest period [ms].
        overruns: ticks that started more than one target period late.
        ticks: ticks counted.
    """

    target_hz: float
    achieved_hz: float
    period_mean_ms: float
    period_std_ms: float
    jitter_p99_ms: float
    period_max_ms: float
    overruns: int
    ticks: int

    @property
    def held(self) -> bool:
        """The rate was held: within 2 % of the target and under 1 % overruns."""
        return (self.ticks > 1 and self.achieved_hz >= 0.98 * self.target_hz
                and self.overruns <= 0.01 * self.ticks)

    def as_dict(self) -> dict[str, float | int | bool]:
        return {**{k: getattr(self, k) for k in self.__dataclass_fields__}, "held": self.held}


def loop_stats(tick_times_s: np.ndarray, target_hz: float, overruns: int) -> LoopStats:
    """:class:`LoopStats` of a loop whose ticks started at ``tick_times_s`` (monotonic) [s]."""
    t = np.asarray(tick_times_s, dtype=float)
    if len(t) < 2:
        return LoopStats(target_hz, 0.0, 0.0, 0.0, 0.0, 0.0, overruns, len(t))
    period = np.diff(t)
    err = np.abs(period - 1.0 / target_hz)
    return LoopStats(target_hz=target_hz, achieved_hz=float((len(t) - 1) / (t[-1] - t[0])),
                     period_mean_ms=float(period.mean() * 1e3),
                     period_std_ms=float(period.std() * 1e3),
                     jitter_p99_ms=float(np.percentile(err, 99) * 1e3),
                     period_max_ms=float(period.max() * 1e3), overruns=overruns, ticks=len(t))


class RateLoop:
    """Paces a loop at ``rate_hz``: call :meth:`wait` once per tick.

    Args:
        rate_hz: the loop rate [Hz].
        spin_s: the last part of each wait spent spinning instead of sleeping [s].
        keep: how many tick times to keep for :meth:`stats`.
    """

    def __init__(self, rate_hz: float, spin_s: float = 0.0003, keep: int = 1_000_000):
        self.rate_hz = float(rate_hz)
        self.period_s = 1.0 / self.rate_hz
        self.spin_s = spin_s
        self._next = time.monotonic()
        self._ticks: list[float] = []
        self._keep = keep
        self.overruns = 0

    def wait(self) -> float:
        """Sleep until the next deadline; returns the monotonic time the tick starts [s]."""
        self._next += self.period_s
        now = time.monotonic()
        if now > self._next + self.period_s:
            self.overruns += 1
            self._next = now
        else:
            remaining = self._next - now
            if remaining > self.spin_s:
                time.sleep(remaining - self.spin_s)
            while time.monotonic() < self._next:
                pass
        now = time.monotonic()
        if len(self._ticks) < self._keep:
            self._ticks.append(now)
        return now

    def stats(self) -> LoopStats:
        return loop_stats(np.array(self._ticks), self.rate_hz, self.overruns)
