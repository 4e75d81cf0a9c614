"""Importers of GPU estimators' outputs (GVHMR, SMPL/SMPL-X parameter sequences), computing
the :data:`~exoactor.skeleton.BODY_33` keypoints with the user's own body-model files."""
