"""Rich progress bars on stderr for library calls that report ``(stage, done, total)``: each
with its count, elapsed time and time remaining; none at all under ``--quiet`` (or
``PHOTOID_QUIET=1``). Where stderr is not a terminal (a log file), each bar is written once, in
its final state, when its command ends."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

StageProgress = Callable[[str, int, int], None]
_QUIET = {"on": False}


def set_quiet(value: bool) -> bool:
    """Typer callback of ``--quiet`` (called for every command that has it, given or not):
    no progress bars for this command."""
    _QUIET["on"] = value
    return value


def bars_silenced() -> bool:
    """Whether progress bars are silenced (``--quiet`` or ``PHOTOID_QUIET=1``)."""
    return _QUIET["on"] or os.environ.get("PHOTOID_QUIET", "") not in ("", "0")


QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        callback=set_quiet,
        help="No progress bars (also PHOTOID_QUIET=1); results and errors still print.",
    ),
]


def _bars(label: str = "{task.description}", *, transient: bool = False) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=transient,
        disable=bars_silenced(),
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
