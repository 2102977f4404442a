"""Turn a query-by-identity score matrix into ranked predictions with a deterministic tie-break.

Ranking is by descending score. Ties keep the order of the identity columns (lower column index
first; a stable sort), and NaN scores rank after every number, ``-inf`` included, again in column
order. So the same scores always give the same ranking, on any platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from photoid.metrics.ranking import Label, check_k

_CHUNK_CELLS = 1 << 22  # rows sorted together, so the int64 order array stays near 32 MiB


def _as_score_matrix(scores: ArrayLike) -> NDArray[np.float64]:
    matrix = np.asarray(scores, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ValueError(
            f"scores must be a non-empty (N queries, C identities) matrix, got shape {matrix.shape}"
        )
    return matrix


def rank_order(scores: ArrayLike, k: int = 5) -> NDArray[np.int64]:
    """Column indices of the ``min(k, C)`` best identities per query, int64 ``(N, min(k, C))``.

    ``scores``: float ``(N, C)``, higher means more similar. Tie-break as in the module docstring.
    The sorted scores are ``np.take_along_axis(scores, rank_order(scores, k), axis=1)``.
    """
    matrix = _as_score_matrix(scores)
    check_k(k)
    width = min(int(k), matrix.shape[1])
    order = np.empty((matrix.shape[0], width), dtype=np.int64)
    step = max(1, _CHUNK_CELLS // matrix.shape[1])
    for start in range(0, matrix.shape[0], step):
        block = matrix[start : start + step]
        missing = np.isnan(block)
        # lexsort is stable; its last key (NaN or not) is the primary one.
        ranked = np.lexsort((-np.where(missing, 0.0, block), missing), axis=1)
        order[start : start + step] = ranked[:, :width]
    return order


def rank_identities(
    scores: ArrayLike, identities: Sequence[Label] | NDArray[Any], k: int = 5
) -> NDArray[Any]:
    """Labels of the ``min(k, C)`` best identities per query, ``(N, min(k, C))``.

    ``identities``: the ``C`` labels of the score columns. The result keeps the dtype of an
    ``identities`` ndarray; labels given as a plain sequence come back as an object array, so
    mixed ``str``/``int`` labels are never coerced to strings. Raises ValueError on shape errors.
    """
    matrix = _as_score_matrix(scores)
    if isinstance(identities, np.ndarray):
        labels = identities
    else:
        labels = np.empty(len(identities), dtype=object)
        for i, identity in enumerate(identities):
            labels[i] = identity
    if labels.ndim != 1 or labels.shape[0] != matrix.shape[1]:
        raise ValueError(
            f"identities has shape {labels.shape} but scores has {matrix.shape[1]} columns; "
            "give one identity label per score column"
        )
    return labels[rank_order(matrix, k)]
