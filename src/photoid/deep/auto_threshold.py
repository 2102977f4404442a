"""The deep engine's new-individual threshold: fitted on validation queries when a split has
them (:func:`fit_query_threshold`), else on the gallery alone, by leave-one-out
(:func:`fit_gallery_threshold`), described here.

Known queries: each gallery photo of an identity with another photo queries the rest of the
gallery with its own photo left out (truth: its identity). New queries: a gallery photo queries
the gallery with its whole identity left out (truth: ``new_individual``); an identity's only
photo is always one. They are mixed so that new queries are a fraction ``f`` of all: the
Good-Turing estimate (singleton photos / photos: how often the next photo shows an unseen
individual) when the gallery has singletons, else ``new_fraction`` (default 0.2, about the
share of new individuals in the Humpback 2019 and Happywhale 2022 test sets), drawn with a
seeded generator. :func:`photoid.decide.fit_thresholds` then maximises MAP@5 on them, globally
and per species. No query labels are used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from photoid.decide import SpeciesThresholds, fit_thresholds
from photoid.errors import PhotoidError
from photoid.metrics import NEW_INDIVIDUAL


class LeaveOneOut(Protocol):
    """An engine whose gallery photos can each be ranked against the rest of the gallery."""

    @property
    def identities(self) -> list[str]: ...

    def leave_one_out(self, k: int = 5) -> tuple[list[list[str]], np.ndarray]: ...


@dataclass(frozen=True)
class GalleryFit:
    """Fitted thresholds, and how many queries they were fitted on (``new`` of them played a
    new individual)."""

    thresholds: SpeciesThresholds
    queries: int
    new: int


DEFAULT_NEW_FRACTION = 0.2


def fit_gallery_threshold(
    engine: LeaveOneOut,
    species: Sequence[str | None] | None = None,
    *,
    min_queries: int = 20,
    new_fraction: float = DEFAULT_NEW_FRACTION,
    seed: int = 0,
) -> GalleryFit | None:
    """Fit the new-individual threshold on the engine's gallery by leave-one-out (see the module
    docstring for the known and new queries and their mix).

    ``species``: one per gallery photo (as added), for per-species thresholds (a species needs
    ``min_queries`` queries). ``new_fraction`` in [0, 1): the share of new queries when the
    gallery has no singleton. Returns None for an empty gallery.
    """
    if not 0.0 <= new_fraction < 1.0:
        raise PhotoidError(f"new_fraction must be in [0, 1), got {new_fraction}")
    identities = engine.identities
    if not identities:
        return None
    counts = Counter(identities)
    ranked, scores = engine.leave_one_out(6)
    known = [i for i, name in enumerate(identities) if counts[name] >= 2]
    singletons = [i for i, name in enumerate(identities) if counts[name] == 1]
    wanted = len(singletons)
    if not singletons:
        wanted = min(len(known), round(new_fraction / (1.0 - new_fraction) * len(known)))
    others = np.random.default_rng(seed).permutation(known)[: max(0, wanted - len(singletons))]
    new = sorted([*singletons, *others.tolist()])
    truth: list[str] = [identities[i] for i in known] + [NEW_INDIVIDUAL] * len(new)
    predictions: list[list[str]] = [ranked[i][:5] for i in known]
    rows: list[np.ndarray] = [scores[i, :5] for i in known]
    for i in new:
        rest, row = _without_own(ranked[i], scores[i], identities[i])
        predictions.append(rest)
        rows.append(row)
    kinds = None if species is None else [species[i] for i in [*known, *new]]
    fitted = fit_thresholds(truth, predictions, np.stack(rows), kinds, min_queries=min_queries)
    return GalleryFit(fitted, len(truth), len(new))


def fit_query_threshold(
    identities: Sequence[str],
    ranked: Sequence[Sequence[str]],
    scores: np.ndarray,
    gallery: Collection[str],
    species: Sequence[str | None] | None = None,
    *,
    min_queries: int = 20,
    new_fraction: float = DEFAULT_NEW_FRACTION,
    seed: int = 0,
) -> GalleryFit | None:
    """Fit the new-individual threshold on validation queries: photos outside the gallery whose
    identities are known, ranked against the gallery (what the competitions' solutions did).

    ``identities``: each query's true identity; ``ranked``/``scores``: its ranked gallery
    identities (at least 6 where queries must play new individuals, see below) and their
    ``(n, m)`` scores, descending; ``gallery``: the gallery's identity names. A query whose
    identity is not in the gallery is a new individual. The queries are used as they are: their
    share of new individuals is the validation set's own. Where none is new, ``new_fraction``
    of them (drawn with ``seed``) also play a new individual, their own identity dropped from
    their ranking: weaker evidence than real unseen individuals, whose scores a model trained
    on the gallery's identities pushes less far from the gallery. Returns None without queries.
    """
    if not 0.0 <= new_fraction < 1.0:
        raise PhotoidError(f"new_fraction must be in [0, 1), got {new_fraction}")
    if len(identities) != len(ranked) or len(ranked) != len(scores):
        raise PhotoidError(
            f"{len(identities)} identities, {len(ranked)} rankings and {len(scores)} score "
            "rows: one of each per validation query"
        )
    if not identities:
        return None
    names = set(gallery)
    truth: list[str] = [name if name in names else NEW_INDIVIDUAL for name in identities]
    predictions: list[list[str]] = [list(r[:5]) for r in ranked]
    rows: list[np.ndarray] = [_five(scores[i], len(predictions[i])) for i in range(len(ranked))]
    order = list(range(len(ranked)))
    new = truth.count(NEW_INDIVIDUAL)
    if new == 0 and new_fraction > 0.0:
        wanted = min(len(ranked), round(new_fraction / (1.0 - new_fraction) * len(ranked)))
        for i in np.random.default_rng(seed).permutation(len(ranked))[:wanted].tolist():
            rest, row = _without_own(ranked[i], scores[i], identities[i])
            truth.append(NEW_INDIVIDUAL)
            predictions.append(rest)
            rows.append(row)
            order.append(i)
        new = len(truth) - len(ranked)
    kinds = None if species is None else [species[i] for i in order]
    fitted = fit_thresholds(truth, predictions, np.stack(rows), kinds, min_queries=min_queries)
    return GalleryFit(fitted, len(truth), new)


def _without_own(
    ranked: Sequence[str], scores: np.ndarray, own: str
) -> tuple[list[str], np.ndarray]:
    """A query playing a new individual: its ranking and scores with its own identity dropped,
    the first 5 kept (scores padded to 5 with -inf)."""
    keep = [j for j, name in enumerate(ranked) if name != own][:5]
    return [ranked[j] for j in keep], _five(scores[keep], len(keep))


def _five(scores: np.ndarray, count: int) -> np.ndarray:
    """The first ``min(count, 5)`` scores, padded to 5 with -inf."""
    kept = np.asarray(scores[: min(count, 5)], dtype=np.float64)
    return np.pad(kept, (0, 5 - len(kept)), constant_values=-np.inf)
