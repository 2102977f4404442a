"""One-vs-many voting: each query descriptor votes for the gallery images of its K nearest
neighbours, weighted by distinctiveness (LNBNN).

HotSpotter: Crall et al., "HotSpotter - Patterned species instance recognition", WACV 2013;
LNBNN: McCann & Lowe, "Local Naive Bayes Nearest Neighbor for image classification", CVPR 2012.
"""

from __future__ import annotations

import numpy as np


def lnbnn_weights(distances: np.ndarray, k: int) -> np.ndarray:
    """``(n, k+1)`` neighbour distances -> ``(n, k)`` weights ``d[:, k] - d[:, j]``, clipped at 0.

    The (k+1)-th neighbour is the normaliser: a match much closer than it is distinctive.
    Rows with a missing normaliser (``inf``, a tiny gallery) use the largest finite distance.
    """
    if distances.shape[1] < k + 1:
        raise ValueError(f"need {k + 1} neighbours per descriptor, got {distances.shape[1]}")
    matched = distances[:, :k]
    normaliser = distances[:, k].copy()
    finite = np.isfinite(distances)
    fallback = np.where(finite, distances, -np.inf).max(axis=1, initial=0.0)
    normaliser = np.where(np.isfinite(normaliser), normaliser, fallback)
    weights = normaliser[:, None] - matched
    weights[~np.isfinite(weights)] = 0.0
    clipped: np.ndarray = np.maximum(weights, 0.0).astype(np.float32)
    return clipped


def image_votes(
    weights: np.ndarray, owners: np.ndarray, n_gallery: int, allowed: np.ndarray | None = None
) -> np.ndarray:
    """Sum the ``(n, k)`` weights by owner image into ``(n_gallery,)`` float64 votes.

    Each query descriptor counts once per gallery image (its best neighbour there), so an image
    with many near-identical descriptors cannot collect repeated votes. ``allowed`` (bool
    ``(n_gallery,)``) zeroes the votes of images left out (e.g. another viewpoint).
    """
    votes = np.zeros(n_gallery, np.float64)
    rows, cols = np.nonzero(owners[:, : weights.shape[1]] >= 0)
    if rows.size == 0:
        return votes
    owner = owners[rows, cols]
    weight = weights[rows, cols]
    # Keep the best weight per (descriptor, owner): sort by weight, keep the first of each pair.
    order = np.lexsort((-weight, owner, rows))
    pairs = rows[order] * np.int64(n_gallery) + owner[order]
    first = np.ones(order.size, bool)
    first[1:] = pairs[1:] != pairs[:-1]
    np.add.at(votes, owner[order][first], weight[order][first])
    if allowed is not None:
        votes[~allowed] = 0.0
    return votes


def best_first(values: np.ndarray, count: int) -> np.ndarray:
    """The indices of the ``count`` largest positive ``values`` (e.g. votes), largest first
    (ties by index), without sorting all of them."""
    if values.size > count:
        top = np.argpartition(-values, count - 1)[:count]
        top = top[values[top] > 0]
    else:
        top = np.flatnonzero(values > 0)
    return top[np.lexsort((top, -values[top]))]
