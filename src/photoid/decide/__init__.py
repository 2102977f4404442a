"""Decisions on top of rankings: the new-individual threshold (global and per species); the
open-set decision from calibrated probabilities (P(new) and where ``new_individual`` goes); P(new)
moved to another share of new individuals, which a batch of queries can estimate."""

from photoid.decide.open_set import (
    Logistic,
    NewIndividualModel,
    expected_map_insert,
    fit_new_individual,
    new_features,
    place_new_individual,
)
from photoid.decide.prior import adjust_prior, estimate_prior
from photoid.decide.threshold import SpeciesThresholds, apply_thresholds, fit_thresholds

__all__ = [
    "Logistic",
    "NewIndividualModel",
    "SpeciesThresholds",
    "adjust_prior",
    "apply_thresholds",
    "estimate_prior",
    "expected_map_insert",
    "fit_new_individual",
    "fit_thresholds",
    "new_features",
    "place_new_individual",
]
