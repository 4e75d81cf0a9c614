"""The Anny parametric body (``pip install anny``): posed meshes and true BODY_33 joints.

Anny's model frame: z up [m], the body facing -y, its left +x, the pelvis at the origin in the
rest pose (arms in an A pose). Rotations are given per bone in Anny's ``local-ref``
parameterisation: a rotation of the bone about its head, in world-aligned axes of the rest pose
(so a rotation about x is a flexion in the sagittal plane for every limb).

The true joints are anatomical joint centres, the heads of Anny's skeleton bones
(:data:`JOINT_SOURCES`), like the SMPL joints of :mod:`exoactor.perceive.importers.smpl`.
MediaPipe's landmarks follow their own definition (on the rendered walk its hips sit about
13 mm wider per side than the hip joint centres), so part of any error against this truth is a
difference of definition, not of accuracy; ``mpjpe_debiased_mm`` of :mod:`.score` removes each
joint's constant offset to bound it. The surface keypoints of Anny's COCO regressor (nose,
eyes, ears, heels, big toes) fill the points that no bone has.

Anny builds its model data once (about a minute and ~800 MB under its cache directory,
``$ANNY_CACHE_DIR`` or ``~/.cache/anny``); later constructions load the cache in about a second
and read only its ``build_compact_model_data_*.safetensors`` (~51 MB; the other files may be
deleted). Nothing is downloaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exoactor.perceive.errors import BodyModelError
from exoactor.skeleton import BODY_33

logger = logging.getLogger(__name__)

_NOT_INSTALLED = ("the known-truth clips need the Anny body model, which is not installed "
                  "({exc}): pip install anny (CPU torch is enough)")
_UNKNOWN_SOURCE = ("joint table: Anny has no {kind} '{name}' (for BODY_33 '{joint}'); "
                   "available: {available}")


@dataclass(frozen=True)
class JointSource:
    """Where one BODY_33 point comes from on the Anny body.

    Attributes:
        body33: the BODY_33 name.
        bone: the Anny bone whose head is the joint centre, or None.
        keypoint: the Anny COCO-regressor surface keypoint, used when ``bone`` is None.
    """

    body33: str
    bone: str | None = None
    keypoint: str | None = None


JOINT_SOURCES: tuple[JointSource, ...] = tuple(
    JointSource(f"{side}_{joint}", bone=f"{bone}.{s}")
    for side, s in (("left", "L"), ("right", "R"))
    for joint, bone in (("shoulder", "upperarm01"), ("elbow", "lowerarm01"), ("wrist", "wrist"),
                        ("hip", "upperleg01"), ("knee", "lowerleg01"), ("ankle", "foot"))
) + tuple(
    JointSource(f"{side}_{joint}", keypoint=f"{side}_{kp}")
    for side in ("left", "right")
    for joint, kp in (("heel", "heel"), ("foot_index", "big_toe"), ("eye", "eye"), ("ear", "ear"))
) + (JointSource("nose", keypoint="nose"),)
"""The BODY_33 points the truth defines: joint centres from bone heads (shoulders, elbows,
wrists, hips, knees, ankles), surface points from Anny's COCO regressor (nose, eyes, ears,
heels, big toes). The others stay NaN."""


@dataclass(frozen=True)
class PosedBody:
    """Posed meshes and joints of a sequence, in Anny's model frame.

    Attributes:
        vertices: ``(T, V, 3)`` mesh vertices [m].
        joints: ``(T, 33, 3)`` BODY_33 points [m]; NaN where :data:`JOINT_SOURCES` has none.
    """

    vertices: np.ndarray
    joints: np.ndarray


class AnnyBody:
    """One Anny body of fixed shape (phenotype), posed frame by frame.

    State: the torch model and its keypoint regressor.
    """

    def __init__(self, phenotype: dict[str, float] | None = None,
                 cache_dir: str | Path | None = None):
        """Build (or load from the cache) the body.

        Args:
            phenotype: Anny phenotype values in [0, 1] (``gender``, ``age``, ``muscle``,
                ``weight``, ``height``, ``proportions``); missing ones are 0.5.
            cache_dir: Anny's model-data cache; None keeps ``$ANNY_CACHE_DIR`` or
                ``~/.cache/anny``.

        Raises:
            BodyModelError: anny is not installed, or the joint table names a bone or
                keypoint the model lacks.
        """
        try:
            import anny
            import anny.paths
            import torch
        except ImportError as exc:
            raise BodyModelError(_NOT_INSTALLED.format(exc=exc)) from exc
        if cache_dir is not None:
            anny.paths.set_anny_cache_path(Path(cache_dir))
        logger.info("building the Anny body (cache %s)", anny.paths.get_anny_cache_path())
        self._torch = torch
        self.model = anny.Anny(skinning_method="lbs")
        self.phenotype = dict(phenotype or {})
        self.bone_labels: tuple[str, ...] = tuple(self.model.bone_labels)
        self._regressor = anny.KeypointsRegressor.coco(self.model)
        self._bone_idx, self._kp_idx = _resolve_sources(self.bone_labels,
                                                        tuple(self._regressor.labels))
        with torch.no_grad():
            self.faces: np.ndarray = self.model.get_triangular_faces().cpu().numpy().astype(np.int32)
            w = self.model.vertex_bone_weights.cpu().numpy()
            b = self.model.vertex_bone_indices.cpu().numpy()
        self.dominant_bone: np.ndarray = b[np.arange(len(b)), w.argmax(1)]
        """``(V,)`` index into :attr:`bone_labels` of the bone that moves each vertex most."""

    def pose(self, rotations: dict[str, np.ndarray], chunk: int = 32) -> PosedBody:
        """Pose the body.

        Args:
            rotations: bone label -> ``(T, 3, 3)`` rotation about the bone's head in Anny's
                ``local-ref`` parameterisation (see the module docstring); other bones stay
                at rest.
            chunk: frames per batch (bounds the memory of the dense skinning).

        Raises:
            BodyModelError: an unknown bone label (the message lists the valid ones).
        """
        torch = self._torch
        unknown = sorted(set(rotations) - set(self.bone_labels))
        if unknown:
            raise BodyModelError(f"unknown Anny bone(s) {unknown}; valid: "
                                 f"{', '.join(self.bone_labels)}")
        T = len(next(iter(rotations.values())))
        verts, joints = [], []
        for a in range(0, T, chunk):
            n = min(chunk, T - a)
            delta = torch.eye(4, dtype=self.model.dtype).repeat(n, len(self.bone_labels), 1, 1)
            for label, R in rotations.items():
                delta[:, self.bone_labels.index(label), :3, :3] = torch.as_tensor(
                    np.asarray(R[a:a + n]), dtype=self.model.dtype)
            with torch.no_grad():
                out = self.model(delta, phenotype_kwargs=self.phenotype or None)
                kp = self._regressor(out)
            v = out["vertices"].cpu().numpy()
            heads = out["bone_poses"][..., :3, 3].cpu().numpy()
            verts.append(v)
            joints.append(self._body33(heads, kp.cpu().numpy()))
        return PosedBody(vertices=np.concatenate(verts), joints=np.concatenate(joints))

    def _body33(self, heads: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        out = np.full((heads.shape[0], len(BODY_33), 3), np.nan)
        for j, b in self._bone_idx.items():
            out[:, j] = heads[:, b]
        for j, k in self._kp_idx.items():
            out[:, j] = keypoints[:, k]
        return out


def _resolve_sources(bones: tuple[str, ...], keypoints: tuple[str, ...]
                     ) -> tuple[dict[int, int], dict[int, int]]:
    """BODY_33 index -> bone index and BODY_33 index -> keypoint index of
    :data:`JOINT_SOURCES`, validated against the model."""
    bone_idx, kp_idx = {}, {}
    for s in JOINT_SOURCES:
        j = BODY_33.index(s.body33)
        if s.bone is not None:
            if s.bone not in bones:
                raise BodyModelError(_UNKNOWN_SOURCE.format(kind="bone", name=s.bone, joint=s.body33,
                                                            available=", ".join(bones)))
            bone_idx[j] = bones.index(s.bone)
        elif s.keypoint is not None:
            if s.keypoint not in keypoints:
                raise BodyModelError(_UNKNOWN_SOURCE.format(
                    kind="keypoint", name=s.keypoint, joint=s.body33, available=", ".join(keypoints)))
            kp_idx[j] = keypoints.index(s.keypoint)
    return bone_idx, kp_idx
