"""Pose backends, one per file, each registering itself in
:data:`exoactor.perceive.backend.pose_backends` when imported."""
