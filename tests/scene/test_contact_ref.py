"""The seat-contact reference: pelvis lowered onto the seat, feet held, legs re-solved by IK."""

import numpy as np
import pytest

from exoactor.formats.scene import ObjectPose, Scene, SceneObject
from exoactor.scene.contact_ref import (
    FEET_BODIES,
    ContactRefConfig,
    adjust_for_seats,
    nearest_in_hull,
    seat_contact_z,
)
from exoactor.signals import blend_weight

pytest.importorskip("mink")


def test_blend_weight_is_one_in_the_window_and_ramps_smoothly():
    w = blend_weight(200, [(50, 100)], fps=50.0, ramp_s=0.4)
    assert np.all(w[50:101] == 1.0)
    assert np.all(w[:30] == 0.0) and np.all(w[121:] == 0.0)
    assert np.all(np.diff(w[25:51]) >= 0) and np.all(np.diff(w[100:125]) <= 0)
    assert 0.0 < w[40] < 1.0 and 0.0 < w[110] < 1.0
    assert np.array_equal(blend_weight(10, [], 50.0, 0.4), np.zeros(10))


def test_nearest_in_hull():
    sq = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    assert np.allclose(nearest_in_hull(np.array([0.5, 0.5]), sq), [0.5, 0.5])
    assert np.allclose(nearest_in_hull(np.array([2.0, 0.5]), sq), [1.0, 0.5])
    assert np.allclose(nearest_in_hull(np.array([-1.0, -1.0]), sq), [0.0, 0.0])


def test_seat_contact_is_the_lowest_point_over_the_footprint():
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 0.0, 0.2)), size=(0.4, 0.4, 0.4))
    pts = np.array([[0.0, 0.0, 0.45], [0.1, 0.1, 0.42], [1.0, 0.0, 0.1]])
    assert seat_contact_z(pts, pts[:1], seat) == pytest.approx(0.42)
    assert seat_contact_z(pts[2:], pts[:1], seat) == pytest.approx(0.45)  # none over it


def _sit_with_low_seat(drop_m: float):
    from scene_synthetic import sit_reference

    from exoactor.scene.infer import infer_scene

    motion = sit_reference()
    seat = [o for o in infer_scene(motion).objects if o.kind == "seat"][0]
    p = seat.pose.pos
    # the reference sits drop_m - 0.09 above the seat (the rule put the top 0.09 m above it)
    low = seat.model_copy(update={"pose": ObjectPose(pos=(p[0], p[1], p[2] - drop_m),
                                                     yaw_rad=seat.pose.yaw_rad)})
    return motion, Scene(source="test", fps=motion.fps, objects=(low,))


def test_adjusted_reference_sits_on_the_seat_with_the_feet_fixed():
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import body_positions
    from exoactor.scene.infer import motion_features

    motion, scene = _sit_with_low_seat(0.17)
    seat = scene.objects[0]
    before = motion.root_pos.copy()
    res = adjust_for_seats(motion, scene, ContactRefConfig(press_m=0.0))
    out = res.motion
    assert np.array_equal(motion.root_pos, before)  # the input is not changed
    on = res.weight > 0.999
    off = res.weight == 0.0
    assert on.sum() > 100 and off.sum() > 50
    # measured independently by FK of the new motion
    robot = get_robot("g1")
    feet_in = body_positions(robot, motion, list(FEET_BODIES)).pos_w
    feet_out = body_positions(robot, out, list(FEET_BODIES)).pos_w
    assert np.abs(feet_out - feet_in).max() <= 0.01
    f_in, f_out = motion_features(motion), motion_features(out)
    z_in = np.array([seat_contact_z(f_in.seat_points[t], f_in.seat_points[t], seat)
                     for t in np.flatnonzero(on)])
    z_out = np.array([seat_contact_z(f_out.seat_points[t], f_out.seat_points[t], seat)
                      for t in np.flatnonzero(on)])
    above = z_in > seat.top_z + 0.03           # frames where the reference floats over the seat
    assert above.sum() > 50
    assert np.abs(z_out[above] - seat.top_z).max() <= 0.02
    assert res.drop_m.max() > 0.05 and (res.drop_m >= -1e-9).all()
    # torso orientation kept; off the windows nothing changes
    assert np.allclose(out.root_quat[on], motion.root_quat[on], atol=1e-2)
    assert np.allclose(out.root_pos[off], motion.root_pos[off])
    assert np.allclose(out.dof_pos[off], motion.dof_pos[off])


def test_no_seat_leaves_the_reference_as_it_is():
    from scene_synthetic import sit_reference

    motion = sit_reference(seated_s=0.5)
    res = adjust_for_seats(motion, Scene(source="test", fps=motion.fps))
    assert res.motion is motion and not res.weight.any()


def test_track_stage_follows_the_seated_motion_only_for_its_seats(tmp_path):
    from scene_synthetic import sit_reference

    from exoactor.pipeline import RunDir
    from exoactor.runner import _save_seated, _seated_motion

    motion = sit_reference(seated_s=0.5)
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 0.0, 0.2)), size=(0.4, 0.4, 0.4),
                       evidence=((10, 20),))
    scene = Scene(source="test", objects=(seat,))
    run = RunDir(tmp_path)
    assert _seated_motion(run, scene) is None                     # none written yet
    _save_seated(run, motion, scene, "test")
    got = _seated_motion(run, scene)
    assert got is not None and np.allclose(got.root_pos, motion.root_pos)
    moved = seat.model_copy(update={"pose": ObjectPose(pos=(0.1, 0.0, 0.2))})
    assert _seated_motion(run, scene.model_copy(update={"objects": (moved,)})) is None


def test_into_footprint_moves_a_point_into_the_shrunk_seat():
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(1.0, 2.0, 0.2), yaw_rad=np.pi / 2),
                       size=(0.4, 0.5, 0.4))
    # heading +y: "along" is y, "lateral" is -x
    assert np.allclose(seat.into_footprint(np.array([1.0, 2.05]), 0.1), [1.0, 2.05])
    assert np.allclose(seat.into_footprint(np.array([1.0, 2.3]), 0.1), [1.0, 2.1])
    assert np.allclose(seat.into_footprint(np.array([0.5, 1.5]), 0.1), [0.85, 1.9])


def _pelvis_along(motion, seat):
    f = np.array([np.cos(seat.pose.yaw_rad), np.sin(seat.pose.yaw_rad)])
    return (motion.root_pos[:, :2] - np.asarray(seat.pose.pos[:2])) @ f


def test_seat_margin_puts_the_pelvis_over_the_seat_with_the_feet_fixed():
    """A seat 0.15 m behind the reference pelvis's rule position: the reference pelvis is near
    the seat's front edge; with ``seat_margin_m`` it moves inside the footprint, feet kept."""
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import body_positions

    motion, scene = _sit_with_low_seat(0.12)
    seat = scene.objects[0]
    f = np.array([np.cos(seat.pose.yaw_rad), np.sin(seat.pose.yaw_rad)])
    back = np.asarray(seat.pose.pos[:2]) - 0.15 * f
    seat = seat.model_copy(update={"pose": ObjectPose(pos=(back[0], back[1], seat.pose.pos[2]),
                                                      yaw_rad=seat.pose.yaw_rad)})
    scene = Scene(source="test", fps=motion.fps, objects=(seat,))
    cfg = ContactRefConfig(press_m=0.03, com_to_feet=0.0, com_cost=0.0, seat_margin_m=0.10,
                           pelvis_xy_cost=20.0)
    res = adjust_for_seats(motion, scene, cfg)
    on = res.weight > 0.999
    before, after = _pelvis_along(motion, seat)[on], _pelvis_along(res.motion, seat)[on]
    limit = seat.size[0] / 2 - 0.10
    assert before.max() > limit + 0.05            # the reference sits at the front edge
    assert after.max() <= limit + 0.02            # now over the seat, 10 cm from its edge
    robot = get_robot("g1")
    feet_in = body_positions(robot, motion, list(FEET_BODIES)).pos_w
    feet_out = body_positions(robot, res.motion, list(FEET_BODIES)).pos_w
    assert np.abs(feet_out - feet_in).max() <= 0.01


def test_hold_feet_keeps_the_feet_where_the_seated_phase_began():
    """The seated reference slides 0.12 m forward (feet and all) during its window; with
    ``hold_feet`` the feet stay where they were at the first frame of the window's ramp-in."""
    import dataclasses

    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import body_positions

    motion, scene = _sit_with_low_seat(0.12)
    seat = scene.objects[0]
    a, b = seat.evidence[0]
    f = np.array([np.cos(seat.pose.yaw_rad), np.sin(seat.pose.yaw_rad)])
    slide = np.zeros(motion.num_frames)
    mid = (a + b) // 2
    slide[a:] = 0.12 * np.clip((np.arange(a, motion.num_frames) - a) / max(mid - a, 1), 0, 1)
    root = motion.root_pos.copy()
    root[:, :2] += slide[:, None] * f
    sliding = dataclasses.replace(motion, root_pos=root)
    robot = get_robot("g1")
    feet_in = body_positions(robot, sliding, list(FEET_BODIES)).pos_w
    cfg = ContactRefConfig()
    first = a - int(np.ceil(cfg.ramp_s * motion.fps))   # the ramp-in's first frame
    loose = adjust_for_seats(sliding, scene, cfg).motion
    feet = body_positions(robot, loose, list(FEET_BODIES)).pos_w
    assert np.linalg.norm(feet[mid:b + 1] - feet_in[a], axis=-1).max() > 0.1   # they slide
    held = adjust_for_seats(sliding, scene, cfg.model_copy(update={"hold_feet": True})).motion
    feet = body_positions(robot, held, list(FEET_BODIES)).pos_w
    assert np.linalg.norm(feet[first:b + 1] - feet_in[first], axis=-1).max() <= 0.015


def test_choose_seated_takes_the_best_pair_and_keeps_the_baseline_on_ties(monkeypatch):
    """Selection only (rollouts and IK replaced): the strictly best (placement, pose) pair by
    ``placement_score`` wins; a tie with the baseline keeps the retargeted reference."""
    import dataclasses

    import exoactor.scene.contact_ref as cr
    import exoactor.scene.place as pl
    from exoactor.scene.config import SeatPoseVariant
    from exoactor.scene.place import Trial

    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 0.0, 0.2)), size=(0.4, 0.5, 0.4),
                       evidence=((10, 40),))
    alt = seat.model_copy(update={"pose": ObjectPose(pos=(-0.1, 0.0, 0.2))})
    scenes = [Scene(objects=(seat,)), Scene(objects=(alt,))]
    from scene_synthetic import sit_reference

    motion = sit_reference(seated_s=0.5)
    marked = {}

    def fake_adjust(m, scene, cfg):
        out = dataclasses.replace(m, source=f"{cfg.press_m}")
        marked[id(out)] = (scene.objects[0].pose.pos[0], cfg.press_m)
        return cr.ContactRefResult(out, *(np.zeros(m.num_frames),) * 5)

    def outcome(table):
        def fake_trial(m, scene, s, track, label, shift, phase=None):
            key = (scene.objects[0].pose.pos[0], float(m.source) if m.source[0] in "0123456789"
                   else None)
            fell, t, seated = table[key]
            return pl._Outcome(Trial(fell, t, seated, seated, 0.0, label), None)
        return fake_trial

    monkeypatch.setattr(cr, "adjust_for_seats", fake_adjust)
    cfg = ContactRefConfig(variants=(SeatPoseVariant(name="a", press_m=0.02),
                                     SeatPoseVariant(name="b", press_m=0.08)))
    table = {(0.0, None): (False, None, 0.3), (0.0, 0.02): (True, 4.0, 0.9),
             (0.0, 0.08): (False, None, 0.5), (-0.1, None): (False, None, 0.2),
             (-0.1, 0.02): (False, None, 0.7), (-0.1, 0.08): (True, 2.0, 1.0)}
    monkeypatch.setattr(pl, "_trial", outcome(table))
    scene, out, note = cr.choose_seated(motion, scenes, cfg)
    assert scene is scenes[1] and out.source == "0.02" and note.startswith("used")
    assert "6 tried" in note and note.count("seated") == 7  # the winner, then every pair
    tie = {k: (False, None, 0.3) for k in table}
    monkeypatch.setattr(pl, "_trial", outcome(tie))
    scene, out, note = cr.choose_seated(motion, scenes, cfg)
    assert scene is scenes[0] and out is motion and note.startswith("not used")


def test_filter_finalists_use_the_least_objective_among_seated_runs_else_the_best_or_baseline(
        monkeypatch):
    """Selection only (filter runs replaced): every finalist and the baseline are filtered;
    of those whose seat succeeds, the least whole-run objective of the filter is used (not the
    first that sits), the baseline on ties; with none, the best filtered pair by
    ``placement_score``, the baseline on ties."""
    import exoactor.scene.contact_ref as cr
    import exoactor.scene.place as pl
    from exoactor.scene.place import Trial, placement_score

    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 0.0, 0.2)), size=(0.4, 0.5, 0.4),
                       evidence=((10, 40),))
    scene = Scene(objects=(seat,))
    base_m, a_m, b_m = object(), object(), object()

    def entry(k, label, fell, seated, mot):
        t = Trial(fell, 3.0 if fell else None, seated, seated, 0.0, label)
        return (placement_score(t), k, t, scene, mot)

    # tracker rollouts: baseline falls, a best, then b
    tried = [entry(0, "base", True, 0.1, base_m), entry(0, "a", False, 0.9, a_m),
             entry(0, "b", False, 0.6, b_m)]
    calls = []

    def run(filtered):
        def fake(mot, sc, s, track, fc, label):
            calls.append(label)
            fell, seated, objective = filtered[label.removeprefix("filtered: ")]
            return Trial(fell, 2.0 if fell else None, seated, seated, 0.0, label,
                         objective=objective)
        monkeypatch.setattr(pl, "_filter_trial", fake)
        calls.clear()
        return cr._filter_finalists(base_m, tried, 2, None, object(), "figures")

    # a sits first, b sits too and is executed better: b (the first success was a)
    _, mot, note = run({"a": (False, 0.7, 5.0), "b": (False, 0.9, 3.0), "base": (False, 0.0, 1.0)})
    assert mot is b_m and note.startswith("used") and "objective 3.00" in note
    assert calls == ["filtered: a", "filtered: b", "filtered: base"]
    # the baseline sits with the least objective: kept; on a tie with a seated pair, too
    _, mot, note = run({"a": (False, 0.7, 5.0), "b": (True, 0.9, 1.0), "base": (False, 0.6, 4.0)})
    assert mot is base_m and note.startswith("not used")
    _, mot, _ = run({"a": (False, 0.7, 4.0), "b": (False, 0.2, 1.0), "base": (False, 0.6, 4.0)})
    assert mot is base_m
    # an objective that is not finite (None) loses to any finite one
    _, mot, _ = run({"a": (False, 0.7, None), "b": (False, 0.6, 9.0), "base": (False, 0.0, 1.0)})
    assert mot is b_m
    # no seat succeeds: placement_score, the baseline on ties
    _, mot, _ = run({"a": (False, 0.2, 1.0), "b": (False, 0.4, 9.0), "base": (False, 0.3, 1.0)})
    assert mot is b_m
    _, mot, note = run({"a": (True, 0.9, 1.0), "b": (False, 0.3, 1.0), "base": (False, 0.3, 9.0)})
    assert mot is base_m and note.startswith("not used")     # tie with the baseline: baseline


def test_com_toward_the_feet_moves_the_whole_window_without_jumps():
    """The CoM-toward-the-feet pose is asked of every frame of the window (blended by its
    weight), not only of the frames that are lowered: the adjusted pelvis moves no faster than
    the reference's + 1 cm a frame. (Before, the lowered frames of the ramp moved the pelvis
    ~0.16 m and the seated frames next to them, already low enough, were left as they were.)"""
    from scene_synthetic import sit_reference

    from exoactor.scene.infer import infer_scene

    motion = sit_reference(lean_deg=0.0, hip_deg=110.0)
    res = adjust_for_seats(motion, infer_scene(motion), ContactRefConfig(com_to_feet=1.0))
    step = np.linalg.norm(np.diff(res.motion.root_pos[:, :2], axis=0), axis=1)
    step_ref = np.linalg.norm(np.diff(motion.root_pos[:, :2], axis=0), axis=1)
    assert step.max() <= step_ref.max() + 0.01
    moved = np.linalg.norm(res.motion.root_pos[:, :2] - motion.root_pos[:, :2], axis=1)
    assert moved[res.weight > 0.999].min() > 0.05      # held over the whole window


def test_filter_finalists_are_the_pairs_seated_longest(monkeypatch):
    """Selection only: the pairs sent to the filter are those whose tracker rollout was seated
    for the largest share of the whole phase, a later fall included (the filter keeps the robot
    up; it cannot seat a robot the tracker did not seat), not the ones that did not fall."""
    import exoactor.scene.contact_ref as cr
    import exoactor.scene.place as pl
    from exoactor.scene.place import Trial, finalist_score, placement_score

    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(0.0, 0.0, 0.2)), size=(0.4, 0.5, 0.4),
                       evidence=((10, 40),))
    scene = Scene(objects=(seat,))
    base_m, stands_m, sits_m = object(), object(), object()

    def entry(label, fell, seated, share, mot):
        t = Trial(fell, 4.5 if fell else None, seated, seated, 0.0, label, share)
        return (placement_score(t), 0, t, scene, mot)

    tried = [entry("base", True, 0.0, 0.0, base_m), entry("stands", False, 0.08, 0.08, stands_m),
             entry("sits", True, 0.37, 0.32, sits_m)]
    assert finalist_score(tried[2][2]) < finalist_score(tried[1][2])
    calls = []

    def fake(mot, sc, s, track, fc, label):
        calls.append(label)
        return Trial(False, None, 0.6, 0.4, 0.0, label, objective=float(len(calls)))

    monkeypatch.setattr(pl, "_filter_trial", fake)
    _, mot, note = cr._filter_finalists(base_m, tried, 1, None, object(), "figures")
    assert calls == ["filtered: sits", "filtered: base"] and mot is sits_m
    assert note.startswith("used")
