"""SegmentSlerp: the per-segment slerp the tracker's reference samples with."""

from __future__ import annotations

import numpy as np

from exoactor.rotations import SegmentSlerp, continuous, slerp


def test_segment_slerp_equals_slerp_bit_for_bit():
    rng = np.random.default_rng(3)
    q = continuous(rng.normal(size=(40, 4)))
    seg = SegmentSlerp(q)
    cases = [(int(i), float(a)) for i, a in zip(rng.integers(0, 39, 300), rng.random(300))]
    cases += [(0, 0.0), (38, 1.0), (5, -0.3), (7, 1.7)]  # the ends, and clamped fractions
    for i, a in cases + cases:  # the second pass reuses the kept interpolators
        want = slerp(np.array([0.0, 1.0]), q[[i, i + 1]], np.array([a]))[0]
        assert np.array_equal(seg(i, a), want), (i, a)


def test_segment_slerp_interpolates_between_its_samples():
    half_turn_z = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    mid = SegmentSlerp(half_turn_z)(0, 0.5)
    np.testing.assert_allclose(np.abs(mid), [np.sqrt(0.5), 0.0, 0.0, np.sqrt(0.5)], atol=1e-12)
