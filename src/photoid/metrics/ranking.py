"""Closed-set ranking metrics: MAP@k and top-k accuracy, one true label per query.

MAP@k follows the Kaggle definition of Humpback Whale Identification (2019) and Happywhale (2022),
as scored by ``apk`` of ml_metrics (benhamner/Metrics) with ``actual = [label]``: a query scores
``1 / rank`` of the FIRST occurrence of its true label among its first ``k`` predictions (rank is
1-based), and 0 when the label is absent. A repeated label still occupies its rank position, so
``['a', 'a', 'b']`` with truth ``'b'`` scores 1/3. Lists shorter than ``k`` are allowed; longer
lists are truncated to ``k``. Labels may be ``str`` or ``int`` and are compared with ``==``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

Label: TypeAlias = str | int
Labels: TypeAlias = Sequence[Label] | NDArray[Any]
Predictions: TypeAlias = Sequence[Sequence[Label] | Label] | NDArray[Any]


class _Missing:
    """Fills the empty tail of a short prediction row; equal only to itself, so never a hit."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


def check_k(k: int) -> None:
    """Raise ValueError unless ``k`` is a positive int (the number of ranked positions scored)."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


def as_labels(values: Labels, name: str = "truth") -> NDArray[np.object_]:
    """One label per query as an object array ``(N,)``; ValueError if empty or not 1-D."""
    if isinstance(values, str | bytes):
        raise ValueError(f"{name} must be a sequence of labels, got the single string {values!r}")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one label per query, got shape {values.shape}")
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    if out.size == 0:
        raise ValueError(f"{name} is empty: metrics need at least one query")
    return out


def _is_single_label(row: object) -> bool:
    return isinstance(row, str | bytes) or not isinstance(row, Sequence | np.ndarray)


def as_prediction_matrix(
    predictions: Predictions, n: int, k: int
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Ranked predictions as an object matrix ``(N, k)`` plus each row's length ``(N,)`` int64.

    Rows longer than ``k`` are truncated; shorter rows are padded with ``MISSING``. A row that is a
    single label (not a sequence) counts as a one-element list, so 1-D top-1 predictions work.
    Raises ValueError when there are no rows or the row count differs from ``n``.
    """
    check_k(k)
    if isinstance(predictions, str | bytes):
        raise ValueError("predictions must hold one ranked list per query, got a single string")
    if len(predictions) == 0:
        raise ValueError("predictions is empty: metrics need at least one query")
    if len(predictions) != n:
        raise ValueError(
            f"predictions has {len(predictions)} rows but truth has {n} queries; "
            "give exactly one ranked list per query"
        )
    matrix = np.full((n, k), MISSING, dtype=object)
    lengths = np.zeros(n, dtype=np.int64)
    for i, row in enumerate(predictions):
        items = [row] if _is_single_label(row) else list(row)[:k]
        for j, item in enumerate(items):
            matrix[i, j] = item
        lengths[i] = len(items)
    return matrix, lengths


def first_match_position(
    truth: NDArray[np.object_], matrix: NDArray[np.object_]
) -> NDArray[np.int64]:
    """0-based position ``(N,)`` of each query's first correct prediction; ``k`` when absent.

    ``truth`` is ``(N,)`` and ``matrix`` ``(N, k)``, both object arrays from ``as_labels`` and
    ``as_prediction_matrix``.
    """
    hits = np.asarray(matrix == truth[:, None], dtype=bool)
    found = hits.any(axis=1)
    return np.asarray(np.where(found, hits.argmax(axis=1), matrix.shape[1]), dtype=np.int64)


def precision_at_first_match(position: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    """AP@k from 0-based first-match positions (any shape): ``1/(pos+1)`` if ``pos < k``, else 0."""
    ranks = position.astype(np.float64) + 1.0
    return np.where(position < k, 1.0 / ranks, 0.0)


def average_precision_at_k(
    truth: Labels, predictions: Predictions, k: int = 5
) -> NDArray[np.float64]:
    """AP@k of each query, float64 ``(N,)`` in [0, 1] (see the module docstring for the rule).

    ``truth``: ``(N,)`` labels; ``predictions``: ``N`` ranked lists (an ``(N, m)`` array or ragged
    sequences). Raises ValueError on empty input or when the lengths differ.
    """
    labels = as_labels(truth)
    matrix, _ = as_prediction_matrix(predictions, len(labels), k)
    return precision_at_first_match(first_match_position(labels, matrix), k)


def map_at_k(truth: Labels, predictions: Predictions, k: int = 5) -> float:
    """Mean over queries of ``average_precision_at_k``: Kaggle's MAP@k, in [0, 1]."""
    return float(average_precision_at_k(truth, predictions, k).mean())


def top_k_accuracy(truth: Labels, predictions: Predictions, k: int = 5) -> float:
    """Fraction of queries whose true label appears among their first ``k`` predictions."""
    labels = as_labels(truth)
    matrix, _ = as_prediction_matrix(predictions, len(labels), k)
    return float(np.mean(first_match_position(labels, matrix) < k))
