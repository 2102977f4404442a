"""Calibrators fitted on gallery pairs, then measured on held-out query pairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from photoid.calibrate.calibrator import Method
from photoid.calibrate.crossval import CalibrationFit, cross_validate
from photoid.calibrate.pairs import ScorePairs
from photoid.metrics.calibration import ReliabilityCurve, brier_score, reliability_curve


@dataclass(frozen=True)
class HeldOutCalibration:
    """One method: its cross-validated fit on the gallery and its result on the queries
    (``curve.ece`` is the held-out expected calibration error)."""

    fit: CalibrationFit
    curve: ReliabilityCurve
    brier: float

    @property
    def ece(self) -> float:
        return self.curve.ece


def evaluate_calibration(
    gallery: ScorePairs,
    queries: ScorePairs,
    transform: str = "identity",
    methods: Sequence[Method] = ("isotonic", "logistic"),
    *,
    folds: int = 5,
    seed: int = 0,
    bins: int = 15,
    buckets: int = 2,
) -> dict[str, HeldOutCalibration]:
    """Fit each method on ``gallery`` pairs (with ``folds``-fold cross-validation over its
    queries) and apply the all-pairs calibrator to ``queries`` pairs; ECE over ``bins`` bins;
    ``buckets`` rank buckets (see :mod:`photoid.calibrate.ranked`)."""
    results: dict[str, HeldOutCalibration] = {}
    for method in methods:
        fit = cross_validate(
            gallery, method, transform, folds=folds, seed=seed, bins=bins, buckets=buckets
        )
        probabilities = fit.calibrator.predict(queries.scores, queries.rank)
        results[method] = HeldOutCalibration(
            fit,
            reliability_curve(probabilities, queries.same, bins),
            brier_score(probabilities, queries.same),
        )
    return results
