"""Cross-validated calibration: folds over queries, so a query's pairs stay together and every
pair's probability comes from a calibrator that never saw its query (an honest ECE)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from photoid.calibrate.calibrator import Method
from photoid.calibrate.pairs import ScorePairs
from photoid.calibrate.ranked import RankedCalibrator, fit_ranked
from photoid.metrics.calibration import ReliabilityCurve, brier_score, reliability_curve


@dataclass(frozen=True)
class CalibrationFit:
    """The calibrator fitted on all pairs, and out-of-fold results on the same pairs.

    ``out_of_fold``: ``(P,)`` float64 probability of each pair from the fold model that left
    its query out; ``ece``/``brier``/``curve`` measure them against the pairs' labels.
    """

    calibrator: RankedCalibrator
    out_of_fold: np.ndarray
    ece: float
    brier: float
    curve: ReliabilityCurve


def query_folds(queries: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """Fold number ``(P,)`` int64 for each pair's ``(P,)`` query index: distinct queries are
    shuffled with ``seed`` and dealt into ``folds`` groups of near-equal size."""
    distinct = np.unique(queries)
    if folds < 2 or folds > distinct.size:
        raise ValueError(f"folds must be in [2, {distinct.size}] (the number of queries)")
    order = np.random.default_rng(seed).permutation(distinct.size)
    fold_of_query = np.empty(distinct.size, np.int64)
    fold_of_query[order] = np.arange(distinct.size) % folds
    return fold_of_query[np.searchsorted(distinct, queries)]


def cross_validate(
    pairs: ScorePairs,
    method: Method = "isotonic",
    transform: str = "identity",
    *,
    folds: int = 5,
    seed: int = 0,
    bins: int = 15,
    buckets: int = 2,
) -> CalibrationFit:
    """``folds``-fold cross-validated calibration of ``pairs``, one calibrator per rank bucket
    (:func:`photoid.calibrate.ranked.fit_ranked`); ECE over ``bins`` uniform bins."""
    fold = query_folds(pairs.query, folds, seed)
    out_of_fold = np.empty(len(pairs), np.float64)
    for f in range(folds):
        held = fold == f
        model = fit_ranked(pairs.subset(~held), method, transform, buckets)
        out_of_fold[held] = model.predict(pairs.scores[held], pairs.rank[held])
    curve = reliability_curve(out_of_fold, pairs.same, bins)
    return CalibrationFit(
        fit_ranked(pairs, method, transform, buckets),
        out_of_fold,
        curve.ece,
        brier_score(out_of_fold, pairs.same),
        curve,
    )
