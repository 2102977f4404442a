"""Rich progress bars on stderr for library calls that report ``(stage, done, total)``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

StageProgress = Callable[[str, int, int], None]


def _bars(label: str = "{task.description}", *, transient: bool = False) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=transient,
    )


@contextmanager
def progress_bar(label: str, total: int | None = None) -> Iterator[tuple[Progress, TaskID]]:
    """One transient bar on stderr: yields the Progress and its task for ``update``/``advance``."""
    with _bars(label, transient=True) as bar:
        yield bar, bar.add_task(label, total=total)


@contextmanager
def stage_progress() -> Iterator[StageProgress]:
    """Yields a callback: ``(stage, 0, total)`` opens a bar, ``(stage, n, total)`` advances it."""
    with _bars() as bars:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            if done:
                bars.advance(tasks[stage], done)

        yield update
