"""The new-individual threshold fitted on validation queries to maximise MAP@5, globally and per
species, as the Happywhale 2022 and Humpback 2019 solutions did: ``new_individual`` is inserted
into each top-5 at the first position whose score falls below the threshold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from photoid.metrics import NEW_INDIVIDUAL, insert_new_individual, threshold_sweep
from photoid.metrics.ranking import Label


@dataclass(frozen=True)
class SpeciesThresholds:
    """A global threshold and, where a species had enough validation queries, its own.

    ``map5`` holds the validation MAP@5 reached by each fitted threshold (key ``""`` = global).
    """

    global_threshold: float
    per_species: dict[str, float] = field(default_factory=dict)
    map5: dict[str, float] = field(default_factory=dict)

    def for_species(self, species: str | None) -> float:
        if species is not None and species in self.per_species:
            return self.per_species[species]
        return self.global_threshold


def fit_thresholds(
    truth: Sequence[Label],
    predictions: Sequence[Sequence[Label]],
    scores: np.ndarray,
    species: Sequence[str | None] | None = None,
    *,
    min_queries: int = 20,
    k: int = 5,
) -> SpeciesThresholds:
    """Fit on validation queries whose right answer is known (``new_individual`` for unseen).

    ``predictions``: ranked identities per query (new_individual not yet inserted); ``scores``:
    ``(n, m)`` their scores, descending. A species with fewer than ``min_queries`` queries, or
    none of them new, uses the global threshold (too little evidence to fit its own).
    """
    sweep = threshold_sweep(truth, predictions, scores, k=k)
    global_threshold, global_map = sweep.best
    fitted = SpeciesThresholds(float(global_threshold), {}, {"": float(global_map)})
    if species is None:
        return fitted
    names = np.asarray([s if s is not None else "" for s in species], dtype=object)
    is_new = np.asarray([t == NEW_INDIVIDUAL for t in truth])
    for name in sorted({n for n in names if n}):
        rows = np.flatnonzero(names == name).tolist()
        if len(rows) < min_queries or not is_new[rows].any() or is_new[rows].all():
            continue
        part = threshold_sweep(
            [truth[i] for i in rows], [predictions[i] for i in rows], scores[rows], k=k
        )
        threshold, value = part.best
        fitted.per_species[name] = float(threshold)
        fitted.map5[name] = float(value)
    return fitted


def apply_thresholds(
    predictions: Sequence[Sequence[Label]],
    scores: np.ndarray,
    thresholds: SpeciesThresholds,
    species: Sequence[str | None] | None = None,
    *,
    k: int = 5,
) -> list[list[Label]]:
    """Insert ``new_individual`` into each query's top ``k`` with its species' threshold."""
    out: list[list[Label]] = []
    for i, ranked in enumerate(predictions):
        threshold = thresholds.for_species(species[i] if species is not None else None)
        out.extend(insert_new_individual([ranked], scores[i : i + 1], threshold, k=k))
    return out
