from __future__ import annotations

import numpy as np
import pytest

from photoid.metrics import (
    brier_score,
    expected_calibration_error,
    reliability_curve,
)


def test_uniform_bins_by_hand() -> None:
    p = [0.1, 0.2, 0.3, 0.8, 0.9, 1.0]
    y = [0, 0, 1, 1, 1, 0]
    # Two bins [0, 0.5) and [0.5, 1]: the first holds 0.1, 0.2, 0.3 (mean 0.2, observed 1/3),
    # the second 0.8, 0.9, 1.0 (mean 0.9, observed 2/3; p = 1 joins the last bin).
    curve = reliability_curve(p, y, bins=2)
    np.testing.assert_allclose(curve.predicted, [0.2, 0.9])
    np.testing.assert_allclose(curve.observed, [1 / 3, 2 / 3])
    np.testing.assert_array_equal(curve.counts, [3, 3])
    np.testing.assert_allclose(curve.lower, [0.0, 0.5])
    np.testing.assert_allclose(curve.upper, [0.5, 1.0])
    # ECE = 3/6 * |1/3 - 0.2| + 3/6 * |2/3 - 0.9| = 0.5 * (2/15) + 0.5 * (7/30) = 11/60.
    assert expected_calibration_error(p, y, bins=2) == pytest.approx(11 / 60)


def test_empty_bins_are_left_out() -> None:
    # Ten bins; only [0.0, 0.1) and [0.7, 0.8) are used.
    curve = reliability_curve([0.05, 0.75, 0.75, 0.75], [0, 1, 1, 0], bins=10)
    np.testing.assert_array_equal(curve.counts, [1, 3])
    np.testing.assert_allclose(curve.observed, [0.0, 2 / 3])
    # ECE = 1/4 * 0.05 + 3/4 * |2/3 - 0.75| = 0.0125 + 0.0625 = 0.075.
    assert curve.ece == pytest.approx(0.075)


def test_quantile_bins_hold_equal_counts() -> None:
    p = [0.1, 0.2, 0.6, 0.7]
    y = [0, 1, 1, 1]
    # Quantile edges at 0, 0.5, 1 of p: 0.1, 0.4, 0.7 -> bins {0.1, 0.2} and {0.6, 0.7}.
    curve = reliability_curve(p, y, bins=2, strategy="quantile")
    np.testing.assert_array_equal(curve.counts, [2, 2])
    np.testing.assert_allclose(curve.predicted, [0.15, 0.65])
    np.testing.assert_allclose(curve.observed, [0.5, 1.0])
    # ECE = 0.5 * 0.35 + 0.5 * 0.35 = 0.35.
    assert curve.ece == pytest.approx(0.35)


def test_perfect_calibration_scores_zero() -> None:
    p = [0.25] * 4 + [0.75] * 4
    y = [1, 0, 0, 0, 1, 1, 1, 0]
    assert expected_calibration_error(p, y, bins=4) == pytest.approx(0.0)
    assert expected_calibration_error(p, y, bins=4, strategy="quantile") == pytest.approx(0.0)


def test_constant_predictions_in_quantile_bins() -> None:
    curve = reliability_curve([0.3, 0.3, 0.3], [1, 0, 0], strategy="quantile")
    np.testing.assert_array_equal(curve.counts, [3])
    assert curve.ece == pytest.approx(1 / 3 - 0.3)


def test_brier_score_by_hand() -> None:
    # (0.9 - 1)^2 + (0.2 - 0)^2 + (0.5 - 1)^2 = 0.01 + 0.04 + 0.25 = 0.30, mean 0.1.
    assert brier_score([0.9, 0.2, 0.5], [1, 0, 1]) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("p", "y", "message"),
    [
        ([0.5, 1.2], [0, 1], r"\[0, 1\]"),
        ([0.5, np.nan], [0, 1], r"\[0, 1\]"),
        ([0.5, 0.5], [0, 2], "0/1"),
        ([0.5], [0, 1], "same length"),
        ([], [], "at least one"),
    ],
)
def test_bad_input_is_refused(p: list[float], y: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(p, y)


def test_bad_binning_is_refused() -> None:
    with pytest.raises(ValueError, match="positive integer"):
        reliability_curve([0.5], [1], bins=0)
    with pytest.raises(ValueError, match="strategy"):
        reliability_curve([0.5], [1], strategy="equal")  # type: ignore[arg-type]
