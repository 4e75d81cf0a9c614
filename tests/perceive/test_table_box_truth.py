"""Known truth for tables and carried boxes: a rendered Anny body leans on a drawn table of known
height (wiping it), or squats, takes a drawn box of known width between its palms and stands up
with it; the chain the runner runs (perceive -> retarget -> ``objects`` stage rules) must infer
the table's top within 3 cm and the box's width within 5 cm (issue 16).

Truth at the robot's scale (:mod:`exoactor.perceive.truth.robot_scale`): the true joints rebuilt
with the robot's segment lengths, as the retargeter rebuilds perceived ones; the table's top is
the robot-scale wrists' height minus the person's wrist height above the top, the box's width
the palms' gap scaled like the wrists' distance. The box's depth and height are not in the
motion (the rule gives them nominal values) and are not compared.

Needs ``anny`` and its model-data cache (see ``test_known_truth.py``) and the G1 assets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.skeleton import BODY_33

MAX_TABLE_ERROR_M = 0.03
"""Issue 16's bound on the table height, robot scale."""
MAX_BOX_ERROR_M = 0.05
"""Issue 16's bound on the box size, robot scale."""


def _chain(human):
    """(scene, robot segment lengths [m]) through the runner's chain after perceive."""
    from exoactor.retarget import retarget
    from exoactor.retarget.config import RetargetConfig
    from exoactor.scene.infer import InferConfig, infer_scene

    r = retarget(human, RetargetConfig())
    return infer_scene(r.motion, InferConfig()), r.targets.scales.robot_length_m


def _perceived(clip, out: Path):
    from exoactor.perceive import PerceiveConfig, perceive_video

    cfg = PerceiveConfig(hands=False, overlay=False, fov_deg=clip.fov_deg)
    return perceive_video(clip.video_path, out, cfg).motion


def _table_error_m(clip, human) -> float:
    from exoactor.perceive.truth.robot_scale import table_top_at_robot_scale

    scene, robot_len = _chain(human)
    tables = scene.of_kind("table")
    assert len(tables) == 1, scene
    rest = slice(int(0.6 * len(clip.joints_w)), None)          # the hands resting, wiping
    return tables[0].top_z - table_top_at_robot_scale(clip, robot_len, rest)


def _grasp_frame(clip) -> int:
    """The last frame the drawn box stands on the floor."""
    return int(np.flatnonzero(clip.box_corners_w[:, 0, 2] <= 1e-9)[-1])


def _box_error_m(clip, human) -> float:
    from exoactor.perceive.truth.robot_scale import box_width_at_robot_scale

    scene, robot_len = _chain(human)
    boxes = scene.of_kind("box")
    assert len(boxes) == 1, scene
    return boxes[0].size[1] - box_width_at_robot_scale(clip, robot_len, _grasp_frame(clip)), scene


def _clip(tmp_path_factory, name: str, config):
    import os

    if not os.environ.get("CI"):
        pytest.importorskip("anny")
    from exoactor.perceive.truth import make_truth_clip

    return make_truth_clip(tmp_path_factory.mktemp("truth") / f"{name}.mp4", config)


@pytest.fixture(scope="module")
def lean_clip(tmp_path_factory: pytest.TempPathFactory):
    from exoactor.perceive.truth import lean_config

    return _clip(tmp_path_factory, "lean", lean_config())


@pytest.fixture(scope="module")
def lift_clip(tmp_path_factory: pytest.TempPathFactory):
    from exoactor.perceive.truth import lift_config

    return _clip(tmp_path_factory, "lift", lift_config(azimuth_deg=LIFT_AZIMUTH_DEG))


def test_lean_reaches_then_wipes_at_a_fixed_height() -> None:
    """The arms' wipe turns them about the world vertical through the shoulders, so the wrists
    keep their height (checked on the rotations: the trunk is hinged, the axis is not the
    shoulder's local z)."""
    from scipy.spatial.transform import Rotation

    from exoactor.perceive.truth.lean import LeanConfig, lean_progress, lean_rotations

    cfg = LeanConfig()
    s = lean_progress(cfg, 90, 30.0)
    assert s[0] == 0.0 and s[-1] == 1.0 and np.all(np.diff(s) >= 0)
    axes = {"L": np.array([0.2, 0.0, -1.0]), "R": np.array([-0.2, 0.0, -1.0])}
    rot = lean_rotations(cfg, 90, 30.0, {k: v / np.linalg.norm(v) for k, v in axes.items()})
    trunk = Rotation.from_matrix(rot["root"]) * Rotation.from_matrix(rot["spine03"])
    arm = trunk * Rotation.from_matrix(rot["upperarm01.L"])
    down = arm.apply(np.array([0.0, 0.0, -1.0]))              # the arm's rest direction
    rest = s >= 1.0
    assert np.ptp(down[rest, 2]) < 1e-9                        # height kept while wiping
    assert np.ptp(down[rest, 0]) > 0.1                         # ... and the hands move sideways


def test_lift_keeps_the_hands_apart_and_raises_them() -> None:
    from exoactor.perceive.truth.lift import LiftConfig, grasp_frame, lift_phases

    cfg = LiftConfig()
    depth, up = lift_phases(cfg, 96, 30.0)
    g = grasp_frame(cfg, 30.0)
    assert depth[g] == pytest.approx(1.0) and up[g] == 0.0 and up[-1] == 1.0
    assert depth[-1] == pytest.approx(0.0)


@pytest.mark.slow
def test_truth_files_record_the_table_and_the_box(lean_clip, lift_clip) -> None:
    from exoactor.perceive.truth import load_truth
    from exoactor.skeleton import BODY_33

    lean = load_truth(lean_clip.truth_path)
    assert lean.table_top_m == pytest.approx(lean_clip.table_top_m)
    wrists = lean.joints_w[-1, [BODY_33.index("left_wrist"), BODY_33.index("right_wrist")]]
    lo, hi = lean.table_box_w
    assert 0.6 < lean.table_top_m < wrists[:, 2].min()         # a table's height, under the hands
    assert (lo[:2] < wrists[:, :2]).all() and (wrists[:, :2] < hi[:2]).all()
    lift = load_truth(lift_clip.truth_path)
    depth, width, height = lift.box_size_m
    assert 0.2 < width < 0.5 and lift.box_corners_w.shape == (len(lift.joints_w), 2, 3)
    g = _grasp_frame(lift)
    assert lift.box_corners_w[g, 0, 2] == 0.0 and lift.box_corners_w[-1, 0, 2] > 0.5  # lifted
    assert np.allclose(lift.box_corners_w[:, 1] - lift.box_corners_w[:, 0], lift.box_size_m)


@pytest.mark.slow
def test_true_joints_give_the_table_top_and_the_box_width(lean_clip, lift_clip) -> None:
    """The chain after perception on the true joints (isolates perception). Measured: table
    -2.0 cm, box width +0.4 cm (+1.4 cm with the old width, hand origins less a nominal palm)."""
    from exoactor.perceive.truth.robot_scale import true_human_motion

    table = _table_error_m(lean_clip, true_human_motion(lean_clip))
    box, scene = _box_error_m(lift_clip, true_human_motion(lift_clip))
    assert abs(table) <= MAX_TABLE_ERROR_M, table
    assert abs(box) <= MAX_BOX_ERROR_M, box
    # taken off the floor: no support slab under it
    assert [o.kind for o in scene.objects] == ["box"], scene
    assert scene.of_kind("box")[0].pose.pos[2] == pytest.approx(
        scene.of_kind("box")[0].size[2] / 2, abs=2e-3)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="the lean's planted right leg is perceived bent (knee "
                   "159 deg) and 2 cm short: with its foot flat (WorldConfig.flat_planted_feet) "
                   "the body stands 5.7 cm low and the table comes out -3.5 cm (was -0.8 cm, "
                   "held up by a heel-up foot; the world wrist +5.5 -> +0.1 cm); issue 16")
def test_perceived_lean_gives_the_table_top(lean_clip, tmp_path: Path) -> None:
    """Seen 60 deg off the facing direction (the default lean view). Measured -0.8 cm before
    the planted feet were made flat, -3.5 cm with them (a taller, heavier phenotype, not in
    this test: -2.0 cm before)."""
    err = _table_error_m(lean_clip, _perceived(lean_clip, tmp_path / "human.npz"))
    assert abs(err) <= MAX_TABLE_ERROR_M, err


LIFT_AZIMUTH_DEG = 0.0
"""The lift seen from the front: both hands on the box's sides in view. Measured: perceived
wrists 0.457 m apart at the grasp (person scale; true joint centres 0.438 m), robot hand origins
0.386 m apart (true joints: 0.347 m); width +3.7 cm (the gap between the robot hands' collision
surfaces; +5.4 cm with the old width, hand origins less a nominal 2.5 cm palm per hand). With
``hands=True`` (the runner's default) +4.8 cm: the perceived hand keypoints' palm frames face
away from the box, so the retargeted hands turn their backs to it. From 60 deg the far hand is
behind the box and the box is rejected (hands merge)."""


@pytest.fixture(scope="module")
def perceived_lift(lift_clip, tmp_path_factory: pytest.TempPathFactory):
    return _perceived(lift_clip, tmp_path_factory.mktemp("lift") / "human.npz")


@pytest.mark.slow
def test_perceived_lift_gives_the_box_width(lift_clip, perceived_lift) -> None:
    err, _ = _box_error_m(lift_clip, perceived_lift)
    assert abs(err) <= MAX_BOX_ERROR_M, err


MAX_SQUAT_KNEE_ERROR_M = 0.15
"""The frontal lift's knees, hip-centred, mean over the clip. Measured: 0.104 m with the
leg-depth choice (:mod:`exoactor.perceive.leg_depth`); 0.282 m without it, where MediaPipe's
3D sends the squatting person's knees 0.16-0.29 m behind the hips (truth: 0.38 m in front)."""


@pytest.mark.slow
def test_perceived_frontal_squat_has_its_knees_in_front(lift_clip, perceived_lift) -> None:
    from exoactor.perceive.truth import score_motion

    s = score_motion(perceived_lift.joints, lift_clip.joints_w)
    knees = 0.5e-3 * (s.per_joint_mpjpe_mm["left_knee"] + s.per_joint_mpjpe_mm["right_knee"])
    assert knees <= MAX_SQUAT_KNEE_ERROR_M, s.per_joint_mpjpe_mm


MAX_HIP_HEIGHT_ERROR_M = 0.02
"""The frontal lift's hip centre above the floor, median over the clip, against the truth.
Measured +0.3 cm with the planted feet flat (``WorldConfig.flat_planted_feet``); +5.3 cm
without, where the standing person's feet came out 21 deg heel-up (median), their toes
below a flat foot's sole, and the floor read from the toes held the whole body up."""


@pytest.mark.slow
def test_perceived_frontal_lift_stands_at_its_true_height(lift_clip, perceived_lift) -> None:
    hips = [BODY_33.index("left_hip"), BODY_33.index("right_hip")]
    err = np.median(perceived_lift.joints[:, hips, 2].mean(1) - lift_clip.joints_w[:, hips, 2]
                    .mean(1))
    assert abs(err) <= MAX_HIP_HEIGHT_ERROR_M, err
