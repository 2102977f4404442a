"""From image neighbours to ranked identities: best image per identity, or identity centroid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class IdentityRanking:
    """Per query: ``labels`` ``(n, k)`` int64 identity labels best first (-1 = none) and their
    ``scores`` ``(n, k)`` float32 (cosine similarity; -inf where missing)."""

    labels: np.ndarray
    scores: np.ndarray


def rank_identities_by_images(
    similarities: np.ndarray, neighbour_labels: np.ndarray, k: int
) -> IdentityRanking:
    """Identity score = its best image's similarity (max over the neighbours found).

    ``similarities``/``neighbour_labels``: ``(n, m)`` from a search (descending; label -1 for a
    missing neighbour). An identity's first occurrence in the list is its best image, so the
    ranking keeps the neighbour order; ties keep the search order.
    """
    n = similarities.shape[0]
    labels = np.full((n, k), -1, np.int64)
    scores = np.full((n, k), -np.inf, np.float32)
    for row in range(n):
        seen: set[int] = set()
        column = 0
        for label, score in zip(neighbour_labels[row], similarities[row], strict=True):
            if label < 0 or int(label) in seen:
                continue
            seen.add(int(label))
            labels[row, column], scores[row, column] = label, score
            column += 1
            if column == k:
                break
    return IdentityRanking(labels, scores)


def centroids(embeddings: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean embedding per identity, re-normalised: ``(C, D)`` float32 and the ``(C,)`` labels.

    ``embeddings``: ``(N, D)`` unit vectors; ``labels``: ``(N,)`` int64 (negative labels skipped).
    """
    keep = labels >= 0
    unique, inverse = np.unique(labels[keep], return_inverse=True)
    sums = np.zeros((unique.size, embeddings.shape[1]), np.float64)
    np.add.at(sums, inverse, embeddings[keep])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    means = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
    return means, unique.astype(np.int64)
