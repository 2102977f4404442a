"""Equal-count reliability bins for a report, and the rule for when a diagram is worth drawing.

A reliability diagram over a handful of predictions is noise: each bin's observed frequency is a
share of a few outcomes. So a report draws one only from ``MIN_TOTAL`` (50) predictions on, in
bins of at least ``MIN_PER_BIN`` (10) predictions each, at most ``MAX_BINS`` (10) of them. The bins
hold about equal numbers of predictions (adaptive binning, Nixon et al., CVPR Workshops 2019), so
that no bin is a lone point; predictions with the same probability always share a bin. The two
minimums live with the diagram (:mod:`photoid.calibrate.plot`), so every report uses the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from photoid.calibrate.plot import MIN_PER_BIN, MIN_TOTAL
from photoid.metrics.calibration import ReliabilityCurve

MAX_BINS = 10
__all__ = ["MAX_BINS", "MIN_PER_BIN", "MIN_TOTAL", "Binned", "equal_count_curve", "report_bins"]


@dataclass(frozen=True)
class Binned:
    """A curve to draw, or None with ``reason``: a sentence saying why none is drawn."""

    curve: ReliabilityCurve | None
    reason: str = ""


def equal_count_curve(
    probabilities: ArrayLike, outcomes: ArrayLike, bins: int, min_per_bin: int = 1
) -> ReliabilityCurve:
    """``(N,)`` probabilities in ``[0, 1]`` and ``(N,)`` 0/1 outcomes in at most ``bins`` bins of
    about ``N / bins`` predictions each, in increasing order of probability.

    Equal probabilities are never split between two bins (a bin closes after the last of its
    ties), and a last bin smaller than ``min_per_bin`` joins the one before it.
    """
    p = np.asarray(probabilities, np.float64).reshape(-1)
    y = np.asarray(outcomes, np.float64).reshape(-1)
    if p.size == 0 or p.shape != y.shape:
        raise ValueError(
            f"give as many outcomes as probabilities, at least one: {p.size}, {y.size}"
        )
    if bins < 1:
        raise ValueError(f"bins must be at least 1, not {bins}")
    order = np.argsort(p, kind="stable")
    p, y = p[order], y[order]
    size = max(min_per_bin, -(-p.size // bins))
    ends: list[int] = []
    start = 0
    while start < p.size:
        # Past the nominal end, take every remaining prediction tied with the bin's last one.
        end = min(start + size, p.size)
        end = int(np.searchsorted(p, p[end - 1], side="right"))
        ends.append(end)
        start = end
    if len(ends) > 1 and ends[-1] - ends[-2] < min_per_bin:
        del ends[-2]
    starts = [0, *ends[:-1]]
    counts = np.array([e - s for s, e in zip(starts, ends, strict=True)], np.int64)
    return ReliabilityCurve(
        predicted=np.array([p[s:e].mean() for s, e in zip(starts, ends, strict=True)]),
        observed=np.array([y[s:e].mean() for s, e in zip(starts, ends, strict=True)]),
        counts=counts,
        lower=np.array([p[s] for s in starts], np.float64),
        upper=np.array([p[e - 1] for e in ends], np.float64),
    )


def report_bins(probabilities: ArrayLike, outcomes: ArrayLike, what: str) -> Binned:
    """The equal-count curve of ``what`` (plural words, e.g. "first suggestions"), or a reason
    why there are too few predictions for one (below ``MIN_TOTAL``)."""
    p = np.asarray(probabilities, np.float64).reshape(-1)
    if p.size < MIN_TOTAL:
        return Binned(
            None,
            f"No reliability diagram for the {what}: {p.size} of them, and a diagram needs at "
            f"least {MIN_TOTAL} (in bins of {MIN_PER_BIN} or more) to be more than noise.",
        )
    bins = min(MAX_BINS, p.size // MIN_PER_BIN)
    return Binned(equal_count_curve(p, outcomes, bins, MIN_PER_BIN))
