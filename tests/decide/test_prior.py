"""P(new) moved to another share of new individuals, and that share estimated by EM."""

from __future__ import annotations

import json

import numpy as np
import pytest

from photoid.decide import NewIndividualModel, adjust_prior, estimate_prior, fit_new_individual
from photoid.decide.prior import DEFAULT_PRIOR, prior_log_odds_shift
from photoid.errors import PhotoidError
from photoid.metrics.calibration import expected_calibration_error


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


@pytest.mark.parametrize(
    ("p", "fitted", "prior", "expected"),
    [
        # Odds 1 times (0.5 / 0.5) / (0.2 / 0.8) = 4: P = 4 / 5.
        (0.5, 0.2, 0.5, 0.8),
        # Odds 1 times (0.2 / 0.8) / (0.5 / 0.5) = 1/4: P = 1/5.
        (0.5, 0.5, 0.2, 0.2),
        # Odds 0.25 / 0.75 = 1/3 times (0.55 / 0.45) / (0.2 / 0.8) = 44/9: 44/27, P = 44/71.
        (0.25, 0.2, 0.55, 44 / 71),
        # Certain answers stay certain; the same prior changes nothing.
        (0.0, 0.2, 0.9, 0.0),
        (1.0, 0.2, 0.01, 1.0),
        (0.37, 0.3, 0.3, 0.37),
    ],
)
def test_adjust_prior_by_hand(p: float, fitted: float, prior: float, expected: float) -> None:
    out = adjust_prior(np.array([p]), fitted, prior)
    assert out.dtype == np.float64
    assert out[0] == pytest.approx(expected, abs=1e-12)


def test_shift_is_the_difference_of_log_odds() -> None:
    assert prior_log_odds_shift(0.2, 0.5) == pytest.approx(np.log(4.0))
    p = np.array([0.1, 0.5, 0.9])
    moved = adjust_prior(p, 0.2, 0.55)
    expected = np.log(p / (1 - p)) + _logit(0.55) - _logit(0.2)
    np.testing.assert_allclose(np.log(moved / (1 - moved)), expected, atol=1e-12)


def _calibrated_scores(
    rng: np.random.Generator, n: int, true_prior: float, fitted_prior: float
) -> tuple[np.ndarray, np.ndarray]:
    """Labels with ``true_prior`` new, and a P(new) calibrated for ``fitted_prior``.

    A score x ~ N(+1, 1) for new and N(-1, 1) for known queries has likelihood ratio e^(2x), so
    the posterior for prior pi has log-odds logit(pi) + 2x: exactly calibrated at pi.
    """
    is_new = rng.random(n) < true_prior
    x = rng.normal(np.where(is_new, 1.0, -1.0), 1.0)
    p = 1.0 / (1.0 + np.exp(-(_logit(fitted_prior) + 2.0 * x)))
    return p, is_new


@pytest.mark.parametrize(("true_prior", "fitted_prior"), [(0.55, 0.2), (0.1, 0.5), (0.2, 0.2)])
def test_em_recovers_the_true_prior(true_prior: float, fitted_prior: float) -> None:
    p, is_new = _calibrated_scores(np.random.default_rng(4), 4000, true_prior, fitted_prior)
    estimate = estimate_prior(p, fitted_prior)
    assert estimate == pytest.approx(true_prior, abs=0.05)
    before = expected_calibration_error(p, is_new)
    after = expected_calibration_error(adjust_prior(p, fitted_prior, estimate), is_new)
    assert after < 0.04
    if true_prior != fitted_prior:
        assert after < before / 3


def test_em_is_clipped_and_stops() -> None:
    assert estimate_prior(np.zeros(10), 0.2) == 0.001
    assert estimate_prior(np.ones(10), 0.2) == 0.999
    # One step from the fitted prior: the mean of P(new).
    assert estimate_prior(np.array([0.1, 0.3]), 0.2, iterations=1) == pytest.approx(0.2)
    assert estimate_prior(np.array([0.3, 0.5]), 0.2, iterations=1) == pytest.approx(0.4)
    # A fixed point: P(new) calibrated for 0.2 with mean 0.2 stays there.
    assert estimate_prior(np.array([0.1, 0.3]), 0.2) == pytest.approx(0.2, abs=1e-6)


def test_errors() -> None:
    with pytest.raises(PhotoidError, match="at least one query"):
        estimate_prior(np.zeros(0), 0.2)
    with pytest.raises(PhotoidError, match=r"fitted_prior .* strictly between 0 and 1, not 0\.0"):
        estimate_prior(np.array([0.5]), 0.0)
    with pytest.raises(PhotoidError, match=r"prior .* strictly between 0 and 1, not 1\.0"):
        adjust_prior(np.array([0.5]), 0.2, 1.0)
    with pytest.raises(PhotoidError, match="iterations must be >= 1"):
        estimate_prior(np.array([0.5]), 0.2, iterations=0)
    with pytest.raises(PhotoidError, match=r"in \[0, 1\]"):
        adjust_prior(np.array([1.5]), 0.2, 0.5)
    with pytest.raises(PhotoidError, match="1-D array"):
        adjust_prior(np.array([[0.5]]), 0.2, 0.5)


def _model(prior: float = 0.2) -> NewIndividualModel:
    rng = np.random.default_rng(5)
    p1_known, p1_new = rng.beta(5, 2, 200), rng.beta(2, 5, 200)
    known = np.stack([p1_known, p1_known * rng.uniform(0, 0.5, 200)], axis=1)
    new = np.stack([p1_new, p1_new * rng.uniform(0, 0.5, 200)], axis=1)
    species = ["a"] * 200
    return fit_new_individual(
        known, new, new_fraction=prior, species_known=species, species_new=species
    )


def test_with_prior_shifts_every_model() -> None:
    model = _model(0.2)
    assert model.prior == 0.2
    moved = model.with_prior(0.5)
    assert moved.prior == 0.5
    queries = np.array([[0.9, 0.05], [0.3, 0.2], [0.05, 0.01]])
    for species in (None, ["a"] * 3):
        before = model.predict(queries, species)
        np.testing.assert_allclose(
            moved.predict(queries, species), adjust_prior(before, 0.2, 0.5), atol=1e-12
        )
    # The intercepts move by logit 0.5 - logit 0.2 = ln 4; a round trip comes back.
    assert moved.per_species["a"].intercept == pytest.approx(
        model.per_species["a"].intercept + np.log(4.0)
    )
    back = moved.with_prior(0.2)
    assert back.overall.intercept == pytest.approx(model.overall.intercept)
    with pytest.raises(PhotoidError, match="strictly between 0 and 1"):
        model.with_prior(0.0)


def test_prior_is_saved_and_old_dicts_load() -> None:
    moved = _model(0.3).with_prior(0.6)
    data = json.loads(json.dumps(moved.to_dict()))
    assert data["prior"] == 0.6
    assert NewIndividualModel.from_dict(data) == moved
    del data["prior"]
    assert NewIndividualModel.from_dict({**data, "new_fraction": 0.3}).prior == 0.3
    assert NewIndividualModel.from_dict(data).prior == DEFAULT_PRIOR
    with pytest.raises(PhotoidError, match=r"saved\.json: prior must be a number"):
        NewIndividualModel.from_dict({**data, "prior": 1.0}, "saved.json")
