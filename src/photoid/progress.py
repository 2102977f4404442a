"""Progress reporting between library calls and the CLI: ``(stage, done, total)`` callbacks."""

from __future__ import annotations

from collections.abc import Callable

StageProgress = Callable[[str, int, int], None]


def stage_callback(
    progress: StageProgress | None, name: str, total: int
) -> Callable[[int], None] | None:
    """Announce ``name`` with its ``total`` and return a ``step(count)`` callback (or None)."""
    if progress is None:
        return None
    progress(name, 0, total)

    def step(count: int) -> None:
        progress(name, count, total)

    return step
