"""Importers: the body-model joint computation against an independent linear-blend-skinning
reference, on randomly generated models with the SMPL / SMPL-X file layouts (no licensed model
is needed), and the sequence / GVHMR conversions."""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.transform import Rotation

from exoactor.formats import load_npz, save_npz
from exoactor.perceive.errors import BodyModelError, ImportFailed
from exoactor.perceive.importers.body_model import (
    VERTEX_IDS,
    body_model_from_arrays,
    load_body_model,
)
from exoactor.perceive.importers.gvhmr import gvhmr_to_motion, read_gvhmr_results
from exoactor.perceive.importers.smpl import load_smpl_sequence
from exoactor.skeleton import BODY_33

SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
SMPL_REST = np.array([  # roughly SMPL's rest joints: y up, facing +z, left = +x [m]
    [0, 0.9, 0], [0.07, 0.82, 0], [-0.07, 0.82, 0], [0, 1.0, 0], [0.1, 0.45, 0],
    [-0.1, 0.45, 0], [0, 1.12, 0], [0.1, 0.08, 0], [-0.1, 0.08, 0], [0, 1.18, 0],
    [0.11, 0.02, 0.12], [-0.11, 0.02, 0.12], [0, 1.4, 0], [0.08, 1.35, 0], [-0.08, 1.35, 0],
    [0, 1.5, 0.03], [0.18, 1.38, 0], [-0.18, 1.38, 0], [0.45, 1.38, 0], [-0.45, 1.38, 0],
    [0.7, 1.38, 0], [-0.7, 1.38, 0], [0.78, 1.38, 0], [-0.78, 1.38, 0]])


def random_model_arrays(seed: int = 0, smplx: bool = False, posedirs: bool = True) -> dict:
    """A random model with the layout of SMPL_NEUTRAL.pkl (or SMPLX_NEUTRAL.npz)."""
    rng = np.random.default_rng(seed)
    V, J = (10475, 55) if smplx else (6890, 24)
    parents = SMPL_PARENTS[:22] + ([15, 15, 15] + [20] * 15 + [21] * 15 if smplx else [20, 21])
    rest = np.concatenate([SMPL_REST[:22], np.repeat(SMPL_REST[[15, 15, 15]], 1, 0),
                           np.repeat(SMPL_REST[[22]], 15, 0) + rng.normal(0, 0.02, (15, 3)),
                           np.repeat(SMPL_REST[[23]], 15, 0) + rng.normal(0, 0.02, (15, 3))]
                          ) if smplx else SMPL_REST
    owner = rng.integers(0, J, V)
    v = rest[owner] + rng.normal(0, 0.03, (V, 3))
    jr = np.zeros((J, V))
    for j in range(J):
        idx = np.flatnonzero(owner == j)[:20]
        jr[j, idx] = 1.0 / len(idx)
    w = np.zeros((V, J))
    w[np.arange(V), owner] = 0.7
    par = np.array([max(parents[o], 0) for o in owner])
    w[np.arange(V), par] += 0.3
    out = {"v_template": v, "shapedirs": rng.normal(0, 0.01, (V, 3, 10)),
           "J_regressor": jr, "kintree_table": np.stack([np.array(parents) % 2**32,
                                                         np.arange(J)]).astype(np.int64),
           "weights": w, "f": rng.integers(0, V, (100, 3))}
    if posedirs:
        out["posedirs"] = rng.normal(0, 1e-3, (V, 3, 9 * (J - 1))).astype(np.float32)
    return out


def reference_lbs(data: dict, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray):
    """Textbook SMPL: all vertices, one frame (Loper et al. 2015, eqs. 1-4)."""
    J = pose.shape[0]
    parents = data["kintree_table"][0].astype(np.int64)
    v_shaped = data["v_template"] + data["shapedirs"] @ betas
    Jr = data["J_regressor"] @ v_shaped
    R = Rotation.from_rotvec(pose).as_matrix()
    v_posed = v_shaped + np.einsum("vcp,p->vc", data["posedirs"].astype(float),
                                   (R[1:] - np.eye(3)).ravel())
    G = []
    for j in range(J):
        local = np.eye(4)
        local[:3, :3] = R[j]
        p = parents[j] if j else -1
        local[:3, 3] = Jr[j] - (Jr[p] if j else 0)
        G.append(local if j == 0 else G[p] @ local)
    G = np.array(G)
    A = G.copy()
    A[:, :3, 3] -= np.einsum("jab,jb->ja", G[:, :3, :3], Jr)
    Tv = np.einsum("vj,jab->vab", data["weights"], A)
    verts = np.einsum("vab,vb->va", Tv[:, :3, :3], v_posed) + Tv[:, :3, 3]
    return G[:, :3, 3] + transl, verts + transl


@pytest.fixture(scope="module")
def smpl_arrays() -> dict:
    return random_model_arrays()


@pytest.fixture(scope="module")
def smpl_npz(tmp_path_factory: pytest.TempPathFactory, smpl_arrays: dict) -> Path:
    path = tmp_path_factory.mktemp("model") / "SMPL_RANDOM.npz"
    np.savez(path, **smpl_arrays)
    return path


def test_forward_matches_reference_lbs(smpl_arrays: dict) -> None:
    model = body_model_from_arrays(smpl_arrays)
    rng = np.random.default_rng(5)
    ids = list(VERTEX_IDS["smplh"].values())
    for _ in range(3):
        pose = rng.normal(0, 0.4, (24, 3))
        betas = rng.normal(0, 1, 10)
        transl = rng.normal(0, 1, 3)
        joints, verts = model.forward(pose[None], betas, transl[None], ids)
        ref_j, ref_v = reference_lbs(smpl_arrays, pose, betas, transl)
        assert np.allclose(joints[0], ref_j, atol=1e-9)
        assert np.allclose(verts[0], ref_v[ids], atol=1e-9)


def test_pose_keeps_bone_lengths_and_zero_pose_is_rest(smpl_arrays: dict) -> None:
    model = body_model_from_arrays(smpl_arrays)
    betas = np.full(10, 0.5)
    rest = model.rest_joints(betas)
    zero, _ = model.forward(np.zeros((1, 24, 3)), betas, np.zeros((1, 3)))
    assert np.allclose(zero[0], rest)
    posed, _ = model.forward(np.random.default_rng(1).normal(0, 0.5, (4, 24, 3)), betas,
                             np.zeros((4, 3)))
    def bone(j: np.ndarray) -> np.ndarray:
        return np.linalg.norm(j[..., 1:, :] - j[..., model.parents[1:], :], axis=-1)

    assert np.allclose(bone(posed), bone(rest)[None])


def test_npz_and_sparse_pkl_load_alike(smpl_arrays: dict, smpl_npz: Path, tmp_path: Path) -> None:
    pkl = dict(smpl_arrays, J_regressor=sp.csc_matrix(smpl_arrays["J_regressor"]))
    path = tmp_path / "SMPL_RANDOM.pkl"
    path.write_bytes(pickle.dumps(pkl))
    a, b = load_body_model(smpl_npz), load_body_model(path)
    assert a.kind == b.kind == "smpl"
    assert np.allclose(a.rest_joints(np.ones(10)), b.rest_joints(np.ones(10)))


def test_chumpy_and_malformed_models_are_refused(tmp_path: Path) -> None:
    mod = types.ModuleType("chumpy.ch")

    class Ch:  # stands in for chumpy's array class
        pass

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    mod.Ch = Ch
    sys.modules["chumpy"] = types.ModuleType("chumpy")
    sys.modules["chumpy.ch"] = mod
    try:
        raw = pickle.dumps({"v_template": Ch()})
    finally:
        del sys.modules["chumpy.ch"], sys.modules["chumpy"]
    (tmp_path / "old.pkl").write_bytes(raw)
    with pytest.raises(BodyModelError, match="chumpy"):
        load_body_model(tmp_path / "old.pkl")
    np.savez(tmp_path / "bad.npz", v_template=np.zeros((3, 3)))
    with pytest.raises(BodyModelError, match="missing shapedirs"):
        load_body_model(tmp_path / "bad.npz")
    with pytest.raises(BodyModelError, match="no such"):
        load_body_model(tmp_path / "nope.npz")


def _walk(T: int, rng: np.random.Generator) -> dict:
    """A z-up AMASS-style sequence walking forward."""
    go = (Rotation.from_euler("x", 90, degrees=True)).as_rotvec()
    poses = np.zeros((T, 72))
    poses[:, :3] = go
    poses[:, 3:] = rng.normal(0, 0.05, (T, 69))
    trans = np.zeros((T, 3))
    trans[:, 1] = -np.linspace(0, 1.0, T)  # SMPL forward (+z) turned to -y
    trans[:, 2] = 0.2
    return {"poses": poses, "trans": trans, "betas": np.zeros(10), "mocap_framerate": 60.0}


def test_sequence_import_normalises_the_world(smpl_npz: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    seq = tmp_path / "walk.npz"
    np.savez(seq, **_walk(40, rng))
    m = load_smpl_sequence(seq, smpl_npz)
    assert m.fps == 60.0 and m.num_frames == 40 and m.joint_names == BODY_33
    feet = m.joints[:, [BODY_33.index(n) for n in ("left_heel", "right_heel",
                                                   "left_foot_index", "right_foot_index")], 2]
    assert np.percentile(feet, 1) == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(m.root_pos[0, :2], 0.0, atol=1e-9)
    # walking forward = +x after normalisation; the pelvis x axis points forward too
    assert m.root_pos[-1, 0] > 0.8 and abs(m.root_pos[-1, 1]) < 0.1
    x_axis = Rotation.from_quat(m.root_quat[0], scalar_first=True).apply([1.0, 0.0, 0.0])
    assert x_axis[0] > 0.95
    assert "smpl_body_pose" in m.extras
    save_npz(m, tmp_path / "walk_human.npz")
    assert load_npz(tmp_path / "walk_human.npz").num_frames == 40


def test_sequence_import_errors(smpl_npz: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = _walk(5, rng)
    del data["mocap_framerate"]
    np.savez(tmp_path / "nofps.npz", **data)
    with pytest.raises(ImportFailed, match="frame rate"):
        load_smpl_sequence(tmp_path / "nofps.npz", smpl_npz)
    np.savez(tmp_path / "wrong.npz", foo=np.zeros(3))
    with pytest.raises(ImportFailed, match="global_orient"):
        load_smpl_sequence(tmp_path / "wrong.npz", smpl_npz, fps=30)


def test_gvhmr_results_with_an_smplx_layout_model() -> None:
    model = body_model_from_arrays(random_model_arrays(seed=4, smplx=True, posedirs=False))
    assert model.kind == "smplx" and model.num_joints == 55
    rng = np.random.default_rng(6)
    L = 12
    results = {"smpl_params_global": {
        "body_pose": rng.normal(0, 0.1, (L, 63)), "global_orient": np.zeros((L, 3)),
        "transl": np.c_[np.zeros(L), np.full(L, 0.9), np.linspace(0, 0.5, L)],
        "betas": rng.normal(0, 1, (L, 10))},
        "K_fullimg": np.tile(np.eye(3), (L, 1, 1))}
    m = gvhmr_to_motion(results, model)
    assert m.fps == 30.0 and m.num_frames == L
    assert m.hand_keypoints is not None and m.grasp is not None
    assert m.camera_K is not None
    # y-up input: the body stands along +z
    head = m.joints[:, BODY_33.index("nose"), 2]
    assert (head > m.joints[:, BODY_33.index("left_ankle"), 2] + 0.8).all()
    with pytest.raises(ImportFailed, match="smpl_params_global"):
        gvhmr_to_motion({"other": {}}, model)


def test_reading_gvhmr_pt_without_torch_says_how(tmp_path: Path, monkeypatch) -> None:
    pt = tmp_path / "hmr4d_results.pt"
    pt.write_bytes(b"\x80\x02}q\x00.")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportFailed, match="pip install torch"):
        read_gvhmr_results(pt)
