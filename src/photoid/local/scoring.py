"""From per-image scores to per-identity scores."""

from __future__ import annotations

import numpy as np

from photoid.local.config import Aggregate

_TAKE = {"max": 1, "top2": 2, "top3": 3}


def identity_scores(
    image_scores: np.ndarray,
    labels: np.ndarray,
    aggregate: Aggregate,
    identities: int | None = None,
) -> np.ndarray:
    """Aggregate ``(G,)`` float image scores by ``(G,)`` int identity labels ``0..C-1``.

    ``max`` takes the best image; ``top2``/``top3`` sum the best two/three images, a robust
    aggregate that rewards an identity several of whose photos agree with the query. Returns
    ``(C,)`` float64 with ``C = identities`` or else ``labels.max() + 1`` (0 for identities
    without images).
    """
    if identities is None:
        identities = int(labels.max()) + 1 if labels.size else 0
    scores = np.zeros(identities, np.float64)
    if labels.size == 0:
        return scores
    order = np.lexsort((-image_scores, labels))
    sorted_labels = labels[order]
    starts = np.r_[0, np.flatnonzero(sorted_labels[1:] != sorted_labels[:-1]) + 1]
    rank = np.arange(order.size) - np.repeat(starts, np.diff(np.r_[starts, order.size]))
    keep = rank < _TAKE[aggregate]
    np.add.at(scores, sorted_labels[keep], image_scores[order][keep])
    return scores
