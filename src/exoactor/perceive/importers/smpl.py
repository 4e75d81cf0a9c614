"""SMPL / SMPL+H / SMPL-X parameter sequences -> :class:`~exoactor.formats.HumanMotion`.

Accepted sequence files (``.npz`` or a numpy-only ``.pkl`` dict):

* AMASS style: ``poses`` ``(T, 72 | 156 | 165)`` (root orientation first), ``trans``
  ``(T, 3)``, ``betas``, ``mocap_framerate`` (or ``fps``); z up;
* explicit: ``global_orient`` ``(T, 3)``, ``body_pose`` ``(T, 63 | 69)``, ``transl``
  ``(T, 3)``, ``betas`` ``(B,)`` or ``(T, B)``, optional ``left_hand_pose`` /
  ``right_hand_pose`` ``(T, 45)``, ``fps``.

The body keypoints (:data:`~exoactor.skeleton.BODY_33`) come from the model's joints and surface
landmarks (:func:`smpl_to_body33`); the world frame is then normalised like the perceive
stage's output: z up, the lowest foot points on z = 0, the hip centre of the first frame above
the origin, facing +x.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.spatial.transform import Rotation

from exoactor.formats.motion import HumanMotion
from exoactor.perceive.contacts import foot_contacts, foot_points, velocity
from exoactor.perceive.errors import ImportFailed
from exoactor.perceive.grounding import facing_c, world_from_camera
from exoactor.perceive.hands import grasp_closure
from exoactor.perceive.importers.body_model import (
    BODY_JOINTS,
    FIRST_HAND_JOINT,
    HAND_JOINTS,
    VERTEX_IDS,
    BodyModel,
    load_body_model,
)
from exoactor.rotations import as_wxyz, continuous
from exoactor.skeleton import BODY_33

_J = {n: i for i, n in enumerate(BODY_JOINTS)}
_LANDMARKS = ("nose", "leye", "reye", "lear", "rear", "LHeel", "RHeel", "LBigToe", "RBigToe",
              "lthumb", "lindex", "lmiddle", "lring", "lpinky",
              "rthumb", "rindex", "rmiddle", "rring", "rpinky")
APPROXIMATE = frozenset({"left_eye_inner", "left_eye_outer", "right_eye_inner",
                         "right_eye_outer", "mouth_left", "mouth_right"})
"""BODY_33 points with no SMPL counterpart, placed from nearby ones (confidence 0.5)."""
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
"""Rotation taking a y-up frame to z-up (+90 deg about x)."""
PELVIS_AXES = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
"""Columns: our pelvis x (forward), y (left), z (up) in SMPL's pelvis frame (forward +z,
left +x, up +y)."""


def smpl_to_body33(model: BodyModel, joints: np.ndarray, marks: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """BODY_33 keypoints ``(T, 33, 3)`` and confidence ``(33,)`` from SMPL-family joints
    ``(T, J, 3)`` and the landmark vertices ``marks`` ``(T, len(_LANDMARKS), 3)``.

    Shoulders, elbows, wrists, hips, knees and ankles are the model's joints; nose, eyes,
    ears, heels and big toes its surface landmarks; MediaPipe's pinky/index/thumb points (at
    the knuckles) lie 45 % (thumb 60 %) of the way from the wrist to the finger tips.
    """
    m = {n: marks[:, i] for i, n in enumerate(_LANDMARKS)}
    out = np.zeros((joints.shape[0], 33, 3))
    conf = np.ones(33)
    neck = joints[:, _J["neck"]]
    for side, s in (("left", "l"), ("right", "r")):
        S = s.upper()
        put = {
            f"{side}_eye": m[f"{s}eye"], f"{side}_eye_inner": m[f"{s}eye"],
            f"{side}_eye_outer": m[f"{s}eye"], f"{side}_ear": m[f"{s}ear"],
            f"mouth_{side}": m["nose"] + 0.3 * (neck - m["nose"]),
            f"{side}_shoulder": joints[:, _J[f"{side}_shoulder"]],
            f"{side}_elbow": joints[:, _J[f"{side}_elbow"]],
            f"{side}_wrist": joints[:, _J[f"{side}_wrist"]],
            f"{side}_hip": joints[:, _J[f"{side}_hip"]],
            f"{side}_knee": joints[:, _J[f"{side}_knee"]],
            f"{side}_ankle": joints[:, _J[f"{side}_ankle"]],
            f"{side}_heel": m[f"{S}Heel"], f"{side}_foot_index": m[f"{S}BigToe"],
        }
        wrist = joints[:, _J[f"{side}_wrist"]]
        for name, frac in (("pinky", 0.45), ("index", 0.45), ("thumb", 0.6)):
            put[f"{side}_{name}"] = wrist + frac * (m[f"{s}{name}"] - wrist)
        for name, value in put.items():
            out[:, BODY_33.index(name)] = value
    out[:, BODY_33.index("nose")] = m["nose"]
    for name in APPROXIMATE:
        conf[BODY_33.index(name)] = 0.5
    return out, conf


def smpl_hands(model: BodyModel, joints: np.ndarray, marks: np.ndarray) -> np.ndarray | None:
    """``(T, 2, 21, 3)`` MediaPipe-ordered hand keypoints (left, right) from an SMPL+H /
    SMPL-X model's finger joints and tip vertices; None for plain SMPL."""
    if model.kind not in FIRST_HAND_JOINT:
        return None
    m = {n: marks[:, i] for i, n in enumerate(_LANDMARKS)}
    out = np.zeros((joints.shape[0], 2, 21, 3))
    for side, (name, s) in enumerate((("left", "l"), ("right", "r"))):
        first = FIRST_HAND_JOINT[model.kind] + 15 * side
        fj = {n: joints[:, first + i] for i, n in enumerate(HAND_JOINTS)}
        out[:, side, 0] = joints[:, _J[f"{name}_wrist"]]
        for k, finger in enumerate(("thumb", "index", "middle", "ring", "pinky")):
            chain = [fj[f"{finger}1"], fj[f"{finger}2"], fj[f"{finger}3"], m[f"{s}{finger}"]]
            for i, p in enumerate(chain):
                out[:, side, 1 + 4 * k + i] = p
    return out


def motion_from_smpl(model: BodyModel, *, global_orient: np.ndarray, body_pose: np.ndarray,
                     betas: np.ndarray, transl: np.ndarray, fps: float,
                     hand_pose: np.ndarray | None = None, up_axis: Literal["y", "z"] = "z",
                     source: str = "<memory>") -> HumanMotion:
    """A :class:`HumanMotion` from SMPL-family parameters.

    Args:
        model: the body model.
        global_orient: ``(T, 3)`` root axis-angle [rad], in the sequence's frame.
        body_pose: ``(T, 63)`` or ``(T, 69)`` body joint axis-angles [rad].
        betas: ``(B,)`` or ``(T, B)`` shape (a sequence uses its mean).
        transl: ``(T, 3)`` root translation [m].
        fps: frame rate [Hz].
        hand_pose: optional ``(T, 90)`` left then right finger axis-angles [rad].
        up_axis: the sequence's up axis (GVHMR: y; AMASS: z).
        source: for messages.
    """
    go = np.asarray(global_orient, dtype=float).reshape(-1, 3)
    T = go.shape[0]
    betas = np.asarray(betas, dtype=float)
    beta = betas.mean(0) if betas.ndim == 2 else betas
    pose = model.full_pose(go, body_pose, hand_pose)
    ids = [VERTEX_IDS[model.topology][n] for n in _LANDMARKS]
    joints, marks = model.forward(pose, beta, np.asarray(transl, dtype=float).reshape(T, 3), ids)
    body, conf = smpl_to_body33(model, joints, marks)
    hands = smpl_hands(model, joints, marks)
    R_up = Y_UP_TO_Z_UP if up_axis == "y" else np.eye(3)
    body = body @ R_up.T
    hands = None if hands is None else hands @ R_up.T
    # Normalise: ground z = 0 (lowest foot points), start above the origin facing +x.
    up = np.array([0.0, 0.0, 1.0])
    ground = float(np.percentile(foot_points(body)[..., 2], 1))
    hip0 = body[0, [BODY_33.index("left_hip"), BODY_33.index("right_hip")]].mean(0)
    origin = np.array([hip0[0], hip0[1], ground])
    T_w_s = world_from_camera(up, facing_c(body, np.ones(T, bool), up, fps), origin)
    body = body @ T_w_s[:3, :3].T + T_w_s[:3, 3]
    if hands is not None:
        hands = hands @ T_w_s[:3, :3].T + T_w_s[:3, 3]
    R_root = T_w_s[:3, :3] @ R_up @ Rotation.from_rotvec(go).as_matrix() @ PELVIS_AXES
    root_quat = continuous(as_wxyz(Rotation.from_matrix(R_root)))
    sole = foot_points(body)[..., 2].min(-1)
    speed = np.linalg.norm(velocity(foot_points(body).mean(2), fps, 0.2), axis=-1)
    contact = foot_contacts(sole, speed, fps, contact_height_m=0.05, release_height_m=0.08,
                            contact_speed_m_s=0.3, release_speed_m_s=0.5)
    hand_kw = {}
    if hands is not None:
        hand_kw = {"hand_keypoints": hands, "hand_confidence": np.ones((T, 2)),
                   "grasp": grasp_closure(hands)}
    extras = {"smpl_global_orient": go, "smpl_body_pose": np.asarray(body_pose, dtype=float),
              "smpl_betas": beta, "smpl_transl": np.asarray(transl, dtype=float),
              "T_w_smpl": _T(T_w_s[:3, :3] @ R_up, T_w_s[:3, 3])}
    return HumanMotion(
        fps=fps, joint_names=BODY_33, joints=body, confidence=np.tile(conf, (T, 1)),
        root_pos=body[:, [BODY_33.index("left_hip"), BODY_33.index("right_hip")]].mean(1),
        root_quat=root_quat, foot_contact=contact, valid=np.ones(T, bool), extras=extras,
        source=source, **hand_kw)


def _T(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = R, t
    return out


class _NumpyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module.startswith(("numpy", "collections", "builtins")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _read(path: Path) -> dict:
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file. Give an SMPL parameter sequence (.npz/.pkl).")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        data = _NumpyUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a bad input
        raise ImportFailed(f"{path}: not a readable parameter file ({exc}); give an .npz, or "
                           "a .pkl holding a dict of numpy arrays") from None
    if not isinstance(data, dict):
        raise ImportFailed(f"{path}: holds a {type(data).__name__}, expected a dict of arrays")
    return data


def load_smpl_sequence(path: str | Path, body_model: str | Path | BodyModel,
                       fps: float | None = None, up_axis: Literal["y", "z"] = "z"
                       ) -> HumanMotion:
    """Import an SMPL-family parameter sequence (layouts in the module docstring).

    Args:
        path: the sequence file.
        body_model: the user's model file (or a loaded :class:`BodyModel`).
        fps: frame rate [Hz] when the file stores none.
        up_axis: the sequence's up axis.

    Raises:
        ImportFailed: unreadable file, missing fields or no frame rate.
        BodyModelError: the model file is missing or malformed.
    """
    path = Path(path)
    data = _read(path)
    model = body_model if isinstance(body_model, BodyModel) else load_body_model(body_model)
    rate = fps or data.get("mocap_framerate", data.get("fps"))
    if rate is None:
        raise ImportFailed(f"{path}: stores no frame rate (mocap_framerate / fps); give fps=")
    if "poses" in data:
        poses = np.asarray(data["poses"], dtype=float)
        go, rest = poses[:, :3], poses[:, 3:]
        n_body = 69 if model.kind == "smpl" and rest.shape[1] == 69 else 63
        body = rest[:, :n_body]
        hand = None
        if rest.shape[1] >= 63 + 90 and model.kind in FIRST_HAND_JOINT:
            off = 63 if model.kind == "smplh" else 63 + 9  # SMPL-X: jaw + eyes first
            hand = rest[:, off:off + 90] if rest.shape[1] >= off + 90 else None
        transl = data.get("trans", data.get("transl"))
    else:
        missing = [k for k in ("global_orient", "body_pose") if k not in data]
        if missing:
            raise ImportFailed(f"{path}: missing {', '.join(missing)}; expected either 'poses' "
                               "(AMASS) or 'global_orient' + 'body_pose' + 'transl' + 'betas'")
        go, body = np.asarray(data["global_orient"]), np.asarray(data["body_pose"])
        hand = None
        if "left_hand_pose" in data and "right_hand_pose" in data:
            hand = np.concatenate([np.asarray(data["left_hand_pose"]).reshape(len(go), -1),
                                   np.asarray(data["right_hand_pose"]).reshape(len(go), -1)], 1)
        transl = data.get("transl", data.get("trans"))
    if transl is None:
        transl = np.zeros((len(go), 3))
    betas = np.asarray(data.get("betas", np.zeros(10)), dtype=float)
    return motion_from_smpl(model, global_orient=go, body_pose=body, betas=betas, transl=transl,
                            fps=float(rate), hand_pose=hand, up_axis=up_axis, source=str(path))
