"""P(new individual) for another share of new individuals among the queries: Bayes' rule for a
change of class priors, and the EM that estimates the share from a batch of unlabelled queries
(Saerens, Latinne & Decaestecker, "Adjusting the outputs of a classifier to new a priori
probabilities", Neural Computation 2002).

Both assume label shift: new and known queries look the same as when P(new) was fitted, only
their proportions differ, and P(new) is calibrated for the prior it was fitted for.
"""

from __future__ import annotations

import numpy as np

from photoid.errors import PhotoidError

# The share of new individuals assumed where nothing better is known (about the share in the
# Humpback 2019 and Happywhale 2022 test sets); photoid.decide.policy uses it too.
DEFAULT_PRIOR = 0.2
# An estimated prior stays inside this range, so that its log-odds stay finite.
PRIOR_BOUNDS = (0.001, 0.999)


def prior_log_odds_shift(fitted_prior: float, prior: float) -> float:
    """``logit(prior) - logit(fitted_prior)``: what moving from the prior a P(new) was fitted
    for to ``prior`` adds to its log-odds (both shares strictly between 0 and 1)."""
    _check_prior(fitted_prior, "fitted_prior")
    _check_prior(prior, "prior")
    return float(np.log(prior / (1.0 - prior)) - np.log(fitted_prior / (1.0 - fitted_prior)))


def adjust_prior(p_new: np.ndarray, fitted_prior: float, prior: float) -> np.ndarray:
    """``(n,)`` float64 P(new) of ``(n,)`` values calibrated for ``fitted_prior``, moved to a
    query stream whose share of new individuals is ``prior``: each posterior's odds times
    ``prior / (1 - prior)`` over ``fitted_prior / (1 - fitted_prior)``; 0 and 1 stay put."""
    p = _probabilities(p_new)
    _check_prior(fitted_prior, "fitted_prior")
    _check_prior(prior, "prior")
    new, known = prior / fitted_prior, (1.0 - prior) / (1.0 - fitted_prior)
    return np.asarray(new * p / (new * p + known * (1.0 - p)), np.float64)


def estimate_prior(
    p_new: np.ndarray,
    fitted_prior: float,
    *,
    iterations: int = 100,
    tolerance: float = 1e-6,
) -> float:
    """The share of new individuals in a batch of queries, from their ``(n,)`` P(new) calibrated
    for ``fitted_prior``: the EM of Saerens et al. 2002 over the known/new mixture.

    Starting from ``fitted_prior``, each step moves every P(new) to the current estimate
    (:func:`adjust_prior`, the E step) and takes their mean as the next estimate (M step), until
    it changes by less than ``tolerance`` or after ``iterations`` steps. The estimate is clipped
    to :data:`PRIOR_BOUNDS`.
    """
    p = _probabilities(p_new)
    if p.size == 0:
        raise PhotoidError("estimating the share of new individuals needs at least one query")
    _check_prior(fitted_prior, "fitted_prior")
    if iterations < 1 or not tolerance > 0.0:
        raise PhotoidError(
            f"iterations must be >= 1 and tolerance > 0, not {iterations} and {tolerance}"
        )
    low, high = PRIOR_BOUNDS
    prior = float(np.clip(fitted_prior, low, high))
    for _ in range(iterations):
        updated = float(np.clip(adjust_prior(p, fitted_prior, prior).mean(), low, high))
        if abs(updated - prior) < tolerance:
            return updated
        prior = updated
    return prior


def _probabilities(values: np.ndarray) -> np.ndarray:
    p = np.asarray(values, np.float64)
    if p.ndim != 1:
        raise PhotoidError(f"P(new) must be a 1-D array, one value per query, not {p.shape}")
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise PhotoidError("P(new) must hold probabilities in [0, 1] (NaN is refused too)")
    return p


def _check_prior(prior: float, what: str) -> None:
    if not 0.0 < prior < 1.0:
        raise PhotoidError(
            f"{what} is a share of new individuals and must lie strictly between 0 and 1, "
            f"not {prior}"
        )
