"""mink's solver layer is imported without JAX (exoactor.mink_loader)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exoactor.mink_loader import modules_missing

SRC = Path(__file__).resolve().parents[1] / "src"


def _fresh(code: str) -> dict:
    """Run ``code`` in a fresh interpreter with this checkout's code; its last printed JSON."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(importlib.util.find_spec("mink") is None, reason="mink not installed")
def test_retarget_imports_mink_without_jax():
    out = _fresh(
        "import json, sys\n"
        "from exoactor.retarget.api import _require_solver\n"
        "_require_solver()\n"
        "import exoactor.retarget.ik, exoactor.retarget.collision_limit, mink, qpsolvers\n"
        "print(json.dumps({'jax': sys.modules.get('jax') is not None,\n"
        "                  'jaxopt': sys.modules.get('jaxopt') is not None,\n"
        "                  'solvers': qpsolvers.available_solvers,\n"
        "                  'blocked': [n for n in ('jax', 'jaxopt')\n"
        "                              if n in sys.modules and sys.modules[n] is None]}))")
    assert not out["jax"] and not out["jaxopt"], out
    assert "daqp" in out["solvers"]  # the IK's solver is there
    assert out["blocked"] == []  # nothing left blocked


@pytest.mark.skipif(importlib.util.find_spec("mink") is None
                    or importlib.util.find_spec("jax") is None, reason="mink or jax missing")
def test_jax_imports_normally_after_mink():
    out = _fresh("import json, sys\nfrom exoactor.mink_loader import import_mink\n"
                 "import_mink()\nimport jax.numpy\n"
                 "print(json.dumps({'jax': 'jax' in sys.modules}))")
    assert out["jax"]


def test_modules_missing_restores_the_import_state():
    name = "exoactor_qp_test_absent_module"
    assert name not in sys.modules
    already = "json"  # imported: never blocked
    with modules_missing([name, already]):
        with pytest.raises(ImportError):
            __import__(name)
        assert sys.modules[already] is not None
    assert name not in sys.modules


def test_importing_the_retarget_package_changes_no_import_machinery():
    """Importing the package neither installs an import hook nor imports (or blocks) anything
    of mink's: the JAX-free import happens when the IK asks for mink."""
    out = _fresh("import json, sys\nbefore = len(sys.meta_path)\nimport exoactor.retarget\n"
                 "print(json.dumps({'same': len(sys.meta_path) == before,\n"
                 "                  'mink': 'mink' in sys.modules or 'qpsolvers' in sys.modules,\n"
                 "                  'blocked': [n for n, m in sys.modules.items() if m is None\n"
                 "                              and n in ('jax', 'jaxopt')]}))")
    assert out == {"same": True, "mink": False, "blocked": []}
