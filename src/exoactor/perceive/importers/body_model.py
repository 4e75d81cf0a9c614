"""SMPL-family body models in numpy: joints and a few surface landmarks from parameters.

The model files are the user's own (SMPL, SMPL+H and SMPL-X are licensed by the MPI and never
bundled): ``.npz`` (as distributed for SMPL-X, or converted) or ``.pkl`` holding plain numpy /
scipy.sparse arrays (pickles that need ``chumpy`` are refused with the fix). Fields used:

* ``v_template`` ``(V, 3)``, ``shapedirs`` ``(V, 3, B)``, ``posedirs`` ``(V, 3, P)`` or
  ``(V * 3, P)`` or ``(P, V * 3)``, ``J_regressor`` ``(J, V)`` (dense or sparse),
  ``kintree_table`` ``(2, J)``, ``weights`` ``(V, J)``.

The kind follows from the sizes: 6890 vertices and 24 joints = SMPL, 52 joints = SMPL+H,
10475 vertices = SMPL-X (55 joints). Model frame: y up, the body facing +z, its left +x.

Forward kinematics: rest joints ``J = J_regressor (v_template + shapedirs betas)``; each
joint's world transform chains the parent's with the joint's axis-angle rotation about its
rest position. Surface landmarks (nose, eyes, ears, heels, toes, finger tips) are the linear
blend skinning of single vertices, with pose blend shapes, at the vertex ids of the
``smplx`` package's ``vertex_ids`` (the OpenPose correspondences).
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from exoactor.perceive.errors import BodyModelError

VERTEX_IDS: dict[str, dict[str, int]] = {
    "smplh": {"nose": 332, "reye": 6260, "leye": 2800, "rear": 4071, "lear": 583,
              "rthumb": 6191, "rindex": 5782, "rmiddle": 5905, "rring": 6016, "rpinky": 6133,
              "lthumb": 2746, "lindex": 2319, "lmiddle": 2445, "lring": 2556, "lpinky": 2673,
              "LBigToe": 3216, "LSmallToe": 3226, "LHeel": 3387, "RBigToe": 6617,
              "RSmallToe": 6624, "RHeel": 6787},
    "smplx": {"nose": 9120, "reye": 9929, "leye": 9448, "rear": 616, "lear": 6,
              "rthumb": 8079, "rindex": 7669, "rmiddle": 7794, "rring": 7905, "rpinky": 8022,
              "lthumb": 5361, "lindex": 4933, "lmiddle": 5058, "lring": 5169, "lpinky": 5286,
              "LBigToe": 5770, "LSmallToe": 5780, "LHeel": 8846, "RBigToe": 8463,
              "RSmallToe": 8474, "RHeel": 8635},
}
"""Surface landmark vertex ids per topology (SMPL and SMPL+H share ``smplh``)."""

BODY_JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist")
"""The 22 body joints shared by SMPL, SMPL+H and SMPL-X, in order."""
HAND_JOINTS: tuple[str, ...] = tuple(
    f"{f}{i}" for f in ("index", "middle", "pinky", "ring", "thumb") for i in (1, 2, 3))
"""Finger joints of one hand in SMPL+H / SMPL-X order (15 per hand)."""
FIRST_HAND_JOINT = {"smplh": 22, "smplx": 25}
"""Index of the left hand's first finger joint (the right hand's follows 15 later)."""
NUM_BODY_POSE = 21
"""Body joints posed by ``body_pose`` (pelvis excluded): 63 values."""

CHUMPY = ("{path}: this pickle needs the 'chumpy' package (the original SMPL release). Convert "
          "it once to plain numpy (e.g. with the smplx package's tools/clean_ch.py) or use the "
          ".npz release, then give that file.")
LAYOUT = ("{path}: not an SMPL-family model file ({why}). Expected fields v_template, shapedirs, "
          "posedirs, J_regressor, kintree_table and weights, as in SMPL_NEUTRAL.pkl or "
          "SMPLX_NEUTRAL.npz.")


@dataclass(frozen=True, eq=False)
class BodyModel:
    """An SMPL-family model (see the module docstring).

    Attributes:
        kind: ``"smpl"``, ``"smplh"`` or ``"smplx"``.
        v_template: ``(V, 3)`` rest vertices [m].
        shapedirs: ``(V, 3, B)`` shape blend shapes [m per unit beta].
        posedirs: ``(V, 3, P)`` pose blend shapes (P = 9 x (J - 1)), or None.
        J_regressor: ``(J, V)`` joint regressor (dense).
        parents: ``(J,)`` parent of each joint (-1 for the root).
        weights: ``(V, J)`` skinning weights.
        source: the file it came from.
    """

    kind: str
    v_template: np.ndarray
    shapedirs: np.ndarray
    posedirs: np.ndarray | None
    J_regressor: np.ndarray
    parents: np.ndarray
    weights: np.ndarray
    source: str = "<memory>"

    @property
    def num_joints(self) -> int:
        return int(self.parents.shape[0])

    @property
    def num_betas(self) -> int:
        return int(self.shapedirs.shape[2])

    @property
    def topology(self) -> str:
        """Key of :data:`VERTEX_IDS` for this model's mesh."""
        return "smplx" if self.kind == "smplx" else "smplh"

    def __post_init__(self) -> None:
        # Joints are linear in the shape: regress the template and every blend shape once.
        V = self.v_template.shape[0]
        object.__setattr__(self, "_j_template", self.J_regressor @ self.v_template)
        object.__setattr__(self, "_j_dirs", (self.J_regressor @ self.shapedirs.reshape(V, -1))
                           .reshape(self.num_joints, 3, -1))

    def _betas(self, betas: np.ndarray) -> np.ndarray:
        b = np.zeros(self.num_betas)
        betas = np.asarray(betas, dtype=float).ravel()[: self.num_betas]
        b[: len(betas)] = betas
        return b

    def rest_joints(self, betas: np.ndarray) -> np.ndarray:
        """``(J, 3)`` rest joints [m] of shape ``betas`` (padded or cut to the model's count)."""
        return self._j_template + self._j_dirs @ self._betas(betas)

    def rest_vertices(self, betas: np.ndarray, ids: np.ndarray | list[int]) -> np.ndarray:
        """``(n, 3)`` rest positions [m] of vertices ``ids`` for shape ``betas``."""
        ids = np.asarray(ids, dtype=int)
        return self.v_template[ids] + self.shapedirs[ids] @ self._betas(betas)

    def full_pose(self, global_orient: np.ndarray, body_pose: np.ndarray,
                  hand_pose: np.ndarray | None = None) -> np.ndarray:
        """``(T, J, 3)`` axis-angle rotations of every joint [rad] from the root orientation
        ``(T, 3)``, ``(T, 3 * n)`` body pose (n = 21 or 23) and optional ``(T, 90)`` left then
        right hand pose (SMPL+H / SMPL-X). Joints without values stay at rest."""
        go = np.asarray(global_orient, dtype=float).reshape(-1, 3)
        T = go.shape[0]
        bp = np.asarray(body_pose, dtype=float).reshape(T, -1, 3)
        pose = np.zeros((T, self.num_joints, 3))
        pose[:, 0] = go
        n = min(bp.shape[1], self.num_joints - 1)
        pose[:, 1:1 + n] = bp[:, :n]
        if hand_pose is not None and self.kind in FIRST_HAND_JOINT:
            hp = np.asarray(hand_pose, dtype=float).reshape(T, 30, 3)
            first = FIRST_HAND_JOINT[self.kind]
            pose[:, first:first + 30] = hp
        return pose

    def forward(self, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray,
                vertex_ids: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Posed joints and selected vertices.

        Args:
            pose: ``(T, J, 3)`` axis-angle per joint [rad] (see :meth:`full_pose`).
            betas: ``(B,)`` shape coefficients.
            transl: ``(T, 3)`` root translation [m].
            vertex_ids: vertices to skin (None: none).

        Returns:
            ``(joints, vertices)``: ``(T, J, 3)`` and ``(T, len(vertex_ids), 3)`` [m], model
            frame.
        """
        T, J = pose.shape[:2]
        j_rest = self.rest_joints(betas)
        R = Rotation.from_rotvec(pose.reshape(-1, 3)).as_matrix().reshape(T, J, 3, 3)
        G = np.zeros((T, J, 4, 4))
        G[..., 3, 3] = 1.0
        for j in range(J):
            p = self.parents[j]
            local = np.zeros((T, 4, 4))
            local[:, :3, :3] = R[:, j]
            local[:, :3, 3] = j_rest[j] - (j_rest[p] if p >= 0 else 0.0)
            local[:, 3, 3] = 1.0
            G[:, j] = local if p < 0 else G[:, p] @ local
        joints = G[:, :, :3, 3] + np.asarray(transl, dtype=float)[:, None]
        if not vertex_ids:
            return joints, np.zeros((T, 0, 3))
        ids = np.asarray(vertex_ids)
        v = np.broadcast_to(self.rest_vertices(betas, ids), (T, len(ids), 3)).copy()
        if self.posedirs is not None:
            feat = (R[:, 1:] - np.eye(3)).reshape(T, -1)  # (T, 9 (J-1))
            v += np.einsum("vcp,tp->tvc", self.posedirs[ids], feat)
        # A_j = G_j [I, -j_rest]: skinning transforms relative to the rest pose.
        A = G.copy()
        A[:, :, :3, 3] -= np.einsum("tjab,jb->tja", G[:, :, :3, :3], j_rest)
        W = self.weights[ids]  # (n, J)
        M = np.einsum("nj,tjab->tnab", W, A)
        out = np.einsum("tnab,tnb->tna", M[..., :3, :3], v) + M[..., :3, 3]
        return joints, out + np.asarray(transl, dtype=float)[:, None]


class _NumpyUnpickler(pickle.Unpickler):
    _ALLOWED_PREFIXES = ("numpy", "scipy.sparse", "collections", "builtins")

    def find_class(self, module: str, name: str):
        if module.startswith("chumpy"):
            raise ModuleNotFoundError("chumpy")
        if module.startswith(self._ALLOWED_PREFIXES):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _dense(a: object) -> np.ndarray:
    if hasattr(a, "toarray"):
        return np.asarray(a.toarray())  # type: ignore[union-attr]
    return np.asarray(a)


def load_body_model(path: str | Path) -> BodyModel:
    """Load an SMPL / SMPL+H / SMPL-X model file (``.npz`` or numpy ``.pkl``).

    Raises:
        BodyModelError: the file is missing, needs chumpy, or lacks a field.
    """
    path = Path(path)
    if not path.is_file():
        raise BodyModelError(f"{path}: no such body-model file. Give the path of your own "
                             "SMPL/SMPL-X model (e.g. SMPLX_NEUTRAL.npz from smpl-x.is.tue.mpg.de)")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        else:
            data = _NumpyUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    except ModuleNotFoundError:
        raise BodyModelError(CHUMPY.format(path=path)) from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a bad model file
        raise BodyModelError(LAYOUT.format(path=path, why=f"unreadable: {exc}")) from None
    if not isinstance(data, dict):
        raise BodyModelError(LAYOUT.format(path=path, why=f"holds a {type(data).__name__}"))
    missing = [k for k in ("v_template", "shapedirs", "J_regressor", "kintree_table", "weights")
               if k not in data]
    if missing:
        raise BodyModelError(LAYOUT.format(path=path, why=f"missing {', '.join(missing)}"))
    return body_model_from_arrays(data, source=str(path))


def body_model_from_arrays(data: dict, source: str = "<memory>") -> BodyModel:
    """Build a :class:`BodyModel` from the arrays of a model file (see the module docstring)."""
    v = np.asarray(data["v_template"], dtype=float)
    V = v.shape[0]
    sd = np.asarray(_dense(data["shapedirs"]))  # kept in the file's dtype (SMPL-X: 100 MB)
    if sd.ndim == 2:
        sd = sd.reshape(V, 3, -1)
    jr = np.asarray(_dense(data["J_regressor"]), dtype=float)
    kin = np.asarray(data["kintree_table"]).astype(np.int64)
    parents = kin[0].copy()
    parents[parents > len(parents)] = -1
    parents[0] = -1
    J = len(parents)
    pd = data.get("posedirs")
    if pd is not None:
        pd = np.asarray(_dense(pd))
        P = 9 * (J - 1)
        if pd.ndim == 2 and pd.shape == (P, V * 3):
            pd = pd.T
        pd = pd.reshape(V, 3, -1)[..., :P]
    kind = "smplx" if V == 10475 else ("smplh" if J == 52 else "smpl")
    return BodyModel(kind=kind, v_template=v, shapedirs=sd, posedirs=pd, J_regressor=jr,
                     parents=parents, weights=np.asarray(_dense(data["weights"])), source=source)
