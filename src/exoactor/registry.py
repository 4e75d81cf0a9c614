"""Name -> implementation registries that import lazily.

A backend lives in one file and registers itself with a decorator. A registry also knows the
module of each built-in backend so ``names()`` and ``get()`` work without importing anything
heavy; an uninstalled backend reports its install hint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Generic, TypeVar

from exoactor.errors import UnknownName

T = TypeVar("T")


@dataclass
class Registry(Generic[T]):
    """A registry of named implementations of one interface (e.g. controllers)."""

    kind: str
    """What the entries are, for messages (e.g. "controller")."""
    builtin: dict[str, str] = field(default_factory=dict)
    """Built-in entry name -> module that registers it when imported."""
    hints: dict[str, str] = field(default_factory=dict)
    """Entry name -> install hint shown when its module cannot be imported."""
    _entries: dict[str, T] = field(default_factory=dict)

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self._entries[name] = obj
            return obj

        return deco

    def names(self) -> list[str]:
        return sorted(set(self.builtin) | set(self._entries))

    def get(self, name: str) -> T:
        if name not in self._entries and name in self.builtin:
            try:
                import_module(self.builtin[name])
            except ImportError as exc:
                hint = self.hints.get(name, "pip install 'exoactor[all]'")
                raise UnknownName(
                    f"{self.kind} '{name}' is not installed ({exc}): {hint}") from exc
        if name not in self._entries:
            raise UnknownName(
                f"unknown {self.kind} '{name}'; available: {', '.join(self.names())}")
        return self._entries[name]
