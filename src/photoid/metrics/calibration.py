"""Calibration metrics for predicted probabilities of binary outcomes, pure numpy.

Expected calibration error (ECE, Naeini et al., AAAI 2015; Guo et al., ICML 2017): predictions are
grouped into bins; ECE is the count-weighted mean of ``|observed frequency - mean predicted|``
over the bins. ``uniform`` bins split ``[0, 1]`` into equal widths (bin ``i`` holds
``i/B <= p < (i+1)/B``, the last one also ``p = 1``); ``quantile`` bins hold about equal numbers
of predictions (edges at the quantiles of the predictions, repeated edges merged). The Brier
score is the mean squared difference between probability and outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Strategy = Literal["uniform", "quantile"]


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per non-empty bin, in increasing order of probability (arrays of length ``B'``).

    ``predicted``: mean predicted probability; ``observed``: share of positive outcomes;
    ``counts``: predictions in the bin (int64); ``lower``/``upper``: the bin's edges.
    """

    predicted: NDArray[np.float64]
    observed: NDArray[np.float64]
    counts: NDArray[np.int64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]

    @property
    def ece(self) -> float:
        """Count-weighted mean absolute gap between observed and predicted."""
        gaps = np.abs(self.observed - self.predicted)
        return float(np.sum(self.counts * gaps) / np.sum(self.counts))


def _check(probabilities: ArrayLike, outcomes: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if p.ndim != 1 or y.shape != p.shape:
        raise ValueError(
            f"probabilities {p.shape} and outcomes {y.shape} must be 1-D of the same length"
        )
    if p.size == 0:
        raise ValueError("no predictions: calibration metrics need at least one")
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise ValueError("probabilities must lie in [0, 1] (NaN is refused too)")
    if not np.all((y == 0.0) | (y == 1.0)):
        raise ValueError("outcomes must be 0/1 (or False/True)")
    return p, y


def _edges(p: NDArray[np.float64], bins: int, strategy: Strategy) -> NDArray[np.float64]:
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, bins + 1)
    if strategy == "quantile":
        return np.unique(np.quantile(p, np.linspace(0.0, 1.0, bins + 1)))
    raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")


def reliability_curve(
    probabilities: ArrayLike,
    outcomes: ArrayLike,
    bins: int = 15,
    strategy: Strategy = "uniform",
) -> ReliabilityCurve:
    """Bin ``(N,)`` probabilities in ``[0, 1]`` with their ``(N,)`` 0/1 outcomes.

    Raises ValueError on empty, mismatched or out-of-range input.
    """
    p, y = _check(probabilities, outcomes)
    edges = _edges(p, bins, strategy)
    # Interior edges only: values below the first go to bin 0, the top edge joins the last bin.
    index = np.searchsorted(edges[1:-1], p, side="right")
    n_bins = max(edges.size - 1, 1)
    counts = np.bincount(index, minlength=n_bins)
    sum_p = np.bincount(index, weights=p, minlength=n_bins)
    sum_y = np.bincount(index, weights=y, minlength=n_bins)
    used = counts > 0
    lower = edges[:-1] if edges.size > 1 else edges
    upper = edges[1:] if edges.size > 1 else edges
    return ReliabilityCurve(
        predicted=sum_p[used] / counts[used],
        observed=sum_y[used] / counts[used],
        counts=counts[used].astype(np.int64),
        lower=lower[used].astype(np.float64),
        upper=upper[used].astype(np.float64),
    )


def expected_calibration_error(
    probabilities: ArrayLike,
    outcomes: ArrayLike,
    bins: int = 15,
    strategy: Strategy = "uniform",
) -> float:
    """ECE of ``(N,)`` probabilities against ``(N,)`` 0/1 outcomes, in ``[0, 1]``."""
    return reliability_curve(probabilities, outcomes, bins, strategy).ece


def brier_score(probabilities: ArrayLike, outcomes: ArrayLike) -> float:
    """Mean of ``(p - y)^2`` over ``(N,)`` probabilities and 0/1 outcomes, in ``[0, 1]``."""
    p, y = _check(probabilities, outcomes)
    return float(np.mean((p - y) ** 2))
