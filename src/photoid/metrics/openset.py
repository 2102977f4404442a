"""Open-set metrics: the ``new_individual`` label, its insertion rule, threshold sweep and AUC.

Queries whose individual is absent from the gallery carry the reserved label ``NEW_INDIVIDUAL``;
it is an ordinary label for MAP@k (such a query scores ``1 / rank`` of ``new_individual`` in its
list). Insertion rule of the Humpback Whale (2019) and Happywhale (2022) competitions, applied by
``insert_new_individual``: ``new_individual`` goes in at the first position ``j`` whose score is
below the threshold (``score[j] < threshold``), pushing the rest down and truncating to ``k``; if
no score is below the threshold it is appended when the list is shorter than ``k``, else it is
left out. NaN scores count as ``-inf``: below every threshold except ``-inf``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from photoid.core import NEW_INDIVIDUAL
from photoid.metrics.ranking import (
    Label,
    Labels,
    Predictions,
    as_labels,
    as_prediction_matrix,
    first_match_position,
    precision_at_first_match,
)

BEST_TOLERANCE = 1e-12  # MAP values closer than this count as equal when choosing a threshold


def _score_matrix(scores: ArrayLike, lengths: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    """Per-position scores ``(N, k)``: 1-D top-1 scores fill column 0 and ``+inf`` the rest."""
    given = np.asarray(scores, dtype=np.float64)
    n = lengths.shape[0]
    if given.ndim not in (1, 2) or given.shape[0] != n:
        raise ValueError(
            f"scores has shape {given.shape}; expected (N,) top-1 scores or (N, k) scores "
            f"with N = {n} queries"
        )
    full = np.full((n, k), np.inf)
    if given.ndim == 1:
        full[:, 0] = given
    else:
        needed = int(lengths.max())
        if given.shape[1] < needed:
            raise ValueError(
                f"scores has {given.shape[1]} columns but a prediction list has {needed} labels; "
                "give one score per predicted label"
            )
        width = min(given.shape[1], k)
        full[:, :width] = given[:, :width]
    full[np.isnan(full)] = -np.inf
    return full


def _staying_ahead(full: NDArray[np.float64], lengths: NDArray[np.int64]) -> NDArray[np.float64]:
    """Prefix minima ``(N, k)``; position ``j`` stays ahead of ``new_individual`` iff ``>= t``.

    Positions past a row's length are ``-inf`` and must be masked with ``_valid``.
    """
    prefix = np.minimum.accumulate(full, axis=1)
    return np.where(_valid(lengths, full.shape[1]), prefix, -np.inf)


def _valid(lengths: NDArray[np.int64], k: int) -> NDArray[np.bool_]:
    return np.arange(k)[None, :] < lengths[:, None]


def _insertion_positions(
    prefix: NDArray[np.float64], lengths: NDArray[np.int64], threshold: float
) -> NDArray[np.int64]:
    """0-based position ``(N,)`` where ``new_individual`` goes; ``k`` means not inserted."""
    ahead = _valid(lengths, prefix.shape[1]) & (prefix >= threshold)
    return np.asarray(ahead.sum(axis=1), dtype=np.int64)


def insert_new_individual(
    predictions: Predictions,
    scores: ArrayLike,
    threshold: float,
    k: int = 5,
    new_label: Label = NEW_INDIVIDUAL,
) -> list[list[Label]]:
    """Insert ``new_label`` into each ranked list by the competitions' rule (module docstring).

    ``predictions``: ``N`` ranked lists; ``scores``: float ``(N,)`` top-1 scores (only position 0
    is tested) or ``(N, m)`` scores of each predicted label. Returns ``N`` new lists of at most
    ``k`` labels; the inputs are not modified.
    """
    if np.isnan(threshold):
        raise ValueError("threshold is NaN; give a number (use -inf/inf for never/always)")
    matrix, lengths = as_prediction_matrix(predictions, len(predictions), k)
    prefix = _staying_ahead(_score_matrix(scores, lengths, k), lengths)
    positions = _insertion_positions(prefix, lengths, threshold)
    out: list[list[Label]] = []
    for row, length, position in zip(matrix, lengths, positions, strict=True):
        labels = list(row[:length])
        if position < k:
            labels.insert(int(position), new_label)
        out.append(labels[:k])
    return out


def _is_label(values: NDArray[np.object_], label: Label) -> NDArray[np.bool_]:
    return np.asarray(values == label, dtype=bool)


def _top1(predictions: Predictions, n: int) -> NDArray[np.object_]:
    matrix, _ = as_prediction_matrix(predictions, n, 1)
    return matrix[:, 0]


def _mean_or_nan(values: NDArray[np.bool_]) -> float:
    return float(values.mean()) if values.size else float("nan")


def known_new_accuracy(
    truth: Labels, predictions: Predictions, new_label: Label = NEW_INDIVIDUAL
) -> tuple[float, float]:
    """Top-1 accuracy ``(acc_known, acc_new)`` on queries with known and with new individuals.

    Like ``accuracy_known_samples``/``accuracy_unknown_samples`` of wildlife-datasets: each is NaN
    when no query of that kind exists. Top-1 is the first label of each list (1-D input: the label).
    """
    labels = as_labels(truth)
    correct = np.asarray(_top1(predictions, len(labels)) == labels, dtype=bool)
    is_new = _is_label(labels, new_label)
    return _mean_or_nan(correct[~is_new]), _mean_or_nan(correct[is_new])


def _balanced_mean(groups: NDArray[np.object_], correct: NDArray[np.bool_]) -> float:
    """Mean over distinct ``groups`` of each group's mean of ``correct``; NaN when empty."""
    per_group: dict[Any, list[bool]] = {}
    for group, hit in zip(groups, correct, strict=True):
        per_group.setdefault(group, []).append(bool(hit))
    if not per_group:
        return float("nan")
    return float(np.mean([np.mean(hits) for hits in per_group.values()]))


def balanced_accuracy_known(
    truth: Labels, predictions: Predictions, new_label: Label = NEW_INDIVIDUAL
) -> float:
    """BAKS: mean over known identities of their top-1 accuracy; NaN without known queries.

    As ``BAKS`` in wildlife-datasets' ``metrics`` (used by wildlife-tools), the queries whose truth
    is ``new_label`` are ignored.
    """
    labels = as_labels(truth)
    correct = np.asarray(_top1(predictions, len(labels)) == labels, dtype=bool)
    known = ~_is_label(labels, new_label)
    return _balanced_mean(labels[known], correct[known])


def balanced_accuracy_new(
    identities: Labels,
    predictions: Predictions,
    is_new: ArrayLike,
    new_label: Label = NEW_INDIVIDUAL,
) -> float:
    """BAUS: mean over new identities of the fraction of their queries predicted ``new_label``.

    As ``BAUS`` in wildlife-datasets' ``metrics``. ``identities``: the real ``(N,)`` identity of
    each query (new ones included, to balance over them); ``is_new``: bool ``(N,)``, True for
    queries whose identity is absent from the gallery. NaN when no query is new.
    """
    labels = as_labels(identities, name="identities")
    new_mask = np.asarray(is_new)
    if new_mask.dtype != np.bool_ or new_mask.shape != labels.shape:
        raise ValueError(f"is_new must be a bool array of shape {labels.shape}")
    said_new = _is_label(_top1(predictions, len(labels)), new_label)
    return _balanced_mean(labels[new_mask], said_new[new_mask])


@dataclass(frozen=True, eq=False)
class ThresholdSweep:
    """Open-set metrics at each threshold; every array is float64 ``(T,)``, thresholds ascending."""

    thresholds: NDArray[np.float64]
    map_at_k: NDArray[np.float64]
    acc_known: NDArray[np.float64]
    acc_new: NDArray[np.float64]

    @property
    def best(self) -> tuple[float, float]:
        """``(threshold, map)`` of the highest MAP; ties (within 1e-12) go to the smallest one."""
        best = self.map_at_k.max()
        index = int(np.flatnonzero(self.map_at_k >= best - BEST_TOLERANCE)[0])
        return float(self.thresholds[index]), float(self.map_at_k[index])


def _outcome_tables(
    labels: NDArray[np.object_], matrix: NDArray[np.object_], new_label: Label
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """AP and top-1 correctness ``(N, k+1)`` for each insertion position ``p`` in ``0..k``."""
    k = matrix.shape[1]
    hit = first_match_position(labels, matrix)[:, None]
    is_new = _is_label(labels, new_label)[:, None]
    inserted_at = np.arange(k + 1)[None, :]
    first = np.where(is_new, np.minimum(inserted_at, hit), hit + (inserted_at <= hit))
    top1 = np.where(inserted_at == 0, is_new, np.asarray(matrix[:, :1] == labels[:, None]))
    return precision_at_first_match(first, k), top1.astype(np.float64)


def _sweep_mean(
    prefix: NDArray[np.float64],
    lengths: NDArray[np.int64],
    table: NDArray[np.float64],
    rows: NDArray[np.bool_],
    grid: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Mean over ``rows`` of ``table[i, p_i(t)]`` for each threshold ``t`` in ``grid``, ``(T,)``.

    Position ``j`` drops behind ``new_individual`` once ``t > prefix[i, j]``, moving ``p_i`` from
    ``j + 1`` to ``j``: each such event adds ``table[i, j] - table[i, j+1]``, summed by sorting.
    """
    if not rows.any():
        return np.full(grid.shape, np.nan)
    k = prefix.shape[1]
    valid = _valid(lengths, k) & rows[:, None]
    base = table[rows, lengths[rows]].sum()
    events = prefix[valid]
    order = np.argsort(events, kind="stable")
    steps = np.concatenate(([0.0], np.cumsum((table[:, :k] - table[:, 1:])[valid][order])))
    passed = np.searchsorted(events[order], grid, side="left")
    return np.asarray((base + steps[passed]) / rows.sum(), dtype=np.float64)


def _threshold_grid(
    thresholds: ArrayLike | None, full: NDArray[np.float64], lengths: NDArray[np.int64]
) -> NDArray[np.float64]:
    if thresholds is None:
        candidates = full[_valid(lengths, full.shape[1])]
        return np.unique(np.concatenate(([-np.inf], candidates, [np.inf])))
    grid = np.asarray(thresholds, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or np.isnan(grid).any():
        raise ValueError("thresholds must be a non-empty 1-D array of numbers without NaN")
    return np.unique(grid)


def threshold_sweep(
    truth: Labels,
    predictions: Predictions,
    scores: ArrayLike,
    thresholds: ArrayLike | None = None,
    k: int = 5,
    new_label: Label = NEW_INDIVIDUAL,
) -> ThresholdSweep:
    """MAP@k, acc_known and acc_new after ``insert_new_individual`` at each threshold.

    ``truth``: ``(N,)`` labels, ``new_label`` for new individuals; ``predictions``: ``N`` ranked
    lists; ``scores``: float ``(N, m)`` per predicted label, or ``(N,)`` top-1 scores. Default
    thresholds: the sorted unique scores plus ``-inf`` and ``+inf``, which covers every distinct
    outcome; given thresholds are sorted and deduplicated. Equal to calling
    ``insert_new_individual`` then ``map_at_k``/``known_new_accuracy`` per threshold, in
    ``O((N k + T) log)`` time.
    """
    labels = as_labels(truth)
    matrix, lengths = as_prediction_matrix(predictions, len(labels), k)
    full = _score_matrix(scores, lengths, k)
    prefix = _staying_ahead(full, lengths)
    grid = _threshold_grid(thresholds, full, lengths)
    ap_table, top1_table = _outcome_tables(labels, matrix, new_label)
    is_new = _is_label(labels, new_label)
    everyone = np.ones(len(labels), dtype=bool)
    return ThresholdSweep(
        thresholds=grid,
        map_at_k=_sweep_mean(prefix, lengths, ap_table, everyone, grid),
        acc_known=_sweep_mean(prefix, lengths, top1_table, ~is_new, grid),
        acc_new=_sweep_mean(prefix, lengths, top1_table, is_new, grid),
    )


def _midranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-based ranks ``(N,)`` with tied values sharing the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts).astype(np.float64)
    return np.asarray((ends - (counts - 1) / 2.0)[inverse], dtype=np.float64)


def new_individual_auc(is_new: ArrayLike, new_score: ArrayLike) -> float:
    """ROC AUC of ``new_score`` for telling new from known queries (Mann-Whitney U, ties half).

    ``is_new``: bool ``(N,)``; ``new_score``: float ``(N,)``, higher means more likely new (pass
    ``-top1_similarity``). Returns P(score of a new query > score of a known one) + half the tie
    probability, in [0, 1]; NaN when all queries are new or all are known.
    """
    positive = np.asarray(is_new)
    score = np.asarray(new_score, dtype=np.float64)
    if positive.dtype != np.bool_ or positive.ndim != 1 or positive.size == 0:
        raise ValueError("is_new must be a non-empty 1-D bool array")
    if score.shape != positive.shape:
        raise ValueError(f"new_score has shape {score.shape}, expected {positive.shape}")
    if np.isnan(score).any():
        raise ValueError("new_score contains NaN; replace it with a number before ranking")
    n_new = int(positive.sum())
    n_known = positive.size - n_new
    if n_new == 0 or n_known == 0:
        return float("nan")
    u = _midranks(score)[positive].sum() - n_new * (n_new + 1) / 2.0
    return float(u / (n_new * n_known))
