"""Progress bars for long work (rich), as ``callback(done, total)`` functions the library accepts."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["progress_callback"]


@contextlib.contextmanager
def progress_callback(description: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``callback(done, total)`` that drives one rich progress bar (a no-op when disabled)."""
    if not enabled:
        yield lambda done, total: None
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
