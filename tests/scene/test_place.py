"""Seat placement by tracker rollouts (exoactor.scene.place) and the runner's no-worse guard."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scene_synthetic import sit_reference

from exoactor.formats.scene import ObjectPose
from exoactor.scene import Scene, SceneObject, load_scene, save_scene
from exoactor.scene.infer import box_depth, infer_scene, motion_features
from exoactor.scene.place import (
    PlaceConfig,
    Trial,
    _candidates,
    _first_frame,
    place_seats,
    placement_score,
    worse_than_without,
)


def _t(fell, t=None, seated=0.0, load=0.0, shift=0.0):
    return Trial(fell, t, seated, load, shift, "")


def test_placement_objective_orders_no_fall_later_fall_then_seated():
    ranked = [_t(False, seated=0.9, load=0.6), _t(False, seated=0.5, load=0.9),
              _t(False, seated=0.5, load=0.5, shift=0.1), _t(True, 3.0, seated=1.0),
              _t(True, 1.0, seated=1.0)]
    assert sorted(ranked[::-1], key=placement_score) == ranked
    assert worse_than_without(_t(True, 2.0), _t(False))          # falls only with it
    assert worse_than_without(_t(True, 1.0), _t(True, 2.0))      # falls earlier with it
    assert not worse_than_without(_t(True, 3.0), _t(True, 2.0))  # falls later: kept
    assert not worse_than_without(_t(False), _t(True, 2.0))


@pytest.mark.parametrize("seated_start", [False, True])
def test_candidates_never_hold_the_start_pose(seated_start):
    """A candidate seat never starts the robot inside it; a start that is already seated gets a
    candidate right under it (the highest top its pose allows)."""
    motion = sit_reference(stand_s=0.5, seated_s=2.5, up_s=1.5)
    if seated_start:
        motion = motion.slice(int(2.6 * motion.fps), len(motion.root_pos))
    seat = infer_scene(motion).of_kind("seat")[0]
    start = motion_features(_first_frame(motion))
    cands = _candidates(seat, PlaceConfig(), start, None)
    assert len(cands) >= len(PlaceConfig().shifts_m)
    for _, obj, _ in cands:
        c, size = np.asarray(obj.pose.pos), np.asarray(obj.size)
        for pts in (start.seat_points, start.other_points):
            assert box_depth(pts, c, obj.pose.yaw_rad, size).max() <= 0.01 + 1e-9
    if seated_start:   # the robot starts with its pelvis/thighs on a candidate's top
        assert any(abs(o.top_z - start.seat_low_z[0]) < 0.03 for _, o, _ in cands)


def _trip_seat(motion, ahead_m=0.5, height_m=0.25):
    """A low seat box across a walk's path, ahead of its start (evidence: the whole walk); the
    walk trips over it (measured: falls at 2.1 s; 0.4 m and 0.8 m high boxes it does not)."""
    p0, p1 = motion.root_pos[0, :2], motion.root_pos[-1, :2]
    d = (p1 - p0) / np.linalg.norm(p1 - p0)
    xy = p0 + ahead_m * d
    return SceneObject(kind="seat", pose=ObjectPose(pos=(float(xy[0]), float(xy[1]), height_m / 2),
                                                    yaw_rad=float(np.arctan2(d[1], d[0]))),
                       size=(0.4, 1.0, height_m), evidence=((0, len(motion.root_pos) - 1),))


def test_a_seat_that_trips_the_robot_is_rejected(walk_motion):
    """Physics: a seat across a walk's path makes the robot fall where it walks without it, so
    the placement search rejects it (with the figures in its note)."""
    scene = Scene(source="test", fps=walk_motion.fps, objects=(_trip_seat(walk_motion),))
    cfg = PlaceConfig(shifts_m=(0.0,), heights_m=(0.0,), robot_anchor=False, max_raise_m=0.0)
    out = place_seats(walk_motion, scene, cfg)
    assert not out.objects and len(out.rejected) == 1
    assert "rejected: every placement made the robot fall" in out.rejected[0].note


def test_place_keeps_the_seat_the_robot_sits_on(monkeypatch):
    """Physics: on the IK sit-down the rule's seat is kept (the robot falls without it); the
    rollouts stop ``tail_s`` after the seated phase."""
    import exoactor.control.track as track_mod

    lengths = []
    real = track_mod.track_motion

    def recording(motion, *a, **k):
        lengths.append(len(motion.root_pos))
        return real(motion, *a, **k)

    monkeypatch.setattr(track_mod, "track_motion", recording)
    motion = sit_reference(stand_s=0.5, seated_s=2.5, up_s=1.5, fps=50.0)
    scene = infer_scene(motion)
    cfg = PlaceConfig(shifts_m=(0.0,), heights_m=(0.0,), robot_anchor=False, max_raise_m=0.0,
                      tail_s=1.0)
    out = place_seats(motion, scene, cfg)
    assert len(out.of_kind("seat")) == 1 and not out.rejected
    assert "placed by rollouts" in out.objects[0].note and "no fall" in out.objects[0].note
    last = scene.of_kind("seat")[0].evidence[-1][1]
    assert len(lengths) == 2 and max(lengths) == min(last + 50 + 1, len(motion.root_pos))
    assert max(lengths) < len(motion.root_pos)


def test_runner_keeps_the_run_without_objects_when_they_make_the_robot_fall(walk_motion,
                                                                             tmp_path):
    """The track stage's guard: objects that make the robot fall are left out, and metrics.json
    says so (the verdict then names it)."""
    from exoactor.report.verdict import physics_verdict
    from exoactor.runner import RunConfig, _track_with_objects

    scene = Scene(source="test", fps=walk_motion.fps, objects=(_trip_seat(walk_motion),))
    save_scene(scene, tmp_path / "scene.json")
    config = RunConfig().model_copy(update={"filter": RunConfig().filter.model_copy(
        update={"enabled": False})})
    _track_with_objects(tmp_path, walk_motion, config, load_scene(tmp_path / "scene.json"))
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert not metrics["fell"]
    inter = metrics["interaction"]
    assert inter["kept_without_objects"] and not inter["succeeded"]
    assert "objects left out" in inter["failures"][0]
    assert (tmp_path / "rollout.npz").is_file()
    assert not list(tmp_path.glob(".track_*"))                  # the trial runs are cleaned up
    from exoactor.scene.score import interaction_columns

    cells = interaction_columns(metrics)
    assert cells["interaction"] == "left out" and cells["objects"] == "left out (seat)"
    verdict = physics_verdict(metrics)
    assert verdict.verdict == "not executable" and "objects left out" in " ".join(verdict.reasons)


def _ends_seated():
    """An IK sit-down (little lean) that ends seated, and a seat 5 cm ahead of the rule's."""
    motion = sit_reference(stand_s=0.5, seated_s=1.0, up_s=1.5, fps=50.0, lean_deg=10.0)
    motion = motion.slice(0, int(3.5 * motion.fps))
    seat = infer_scene(motion).of_kind("seat")[0]
    fwd = np.array([np.cos(seat.pose.yaw_rad), np.sin(seat.pose.yaw_rad)])
    xy = np.asarray(seat.pose.pos[:2]) + 0.05 * fwd
    seat = seat.model_copy(update={"pose": ObjectPose(pos=(float(xy[0]), float(xy[1]),
                                                           seat.pose.pos[2]),
                                                      yaw_rad=seat.pose.yaw_rad)})
    return motion, Scene(source="test", fps=motion.fps, objects=(seat,)), seat


def test_placement_rollouts_are_judged_on_the_clip():
    """Physics: a clip that ends seated is judged on the clip. The track stage's reference
    holds the last frame, then returns to standing at the seated pelvis's xy (legs inside the
    seat): there the robot falls (positive control, measured 4.94 s of a 3.5 s clip), which says
    nothing about the seat; the search's rollout stops at the clip's end and does not fall."""
    from exoactor.control.drift import DriftConfig
    from exoactor.control.track import TrackConfig, track_motion
    from exoactor.scene.place import _trial, on_the_clip

    motion, scene, seat = _ends_seated()
    track = TrackConfig(drift=DriftConfig(enabled=False))
    full = track_motion(motion, track.model_copy(update={"scene": scene}))
    assert full.metrics.fell and full.metrics.fall_time_s > motion.num_frames / motion.fps
    out = _trial(motion, scene, seat, track, "on the clip", 0.05).trial
    assert not out.fell and out.seated_fraction >= 0.9 and out.seated_share >= 0.9
    clip = on_the_clip(track)
    assert clip.reference.hold_s == 0.0 and clip.reference.return_s == 0.0


def test_rollouts_in_threads_give_the_same_trials():
    """Physics: the searches' rollouts run ``workers`` at a time; the results are the same."""
    from exoactor.control.drift import DriftConfig
    from exoactor.control.track import TrackConfig
    from exoactor.scene.place import run_trials

    motion, scene, seat = _ends_seated()
    motion = motion.slice(0, int(2.5 * motion.fps))
    track = TrackConfig(drift=DriftConfig(enabled=False))
    jobs = [(motion, scene, seat, track, "with", 0.0), (motion, Scene(source="test"), None,
                                                        track, "without", 0.0)]
    one = [o.trial for o in run_trials(jobs, 1)]
    two = [o.trial for o in run_trials(jobs, 2)]
    assert one == two


def test_a_placement_behind_the_seated_pelvis_is_not_tried(monkeypatch):
    """When every placement falls, the latest fall wins; a seat behind the seated person, out
    of the robot's way, can delay a fall without seating it (the bench clip: the chosen seat's
    front edge was 0.07 m behind the reference's seated pelvis). Only placements whose footprint
    holds the reference's seated pelvis are tried (rollouts faked: this one rewards the seat
    behind with the later fall)."""
    import exoactor.scene.place as place

    motion = sit_reference(stand_s=0.5, seated_s=2.5, up_s=1.5)
    scene = infer_scene(motion)
    seat = scene.of_kind("seat")[0]
    pelvis = place.reference_pelvis_xy(motion, seat)
    assert seat.holds_xy(pelvis)                    # the rule's seat is under it
    tried = []

    def fake_trial(motion, scene, seat, track, label, shift, phase_s=None):
        return place._Outcome(Trial(True, 2.0, 0.0, 0.0, abs(shift), label), None)

    def fake_runs(jobs, workers):
        out = []
        for _, _, obj, _, label, shift in jobs:
            tried.append(obj)
            later = 0.0 if obj.holds_xy(pelvis) else 1.0
            out.append(place._Outcome(Trial(True, 3.0 + later, 0.0, 0.0, abs(shift), label),
                                      None))
        return out

    monkeypatch.setattr(place, "_trial", fake_trial)
    monkeypatch.setattr(place, "run_trials", fake_runs)
    cfg = PlaceConfig(shifts_m=(-0.5, 0.0), heights_m=(0.0,), robot_anchor=False,
                      max_raise_m=0.0)
    out = place_seats(motion, scene, cfg)
    assert out.of_kind("seat")[0].holds_xy(pelvis)
    assert tried and all(o.holds_xy(pelvis) for o in tried)
    # the old behaviour stays available, and then the later fall (the seat behind) wins
    tried.clear()
    old = place_seats(motion, scene, cfg.model_copy(update={"under_reference": False}))
    assert not old.of_kind("seat")[0].holds_xy(pelvis) and len(tried) == 2
    # no candidate holds the point: all are tried
    far = pelvis + np.array([5.0, 5.0])
    cands = [("a", seat, 0.0)]
    assert place._under_reference(cands, far) == cands
