"""User-facing output: one rich console and one progress factory. Library code logs instead."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import TypeVar

T = TypeVar("T")


@cache
def console():  # noqa: ANN201 - rich imported lazily
    """The shared rich console (stderr so stdout stays clean for data)."""
    from rich.console import Console

    return Console(stderr=True)


def progress(items: Iterable[T], description: str, total: int | None = None,
             unit: str = "item") -> Iterator[T]:
    """Iterate with a rich progress bar on the shared console (quiet when not a terminal)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(unit), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console(), transient=True,
                  disable=not console().is_terminal) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
