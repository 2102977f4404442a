"""Each engine's score and rank for every identity of the gallery, per query, as plain arrays.

The identities form one ordered universe shared by all engines (columns); an engine that lists
only some identities (the local engine ranks its verified shortlist) leaves the others at its
floor score and at rank ``listed`` (after every listed one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from photoid.core import Identification
from photoid.search.gallery import Gallery


@dataclass(frozen=True)
class ScoreTable:
    """``scores``: ``(n, C)`` float64 score of identity ``c`` for query ``i``; ``ranks``:
    ``(n, C)`` int64 0-based rank of ``c`` in the engine's answer for ``i``."""

    scores: np.ndarray
    ranks: np.ndarray


def columns_of(universe: Sequence[str], identities: Sequence[str]) -> np.ndarray:
    """``(len(identities),)`` int64 universe column of each name (every name must be in it)."""
    lookup = {name: c for c, name in enumerate(universe)}
    return np.asarray([lookup[name] for name in identities], np.int64)


def ranks_of(scores: np.ndarray) -> np.ndarray:
    """``(n, C)`` int64 0-based descending rank of each score in its row (ties: lower column
    first)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty(scores.shape, np.int64)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :], axis=1)
    return ranks


def global_table(
    gallery: Gallery,
    vectors: np.ndarray,
    universe: Sequence[str],
    *,
    exclude: Sequence[np.ndarray] | None = None,
    floor: float = -1.0,
    chunk: int = 256,
) -> ScoreTable:
    """Identity score = similarity of its most similar gallery photo, for ``(n, D)`` unit query
    ``vectors``; ``exclude[i]``: ``(m,)`` int64 gallery rows left out for query ``i`` (a group
    of dependent photos; empty: none). Identities
    with no photo in this gallery (or none left) score ``floor``. ``chunk`` queries at a time
    (a ``(chunk, N)`` similarity matrix in memory)."""
    n, width = vectors.shape[0], len(universe)
    scores = np.full((n, width), floor, np.float64)
    if len(gallery) == 0:
        return ScoreTable(scores, ranks_of(scores))
    columns = columns_of(universe, gallery.identities)
    order = np.argsort(columns, kind="stable")
    ordered = columns[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    for begin in range(0, n, chunk):
        sims = vectors[begin : begin + chunk] @ gallery.embeddings.T
        if exclude is not None:
            for j, rows in enumerate(exclude[begin : begin + chunk]):
                sims[j, rows] = -np.inf
        best = np.maximum.reduceat(sims[:, order], starts, axis=1)
        scores[begin : begin + chunk, ordered[starts]] = np.where(np.isfinite(best), best, floor)
    return ScoreTable(scores, ranks_of(scores))


def answer_table(
    answers: Sequence[Identification], universe: Sequence[str], floor: float = 0.0
) -> ScoreTable:
    """The ranked candidates of each answer (the local engine's); identities not listed score
    ``floor`` at rank ``len(candidates)``."""
    lookup = {name: c for c, name in enumerate(universe)}
    scores = np.full((len(answers), len(universe)), floor, np.float64)
    ranks = np.empty(scores.shape, np.int64)
    for i, answer in enumerate(answers):
        ranks[i] = len(answer.candidates)
        for j, candidate in enumerate(answer.candidates):
            scores[i, lookup[candidate.identity]] = candidate.score
            ranks[i, lookup[candidate.identity]] = j
    return ScoreTable(scores, ranks)
