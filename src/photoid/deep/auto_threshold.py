"""The deep engine's new-individual threshold, fitted on the gallery alone by leave-one-out.

Each gallery photo queries the rest of the gallery with its own photo left out. Its truth is its
identity when that identity has another gallery photo, else ``new_individual`` (the individual
is then absent, as a new one is). The share of such singleton queries is the Good-Turing
estimate of how often the next photo shows an unseen individual, so fitting
:func:`photoid.decide.fit_thresholds` (MAP@5, globally and per species) on these queries weighs
known and new as the gallery suggests. No query labels are used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from photoid.decide import SpeciesThresholds, fit_thresholds
from photoid.metrics import NEW_INDIVIDUAL


class LeaveOneOut(Protocol):
    """An engine whose gallery photos can each be ranked against the rest of the gallery."""

    @property
    def identities(self) -> list[str]: ...

    def leave_one_out(self, k: int = 5) -> tuple[list[list[str]], np.ndarray]: ...


@dataclass(frozen=True)
class GalleryFit:
    """Fitted thresholds, and how many leave-one-out queries (``new`` of them singletons)."""

    thresholds: SpeciesThresholds
    queries: int
    new: int


def leave_one_out_truth(identities: Sequence[str]) -> list[str]:
    """Each gallery photo's truth when it queries the rest: its identity, or ``new_individual``
    when it is the identity's only photo."""
    counts = Counter(identities)
    return [name if counts[name] >= 2 else NEW_INDIVIDUAL for name in identities]


def fit_gallery_threshold(
    engine: LeaveOneOut,
    species: Sequence[str | None] | None = None,
    *,
    min_queries: int = 20,
) -> GalleryFit | None:
    """Fit the new-individual threshold on the engine's gallery by leave-one-out.

    ``species``: one per gallery photo (as added), for per-species thresholds (a species needs
    ``min_queries`` photos, some of them singletons). Returns None for an empty gallery.
    Without any singleton the best threshold is ``-inf``: never call a query new.
    """
    truth = leave_one_out_truth(engine.identities)
    if not truth:
        return None
    ranked, scores = engine.leave_one_out(5)
    fitted = fit_thresholds(truth, ranked, scores, species, min_queries=min_queries)
    return GalleryFit(fitted, len(truth), truth.count(NEW_INDIVIDUAL))
