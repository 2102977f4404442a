"""The local engines' part of the fused engine: answers with a gallery photo left out, and
which gallery row each engine's photo came from."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from photoid.fusion.config import Queries
from photoid.fusion.scores import ScoreTable
from photoid.local.engine import LocalEngine
from photoid.local.extraction import extract_many
from photoid.local.results import Identification

Progress = Callable[[int], None]


def local_answers(
    engine: LocalEngine,
    queries: Queries,
    exclude: Sequence[int | None] | None,
    rows: dict[int, int],
    progress: Progress | None,
) -> tuple[list[Identification], list[str | None]]:
    """The local engine's answer to each query and each query's load error (None if read);
    ``exclude[i]``: gallery position left out for query ``i`` (``rows``: position -> row)."""
    count = len(queries.paths)
    views = queries.viewpoints or [None] * count
    extracted = extract_many(
        queries.paths, queries.bboxes or [None] * count, engine.config, engine.cache
    )
    answers: list[Identification] = []
    errors: list[str | None] = []
    for i, result in enumerate(extracted):
        left_out = None if exclude is None else exclude[i]
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
                    exclude=None if left_out is None else rows.get(left_out),
                )
            )
            errors.append(None)
        if progress is not None:
            progress(1)
    return answers, errors


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
