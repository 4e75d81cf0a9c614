import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def walk_motion():
    """The first 3 s of a shared walk."""
    from exoactor.formats import load_motion

    root = Path(os.environ["EXOACTOR_ASSETS"]) / "twist2" / "motions"
    motion = load_motion(root / "0807_yanjie_walk_001.pkl")
    return motion.slice(0, int(3 * motion.fps))
