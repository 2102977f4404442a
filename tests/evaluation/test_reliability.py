"""Equal-count reliability bins and the minimum a report needs to draw a diagram."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.evaluation.reliability import MIN_TOTAL, equal_count_curve, report_bins


def test_equal_count_bins_by_hand() -> None:
    p = [0.5, 0.1, 0.1, 0.2, 0.1, 0.3, 0.4, 0.6]
    y = [1, 0, 0, 0, 1, 1, 0, 1]
    # Sorted: 0.1 0.1 0.1 | 0.2 0.3 0.4 | 0.5 0.6, bins of ceil(8 / 3) = 3.
    curve = equal_count_curve(p, y, bins=3)
    assert curve.counts.tolist() == [3, 3, 2]
    assert curve.predicted == pytest.approx([0.1, 0.3, 0.55])
    # Outcomes in sorted order (a stable sort keeps the 0.1s as given): 0 0 1 | 0 1 0 | 1 1.
    assert curve.observed == pytest.approx([1 / 3, 1 / 3, 1.0])
    assert curve.lower.tolist() == [0.1, 0.2, 0.5]
    assert curve.upper.tolist() == [0.1, 0.4, 0.6]
    # A last bin below the minimum joins the one before it.
    merged = equal_count_curve(p, y, bins=3, min_per_bin=3)
    assert merged.counts.tolist() == [3, 5]
    assert merged.observed == pytest.approx([1 / 3, 3 / 5])


def test_ties_are_never_split() -> None:
    p = [0.2] * 5 + [0.7] * 5
    curve = equal_count_curve(p, [0, 1] * 5, bins=4)  # bins of 3 would cut the 0.2s
    assert curve.counts.tolist() == [5, 5]
    assert curve.predicted == pytest.approx([0.2, 0.7])


def test_no_diagram_below_the_minimum() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(MIN_TOTAL - 1)
    binned = report_bins(p, p > 0.5, "first suggestions")
    assert binned.curve is None
    assert binned.reason.startswith(
        "No reliability diagram for the first suggestions: 49 of them, and a diagram needs at "
        "least 50"
    )


@pytest.mark.parametrize(
    ("n", "counts"),
    [(50, [10] * 5), (99, [11] * 9), (105, [11] * 8 + [17]), (220, [22] * 10)],
)
def test_bin_counts_from_the_minimum_on(n: int, counts: list[int]) -> None:
    # n // 10 bins, at most 10, of ceil(n / bins) each: 50 -> 5 of 10, 99 -> 9 of 11,
    # 220 -> 10 of 22; 105 -> 10 of 11 would leave 6 in the last, so it joins the ninth.
    p = np.linspace(0.0, 1.0, n)
    binned = report_bins(p, p > 0.5, "answers")
    assert binned.curve is not None and binned.reason == ""
    assert int(binned.curve.counts.sum()) == n
    assert binned.curve.counts.min() >= 10
    assert binned.curve.counts.tolist() == counts
