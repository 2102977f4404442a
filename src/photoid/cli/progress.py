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


@contextmanager
def stage_progress() -> Iterator[StageProgress]:
    """Yields a callback: ``(stage, 0, total)`` opens a bar, ``(stage, n, total)`` advances it."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            if done:
                bars.advance(tasks[stage], done)

        yield update
