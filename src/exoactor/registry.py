"""Name -> backend registries that find their backends by module and build them one way.

The convention, the same for every kind of backend (pose backends, controllers, planners, scene
editors, video generators, batch executors):

* A backend is one module in its registry's package. It subclasses the interface, declares its
  settings as one frozen pydantic model in the class attribute ``Config``, and registers itself
  with ``@<registry>.register("name")``. It may set a module-level ``INSTALL_HINT = "..."``
  shown when its dependencies are missing. Adding a backend edits no other file.
* The registry lists its backends by reading (not importing) the modules of its package for
  that decorator, so ``names()`` is cheap and pulls in no heavy dependency; ``get(name)``
  imports the one module.
* ``build(name, options, **context)`` validates ``options`` (a plain mapping, e.g. a stage
  config's ``backend_options``) against the backend's ``Config`` and returns
  ``cls(config=Config(**options), **context)``; ``context`` is what the interface passes to
  every backend of its kind (e.g. the joint names of a controller).

A backend outside the package (a plugin) registers by being imported before it is used.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from exoactor.errors import ExoActorError, InvalidOptions, UnknownName

if TYPE_CHECKING:
    from pydantic import BaseModel

T = TypeVar("T")

DEFAULT_HINT = "pip install 'exoactor[all]'"
BAD_OPTIONS = "{kind} '{name}': invalid options {options}: {why}. Valid fields: {fields}"


@dataclass(frozen=True)
class Found:
    """A backend found in a module of a registry's package (without importing it)."""

    name: str
    module: str
    install_hint: str


def _decorated_names(tree: ast.Module, variable: str) -> list[str]:
    """Names given to ``@<variable>.register("name")`` decorators in a parsed module."""
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef | ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                    and deco.func.attr == "register" and isinstance(deco.func.value, ast.Name)
                    and deco.func.value.id == variable and deco.args
                    and isinstance(deco.args[0], ast.Constant)
                    and isinstance(deco.args[0].value, str)):
                out.append(deco.args[0].value)
    return out


def _install_hint(tree: ast.Module) -> str:
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "INSTALL_HINT"
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return node.value.value
    return DEFAULT_HINT


def discover(package: str, variable: str, folders: Iterable[Path] | None = None
             ) -> dict[str, Found]:
    """Backends registered with ``@<variable>.register(...)`` in the modules of ``package``.

    Reads the source of every module directly in the package's folder (``folders``, default:
    found by importing the package's parents, not the package); imports no backend.

    Raises:
        ExoActorError: two modules register the same name.
    """
    if folders is None:
        spec = find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ExoActorError(f"backend package '{package}' is not a package")
        folders = spec.submodule_search_locations
    found: dict[str, Found] = {}
    needle = f"{variable}.register("
    for folder in folders:
        for path in sorted(Path(folder).glob("*.py")):
            text = path.read_text(encoding="utf-8")
            if needle not in text:
                continue
            tree = ast.parse(text, filename=str(path))
            module = f"{package}.{path.stem}"
            for name in _decorated_names(tree, variable):
                if name in found and found[name].module != module:
                    raise ExoActorError(f"backend name '{name}' is registered twice: in "
                                        f"{found[name].module} and {module}")
                found[name] = Found(name, module, _install_hint(tree))
    return found


@dataclass
class Registry(Generic[T]):
    """The backends of one interface (e.g. controllers), found in the modules of ``package``."""

    kind: str
    """What the entries are, for messages (e.g. "controller")."""
    package: str
    """Package whose modules hold the backends (e.g. ``"exoactor.control"``)."""
    variable: str
    """Name the backends' modules use for this registry in ``@<variable>.register(...)``."""
    _entries: dict[str, T] = field(default_factory=dict)
    _found: dict[str, Found] | None = None

    def register(self, name: str) -> Callable[[T], T]:
        """Class decorator: register the backend under ``name``."""
        def deco(obj: T) -> T:
            self._entries[name] = obj
            return obj

        return deco

    def found(self) -> dict[str, Found]:
        """The backends in the package's modules, by name (read once, then cached)."""
        if self._found is None:
            self._found = discover(self.package, self.variable)
        return self._found

    def names(self) -> list[str]:
        """Every backend name: those in the package and those registered from elsewhere."""
        return sorted(set(self.found()) | set(self._entries))

    def get(self, name: str) -> T:
        """The backend class registered as ``name`` (its module is imported on first use).

        Raises:
            UnknownName: no such backend (the message lists them), or it is not installed
                (the message gives its install hint).
        """
        found = self.found().get(name)
        if name not in self._entries and found is not None:
            try:
                import_module(found.module)
            except ImportError as exc:
                raise UnknownName(f"{self.kind} '{name}' is not installed ({exc}): "
                                  f"{found.install_hint}") from exc
        if name not in self._entries:
            raise UnknownName(
                f"unknown {self.kind} '{name}'; available: {', '.join(self.names())}")
        return self._entries[name]

    def config_class(self, name: str) -> type[BaseModel]:
        """The ``Config`` model of backend ``name``."""
        from pydantic import BaseModel

        cls = self.get(name)
        config = getattr(cls, "Config", None)
        if not (isinstance(config, type) and issubclass(config, BaseModel)):
            raise ExoActorError(f"{self.kind} '{name}' ({cls!r}) declares no pydantic Config")
        return config

    def validate(self, name: str, options: Mapping[str, Any] | BaseModel | None = None
                 ) -> BaseModel:
        """``options`` as backend ``name``'s ``Config``.

        Raises:
            UnknownName: no such backend, or it is not installed.
            InvalidOptions: ``options`` do not fit the backend's ``Config`` (the message names
                the bad field and lists the valid ones).
        """
        from pydantic import BaseModel, ValidationError

        config_cls = self.config_class(name)
        if isinstance(options, config_cls):
            return options
        if isinstance(options, BaseModel):
            options = options.model_dump()
        try:
            return config_cls.model_validate(dict(options or {}))
        except ValidationError as exc:
            raise InvalidOptions(BAD_OPTIONS.format(
                kind=self.kind, name=name, options=dict(options or {}),
                why="; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                              for e in exc.errors()),
                fields=", ".join(config_cls.model_fields) or "(none)")) from None

    def build(self, name: str, options: Mapping[str, Any] | BaseModel | None = None,
              /, **context: Any) -> T:
        """Backend ``name`` built as ``cls(config=<its Config from options>, **context)``."""
        cls = self.get(name)
        return cls(config=self.validate(name, options), **context)  # type: ignore[operator]
