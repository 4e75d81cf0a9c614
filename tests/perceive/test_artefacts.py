"""Clip artefacts of generated video: repeated frames, a scene cut at the start, a low frame rate
and camera rotation, on real generated frames (``../shared/footage``, a few frames decoded in
place) and on rendered known-truth clips with the artefacts added."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from exoactor.perceive.artefacts.camera_motion import (
    chain_rotations,
    compensate_px,
    compensate_vectors,
    pair_rotation,
    rotation_angle_deg,
    track_corners,
)
from exoactor.perceive.artefacts.cuts import find_start_cut, structure_change, thumbnail
from exoactor.perceive.artefacts.duplicates import grey_change_p999, repeat_mask, retime_distinct
from exoactor.perceive.artefacts.resample import constant_grid_s, resample_observations
from exoactor.perceive.backend import PoseObservations
from exoactor.perceive.camera import intrinsics
from exoactor.perceive.config import ArtefactConfig

FOOTAGE = Path(__file__).resolve().parents[3] / "shared" / "footage"
RAISE = "gen_genmimic_raise_arms_and_grab_from_side.mp4"
BOOK = "gen_genmimic_turn_around_and_pick_a_book.mp4"
FOLD = "gen_genmimicbench_s1_A_office_fold_arms_wave.mp4"
WATER = "gen_zerohsi_kling_water_flowers.mp4"
CFG = ArtefactConfig()


def _grey(name: str, count: int, start: int = 0) -> tuple[list[np.ndarray], float]:
    """The first ``count`` frames (from ``start``) of a shared clip, grey, and its rate."""
    import cv2

    path = FOOTAGE / name
    if not path.is_file():
        pytest.fail(f"{path} missing: the shared task videos (../shared/footage beside the "
                    "checkout) are part of the test data")
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    out = []
    for _ in range(count):
        ok, bgr = cap.read()
        assert ok
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    cap.release()
    return out, fps


def _repeats(frames: list[np.ndarray]) -> np.ndarray:
    change = [np.nan] + [grey_change_p999(a, b) for a, b in zip(frames[:-1], frames[1:])]
    return repeat_mask(np.array(change), CFG.repeat_max_grey)


# ----------------------------------------------------------------------------- real frames
def test_repeats_found_on_generated_frames() -> None:
    fold, _ = _grey(FOLD, 8)  # ~15 fps stretched to 30: every other frame repeats
    assert _repeats(fold).tolist() == [False, True] * 4
    raise_, _ = _grey(RAISE, 4)  # the conditioning photo is shown twice, then motion
    assert _repeats(raise_).tolist() == [False, True, False, False]
    water, _ = _grey(WATER, 4)  # Kling: every frame distinct
    assert not _repeats(water).any()


@pytest.mark.parametrize(("name", "first_generated"), [(BOOK, 5), (RAISE, 2), (FOLD, 0),
                                                       (WATER, 0)])
def test_start_cut_found_on_generated_frames(name: str, first_generated: int) -> None:
    frames, fps = _grey(name, round(1.4 * 30) if fps_guess(name) > 20 else 14)
    rep = _repeats(frames)
    distinct = np.flatnonzero(~rep)
    thumbs = [thumbnail(frames[k]) for k in distinct]
    change = np.r_[0.0, [structure_change(a, b) for a, b in zip(thumbs[:-1], thumbs[1:])]]
    cut = find_start_cut(change, distinct / fps, search_s=CFG.cut_search_s,
                         reference_s=CFG.cut_reference_s, min_change=CFG.cut_min_change,
                         ratio=CFG.cut_ratio)
    assert int(distinct[cut.frame]) == first_generated
    assert cut.found == (first_generated > 0)


def fps_guess(name: str) -> float:
    return 10.0 if "kling" in name else 30.0


def _rotation(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("yx", [yaw_deg, pitch_deg], degrees=True).as_matrix()


def test_camera_rotation_recovered_from_a_real_background() -> None:
    import cv2

    (grey,), _ = _grey(RAISE, 1, start=20)
    h, w = grey.shape
    K = intrinsics(w, h, None)
    R_true = _rotation(0.8, -0.4)  # bearings of camera a to camera b
    H = K @ R_true @ np.linalg.inv(K)
    moved = cv2.warpPerspective(grey, H, (w, h), flags=cv2.INTER_LINEAR)
    scale = 320 / w
    small = [cv2.resize(g, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
             for g in (grey, moved)]
    m = track_corners(small[0], small[1], scale)
    person = np.array([380.0, 40.0, 700.0, 622.0])  # the man, in both frames
    r = pair_rotation(m, K, [person])
    assert r.reliable and r.points >= 12
    err = rotation_angle_deg(r.R_ab.T @ R_true)
    assert err < 0.05, err
    # a static pair is not mistaken for a turn
    s = pair_rotation(track_corners(small[0], small[0].copy(), scale), K, [person])
    assert rotation_angle_deg(s.R_ab) < 0.01


def test_compensation_brings_frames_into_the_first_camera() -> None:
    K = intrinsics(640, 480, 60.0)
    R_pairs = [_rotation(0.5, 0.1), _rotation(0.4, -0.2), _rotation(-0.3, 0.0)]
    R_0k = chain_rotations(R_pairs)
    assert R_0k.shape == (4, 3, 3)
    np.testing.assert_allclose(R_0k[2], R_pairs[1] @ R_pairs[0])
    rng = np.random.default_rng(1)
    p_c0 = rng.normal([0, 0, 5], [1, 1, 0.5], (6, 3))  # static points, camera 0 axes
    p_ck = np.einsum("nij,mj->nmi", R_0k, p_c0)  # the same points seen by turned cameras
    px = p_ck @ K.T
    px = px[..., :2] / px[..., 2:]
    back = compensate_px(px, R_0k, K)
    want = p_c0 @ K.T
    np.testing.assert_allclose(back, np.broadcast_to(want[:, :2] / want[:, 2:], back.shape),
                               atol=1e-9)
    np.testing.assert_allclose(compensate_vectors(p_ck, R_0k),
                               np.broadcast_to(p_c0, p_ck.shape), atol=1e-12)


# ----------------------------------------------------------------------------- pure pieces
def test_retiming_recovers_a_generators_own_rate() -> None:
    out_fps, native = 30.0, 18.0
    t_out = np.arange(120) / out_fps
    shown = np.floor(t_out * native + 1e-9)  # the native sample each output frame shows
    first = t_out[np.r_[True, np.diff(shown) > 0]]
    r = retime_distinct(first, 1.0 / out_fps)
    assert r.uniform and r.rate_hz == pytest.approx(native, rel=0.01)
    assert np.ptp(np.diff(r.times_s)) < 1e-9
    jumbled = np.cumsum(np.r_[0.0, np.tile([1, 1, 5, 1, 1, 5], 5)]) / out_fps
    assert not retime_distinct(jumbled, 1.0 / out_fps).uniform


def _obs(times_s: np.ndarray, kp_px: np.ndarray, detected: np.ndarray) -> PoseObservations:
    S = len(times_s)
    rel = np.repeat(kp_px[..., :1], 3, axis=-1) / 1000.0
    return PoseObservations(times_s=times_s, image_size_px=(640, 480), detected=detected,
                            kp_px=kp_px, kp_vis=np.where(detected[:, None], 0.9, 0.0)
                            * np.ones((S, 33)), kp_rel_c=rel)


def test_low_rate_observations_are_resampled_in_motion_space() -> None:
    t = np.arange(11) / 10.0
    kp = np.zeros((11, 33, 2))
    kp[..., 0] = 100.0 + 50.0 * t[:, None]  # moving right at 50 px/s
    kp[..., 1] = 200.0
    det = np.ones(11, dtype=bool)
    det[5] = False
    kp[5] = np.nan
    grid = constant_grid_s(t, 30.0)
    assert len(grid) == 31
    out = resample_observations(_obs(t, kp, det), grid)
    seen = out.detected
    assert out.num_frames == 31 and not seen[13:18].any() and seen[:12].all() and seen[18:].all()
    want = np.broadcast_to(100.0 + 50.0 * grid[seen, None], (int(seen.sum()), 33))
    np.testing.assert_allclose(out.kp_px[seen, :, 0], want, atol=1e-9)
    assert np.isnan(out.kp_px[~seen]).all() and (out.kp_vis[~seen] == 0).all()


def test_selected_frames_are_read_renumbered(clips: dict[str, Path]) -> None:
    from exoactor.perceive.video import iter_frames, open_video, select_frames

    video = open_video(clips["short"])
    all_frames = list(iter_frames(video))
    view = select_frames(video, [2, 3, 7], [0.0, 0.04, 0.2])
    got = list(iter_frames(view))
    assert [f.index for f in got] == [0, 1, 2] and [f.time_s for f in got] == [0.0, 0.04, 0.2]
    for f, src in zip(got, (2, 3, 7)):
        np.testing.assert_array_equal(f.rgb, all_frames[src].rgb)
    with pytest.raises(ValueError, match="increasing"):
        select_frames(video, [3, 2], [0.0, 0.1])


def test_a_turning_camera_is_measured_compensated_or_refused(tmp_path: Path) -> None:
    """A clip of a real frame turned 0.25 deg per frame: scanned (no cut, no repeat, only its
    start decoded twice), its corners tracked as the frames are read, the rotation compensated;
    with a limit below it the stage refuses the clip with a clear message."""
    import cv2

    from exoactor.perceive.artefacts import (
        CornerTracker,
        plan_frames,
        prepare_observations,
        scan_clip,
    )
    from exoactor.perceive.errors import CameraMoves
    from exoactor.perceive.video import iter_frames, open_video

    from .conftest import write_clip

    (grey,), _ = _grey(RAISE, 1, start=20)
    h, w = grey.shape
    K = intrinsics(w, h, None)
    rgb = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    frames = [cv2.warpPerspective(rgb, K @ _rotation(0.25 * k, 0.0) @ np.linalg.inv(K), (w, h))
              for k in range(8)]
    video = open_video(write_clip(tmp_path / "turn.mp4", frames))
    scan = scan_clip(video, CFG, probe_s=0.1)
    assert not scan.complete and len(scan.times_s) == 4  # no repeat in the first 0.1 s
    plan = plan_frames(scan, CFG, video.nominal_fps)
    assert not plan.changed and plan.keep is None
    tracker = CornerTracker(w, CFG.camera_thumb_width_px, step_s=0.06)  # every other frame
    for frame in iter_frames(video):
        tracker(frame)
    kp = np.zeros((8, 33, 2))
    kp[:, :, 0] = np.linspace(540, 560, 33)  # the man's column (the warp moves him < 20 px)
    kp[:, :, 1] = np.linspace(60, 600, 33)
    obs = _obs(np.arange(8) / 30.0, kp, np.ones(8, dtype=bool))
    assert tracker.keys == [0, 2, 4, 6]
    prep = prepare_observations(obs, tracker, plan, K, CFG, video.nominal_fps, "turn.mp4")
    info = prep.metrics["camera_rotation"]  # key frame 6 is the last measured: 1.5 deg
    assert info["compensated"] and info["max_rotation_deg"] == pytest.approx(1.5, abs=0.1)
    assert rotation_angle_deg(prep.R_0k[3].T @ _rotation(0.75, 0.0)) < 0.05  # interpolated
    with pytest.raises(CameraMoves, match="turn.mp4: the camera turns by up to 1.5"):
        prepare_observations(obs, tracker, plan, K, CFG.model_copy(
            update={"camera_max_rotation_deg": 1.0}), video.nominal_fps, "turn.mp4")


def test_resampling_past_the_last_sample_holds_it() -> None:
    """Grid times after the last observation take it unchanged (never extrapolated), with its
    detection; inside the span nothing changes."""
    t = np.arange(5) / 10.0
    kp = np.zeros((5, 33, 2))
    kp[..., 0] = 100.0 + 50.0 * t[:, None]
    kp[..., 1] = 200.0
    grid = constant_grid_s(np.append(t, 0.7), 30.0)
    assert len(grid) == 22 and grid[-1] == pytest.approx(0.7)
    out = resample_observations(_obs(t, kp, np.ones(5, dtype=bool)), grid)
    past = grid > t[-1] + 1e-9
    assert past.sum() == 9 and out.detected.all()
    np.testing.assert_allclose(out.kp_px[past], np.broadcast_to(kp[-1], (9, 33, 2)))
    np.testing.assert_allclose(out.kp_px[~past, :, 0],
                               np.broadcast_to(100.0 + 50.0 * grid[~past, None], (13, 33)))
    last_unseen = resample_observations(_obs(t, kp, np.r_[np.ones(4, bool), False]), grid)
    assert not last_unseen.detected[grid > t[-2] + 1e-9].any()


def test_a_clip_ending_on_repeats_keeps_its_length(tmp_path: Path) -> None:
    """A person who stops moving makes identical frames: a clip whose last 0.3 s repeat its
    last distinct frame is scanned, the repeats dropped, and the observations resampled over
    the whole clip with that frame's pose held to the end (it used to end at the last
    distinct frame, 0.3 s short: the rendered lift clip lost its last 9 of 96 frames)."""
    import cv2

    from exoactor.perceive.artefacts import plan_frames, prepare_observations, scan_clip
    from exoactor.perceive.video import open_video

    from .conftest import write_clip

    (grey,), _ = _grey(RAISE, 1, start=20)
    rgb = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    moving = []
    for k in range(12):  # a bright block that moves 8 px per frame: every frame distinct
        f = rgb.copy()
        f[100:160, 100 + 8 * k:160 + 8 * k] = 255
        moving.append(f)
    frames = moving + [moving[-1]] * 9
    video = open_video(write_clip(tmp_path / "still_end.mp4", frames))
    scan = scan_clip(video, CFG)
    plan = plan_frames(scan, CFG, video.nominal_fps)
    assert scan.complete and plan.repeats_dropped == 9 and plan.keep.tolist() == list(range(12))
    assert plan.end_s == pytest.approx(20 / 30.0, abs=1e-3)
    kp = np.zeros((12, 33, 2))
    kp[..., 0] = 100.0 + 8.0 * np.arange(12)[:, None]
    kp[..., 1] = 300.0
    obs = _obs(plan.times_s, kp, np.ones(12, dtype=bool))
    K = intrinsics(rgb.shape[1], rgb.shape[0], None)
    prep = prepare_observations(obs, None, plan, K, CFG, video.nominal_fps, "still_end.mp4")
    assert prep.obs.num_frames == 21 and prep.view.fps == 30.0
    assert prep.metrics["repeats"]["held_end_s"] == pytest.approx(0.3, abs=1e-3)
    np.testing.assert_allclose(prep.obs.kp_px[11:], np.broadcast_to(kp[-1], (10, 33, 2)))
    assert prep.view.frame_index[11:].tolist() == [11] * 10
    moving_only = plan_frames(scan_clip(open_video(write_clip(tmp_path / "moving.mp4",
                                                              moving)), CFG),
                              CFG, video.nominal_fps)
    assert moving_only.keep is None and moving_only.end_s is None  # nothing to hold


def test_trimmed_start_is_read_renumbered(clips: dict[str, Path]) -> None:
    from exoactor.perceive.video import iter_frames, open_video, trim_start

    video = open_video(clips["short"])
    all_frames = list(iter_frames(video))
    got = list(iter_frames(trim_start(video, 5)))
    assert len(got) == len(all_frames) - 5 and got[0].index == 0 and got[0].time_s == 0.0
    assert got[3].time_s == pytest.approx(all_frames[8].time_s - all_frames[5].time_s)
    np.testing.assert_array_equal(got[3].rgb, all_frames[8].rgb)


# ----------------------------------------------------------------------------- rendered truth
RENDER_FRAMES = 45


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    """A 1.5 s rendered walk (known joints) at 30 fps."""
    if not os.environ.get("CI"):
        pytest.importorskip("anny")
    from exoactor.perceive.truth import TruthClipConfig, make_truth_clip

    out = tmp_path_factory.mktemp("truth") / "walk.mp4"
    return make_truth_clip(out, TruthClipConfig(frames=RENDER_FRAMES))


def _perceive(path: Path, fov_deg: float):  # noqa: ANN202
    from exoactor.perceive import PerceiveConfig, perceive_video

    return perceive_video(path, path.with_suffix(".npz"),
                          PerceiveConfig(hands=False, overlay=False, fov_deg=fov_deg))


def _mpjpe_mm(pred_w: np.ndarray, truth_w: np.ndarray) -> float:
    from exoactor.perceive.metrics import mpjpe_mm

    return mpjpe_mm(pred_w, truth_w)


def test_rendered_cut_and_repeats_are_trimmed_and_retimed(rendered, tmp_path: Path) -> None:
    from exoactor.perceive.truth.artefacts import ClipArtefacts, add_clip_artefacts

    clip = add_clip_artefacts(rendered.video_path, tmp_path / "cut_repeats.mp4", rendered.fps,
                              ClipArtefacts(cut_frames=4, native_fps=15.0))
    assert clip.repeats >= 20
    res = _perceive(clip.video_path, rendered.fov_deg)
    a = res.metrics.artefacts
    assert a["cut"]["found"] and a["cut"]["first_frame"] == 4
    assert a["repeats"]["dropped"] == clip.repeats and a["scan"]["complete"]
    assert a["repeats"]["uniform_retiming"]
    assert a["repeats"]["distinct_rate_hz"] == pytest.approx(15.0, rel=0.02)
    assert not a["camera_rotation"]["compensated"]
    m = res.motion
    assert m.fps == 30.0
    # motion frame i is rendered time i / 30 (the retimed samples start at the cut)
    n = min(m.num_frames, RENDER_FRAMES)
    assert abs(m.num_frames - (RENDER_FRAMES - 1)) <= 2
    assert _mpjpe_mm(m.joints[:n], rendered.joints_w[:n]) < 100.0


def test_rendered_10fps_clip_is_upsampled(rendered, tmp_path: Path) -> None:
    from exoactor.perceive.truth.artefacts import ClipArtefacts, add_clip_artefacts

    clip = add_clip_artefacts(rendered.video_path, tmp_path / "ten.mp4", rendered.fps,
                              ClipArtefacts(out_fps=10.0))
    assert clip.repeats == 0 and len(clip.source) == 15
    res = _perceive(clip.video_path, rendered.fov_deg)
    a = res.metrics.artefacts
    assert a["resampled"]["from_hz"] == pytest.approx(10.0) and a["resampled"]["to_hz"] == 30.0
    assert not a["cut"]["found"] and a["repeats"]["dropped"] == 0 and a["scan"]["complete"]
    m = res.motion
    assert m.fps == 30.0 and m.num_frames == 3 * (len(clip.source) - 1) + 1
    n = m.num_frames
    assert _mpjpe_mm(m.joints, rendered.joints_w[:n]) < 100.0


def test_artefacts_are_rows_of_the_report() -> None:
    from exoactor.report.html import _metrics_table

    table = _metrics_table("perceive", {"artefacts": {"cut": {"found": True, "first_frame": 5},
                                                      "repeats": {"dropped": 3}}})
    assert "artefacts.cut.first_frame</code></td><td>5" in table
    assert "artefacts.repeats.dropped</code></td><td>3" in table
