"""The learned pair verifier (:mod:`photoid.calibrate.verifier`) as one more engine of the
fusion: for the deep engine's shortlisted identities, the verifier's probability that the query
and the identity's best gallery photo show one individual.

Trained on the gallery's deep embeddings. Calibration queries drawn from the gallery itself
would be pairs it was trained on, so those are scored cross-fitted: the identities are dealt
into ``folds`` groups and a query is scored by the verifier that never saw its identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from photoid.fusion.scores import ScoreTable, columns_of, ranks_of
from photoid.search.gallery import Gallery

if TYPE_CHECKING:  # torch
    from photoid.calibrate.verifier import PairVerifier


def shortlist_scores(
    verifier: PairVerifier,
    vectors: np.ndarray,
    gallery: Gallery,
    universe: Sequence[str],
    candidates: np.ndarray,
    exclude: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """``(n, C)`` float64: for query ``i`` and each universe column where ``candidates[i]`` is
    true, the best verifier probability over that identity's gallery photos (``exclude[i]``,
    ``(m,)`` int64 gallery rows, left out); 0 elsewhere."""
    from photoid.calibrate.verifier import score_pairs  # torch

    scores = np.zeros(candidates.shape, np.float64)
    owner = columns_of(universe, gallery.identities)
    for i in range(vectors.shape[0]):
        rows = np.flatnonzero(candidates[i][owner])
        if exclude is not None:
            rows = rows[~np.isin(rows, exclude[i])]
        if rows.size == 0:
            continue
        query = np.repeat(vectors[i : i + 1], rows.size, axis=0)
        probability = score_pairs(verifier, query, gallery.embeddings[rows])
        np.maximum.at(scores[i], owner[rows], probability)
    return scores


def cross_fitted(
    gallery: Gallery, folds: int = 2, seed: int = 0, epochs: int = 20
) -> tuple[list[PairVerifier], np.ndarray] | None:
    """One verifier per fold of identities, each trained without that fold, and ``(C',)``
    the fold of each of the gallery's identities (``gallery.names`` order); None when a fold's
    complement cannot train one (too few identities or photos)."""
    from photoid.calibrate.verifier import train_verifier  # torch

    fold = np.random.default_rng(seed).permutation(len(gallery.names)) % folds
    models = []
    for f in range(folds):
        keep = fold[gallery.labels] != f
        labels = gallery.labels[keep]
        counts = np.bincount(labels) if labels.size else np.zeros(0, np.int64)
        if np.unique(labels).size < 2 or not (counts > 1).any():
            return None
        models.append(train_verifier(gallery.embeddings[keep], labels, epochs=epochs, seed=seed))
    return models, fold


def verifier_table(
    models: Sequence[PairVerifier],
    model_of_query: np.ndarray,
    vectors: np.ndarray,
    gallery: Gallery,
    universe: Sequence[str],
    deep: ScoreTable,
    size: int,
    exclude: Sequence[np.ndarray] | None = None,
) -> ScoreTable:
    """The verifier engine's table: query ``i`` is scored by ``models[model_of_query[i]]`` on
    the identities the deep engine ranks among its ``size`` best (``exclude[i]``: gallery rows
    left out)."""
    scores = np.zeros(deep.scores.shape, np.float64)
    candidates = deep.ranks < size
    for m, model in enumerate(models):
        mine = np.flatnonzero(model_of_query == m)
        if mine.size:
            scores[mine] = shortlist_scores(
                model,
                vectors[mine],
                gallery,
                universe,
                candidates[mine],
                None if exclude is None else [exclude[q] for q in mine.tolist()],
            )
    return ScoreTable(scores, ranks_of(scores))
