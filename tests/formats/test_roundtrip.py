"""Every shared motion round-trips through every format, and FK reproduces the stored bodies."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from exoactor.formats import convert_motion, load_motion, resample_robot_motion, save_motion
from exoactor.formats.gmr_pkl import gmt29_to_23, read_pkl_dict
from exoactor.robots import get_robot
from exoactor.robots.kinematics import body_positions
from exoactor.rotations import rot

MOTIONS = sorted((Path(os.environ.get("EXOACTOR_ASSETS", "<unset>")) / "twist2" / "motions")
                 .glob("*.pkl"))
"""The 11 shared G1 motions (in ``EXOACTOR_ASSETS``, which conftest.py points at ../shared);
``test_shared_motions_are_there`` fails when they are missing, so the parametrized tests below
never pass by running nothing."""


def test_shared_motions_are_there() -> None:
    from exoactor.assets import resolve_asset

    shared = sorted(p.name for p in resolve_asset("g1_motions").glob("*.pkl"))
    assert len(MOTIONS) == 11 and [p.name for p in MOTIONS] == shared, (MOTIONS, shared)


def _rot_angle(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    return (rot(q1) * rot(q2).inv()).magnitude()


@pytest.mark.parametrize("path", MOTIONS, ids=lambda p: p.stem)
def test_pkl_npz_pkl_and_csv(path: Path, tmp_path: Path) -> None:
    original = load_motion(path)
    raw = read_pkl_dict(path)
    convert_motion(path, tmp_path / "m.npz")
    convert_motion(tmp_path / "m.npz", tmp_path / "m.pkl")
    back = read_pkl_dict(tmp_path / "m.pkl")
    assert np.abs(back["dof_pos"] - raw["dof_pos"]).max() < 1e-6
    assert np.abs(back["root_pos"] - raw["root_pos"]).max() < 1e-6
    assert back["fps"] == pytest.approx(float(raw["fps"]))
    # Stored quaternions are renormalised on load; the rotation itself is unchanged.
    assert _rot_angle(back["root_rot"][:, [3, 0, 1, 2]], original.root_quat).max() < 1e-6

    convert_motion(path, tmp_path / "m.csv")
    convert_motion(tmp_path / "m.csv", tmp_path / "c.npz", input_fps=original.fps)
    csv_motion = load_motion(tmp_path / "c.npz")
    assert np.abs(csv_motion.dof_pos - original.dof_pos).max() < 1e-6
    assert np.abs(csv_motion.root_pos - original.root_pos).max() < 1e-6
    assert _rot_angle(csv_motion.root_quat, original.root_quat).max() < 1e-6
    assert csv_motion.fps == pytest.approx(original.fps)


@pytest.mark.parametrize("path", MOTIONS, ids=lambda p: p.stem)
def test_fk_reproduces_local_body_pos(path: Path) -> None:
    robot = get_robot("g1")
    raw = read_pkl_dict(path)
    motion = load_motion(path)
    names = [n for n in raw["link_body_list"] if n in robot.body_names]
    assert len(names) >= 30  # every body both models share (hands, feet, elbows, knees, ...)
    idx = [raw["link_body_list"].index(n) for n in names]
    fk = body_positions(robot, motion, names)
    err_m = np.abs(fk.pos_b - raw["local_body_pos"][:, idx]).max()
    assert err_m < 1e-3


def test_written_pkl_has_fk_bodies(tmp_path: Path) -> None:
    motion = load_motion(MOTIONS[0]).slice(0, 20)
    save_motion(motion, tmp_path / "m.pkl")
    raw = read_pkl_dict(tmp_path / "m.pkl")
    robot = get_robot("g1")
    assert raw["link_body_list"] == robot.body_names
    assert raw["local_body_pos"].shape == (20, len(robot.body_names), 3)
    assert np.allclose(raw["local_body_pos"][:, 0], 0.0, atol=1e-6)  # the pelvis is the root


def test_gmt23_roundtrip_inserts_zero_wrists(tmp_path: Path) -> None:
    motion = load_motion(MOTIONS[-1]).slice(0, 30)
    save_motion(motion, tmp_path / "m.gmt.pkl")
    raw = read_pkl_dict(tmp_path / "m.gmt.pkl")
    assert raw["dof_pos"].shape == (30, 23)
    back = load_motion(tmp_path / "m.gmt.pkl")
    expected = motion.dof_pos.copy()
    expected[:, [19, 20, 21, 26, 27, 28]] = 0.0
    assert np.abs(back.dof_pos - expected).max() < 1e-9
    assert np.allclose(gmt29_to_23(back.dof_pos), raw["dof_pos"])


def test_resample_roundtrip_30_50_30() -> None:
    motion = load_motion(MOTIONS[0]).slice(5, 125)
    up = resample_robot_motion(motion, 50.0)
    assert up.fps == 50.0
    assert up.duration_s == pytest.approx(motion.duration_s, abs=1.0 / 50)
    down = resample_robot_motion(up, motion.fps)
    n = min(down.num_frames, motion.num_frames)
    # Linear interpolation twice smooths mocap detail: small on average, bounded at peaks.
    err = np.abs(down.dof_pos[:n] - motion.dof_pos[:n])
    assert err.mean() < 0.005 and err.max() < 0.08
    assert np.abs(down.root_pos[:n] - motion.root_pos[:n]).max() < 0.005
    assert _rot_angle(down.root_quat[:n], motion.root_quat[:n]).max() < 0.01
    assert np.allclose(np.linalg.norm(up.root_quat, axis=1), 1.0)


def test_resample_hits_original_samples_exactly() -> None:
    motion = load_motion(MOTIONS[1]).slice(0, 61)
    # Doubling the rate keeps every original sample at even indices.
    doubled = resample_robot_motion(motion, 2 * motion.fps)
    assert np.allclose(doubled.dof_pos[::2][: motion.num_frames], motion.dof_pos, atol=1e-9)
    assert np.allclose(doubled.root_pos[::2][: motion.num_frames], motion.root_pos, atol=1e-9)
    assert _rot_angle(doubled.root_quat[::2][: motion.num_frames], motion.root_quat).max() < 1e-7


def test_convert_cli_fps(tmp_path: Path) -> None:
    r = convert_motion(MOTIONS[0], tmp_path / "m.npz", fps=50.0)
    assert r.fps_out == 50.0
    m = load_motion(tmp_path / "m.npz")
    assert m.fps == 50.0 and m.num_frames == r.frames_out
