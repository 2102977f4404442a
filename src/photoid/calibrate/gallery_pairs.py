"""Calibration pairs drawn from the gallery itself by leave-one-out: no extra labels needed.

Each gallery photo queries the rest of the gallery with its own photo left out; its candidates
are labelled by its own identity. A photo that is its identity's only one plays a new
individual (its identity cannot be found, so all its pairs are negatives), in the share the
gallery itself suggests for unseen individuals.

Scores must behave on the gallery as they will on new photos. That holds for the local engine
(nothing is learned), not for a deep model trained on these gallery photos: its gallery scores
are those of training data (CTai_subset, a ResNet-18 trained on the gallery: leave-one-out top-1
0.98, queries 0.64, held-out ECE 0.095). Calibrate such a model on photos it was not trained on
(a validation split, or out-of-fold models).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from photoid.calibrate.pairs import ScorePairs, pairs_from_identifications, pairs_from_rankings
from photoid.core import Identification
from photoid.errors import PhotoidError
from photoid.local.engine import LocalEngine
from photoid.local.features import Features


class RanksGallery(Protocol):
    """An engine ranking each gallery photo against the rest (as the deep engine does)."""

    @property
    def identities(self) -> list[str]: ...

    def leave_one_out(self, k: int = 5) -> tuple[list[list[str]], np.ndarray]: ...


def gallery_pairs(
    identities: Sequence[str],
    ranked: Sequence[Sequence[str]],
    scores: Sequence[Sequence[float]] | np.ndarray,
    k: int = 5,
) -> ScorePairs:
    """Pairs from leave-one-out rankings: gallery photo ``i`` (identity ``identities[i]``) was
    answered with ``ranked[i]`` and ``scores[i]``, its own photo left out."""
    return pairs_from_rankings(identities, ranked, scores, k)


def deep_gallery_pairs(engine: RanksGallery, k: int = 5) -> ScorePairs:
    """Pairs from every gallery photo of an engine with ``leave_one_out`` (the deep engine)."""
    ranked, scores = engine.leave_one_out(k)
    return gallery_pairs(engine.identities, ranked, scores, k)


def local_leave_one_out(
    engine: LocalEngine,
    features: list[Features] | None = None,
    *,
    sample: int | None = None,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[int], list[Identification]]:
    """Identify gallery photos against the rest of the local engine's gallery.

    ``features[i]``: features of gallery image ``i`` (as added); by default the engine's own,
    which needs an engine built with ``keep_descriptors=True``. ``sample`` photos at most,
    drawn with ``seed`` (all by default). Returns the chosen gallery rows and their answers.
    """
    features = engine.gallery_features if features is None else features
    if len(features) != len(engine):
        raise PhotoidError(
            f"{len(features)} feature sets for a gallery of {len(engine)} images: give one "
            "per gallery image, in the order added"
        )
    if any(len(f) > 0 and len(f.descriptors) == 0 for f in features):
        raise PhotoidError(
            "the local engine kept no gallery descriptors: build it with keep_descriptors=True "
            "or pass the gallery features"
        )
    rows = list(range(len(engine)))
    if sample is not None and sample < len(rows):
        rows = sorted(np.random.default_rng(seed).permutation(len(rows))[:sample].tolist())
    answers: list[Identification] = []
    for i in rows:
        answers.append(engine.identify_features(engine.images[i], features[i], exclude=i))
        if progress is not None:
            progress(1)
    return rows, answers


def local_gallery_pairs(
    engine: LocalEngine,
    features: list[Features] | None = None,
    *,
    k: int = 5,
    sample: int | None = None,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> ScorePairs:
    """Pairs from the local engine's gallery by leave-one-out (see :func:`local_leave_one_out`)."""
    rows, answers = local_leave_one_out(
        engine, features, sample=sample, seed=seed, progress=progress
    )
    return pairs_from_identifications([engine.identities[i] for i in rows], answers, k)
