"""mink's QP layer imported without the solver backends the IK does not use (shared by the
retarget stage and the scene stage's seat-contact reference, which both solve IK with mink).

mink imports ``qpsolvers``, whose package import tries every QP backend it knows. One of them
(``jaxopt_osqp``) imports JAX, which is installed here as a dependency of MediaPipe: that alone
costs ~1.2-1.6 s of CPU in every process that retargets (more than the IK of a 4 s clip). mink
is solved with ``daqp`` only (:mod:`exoactor.retarget.ik`, :mod:`exoactor.scene.contact_ref`),
so ``qpsolvers`` is imported with the modules of :data:`SKIPPED_MODULES` reported missing; its
other backends, and a later ``import jax`` anywhere in the process, are unaffected. When JAX is
already imported, nothing is skipped (it costs nothing then).

:func:`install` puts a one-shot import hook for ``qpsolvers`` in front of :data:`sys.meta_path`
(importing :mod:`exoactor.retarget` installs it, so every module of that package that imports
mink gets it, whatever the import order); :func:`import_mink` installs it and imports mink, for
code outside that package.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
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


class _SkippingLoader(importlib.abc.Loader):
    """Runs a module's own loader with :data:`SKIPPED_MODULES` missing."""

    def __init__(self, loader: importlib.abc.Loader):
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        if "jax" in sys.modules:  # already paid for: let qpsolvers have its JAX backend
            self._loader.exec_module(module)
            return
        with modules_missing(SKIPPED_MODULES):
            self._loader.exec_module(module)

    def __getattr__(self, name: str):  # noqa: ANN204 - the wrapped loader's other methods
        return getattr(self._loader, name)


class _QpsolversFinder(importlib.abc.MetaPathFinder):
    """Finds ``qpsolvers`` as the other finders do, and loads it with :class:`_SkippingLoader`."""

    def find_spec(self, fullname: str, path, target=None):  # noqa: ANN001, ANN201
        if fullname != "qpsolvers":
            return None
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, _QpsolversFinder):
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                with contextlib.suppress(ValueError):  # one-shot: qpsolvers is found once
                    sys.meta_path.remove(self)
                if spec.loader is not None:
                    spec.loader = _SkippingLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Put the ``qpsolvers`` hook first in :data:`sys.meta_path` (idempotent; nothing to do once
    ``qpsolvers`` is imported)."""
    if "qpsolvers" in sys.modules or any(isinstance(f, _QpsolversFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QpsolversFinder())


def import_mink() -> ModuleType:
    """``mink``, with ``qpsolvers`` imported through the hook of :func:`install`."""
    install()
    import mink

    return mink
