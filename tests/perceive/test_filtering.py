"""Clean-up filters: gaps, smoothing, bone lengths, left/right repair."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.perceive.filtering import (
    MIRROR_33,
    bone_index_pairs,
    bone_lengths,
    enforce_bone_lengths,
    left_right_swaps,
    mirror_labels,
    one_euro,
    reference_lengths,
    savgol,
    stature_m,
)
from exoactor.signals import fill_gaps, runs
from exoactor.skeleton import BODY_33


def test_runs() -> None:
    assert runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
    assert runs(np.zeros(3, bool)) == []


def test_fill_gaps_interpolates_and_holds() -> None:
    v = np.array([[0.0], [np.nan], [2.0], [np.nan]])
    out = fill_gaps(v, np.array([True, False, True, False]))
    assert out[:, 0].tolist() == [0.0, 1.0, 2.0, 2.0]


def test_savgol_keeps_polynomials_and_short_clips() -> None:
    t = np.linspace(0, 1, 40)[:, None]
    quad = 3 * t ** 2 - t
    assert np.allclose(savgol(quad, 9, 2), quad)
    two = np.array([[0.0], [1.0]])
    assert np.array_equal(savgol(two, 9, 2), two)


def test_one_euro_is_causal_and_converges() -> None:
    x = np.r_[np.zeros(10), np.ones(60)][:, None]
    y = one_euro(x, 30.0)
    assert np.allclose(y[:10], 0.0)
    assert np.all(np.diff(y[:, 0]) >= -1e-12) and y[-1, 0] == pytest.approx(1.0, abs=1e-2)


def test_bone_lengths_are_enforced() -> None:
    rng = np.random.default_rng(2)
    pts = rng.normal(size=(5, 33, 3)) * 0.3
    pairs = bone_index_pairs()
    target = reference_lengths(pts, np.ones(5, bool), pairs)
    out = enforce_bone_lengths(pts, pairs, target, iterations=300)
    body = bone_index_pairs(extra=False)
    got = bone_lengths(out, body)
    # loops (torso, foot triangles) settle at a compromise; most bones are exact
    assert np.median(np.abs(got - target[: len(body)]) / target[: len(body)]) < 0.02


def test_reference_lengths_are_symmetric() -> None:
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(8, 33, 3))
    pairs = bone_index_pairs()
    L = reference_lengths(pts, np.ones(8, bool), pairs)
    names = [(BODY_33[a], BODY_33[b]) for a, b in pairs]
    i = names.index(("left_hip", "left_knee"))
    j = names.index(("right_hip", "right_knee"))
    assert L[i] == L[j]


def test_reference_lengths_can_come_from_side_on_frames_only() -> None:
    """A model that shortens a segment while it points at the camera (z = optical axis):
    the clip median is short; taken over the side-on frames it is the segment's length."""
    pairs = bone_index_pairs()
    names = [(BODY_33[a], BODY_33[b]) for a, b in pairs]
    T = 40
    pts = np.zeros((T, 33, 3))
    pts[..., 2] = 4.0
    rng = np.random.default_rng(5)
    for s, sign in (("left", 1.0), ("right", -1.0)):
        hip, knee = BODY_33.index(f"{s}_hip"), BODY_33.index(f"{s}_knee")
        pts[:, hip] = [0.1 * sign, 0.0, 4.0]
        angle = np.where(np.arange(T) < 12, 0.0, np.radians(80.0))  # 12 side-on, 28 toward
        length = np.where(np.arange(T) < 12, 0.40, 0.34) + rng.normal(0, 0.002, T)
        pts[:, knee] = pts[:, hip] + np.stack([np.zeros(T), np.cos(angle), -np.sin(angle)],
                                              -1) * length[:, None]
    i, j = names.index(("left_hip", "left_knee")), names.index(("right_hip", "right_knee"))
    plain = reference_lengths(pts, np.ones(T, bool), pairs)
    side_on = reference_lengths(pts, np.ones(T, bool), pairs, inplane_max_sine=0.15)
    assert abs(plain[i] - 0.34) < 0.01  # the foreshortened frames dominate the median
    assert abs(side_on[i] - 0.40) < 0.005 and side_on[i] == side_on[j]
    # too few side-on frames: the plain median, left and right averaged
    few = reference_lengths(pts, np.arange(T) >= 8, pairs, inplane_max_sine=0.15)
    np.testing.assert_allclose(few, reference_lengths(pts, np.arange(T) >= 8, pairs))
    # no switch: bit-identical to the clip median
    np.testing.assert_array_equal(
        reference_lengths(pts, np.ones(T, bool), pairs, inplane_max_sine=None), plain)


def test_mirror_is_an_involution() -> None:
    m = np.array(MIRROR_33)
    assert np.array_equal(m[m], np.arange(33))
    assert BODY_33[m[BODY_33.index("left_wrist")]] == "right_wrist"


def test_left_right_flip_is_found() -> None:
    rng = np.random.default_rng(4)
    base_px = rng.uniform(100, 400, (33, 2))
    base_c = rng.normal(size=(33, 3)) * 0.2
    base_c[[11, 23]] += [0.2, 0.0, 0.0]  # left side on the image right: facing the camera
    base_c[[12, 24]] -= [0.2, 0.0, 0.0]
    T = 10
    px = np.repeat(base_px[None], T, 0) + rng.normal(0, 0.5, (T, 33, 2))
    rel = np.repeat(base_c[None], T, 0)
    flipped = np.zeros(T, bool)
    flipped[4:7] = True
    px = mirror_labels(px, flipped)
    rel = mirror_labels(rel, flipped)
    assert np.array_equal(left_right_swaps(px, rel, np.ones(T, bool)), flipped)


def test_stature_from_drillis_contini() -> None:
    pairs = bone_index_pairs()
    names = [(BODY_33[a], BODY_33[b]) for a, b in pairs]
    L = np.ones(len(pairs))
    L[names.index(("left_hip", "left_knee"))] = 0.245 * 1.8
    L[names.index(("left_knee", "left_ankle"))] = 0.246 * 1.8
    L[names.index(("left_shoulder", "left_hip"))] = 0.288 * 1.8
    assert stature_m(L, pairs) == pytest.approx(1.8)


@pytest.mark.parametrize("T,window,order,deriv", [(5, 5, 2, 0), (40, 9, 2, 0), (40, 9, 2, 1),
                                                  (41, 15, 3, 2), (301, 31, 1, 0), (7, 3, 1, 1)])
def test_savgol_filter_matches_scipy(T: int, window: int, order: int, deriv: int) -> None:
    """Our Savitzky-Golay (no scipy.signal import) is scipy's mode="interp" to rounding."""
    from scipy.signal import savgol_filter as scipy_savgol

    from exoactor.perceive.filtering import savgol_filter

    x = np.random.default_rng(T).normal(size=(T, 3, 2)).cumsum(0)
    ours = savgol_filter(x, window, order, deriv, 1 / 30)
    ref = scipy_savgol(x, window, order, deriv, 1 / 30, axis=0, mode="interp")
    assert np.allclose(ours, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())
    with pytest.raises(ValueError):
        savgol_filter(x, 4, 2)


def test_perceive_does_not_import_scipy_signal() -> None:
    """scipy.signal costs ~2.5 s at start-up (it imports scipy.stats); perception avoids it."""
    import subprocess
    import sys

    code = ("import sys, numpy as np; from exoactor.perceive.contacts import velocity; "
            "from exoactor.perceive.filtering import savgol; "
            "savgol(np.zeros((30, 2)), 9, 2); velocity(np.zeros((30, 3)), 30.0, 0.2); "
            "print('scipy.signal' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
