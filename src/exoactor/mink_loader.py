"""mink's QP layer imported without the solver backends the IK does not use (shared by the
retarget stage and the scene stage's seat-contact reference, which both solve IK with mink).

mink imports ``qpsolvers``, whose package import tries every QP backend it knows. One of them
(``jaxopt_osqp``) imports JAX, which is installed here as a dependency of MediaPipe: that alone
costs ~1.2-1.6 s of CPU in every process that retargets (more than the IK of a 4 s clip). mink
is solved with ``daqp`` only (:mod:`exoactor.retarget.ik`, :mod:`exoactor.scene.contact_ref`),
so ``qpsolvers`` is imported with the modules of :data:`SKIPPED_MODULES` reported missing; its
other backends, and a later ``import jax`` anywhere in the process, are unaffected. When JAX is
already imported, nothing is skipped (it costs nothing then).

:func:`import_mink` does this and returns mink; the IK entry points call it before any module
that imports mink at its top (:mod:`exoactor.retarget.keypoint_task`, ``collision_limit``,
``ground_limit``), so those find mink already imported. Importing this module changes nothing.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType

SKIPPED_MODULES = ("jax", "jaxopt")
"""Modules ``qpsolvers`` is imported without (its ``jaxopt_osqp`` backend needs them)."""


@contextlib.contextmanager
def modules_missing(names: Sequence[str]) -> Iterator[None]:
    """Within the block, ``import NAME`` raises ImportError for each of ``names`` not yet
    imported (``sys.modules[NAME] = None``); afterwards they import normally again."""
    blocked = [n for n in names if n not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def import_mink() -> ModuleType:
    """``mink``, its ``qpsolvers`` imported with :data:`SKIPPED_MODULES` missing when neither
    ``qpsolvers`` nor JAX is imported yet (when JAX is, it costs nothing: nothing is skipped)."""
    if "qpsolvers" not in sys.modules and "jax" not in sys.modules:
        with modules_missing(SKIPPED_MODULES):
            import qpsolvers  # noqa: F401
    import mink

    return mink
