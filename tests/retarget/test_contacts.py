"""Contacts: segments, detection, and pinning (flat, on the ground, still, continuous)."""

from __future__ import annotations

import numpy as np

from exoactor.retarget.contacts import (
    contact_share,
    detect_foot_contact,
    lowest_sole_height,
    pin_foot,
)
from exoactor.rotations import yaw_matrix
from exoactor.signals import runs


def test_runs() -> None:
    c = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    assert runs(c) == [(0, 2), (4, 5), (6, 9)]
    assert runs(np.zeros(3, bool)) == []


def test_detect_foot_contact_needs_low_and_slow() -> None:
    fps = 30.0
    t = np.arange(60) / fps
    x = np.where(t < 1.0, 0.0, (t - 1.0) * 1.0)  # still for 1 s, then 1 m/s
    pos = np.stack([x, 0 * x, 0 * x], 1)
    h = np.where(t < 1.5, 0.0, 0.2)
    c = detect_foot_contact(h, pos, fps)
    assert c[:28].all() and not c[32:].any()


def _walk(T: int = 90, fps: float = 30.0):
    """A foot that slides and bobs during contact (frames 10-39, 60-89), swings in between."""
    t = np.arange(T)
    contact = ((t >= 10) & (t < 40)) | (t >= 60)
    x = 0.4 * np.clip((t - 40) / 20, 0, 1) + 0.002 * np.sin(t)   # slides 2 mm
    z = 0.04 + 0.01 * np.sin(0.3 * t) + 0.08 * np.sin(np.pi * np.clip((t - 40) / 20, 0, 1))
    origin = np.stack([x, 0.1 + 0 * x, z], 1)
    R = yaw_matrix(0.05 * np.sin(0.2 * t)) @ yaw_matrix(np.zeros(T))
    pitch = 0.3 * np.sin(np.pi * np.clip((t - 40) / 20, 0, 1))
    c, s = np.cos(pitch), np.sin(pitch)
    Ry = np.stack([np.stack([c, 0 * c, s], -1), np.stack([0 * c, 1 + 0 * c, 0 * c], -1),
                   np.stack([-s, 0 * c, c], -1)], -2)
    return origin, R @ Ry, contact, fps


def test_pinned_foot_is_still_flat_and_on_the_ground(rmodel) -> None:
    origin, R, contact, fps = _walk()
    sc, sr = rmodel.sole_center_b[0], rmodel.sole_radius_m[0]
    p = pin_foot(origin, R, contact, fps, sc, sr)
    for a, b in runs(contact):
        np.testing.assert_allclose(p.origin_w[a:b], np.broadcast_to(p.origin_w[a], (b - a, 3)))
        np.testing.assert_allclose(p.R_w[a:b, 2], np.broadcast_to([0, 0, 1.0], (b - a, 3)),
                                   atol=1e-12)
    h = lowest_sole_height(p.origin_w, p.R_w, sc, sr)
    np.testing.assert_allclose(h[contact], 0.0, atol=1e-12)
    assert h.min() >= -1e-12
    # no jumps: the largest frame-to-frame move stays near the swing's own speed
    step = np.linalg.norm(np.diff(p.origin_w, axis=0), axis=1)
    assert step.max() < 0.05


def test_no_contact_only_lifts_feet_out_of_the_ground(rmodel) -> None:
    origin, R, _, fps = _walk()
    origin = origin - [0, 0, 0.05]
    sc, sr = rmodel.sole_center_b[0], rmodel.sole_radius_m[0]
    p = pin_foot(origin, R, np.zeros(len(origin), bool), fps, sc, sr)
    assert lowest_sole_height(p.origin_w, p.R_w, sc, sr).min() >= -1e-12
    np.testing.assert_allclose(p.origin_w[:, :2], origin[:, :2])


def test_contact_share_ramps_around_each_contact() -> None:
    fps, blend_s = 50.0, 0.15
    contact = np.zeros((100, 2), dtype=bool)
    contact[40:60, 0] = True  # one stance of the left foot; the right foot never touches
    share = contact_share(contact, fps, blend_s)
    assert (share[40:60, 0] == 1.0).all() and (share[:, 1] == 0.0).all()
    assert (share[:30, 0] == 0.0).all() and (share[70:, 0] == 0.0).all()  # beyond the ramps
    assert (np.diff(share[30:41, 0]) >= 0).all() and (np.diff(share[59:70, 0]) <= 0).all()
    assert 0.0 < share[37, 0] < 1.0 and 0.0 < share[62, 0] < 1.0
    # at most the smooth-step's steepest slope (1.5 / ramp) per frame, not a switch
    assert np.abs(np.diff(share, axis=0)).max() <= 1.5 / (blend_s * fps) + 1e-9
    assert np.array_equal(contact_share(contact, fps, 0.0), contact.astype(float))


def test_foot_costs_change_gradually_at_touch_down(walk_human, rmodel) -> None:
    """The IK's foot costs follow the contact share: no foot weight changes by more than the
    ramp's slope allows in one frame (a switched cost moved the demo's root 6 deg at once)."""
    from exoactor.retarget import RetargetConfig
    from exoactor.retarget.targets import build_targets

    cfg = RetargetConfig()
    tg = build_targets(walk_human, rmodel, cfg)
    assert (np.diff(tg.foot_contact.astype(int), axis=0) != 0).any()  # the clip has switches
    feet = [rmodel.corr.index(n) for foot in rmodel.corr.feet for n in foot.keypoints]
    w = tg.keypoint_weight[:, feet]
    slope = 1.5 / (cfg.contact_blend_s * tg.fps)
    assert np.abs(np.diff(w, axis=0)).max() <= slope * w.max() + 1e-6  # a switch: 4 of 5
