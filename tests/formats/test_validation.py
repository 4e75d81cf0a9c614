"""Bad motion input gets an error naming the file and the field."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from exoactor.errors import InvalidMotionFile, UnknownFormat
from exoactor.formats import HumanMotion, RobotMotion, load_motion, save_motion
from exoactor.formats.npz import load_npz, save_npz
from exoactor.robots import get_robot


def _motion(T: int = 5, n: int = 29) -> RobotMotion:
    names = get_robot("g1").body_joint_names
    return RobotMotion(robot="g1", fps=30.0, joint_names=tuple(names[:n]) if n <= 29 else
                       tuple(names) + tuple(f"extra_{i}" for i in range(n - 29)),
                       root_pos=np.zeros((T, 3)) + [0, 0, 0.79],
                       root_quat=np.tile([1.0, 0, 0, 0], (T, 1)), dof_pos=np.zeros((T, n)))


def _write_pkl(path: Path, **changes) -> Path:
    data = {"fps": 30.0, "root_pos": np.zeros((4, 3)), "root_rot": np.tile([0, 0, 0, 1.0], (4, 1)),
            "dof_pos": np.zeros((4, 29)), "local_body_pos": np.zeros((4, 1, 3)),
            "link_body_list": ["pelvis"]}
    data.update(changes)
    for key in [k for k, v in data.items() if v is None]:
        del data[key]
    path.write_bytes(pickle.dumps(data))
    return path


def _raises(path: Path, field: str, words: str, **kwargs) -> InvalidMotionFile:
    with pytest.raises(InvalidMotionFile) as info:
        load_motion(path, **kwargs)
    msg = str(info.value)
    assert str(path) in msg and f"'{field}'" in msg and words in msg, msg
    return info.value


def test_valid_pkl_loads(tmp_path: Path) -> None:
    m = load_motion(_write_pkl(tmp_path / "ok.pkl"))
    assert m.num_frames == 4 and np.allclose(m.root_quat, [1, 0, 0, 0])


def test_pkl_wrong_shape(tmp_path: Path) -> None:
    _raises(_write_pkl(tmp_path / "a.pkl", root_pos=np.zeros((4, 2))), "root_pos", "shape (4, 2)")


def test_pkl_nan(tmp_path: Path) -> None:
    dof = np.zeros((4, 29))
    dof[2, 7] = np.nan
    err = _raises(_write_pkl(tmp_path / "a.pkl", dof_pos=dof), "dof_pos", "NaN/inf")
    assert err.frame == 2


def test_pkl_inf_root(tmp_path: Path) -> None:
    pos = np.zeros((4, 3))
    pos[3, 0] = np.inf
    _raises(_write_pkl(tmp_path / "a.pkl", root_pos=pos), "root_pos", "frame 3")


def test_pkl_non_unit_quaternion(tmp_path: Path) -> None:
    rot = np.tile([0, 0, 0, 1.0], (4, 1))
    rot[1] = 0.0
    err = _raises(_write_pkl(tmp_path / "a.pkl", root_rot=rot), "root_rot", "xyzw")
    assert err.frame == 1


def test_pkl_joint_count(tmp_path: Path) -> None:
    _raises(_write_pkl(tmp_path / "a.pkl", dof_pos=np.zeros((4, 27))), "dof_pos", "29 joints")


def test_pkl_missing_field(tmp_path: Path) -> None:
    _raises(_write_pkl(tmp_path / "a.pkl", root_rot=None), "root_rot", "missing")


def test_pkl_not_a_pickle(tmp_path: Path) -> None:
    path = tmp_path / "a.pkl"
    path.write_text("hello")
    _raises(path, "<file>", "not a readable motion pickle")


def test_pkl_refuses_code(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"fps": 30.0, "x": Path("/")}))
    _raises(path, "<file>", "refusing")


def test_missing_file(tmp_path: Path) -> None:
    _raises(tmp_path / "nope.npz", "<file>", "does not exist")


def test_npz_joint_names_mismatch(tmp_path: Path) -> None:
    m = _motion()
    bad = m.replace(joint_names=tuple(reversed(m.joint_names)))
    save_npz(bad, tmp_path / "m.npz")
    _raises(tmp_path / "m.npz", "joint_names", "model's order")


def test_npz_joint_count_mismatch(tmp_path: Path) -> None:
    save_npz(_motion(n=31), tmp_path / "m.npz")
    _raises(tmp_path / "m.npz", "joint_names", "31 joints")


def test_npz_wrong_kind(tmp_path: Path) -> None:
    T = 3
    human = HumanMotion(fps=30, joint_names=("a", "b"), joints=np.zeros((T, 2, 3)),
                        confidence=np.ones((T, 2)), root_pos=np.zeros((T, 3)),
                        root_quat=np.tile([1.0, 0, 0, 0], (T, 1)),
                        foot_contact=np.zeros((T, 2)), valid=np.ones(T))
    save_npz(human, tmp_path / "h.npz")
    _raises(tmp_path / "h.npz", "kind", "HumanMotion")
    assert load_npz(tmp_path / "h.npz", expect=HumanMotion).num_frames == T


def test_npz_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(b"PK\x03\x04 broken")
    _raises(path, "<file>", "not a readable .npz")


def test_csv_needs_fps(tmp_path: Path) -> None:
    save_motion(_motion(), tmp_path / "m.csv")
    _raises(tmp_path / "m.csv", "fps", "--input-fps")
    assert load_motion(tmp_path / "m.csv", fps=30).num_frames == 5


def test_csv_wrong_columns(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("1,2,3\n4,5,6\n")
    _raises(tmp_path / "m.csv", "columns", "expected 36", fps=30)


def test_zero_frames() -> None:
    with pytest.raises(InvalidMotionFile, match="0 frames"):
        _motion(T=0)


def test_bad_fps() -> None:
    with pytest.raises(InvalidMotionFile, match="'fps'"):
        _motion().replace(fps=0.0)


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(UnknownFormat, match=r"\.bvh"):
        load_motion(tmp_path / "m.bvh")


def test_human_grasp_range() -> None:
    T = 2
    with pytest.raises(InvalidMotionFile, match="'grasp'"):
        HumanMotion(fps=30, joint_names=("a",), joints=np.zeros((T, 1, 3)),
                    confidence=np.ones((T, 1)), root_pos=np.zeros((T, 3)),
                    root_quat=np.tile([1.0, 0, 0, 0], (T, 1)), foot_contact=np.zeros((T, 2)),
                    valid=np.ones(T), grasp=np.full((T, 2), 1.5))


def test_a_footprint_holds_its_edges_and_turns_with_the_yaw():
    from exoactor.formats.scene import ObjectPose, SceneObject

    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(1.0, 2.0, 0.2), yaw_rad=np.pi / 2),
                       size=(0.4, 0.6, 0.4))
    # heading +y: depth 0.4 m along y, width 0.6 m along x
    assert seat.holds_xy([1.0, 2.2]) and seat.holds_xy([1.3, 2.0])      # on the edges
    assert not seat.holds_xy([1.0, 2.25]) and not seat.holds_xy([1.35, 2.0])
    assert np.allclose(seat.into_footprint([1.0, 2.5]), [1.0, 2.2])
    assert np.allclose(seat.into_footprint([2.0, 2.0], margin_m=0.1), [1.2, 2.0])


def test_unit_quaternions_keep_their_bytes_through_save_load_and_replace(tmp_path: Path) -> None:
    """A motion built again (saved and loaded, or ``replace``d) keeps its quaternions bit for
    bit, so its content key for the filter's memo does not change; a norm off by 1e-3 is still
    normalised. Dividing every row by its norm again moved some rows by 1 ulp each time."""
    from dataclasses import replace

    from exoactor.control.filter.config import FilterConfig
    from exoactor.control.filter.memo import run_key
    from exoactor.control.track import TrackConfig

    rng = np.random.default_rng(3)
    quat = rng.normal(size=(200, 4))
    quat /= np.linalg.norm(quat, axis=1, keepdims=True)
    motion = replace(_motion(200), root_quat=quat)
    path = save_npz(motion, tmp_path / "m.npz")
    again = replace(load_npz(path), source=motion.source)
    assert again.root_quat.tobytes() == motion.root_quat.tobytes()
    assert replace(again, root_pos=again.root_pos).root_quat.tobytes() == motion.root_quat.tobytes()
    assert run_key(again, FilterConfig(), TrackConfig()) == run_key(motion, FilterConfig(), TrackConfig())
    off = replace(_motion(3), root_quat=np.tile([1.001, 0, 0, 0], (3, 1)))
    np.testing.assert_array_equal(off.root_quat, np.tile([1.0, 0, 0, 0], (3, 1)))
