"""Known truth for seats: a rendered Anny body sits down on a drawn box of known height; the
chain the runner runs (perceive -> retarget -> ``objects`` stage rules) must put one seat
there (issue 16: "seat height within 3 cm").

Person -> robot scale: the retargeter scales the hip-centre trajectory (hence the pelvis and
seat heights) by the leg ratio, robot (thigh + shin) / person (thigh + shin)
(:mod:`exoactor.retarget.scaling`). The truth mapped to the robot is therefore the body's seat
contact height times robot leg / *true* leg (the true leg from the rendered joints, so a
perceived size error is part of what is measured). The seat rule
(:func:`exoactor.scene.infer.seat_from_phase`) measures the lowest reference pelvis/thigh point
over the seat and puts the top ``seat_above_lowest_m`` above it (the robot sinks into a seat
in the physics); the measured seat contact is that top minus ``seat_above_lowest_m``, compared
with the mapped truth.

Needs ``anny`` and its model-data cache (see ``test_known_truth.py``) and the G1 assets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.skeleton import BODY_33

SIT_FRAMES = 90
"""3 s at 30 Hz: stand 0.4 s, sit down over 1.2 s, seated 1.4 s."""
MAX_SEAT_ERROR_M = 0.03
"""Issue 16's bound on the seat height, robot scale."""


def _leg_m(joints: np.ndarray) -> float:
    """Median hip-knee + knee-ankle length of ``(T, 33, 3)`` points, mean of both sides [m]."""
    i = BODY_33.index
    legs = [np.linalg.norm(joints[:, i(f"{s}_{a}")] - joints[:, i(f"{s}_{b}")], axis=-1)
            for s in ("left", "right") for a, b in (("hip", "knee"), ("knee", "ankle"))]
    return float(np.nanmedian(sum(legs)) / 2)


def _seat_from_human(human):
    """(seat contact height [m], mapped scale robot leg / person leg used by the retargeter,
    robot leg [m], the scene) through the runner's chain."""
    from exoactor.retarget import retarget
    from exoactor.retarget.config import RetargetConfig
    from exoactor.scene.infer import InferConfig, infer_scene

    cfg = InferConfig()
    r = retarget(human, RetargetConfig())
    scene = infer_scene(r.motion, cfg)
    seats = [o for o in scene.objects if o.kind == "seat"]
    sc = r.targets.scales
    robot_leg = (sc.robot_length_m["thigh"] + sc.robot_length_m["shin"]) / 2
    contact = [s.size[2] - cfg.seat_above_lowest_m for s in seats]
    return contact, robot_leg, scene


def _truth_human(clip):
    """The rendered body's true joints as a :class:`HumanMotion` (what a perfect perceive
    stage would give; :func:`exoactor.perceive.truth.robot_scale.true_human_motion`)."""
    from exoactor.perceive.truth.robot_scale import true_human_motion

    return true_human_motion(clip)


@pytest.fixture(scope="module")
def sit_clip(tmp_path_factory: pytest.TempPathFactory):
    import os

    if not os.environ.get("CI"):
        pytest.importorskip("anny")
    from exoactor.perceive.truth import make_truth_clip, sit_down_config

    return make_truth_clip(tmp_path_factory.mktemp("truth") / "sit.mp4",
                           sit_down_config(frames=SIT_FRAMES))


def test_box_mesh_faces_point_outward() -> None:
    from exoactor.perceive.truth.clip import box_mesh

    v, f = box_mesh(np.array([[0.0, 0.0, 0.0], [0.4, 0.5, 0.45]]), cells=2)
    tri = v[f]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    out = tri.mean(1) - np.array([0.2, 0.25, 0.225])
    assert ((n * out).sum(-1) > 0).all()
    assert not np.any(np.isclose(tri[..., 2], 0.0).all(1))  # no bottom


def test_sit_down_flexes_hips_and_knees_then_holds() -> None:
    from exoactor.perceive.truth.sit import SitDownConfig, sit_down_rotations, sit_progress

    cfg = SitDownConfig()
    s = sit_progress(cfg, 90, 30.0)
    assert s[0] == 0.0 and s[-1] == 1.0 and np.all(np.diff(s) >= 0)
    knee = sit_down_rotations(cfg, 90, 30.0)["lowerleg01.L"]
    flex = np.degrees(np.arccos(np.clip(knee[:, 1, 1], -1, 1)))
    assert flex[0] < 1.0 and abs(flex[-1] - cfg.knee_deg) < 1e-6


@pytest.mark.slow
def test_sit_truth_records_the_seat_under_the_seated_body(sit_clip) -> None:
    from exoactor.perceive.truth import load_truth

    back = load_truth(sit_clip.truth_path)
    assert back.seat_top_m == pytest.approx(sit_clip.seat_top_m)
    hips = back.joints_w[-1, [BODY_33.index("left_hip"), BODY_33.index("right_hip")]].mean(0)
    assert 0.3 < back.seat_top_m < hips[2] - 0.03  # under the hip joints, a chair's height
    lo, hi = back.seat_box_w
    assert lo[0] < hips[0] < hi[0] and hi[2] == pytest.approx(back.seat_top_m)


@pytest.mark.slow
def test_true_joints_give_a_seat_at_the_mapped_truth_height(sit_clip) -> None:
    """The chain after perception, on the true joints: the retargeter's scaling and the seat
    rule's geometry put the seat where the mapped truth says (isolates perception)."""
    contact, robot_leg, scene = _seat_from_human(_truth_human(sit_clip))
    truth_m = sit_clip.seat_top_m * robot_leg / _leg_m(sit_clip.joints_w)
    assert len(contact) == 1, scene
    assert abs(contact[0] - truth_m) <= MAX_SEAT_ERROR_M, (contact, truth_m)


@pytest.mark.slow
def test_true_joints_keep_the_seat_through_the_objects_stage_physics(sit_clip) -> None:
    """The objects stage's physics after the rules (the placement search and the seat-pose
    search, tracker rollouts) keeps the seat of this clip, which ends seated, at the mapped
    truth height: the rollouts are judged on the clip (a search that simulated the track
    stage's return to standing after it asked a seated robot to stand up into its seat)."""
    from exoactor.retarget import retarget
    from exoactor.retarget.config import RetargetConfig
    from exoactor.scene.contact_ref import choose_seated
    from exoactor.scene.infer import InferConfig, infer_scene
    from exoactor.scene.place import place_seats_ranked

    cfg = InferConfig()
    r = retarget(_truth_human(sit_clip), RetargetConfig())
    placed = place_seats_ranked(r.motion, infer_scene(r.motion, cfg), cfg.place,
                                keep=cfg.contact.placements)
    scene, _, note = choose_seated(r.motion, placed, cfg.contact)
    seats = scene.of_kind("seat")
    assert len(seats) == 1 and not scene.rejected, (scene, note)
    sc = r.targets.scales
    robot_leg = (sc.robot_length_m["thigh"] + sc.robot_length_m["shin"]) / 2
    truth_m = sit_clip.seat_top_m * robot_leg / _leg_m(sit_clip.joints_w)
    contact = seats[0].size[2] - cfg.seat_above_lowest_m
    assert abs(contact - truth_m) <= MAX_SEAT_ERROR_M, (contact, truth_m, seats[0].note)


SIDE_AZIMUTH_DEG = 80.0
"""A near-side view: the thighs are seen across the image."""
# Measured (2 CPUs, mediapipe 0.10.14, true field of view, camera 15 deg down): true joints ->
# seat contact 0.288 m against the mapped truth 0.295 m (-0.7 cm). Perceived, by the camera's
# azimuth from the facing direction: 80 deg -> 0.286 m (-0.9 cm, hip height / leg 0.572, true
# 0.553); 35 deg (three-quarter) -> 0.367 m (+7.1 cm); 0 deg (frontal) -> 0.350 m (+5.5 cm).
# Seen from the front the perceived seated body is half standing: at 35 deg knee flexion 73 deg
# (true 98), hip flexion 78 (true 104), hip height / leg 0.67. Cause (i16m, each input of
# reconstruct() swapped for the rendered truth, benchmarks/scene_truth.py's chain, seat error
# front / 30 / 35 deg): MediaPipe as is +5.5 / +5.0 / +7.1 cm; only the knees' hip-relative 3D
# (its world landmarks) true +1.4 / +1.4 / +1.7; all 3D true +1.4 / +1.9 / +2.5; all 2D true
# +3.2 / +2.2 / +3.2; both -1.1 / -0.9 / -0.9. The thigh pointing at the camera is lifted as
# pointing down (camera-frame direction hip -> knee, y down: 0.43 for a true 0.15); the skeleton
# fit takes it to 0.30 (the seated hip and knee 2D landmarks are 4-9 px off too), and a weaker
# direction prior there (0.06 -> 0.3 m) leaves the seat at +7.0. Not the seat rule (true joints
# -0.6 cm) nor the camera / ground (up 0.5 deg off). Kept strict so that a fix shows up as an
# unexpected pass.


@pytest.fixture(scope="module")
def side_sit_clip(tmp_path_factory: pytest.TempPathFactory):
    import os

    if not os.environ.get("CI"):
        pytest.importorskip("anny")
    from exoactor.perceive.truth import make_truth_clip, sit_down_config

    return make_truth_clip(tmp_path_factory.mktemp("truth") / "sit_side.mp4",
                           sit_down_config(frames=SIT_FRAMES, azimuth_deg=SIDE_AZIMUTH_DEG))


def _perceived_seat_error_m(clip, out: Path) -> float:
    from exoactor.perceive import PerceiveConfig, perceive_video

    cfg = PerceiveConfig(hands=False, overlay=False, fov_deg=clip.fov_deg)
    r = perceive_video(clip.video_path, out, cfg)
    # the rendered clip ends seated and still (identical frames, dropped as repeats): the
    # motion keeps the clip's length, so it can be scored frame by frame (was 84 of 90)
    assert r.motion.num_frames == len(clip.joints_w), r.metrics.artefacts["repeats"]
    assert r.metrics.artefacts["repeats"]["held_end_s"] > 0.0
    # a seated body's centre of mass behind its feet is what the seat carries: the leg-depth
    # choice keeps the model's legs (balancing it over the feet, as a first version did, put
    # the knees behind the hips: PA-MPJPE 43.8 -> 94.1 mm on the three-quarter sit)
    assert r.metrics.leg_depth["frames_flipped"] == 0, r.metrics.leg_depth
    contact, robot_leg, scene = _seat_from_human(r.motion)
    truth_m = clip.seat_top_m * robot_leg / _leg_m(clip.joints_w)
    assert len(contact) == 1, scene
    return contact[0] - truth_m


@pytest.mark.slow
def test_perceived_side_view_sit_down_gives_a_seat_at_the_mapped_truth_height(
        side_sit_clip, tmp_path: Path) -> None:
    err = _perceived_seat_error_m(side_sit_clip, tmp_path / "human.npz")
    assert abs(err) <= MAX_SEAT_ERROR_M, err


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="three-quarter view: the perceived seated pose is half "
                   "standing (MediaPipe's 3D knee depth), seat +6.1 cm (+7.1 before the "
                   "planted feet were made flat; issue 16: rendered-truth seat within 3 cm, "
                   "not met)")
def test_perceived_three_quarter_sit_down_gives_a_seat_at_the_mapped_truth_height(
        sit_clip, tmp_path: Path) -> None:
    err = _perceived_seat_error_m(sit_clip, tmp_path / "human.npz")
    assert abs(err) <= MAX_SEAT_ERROR_M, err
