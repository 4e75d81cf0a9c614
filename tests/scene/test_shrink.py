"""Nominal extents give way to the body: :mod:`exoactor.scene.shrink` and its use by the
carried-box rule (a support slab the legs brush is made shallower instead of rejected)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scene_synthetic import lift_reference

from exoactor.rotations import yaw_matrix
from exoactor.scene.infer import InferConfig, _boxes_clear_of_body, find_boxes, motion_features
from exoactor.scene.shrink import CENTRE, HIGH, LOW, NominalExtent, largest_clear_extents, shrink_to_clear


def _inside(points_w, centre, yaw, size) -> np.ndarray:
    local = (np.asarray(points_w) - centre) @ yaw_matrix(yaw)
    return np.min(np.asarray(size) / 2 - np.abs(local), axis=-1) > 1e-9


def test_one_extent_shrinks_just_enough_keeping_what_it_keeps():
    size = np.array([0.4, 0.3, 0.2])
    centre, yaw = np.array([1.0, -0.5, 0.3]), 0.7
    R = yaw_matrix(yaw)
    # a point 3 cm inside the depth's high face, in the middle of width and height
    p = centre + R @ np.array([0.17, 0.0, 0.0])
    for keep, want_size, want_shift in ((CENTRE, 0.34, 0.0), (LOW, 0.37, -0.015)):
        c, s = shrink_to_clear(p[None], centre, yaw, size, (NominalExtent(0, keep, 0.1),))
        np.testing.assert_allclose(s, [want_size, 0.3, 0.2], atol=1e-9)
        np.testing.assert_allclose(R.T @ (c - centre), [want_shift, 0, 0], atol=1e-9)
        assert not _inside(p, c, yaw, s)
        # the kept face stays where it was
        lo_face = (R.T @ (c - centre))[0] - s[0] / 2
        if keep == LOW:
            assert abs(lo_face + 0.2) < 1e-9
    # keeping the high face it cannot clear a point at that face: left alone
    c, s = shrink_to_clear(p[None], centre, yaw, size, (NominalExtent(0, HIGH, 0.1),))
    np.testing.assert_allclose(s, size)


def test_the_minimum_is_respected_and_measured_extents_never_change():
    size = np.array([0.25, 0.3, 0.04])
    centre = np.zeros(3)
    deep = np.array([[0.02, 0.0, 0.0]])          # 10.5 cm inside the depth from either face
    c, s = shrink_to_clear(deep, centre, 0.0, size, (NominalExtent(0, CENTRE, 0.10),))
    np.testing.assert_allclose(s, size)          # would need 0.04 < 0.10: left for the caller
    c, s = shrink_to_clear(deep, centre, 0.0, size, (NominalExtent(0, CENTRE, 0.03),))
    np.testing.assert_allclose(s, [0.04, 0.3, 0.04])
    with pytest.raises(ValueError, match="axis twice"):
        shrink_to_clear(deep, centre, 0.0, size, (NominalExtent(0, CENTRE, 0.1),
                                                  NominalExtent(0, LOW, 0.1)))


def test_two_extents_give_the_largest_box_that_clears_every_point():
    # a point cleared cheaply by the thickness, another only by the depth
    r = np.array([[0.20, 0.035], [0.23, -np.inf]])
    s = largest_clear_extents(r, np.array([0.25, 0.04]), np.array([0.1, 0.01]))
    np.testing.assert_allclose(s, [0.23, 0.035])
    # brute force over a grid agrees on random problems
    rng = np.random.default_rng(0)
    nominal, mins = np.array([0.25, 0.04]), np.array([0.1, 0.01])
    for _ in range(20):
        r = np.column_stack([rng.uniform(0.05, 0.25, 6), rng.uniform(0.0, 0.04, 6)])
        r[r < mins] = -np.inf
        r = r[np.isfinite(r).any(axis=1)]
        s = largest_clear_extents(r, nominal, mins)
        g0 = np.concatenate([r[:, 0], nominal[:1]])
        best = max((a / 0.25 * min([0.04] + [b for b0, b in r if b0 < a]) / 0.04)
                   for a in g0 if a >= mins[0]
                   and min([0.04] + [b for b0, b in r if b0 < a]) >= mins[1])
        assert s is not None and abs(s[0] / 0.25 * s[1] / 0.04 - best) < 1e-9
        assert all(s[0] <= a or s[1] <= b for a, b in r)
        # three extents, the third unable to clear anything, give the same volume
        r3 = np.column_stack([r, np.full(len(r), -np.inf)])
        s3 = largest_clear_extents(r3, np.append(nominal, 0.3), np.append(mins, 0.1))
        assert abs(np.prod(s3 / np.append(nominal, 0.3)) - best) < 1e-9


def _support_and_box():
    cfg = InferConfig()
    f = motion_features(lift_reference())
    objs, _ = find_boxes(f, cfg)
    support, box = objs
    return cfg, f, support, box


def _with_leg_point(f, frames, point_w):
    """``f`` with one more shank/foot point at ``point_w`` during ``frames`` (elsewhere far)."""
    extra = np.full((len(f.other_points), 1, 3), 10.0)
    extra[frames, 0] = point_w
    return dataclasses.replace(f, other_points=np.concatenate([f.other_points, extra], axis=1))


def test_a_support_the_legs_brush_gets_shallower_not_rejected():
    """The pick-up clip's case: a knee passes 1.2 cm into the support slab's back (its depth is
    the nominal box depth) after the box is lifted off it. The old rule rejected the support and
    its box ("body passes through it"); the nominal depth now shrinks about the box's centre
    until the knee is outside, the box and the measured width/top untouched."""
    cfg, f, support, box = _support_and_box()
    R = yaw_matrix(support.pose.yaw_rad)
    half_depth = support.size[0] / 2
    knee = np.asarray(support.pose.pos) + R @ np.array([-(half_depth - 0.012), 0.02, 0.0])
    late = slice(box.evidence[0][1] - 20, box.evidence[0][1])
    kept, rejected = _boxes_clear_of_body([support, box], _with_leg_point(f, late, knee), cfg)
    assert rejected == [] and len(kept) == 2
    slab, kept_box = kept
    assert kept_box == box
    assert slab.size[0] == pytest.approx(support.size[0] - 2 * 0.012, abs=1e-6)
    assert slab.size[1:] == support.size[1:] and slab.top_z == pytest.approx(support.top_z)
    assert "nominal depth 0.250 -> 0.226 m" in slab.note
    assert not _inside(knee, np.asarray(slab.pose.pos), slab.pose.yaw_rad, slab.size)


def test_a_body_inside_the_measured_extents_still_rejects_the_box():
    """Shrinking stops at the stated minimums: a knee in the middle of the slab, 15 mm under its
    top (only the width, which is measured, a depth below ``box_min_depth_m`` or a thickness
    below ``support_min_thickness_m`` would clear it) rejects the support and its box as
    before; so does a knee 3 cm inside its back when the minimum depth forbids the shrink."""
    cfg, f, support, box = _support_and_box()
    R = yaw_matrix(support.pose.yaw_rad)
    centre = np.asarray(support.pose.pos)
    frames = slice(box.evidence[0][1] - 20, box.evidence[0][1])
    mid = centre + R @ np.array([0.02, 0.0, 0.005])
    kept, rejected = _boxes_clear_of_body([support, box], _with_leg_point(f, frames, mid), cfg)
    assert kept == [] and len(rejected) == 2
    near_back = centre + R @ np.array([-(support.size[0] / 2 - 0.03), 0.0, 0.005])
    strict = cfg.model_copy(update={"box_min_depth_m": support.size[0] - 0.01})
    kept, rejected = _boxes_clear_of_body([support, box], _with_leg_point(f, frames, near_back),
                                          strict)
    assert kept == [] and "at its smallest nominal size" in rejected[0].note


def _box_at_grasp(motion, cfg):
    """The motion's features, the box inferred from them and its grasp frame (the lowest mean
    hand height within the box's first evidence range)."""
    f = motion_features(motion)
    objs, _ = find_boxes(f, cfg)
    box = [o for o in objs if o.kind == "box"][0]
    a, b = box.evidence[0]
    return f, box, a + int(np.argmin(f.hands[a:b + 1, :, 2].mean(axis=1)))


def _link_clearances(motion, box, frame: int) -> dict[str, float]:
    """Independent truth: MuJoCo's signed distance from each colliding robot link to ``box``
    (welded where it is) at ``frame``, the nearest of the link's geoms [m], by body name."""
    import mujoco

    from exoactor.control.sim import JointGroup, build_pd_model
    from exoactor.formats.scene import Scene
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_qpos

    robot = get_robot("g1")
    fixed = box.model_copy(update={"kind": "table", "mass": None})
    model = build_pd_model(robot.mjcf_path, [JointGroup((), np.zeros(0), np.zeros(0),
                                                        np.zeros(0))], Scene(objects=(fixed,)))
    data = mujoco.MjData(model)
    data.qpos[:] = motion_qpos(robot, motion)[frame]
    mujoco.mj_forward(model, data)
    obj = model.geom("scene_0_table").id
    gap: dict[str, float] = {}
    for geom in range(model.ngeom):
        body = model.body(model.geom_bodyid[geom]).name
        if body != "world" and geom != obj and (model.geom_contype[geom]
                                                or model.geom_conaffinity[geom]):
            gap[body] = min(gap.get(body, np.inf),
                            mujoco.mj_geomDistance(model, data, geom, obj, 0.3, None))
    return gap


def _hand_clearances(motion, box, frame: int) -> list[float]:
    """The nearest of each hand's colliding links to ``box`` at ``frame`` [m]
    (:func:`_link_clearances`)."""
    from exoactor.scene.infer import HAND_COLLISION_BODIES

    gap = _link_clearances(motion, box, frame)
    return [min(gap[b] for b in side if b in gap) for side in HAND_COLLISION_BODIES]


@pytest.mark.parametrize("shoulder_roll,wrist_roll", [(0.15, 0.6), (0.35, -1.2), (0.35, 1.2)])
def test_a_carried_box_fills_the_gap_between_the_colliding_hands(shoulder_roll, wrist_roll):
    """The box's width is the gap between what holds it in the physics (the G1's wrist-yaw
    collision meshes; its rubber hands do not collide), whatever the hands' turn: at the grasp,
    MuJoCo finds both hands' collision geoms within 2 mm of the box's sides. The old width
    (hand origins' distance less a nominal 2.5 cm palm per hand) put them 4-6 mm inside it for
    these turned wrists (measured)."""
    from exoactor.scene.infer import grip_gap

    motion = lift_reference(shoulder_roll=shoulder_roll)
    q, names = motion.dof_pos.copy(), list(motion.joint_names)
    q[:, names.index("left_wrist_roll_joint")] = wrist_roll
    q[:, names.index("right_wrist_roll_joint")] = -wrist_roll
    motion = motion.replace(dof_pos=q)
    cfg = InferConfig()
    f, box, g = _box_at_grasp(motion, cfg)
    gap, _ = grip_gap(f, g, cfg)
    assert box.size[1] == pytest.approx(gap)
    for d in _hand_clearances(motion, box, g):
        assert abs(d) < 0.002, d


ARM_LINKS = tuple(f"{side}_{link}" for side in ("left", "right") for link in (
    "elbow_link", "wrist_roll_link", "wrist_pitch_link", "wrist_yaw_link"))
"""The G1's colliding forearm and wrist links (listed here, independently of the code)."""


@pytest.mark.parametrize("shoulder_roll,wrist_pitch,wrist_yaw",
                         [(0.35, 0.0, 0.8), (0.35, 0.8, 0.0), (0.15, 0.0, 1.2)])
def test_a_carried_box_fits_between_the_forearms(shoulder_roll, wrist_pitch, wrist_yaw):
    """With the wrists bent (hands turned outward, as the perceived hands of the pick-up clip
    are), the wrist-pitch and wrist-roll links come nearer each other than the wrist-yaw
    links: the box held between the hands must fit between all of them, or the tracked
    forearms start inside it and shove it (the pick-up-weight clip: 3.8-4.5 cm inside at the
    grasp, the box pushed off its support at 0.6 s). At the grasp every colliding forearm and
    wrist link is outside the box (MuJoCo's signed distance > -2 mm) and each side touches it
    (< 2 mm). Sized from the wrist-yaw links only, as before, these links were 7.9-11.4 mm
    inside it (measured)."""
    motion = lift_reference(shoulder_roll=shoulder_roll)
    q, names = motion.dof_pos.copy(), list(motion.joint_names)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        q[:, names.index(f"{side}_wrist_pitch_joint")] = wrist_pitch
        q[:, names.index(f"{side}_wrist_yaw_joint")] = sign * wrist_yaw
    motion = motion.replace(dof_pos=q)
    cfg = InferConfig()
    f, box, g = _box_at_grasp(motion, cfg)
    gap = {k: v for k, v in _link_clearances(motion, box, g).items() if k in ARM_LINKS}
    assert set(gap) == set(ARM_LINKS)
    assert min(gap.values()) > -0.002, gap
    for side in ("left", "right"):
        assert min(v for k, v in gap.items() if k.startswith(side)) < 0.002, gap


def test_hands_that_hold_the_box_reach_it_at_their_surfaces():
    """``hand_distance_m`` of a box is measured from the hands' collision surfaces, the same
    surfaces whose gap sized it: a run that is its reference (turned wrists) touches the box
    with both hands (within 2 mm) at the grasp. Measured from the rubber hands' origins, as
    before, a hand read 2.9 cm off it (measured) although it holds it."""
    from exoactor.control.scene_objects import robot_nq
    from exoactor.formats.motion import Rollout
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_qpos
    from exoactor.scene.infer import infer_scene
    from exoactor.scene.score import _tracking_model, interaction_metrics

    motion = lift_reference(shoulder_roll=0.35)
    q, names = motion.dof_pos.copy(), list(motion.joint_names)
    q[:, names.index("left_wrist_roll_joint")] = 1.2
    q[:, names.index("right_wrist_roll_joint")] = -1.2
    motion = motion.replace(dof_pos=q)
    scene = infer_scene(motion)
    assert [o.kind for o in scene.objects] == ["table", "box"]
    robot = get_robot("g1")
    _, model = _tracking_model("g1", scene)
    T, n_r = motion.num_frames, robot_nq(model)
    box = scene.objects[1]
    half = box.pose.yaw_rad / 2
    qpos = np.tile(model.qpos0, (T, 1))
    qpos[:, :n_r] = motion_qpos(robot, motion)
    qpos[:, n_r:n_r + 7] = [*box.pose.pos, np.cos(half), 0.0, 0.0, np.sin(half)]  # not lifted
    t = motion.times_s
    rollout = Rollout(robot="g1", fps=motion.fps, time_s=t, qpos=qpos,
                      qvel=np.zeros((T, model.nv)), torque=np.zeros((T, model.nu)),
                      target=np.zeros((T, model.nu)), ref_dof_pos=motion.dof_pos,
                      ref_root_pos=motion.root_pos, ref_root_quat=motion.root_quat, ref_time_s=t)
    held = interaction_metrics(rollout, scene, fps=motion.fps)["objects"][1]
    assert max(held["hand_distance_m"]) < 0.002, held
    assert max(held["reference_hand_distance_m"]) < 0.002, held
    assert held["reached"] and not held["lifted"]
