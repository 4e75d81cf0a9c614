"""Every registered pose backend runs on a tiny real clip; the package imports light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exoactor.perceive import PoseBackend, PoseObservations, pose_backends
from exoactor.perceive.config import PerceiveConfig
from exoactor.perceive.video import open_video


def test_listed_backends_resolve_to_pose_backends() -> None:
    """Every listed name imports and registers a PoseBackend subclass under that name."""
    names = pose_backends.names()
    assert "mediapipe" in names
    for name in names:
        cls = pose_backends.get(name)
        assert isinstance(cls, type) and issubclass(cls, PoseBackend), name


@pytest.mark.parametrize("name", pose_backends.names())
def test_backend_runs_on_tiny_clip(name: str, clips: dict[str, Path]) -> None:
    backend = pose_backends.build(name, {}, stage=PerceiveConfig())
    assert isinstance(backend, PoseBackend)
    obs = backend.estimate(open_video(clips["short"]), hands=True)
    assert isinstance(obs, PoseObservations)
    assert obs.num_frames == 20 and obs.detected.mean() > 0.9
    d = obs.detected
    assert np.isfinite(obs.kp_px[d]).all() and np.isfinite(obs.kp_rel_c[d]).all()
    assert obs.hand_rel_c is not None and obs.hand_rel_c.shape == (20, 2, 21, 3)
    # the hip-centred 3D is metric: hips about 20-40 cm apart
    hips = np.linalg.norm(obs.kp_rel_c[d, 23] - obs.kp_rel_c[d, 24], axis=-1)
    assert 0.1 < np.median(hips) < 0.5


def test_importing_the_stage_loads_no_heavy_dependency() -> None:
    code = ("import sys, exoactor, exoactor.perceive, exoactor.perceive.run, "
            "exoactor.perceive.importers.gvhmr\n"
            "heavy = [m for m in ('mediapipe', 'torch', 'cv2') if m in sys.modules]\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_mediapipe_import_leaves_pyplot_until_it_is_used() -> None:
    """mediapipe's solutions import matplotlib.pyplot for drawing helpers (~0.3 s of CPU);
    after :func:`import_mediapipe` pyplot is a stand-in, and the first use loads the real one
    (for mediapipe's own reference to it too)."""
    code = ("import sys\n"
            "from exoactor.perceive.detect import import_mediapipe\n"
            "import_mediapipe()\n"
            "assert 'matplotlib.figure' not in sys.modules\n"
            "import matplotlib.pyplot as plt\n"
            "from mediapipe.python.solutions import drawing_utils\n"
            "assert 'matplotlib.figure' not in sys.modules\n"
            "import matplotlib\n"
            "matplotlib.use('Agg')  # as control.filter.run does, later in the same process\n"
            "fig = plt.figure()\n"
            "assert type(sys.modules['matplotlib.pyplot']).__name__ == 'module'\n"
            "assert drawing_utils.plt.close is sys.modules['matplotlib.pyplot'].close\n"
            "assert 'matplotlib.figure' in sys.modules\n"
            "assert matplotlib.get_backend().lower() == 'agg'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
