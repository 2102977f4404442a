"""The local engines' part of the fused engine: answers with gallery photos left out, and
which gallery row each engine's photo came from."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np

from photoid.core import Identification
from photoid.fusion.config import Queries
from photoid.fusion.scores import ScoreTable
from photoid.local.engine import LocalEngine
from photoid.local.extraction import extract_many

Progress = Callable[[int], None]


def local_answers(
    engine: LocalEngine,
    queries: Queries,
    exclude: Sequence[Collection[int]] | None,
    rows: dict[int, int],
    progress: Progress | None,
) -> tuple[list[Identification], list[str | None]]:
    """The local engine's answer to each query and each query's load error (None if read);
    ``exclude[i]``: gallery positions left out for query ``i`` (``rows``: position -> row)."""
    count = len(queries.paths)
    views = queries.viewpoints or [None] * count
    extracted = extract_many(
        queries.paths, queries.bboxes or [None] * count, engine.config, engine.cache
    )
    answers: list[Identification] = []
    errors: list[str | None] = []
    for i, result in enumerate(extracted):
        left_out = None if exclude is None else engine_rows(exclude[i], rows)
        if result.features is None:
            answers.append(Identification(queries.names[i], warning=result.error))
            errors.append(result.error)
        else:
            view = None if views[i] is None else str(views[i])
            answers.append(
                engine.identify_features(
                    queries.names[i],
                    result.features,
                    view,
                    exclude=left_out,
                )
            )
            errors.append(None)
        if progress is not None:
            progress(1)
    return answers, errors


def engine_rows(positions: Collection[int], rows: dict[int, int]) -> np.ndarray:
    """``(m,)`` int64 sorted rows of an engine holding the gallery ``positions`` it has
    (``rows``: position -> row)."""
    held = sorted(rows[p] for p in positions if p in rows)
    return np.asarray(held, np.int64)


def without_own(table: ScoreTable, own: np.ndarray) -> ScoreTable:
    """``table`` ranked as if query ``i``'s identity ``own[i]`` (-1: none) were not in the
    gallery: the identities ranked below it move up one."""
    rows = np.flatnonzero(own >= 0)
    ranks = table.ranks.copy()
    ranks[rows] -= ranks[rows] > ranks[rows, own[rows]][:, None]
    return ScoreTable(table.scores, ranks)


def gallery_positions(
    images: Sequence[str], owners: Sequence[str], names: Sequence[str], identities: Sequence[str]
) -> list[int]:
    """The gallery position of each engine photo. An engine holds the gallery's rows in order
    less those it skipped (unknown identity, unreadable), so they are matched in order by image
    name and identity (one photo may be listed once per box)."""
    out: list[int] = []
    p = 0
    for image, owner in zip(images, owners, strict=True):
        while names[p] != image or identities[p] != owner:
            p += 1
        out.append(p)
        p += 1
    return out


def text_cell(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value).strip() or None
