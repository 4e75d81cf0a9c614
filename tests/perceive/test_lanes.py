"""Ordered worker lanes (the hands beside the body tracking): results in submission order,
each lane's jobs in order on one thread, a failing job reported by item and lane, no hang; and
the MediaPipe backend's threaded hands equal to the same hands run inline, frame by frame."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from exoactor.perceive.lanes import LaneJobFailed, OrderedLanes


def _in_thread(fn: Any, timeout_s: float = 20.0) -> Any:
    """``fn()`` on a thread; fails (instead of hanging the suite) when it does not return."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - checked by the caller
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout_s)
    assert not t.is_alive(), f"did not return within {timeout_s} s (hang)"
    if "error" in out:
        raise out["error"]
    return out.get("value")


def test_results_come_back_in_submission_order_and_each_lane_runs_in_order() -> None:
    rng = np.random.default_rng(0)
    seen: list[list[tuple[int, int]]] = [[], []]  # per lane: (item, thread id)

    def job(lane: int, item: int, delay: float) -> tuple[int, int]:
        time.sleep(delay)  # lanes finish out of step with each other
        seen[lane].append((item, threading.get_ident()))
        return lane, item

    collected = []
    with OrderedLanes(2, depth=3) as lanes:
        for i in range(40):
            jobs = [lambda i=i, d=d, k=k: job(k, i, d)
                    for k, d in enumerate(rng.uniform(0, 0.004, 2))]
            if i % 7 == 3:
                jobs[1] = None  # nothing for lane 1 on this item
            done = lanes.submit(i, jobs)
            assert len(lanes._pending) <= 3
            collected += done
        collected += list(lanes.drain())
    assert [k for k, _ in collected] == list(range(40))
    for i, results in collected:
        assert results[0] == (0, i)
        assert results[1] == (None if i % 7 == 3 else (1, i))
    for lane in (0, 1):
        assert [item for item, _ in seen[lane]] == sorted(item for item, _ in seen[lane])
        assert len({tid for _, tid in seen[lane]}) == 1  # one thread per lane (graph state)
    assert seen[0][0][1] != seen[1][0][1]


def test_a_failing_job_is_reported_with_its_item_and_lane_and_stops_the_rest() -> None:
    started: list[int] = []

    def job(i: int) -> int:
        started.append(i)
        if i == 5:
            raise ValueError("bad frame")
        time.sleep(0.01)
        return i

    def run() -> list[int]:
        got = []
        with OrderedLanes(2, depth=2) as lanes:
            for i in range(50):
                got += [k for k, _ in lanes.submit(i, [lambda i=i: i, lambda i=i: job(i)])]
            got += [k for k, _ in lanes.drain()]
        return got

    with pytest.raises(LaneJobFailed, match=r"lane 1 failed on item 5: ValueError: bad frame") \
            as info:
        _in_thread(run)
    assert info.value.key == 5 and info.value.lane == 1
    assert isinstance(info.value.__cause__, ValueError)
    assert max(started) <= 5 + 2  # at most `depth` items went on after the bad one


def test_closing_with_jobs_in_flight_cancels_the_queued_ones_without_hanging() -> None:
    ran: list[int] = []
    release = threading.Event()

    def slow(i: int) -> None:
        release.wait(5.0)
        ran.append(i)

    lanes = OrderedLanes(1, depth=10)
    for i in range(10):
        lanes.submit(i, [lambda i=i: slow(i)])
    threading.Timer(0.3, release.set).start()  # the running job ends after close() began
    _in_thread(lanes.close, timeout_s=10.0)
    assert ran == [0]  # the one running finished, the queued ones were cancelled
    assert not [t for t in threading.enumerate() if t.name.startswith("exoactor-lane")]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="lanes >= 1"):
        OrderedLanes(0)
    with OrderedLanes(2) as lanes, pytest.raises(ValueError, match="1 jobs for 2 lanes"):
        lanes.submit(0, [lambda: 1])


# ---------------------------------------------------------------- the MediaPipe backend

class _Inline:
    """A stand-in for OrderedLanes that runs every job at once on the calling thread."""

    def __init__(self, lanes: int, depth: int, name: str):
        self.lanes = lanes

    def submit(self, key: int, jobs: list) -> list:
        return [(key, [job() for job in jobs])]

    def drain(self) -> list:
        return []

    def close(self) -> None:
        pass


def _view(sample_clip: Path, frames: int = 10):  # noqa: ANN202
    from exoactor.perceive.video import open_video, select_frames
    from exoactor.runner import DEMO_WINDOW_S

    video = open_video(sample_clip)
    first = round(DEMO_WINDOW_S[0] * video.nominal_fps)
    return select_frames(video, list(range(first, first + frames)),
                         [k / video.nominal_fps for k in range(frames)])


def test_threaded_hands_equal_the_same_hands_run_inline(sample_clip: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from exoactor.perceive.backends import mediapipe as mp_backend
    from exoactor.perceive.config import PerceiveConfig

    threaded = mp_backend.MediaPipeBackend(stage=PerceiveConfig()).estimate(
        _view(sample_clip), hands=True)
    monkeypatch.setattr(mp_backend, "OrderedLanes", _Inline)
    inline = mp_backend.MediaPipeBackend(stage=PerceiveConfig()).estimate(
        _view(sample_clip), hands=True)
    assert threaded.detected.all()
    assert (threaded.hand_score > 0).any()  # hands were found, so the comparison means something
    for key in ("kp_px", "kp_rel_c", "hand_px", "hand_rel_c", "hand_score"):
        assert np.array_equal(getattr(threaded, key), getattr(inline, key), equal_nan=True), key
    assert threaded.notes["hand_label_agreement"] == inline.notes["hand_label_agreement"]


def test_a_hand_model_that_fails_on_a_frame_stops_the_stage_with_a_clear_error(
        sample_clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from exoactor.perceive.backends import mediapipe as mp_backend
    from exoactor.perceive.config import PerceiveConfig
    from exoactor.perceive.errors import ModelFailed

    real = mp_backend.hands_from_pose
    calls = {"n": 0}

    def flaky(graphs: Any, rgb: np.ndarray, person: Any, c: Any, sides: tuple = (0, 1)) -> Any:
        calls["n"] += 1
        if calls["n"] == 7:  # a frame in the middle, on one hand's lane
            raise RuntimeError("CalculatorGraph::Run() failed")
        return real(graphs, rgb, person, c, sides)

    monkeypatch.setattr(mp_backend, "hands_from_pose", flaky)
    backend = mp_backend.MediaPipeBackend(stage=PerceiveConfig())
    with pytest.raises(ModelFailed) as info:
        _in_thread(lambda: backend.estimate(_view(sample_clip), hands=True), timeout_s=120.0)
    msg = str(info.value)
    assert sample_clip.name in msg and "the hand model failed on frame" in msg
    assert "RuntimeError: CalculatorGraph::Run() failed" in msg and "--no-hands" in msg
    assert not [t for t in threading.enumerate() if t.name.startswith("exoactor-hands")]
