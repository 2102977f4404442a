"""Decisions on top of rankings: the new-individual threshold (global and per species), and the
open-set decision from calibrated probabilities (P(new) and where ``new_individual`` goes)."""

from photoid.decide.open_set import (
    Logistic,
    NewIndividualModel,
    expected_map_insert,
    fit_new_individual,
    new_features,
    place_new_individual,
)
from photoid.decide.threshold import SpeciesThresholds, apply_thresholds, fit_thresholds

__all__ = [
    "Logistic",
    "NewIndividualModel",
    "SpeciesThresholds",
    "apply_thresholds",
    "expected_map_insert",
    "fit_new_individual",
    "fit_thresholds",
    "new_features",
    "place_new_individual",
]
