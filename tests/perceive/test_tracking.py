"""The identity gate: a passer-by is refused, the actor is found again after a gap."""

from __future__ import annotations

import numpy as np

from exoactor.perceive.config import TrackingConfig
from exoactor.perceive.tracking import ActorTracker, box_overlap, landmark_box_px


def _box(cx: float, cy: float, h: float = 300.0) -> np.ndarray:
    return np.array([cx - h / 4, cy - h / 2, cx + h / 4, cy + h / 2])


def _tracker() -> ActorTracker:
    tr = ActorTracker(TrackingConfig(), 1920, 1080)
    for k in range(10):  # actor walking right at 60 px/s
        x = 600 + 2 * k
        tr.accept(_box(x, 400), np.array([x, 400.0]), k / 30)
    return tr


def test_next_frame_accepted_passer_by_refused() -> None:
    tr = _tracker()
    t = 10 / 30
    assert tr.check(_box(621, 401), np.array([621.0, 401.0]), t).accepted
    far = tr.check(_box(1500, 700), np.array([1500.0, 700.0]), t)
    assert not far.accepted and far.reason == "jump"


def test_known_other_is_refused_even_after_a_long_gap() -> None:
    tr = _tracker()
    t = 10 / 30
    other_hip = np.array([1100.0, 420.0])
    d = tr.check(_box(*other_hip), other_hip, t)
    tr.reject(_box(*other_hip), other_hip, d.reason, t)  # seen while the actor was tracked
    later = 1.0
    assert not tr.check(_box(1105, 420), np.array([1105.0, 420.0]), later).accepted
    assert tr.check(_box(700, 420), np.array([700.0, 420.0]), later).accepted


def test_search_region_grows_with_the_gap() -> None:
    tr = _tracker()
    a = tr.search_box(10 / 30)
    b = tr.search_box(1.0)
    assert (b[2] - b[0]) > (a[2] - a[0])


def test_box_helpers() -> None:
    kp = np.array([[10.0, 20.0], [50.0, 80.0], [-5.0, 30.0]])
    assert landmark_box_px(kp, 40, 60).tolist() == [0.0, 20.0, 40.0, 60.0]
    assert box_overlap(_box(0, 0), _box(0, 0)) == 1.0
    assert box_overlap(_box(0, 0), _box(1000, 0)) == 0.0
