"""Files as the field writes them: drifting quaternions (GMT), Kimodo CSVs, SONIC folders."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np
import pytest

from exoactor.errors import InvalidMotionFile
from exoactor.formats import load_motion, resample_robot_motion, save_motion
from exoactor.formats.gmr_pkl import read_pkl_dict
from exoactor.formats.robot_csv import implausible_root
from exoactor.formats.sonic import (
    ISAACLAB_G1_BODIES,
    ISAACLAB_G1_JOINTS,
    SONIC_BODY_INDEXES,
    body_indexes,
    load_sonic,
)
from exoactor.robots import get_robot

KIMODO = ("dance", "high5", "jumpjack", "walk", "wave")

# GR00T-WholeBodyControl's own permutation (gear_sonic/envs/manager_env/robots/g1.py,
# G1_ISAACLAB_TO_MUJOCO_DOF): MuJoCo joint k is IsaacLab joint ISAACLAB_TO_MUJOCO[k].
ISAACLAB_TO_MUJOCO = [0, 3, 6, 9, 13, 17, 1, 4, 7, 10, 14, 18, 2, 5, 8, 11, 15, 19, 21, 23, 25,
                      27, 12, 16, 20, 22, 24, 26, 28]


def up_z(quat_wxyz: np.ndarray) -> np.ndarray:
    """World z of the pelvis z axis."""
    q = quat_wxyz / np.linalg.norm(quat_wxyz, axis=1, keepdims=True)
    return 1.0 - 2.0 * (q[:, 1] ** 2 + q[:, 2] ** 2)


def drifting_pkl(src: Path, dst: Path, frames: int | None = None, seed: int = 0) -> np.ndarray:
    """``src`` with each frame's ``root_rot`` scaled to a norm in 0.94-0.99; returns the norms."""
    data = read_pkl_dict(src)
    n = len(data["root_rot"]) if frames is None else frames
    for key in ("root_pos", "root_rot", "dof_pos", "local_body_pos"):
        if key in data:
            data[key] = np.asarray(data[key])[:n]
    norms = np.random.default_rng(seed).uniform(0.94, 0.99, n)
    norms[n // 3] = 0.94  # the worst frame
    rot = np.asarray(data["root_rot"], dtype=float)
    data["root_rot"] = rot / np.linalg.norm(rot, axis=1, keepdims=True) * norms[:, None]
    dst.write_bytes(pickle.dumps(data))
    return norms


def test_drifting_quaternions_are_normalised_with_one_warning(
        tmp_path: Path, motion_files: list[Path], caplog: pytest.LogCaptureFixture) -> None:
    src = motion_files[0]
    norms = drifting_pkl(src, tmp_path / "gmt_like.pkl")
    with caplog.at_level(logging.WARNING, logger="exoactor"):
        m = load_motion(tmp_path / "gmt_like.pkl")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    msg = warnings[0]
    worst = int(np.argmin(norms))
    assert "gmt_like.pkl" in msg and "'root_rot'" in msg and "xyzw" in msg
    assert f"frame {worst}" in msg and "0.94" in msg, msg
    assert np.allclose(np.linalg.norm(m.root_quat, axis=1), 1.0)
    ref = load_motion(src)
    assert np.allclose(np.abs(np.sum(m.root_quat * ref.root_quat, axis=1)), 1.0, atol=1e-9)
    # converts: the written file holds unit quaternions and loads without a warning
    caplog.clear()
    save_motion(m, tmp_path / "clean.pkl")
    with caplog.at_level(logging.WARNING, logger="exoactor"):
        load_motion(tmp_path / "clean.pkl")
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_drifting_quaternions_track(tmp_path: Path, motion_files: list[Path]) -> None:
    from exoactor.control import DriftConfig, TrackConfig, track_motion

    drifting_pkl(motion_files[-1], tmp_path / "gmt_like.pkl", frames=45)
    m = load_motion(tmp_path / "gmt_like.pkl")
    res = track_motion(m, TrackConfig(drift=DriftConfig(enabled=False)))
    assert not res.metrics.fell


@pytest.mark.parametrize("bad", [0.0, 0.3, 2.0, np.nan])
def test_far_from_unit_quaternions_stay_errors(tmp_path: Path, motion_files: list[Path],
                                               bad: float) -> None:
    data = read_pkl_dict(motion_files[0])
    rot = np.asarray(data["root_rot"], dtype=float).copy()
    rot[7] = rot[7] / np.linalg.norm(rot[7]) * bad if np.isfinite(bad) else np.nan
    data["root_rot"] = rot
    (tmp_path / "bad.pkl").write_bytes(pickle.dumps(data))
    with pytest.raises(InvalidMotionFile) as info:
        load_motion(tmp_path / "bad.pkl")
    assert "'root_rot'" in str(info.value) and info.value.frame == 7


@pytest.mark.parametrize("name", KIMODO)
def test_kimodo_csv_reads_upright(shared_assets: Path, name: str) -> None:
    path = shared_assets / "kimodo" / f"kimodo_{name}.csv"
    m = load_motion(path, fps=30, csv_format="kimodo")
    assert m.num_frames >= 120 and m.fps == 30
    assert up_z(m.root_quat).min() > 0.8, name  # upright in every frame
    assert 0.5 < m.root_pos[:, 2].mean() < 1.0
    with pytest.raises(InvalidMotionFile) as info:
        load_motion(path, fps=30)  # the default, BeyondMimic (xyzw): upside down
    msg = str(info.value)
    assert "upside down" in msg and "--csv-format kimodo" in msg and path.name in msg


def test_csv_conventions_round_trip(tmp_path: Path, motion_files: list[Path]) -> None:
    m = load_motion(motion_files[0]).slice(0, 30)
    for fmt in ("beyondmimic", "kimodo"):
        save_motion(m, tmp_path / f"{fmt}.csv", csv_format=fmt)
        back = load_motion(tmp_path / f"{fmt}.csv", fps=m.fps, csv_format=fmt)
        assert np.allclose(back.root_quat, m.root_quat, atol=1e-8)
        assert np.allclose(back.dof_pos, m.dof_pos, atol=1e-8)
    first = np.loadtxt(tmp_path / "kimodo.csv", delimiter=",")[0]
    assert np.allclose(first[3:7], m.root_quat[0], atol=1e-8)  # w x y z on disk
    with pytest.raises(InvalidMotionFile, match="beyondmimic"):
        load_motion(tmp_path / "beyondmimic.csv", fps=m.fps, csv_format="kimodo")


def test_csv_no_convention_fits(tmp_path: Path) -> None:
    rows = np.zeros((5, 36))
    rows[:, 2] = -0.8  # pelvis below the floor
    rows[:, 6] = 1.0  # qw under BeyondMimic, qz under Kimodo
    np.savetxt(tmp_path / "m.csv", rows, delimiter=",")
    with pytest.raises(InvalidMotionFile, match="no supported convention"):
        load_motion(tmp_path / "m.csv", fps=30)
    assert implausible_root(np.ones((3, 3)), np.tile([1.0, 0, 0, 0], (3, 1))) is None


def test_isaaclab_order_matches_gr00t_permutation() -> None:
    names = get_robot("g1").body_joint_names
    assert [ISAACLAB_G1_JOINTS[ISAACLAB_TO_MUJOCO[k]] for k in range(29)] == list(names)
    robot = get_robot("g1")
    for body in ISAACLAB_G1_BODIES:
        robot.body_id(body)  # every body exists in the MJCF


def test_sonic_folder_round_trip(tmp_path: Path, motion_files: list[Path]) -> None:
    from typer.testing import CliRunner

    from exoactor.cli import app
    from exoactor.robots.kinematics import body_positions

    src = motion_files[0]
    out = tmp_path / "walk.sonic"
    result = CliRunner().invoke(app, ["convert", str(src), str(out)])
    assert result.exit_code == 0, result.output
    for name in ("joint_pos.csv", "joint_vel.csv", "body_pos.csv", "body_quat.csv",
                 "metadata.txt"):
        assert (out / name).is_file(), name
    assert body_indexes(out) == SONIC_BODY_INDEXES
    header = (out / "joint_pos.csv").read_text().splitlines()[0].split(",")
    assert header == [f"joint_{i}" for i in range(29)]
    assert (out / "body_quat.csv").read_text().startswith("body_0_w,body_0_x,body_0_y,body_0_z")

    ref = resample_robot_motion(load_motion(src), 50.0)
    back = load_sonic(out)
    assert back.fps == 50.0 and back.num_frames == ref.num_frames
    assert np.allclose(back.dof_pos, ref.dof_pos, atol=1e-7)
    assert np.allclose(back.root_pos, ref.root_pos, atol=1e-7)
    assert np.allclose(np.abs(np.sum(back.root_quat * ref.root_quat, axis=1)), 1.0, atol=1e-7)
    # IsaacLab order on disk: column 1 is the right hip pitch, column 2 the waist yaw
    joint_pos = np.loadtxt(out / "joint_pos.csv", delimiter=",", skiprows=1)
    names = list(ref.joint_names)
    assert np.allclose(joint_pos[:, 1], ref.dof_pos[:, names.index("right_hip_pitch_joint")])
    assert np.allclose(joint_pos[:, 2], ref.dof_pos[:, names.index("waist_yaw_joint")])
    # bodies from MuJoCo FK, wxyz
    bodies = [ISAACLAB_G1_BODIES[i] for i in SONIC_BODY_INDEXES]
    fk = body_positions(get_robot("g1"), ref, bodies)
    pos = np.loadtxt(out / "body_pos.csv", delimiter=",", skiprows=1).reshape(-1, 14, 3)
    quat = np.loadtxt(out / "body_quat.csv", delimiter=",", skiprows=1).reshape(-1, 14, 4)
    assert np.allclose(pos, fk.pos_w, atol=1e-7)
    assert np.allclose(np.abs(np.sum(quat * fk.quat_w, axis=-1)), 1.0, atol=1e-7)
    vel = np.loadtxt(out / "joint_vel.csv", delimiter=",", skiprows=1)
    assert np.allclose(vel[1:-1], (joint_pos[2:] - joint_pos[:-2]) * 25.0, atol=1e-5)
    # writing again replaces the folder; another existing path is refused
    assert CliRunner().invoke(app, ["convert", str(src), str(out)]).exit_code == 0
    (tmp_path / "taken.sonic").mkdir()
    with pytest.raises(InvalidMotionFile, match="not a SONIC reference folder"):
        save_motion(ref, tmp_path / "taken.sonic")
