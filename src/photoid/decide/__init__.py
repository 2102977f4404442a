"""Decisions on top of rankings: the new-individual threshold (global and per species)."""

from photoid.decide.threshold import SpeciesThresholds, apply_thresholds, fit_thresholds

__all__ = ["SpeciesThresholds", "apply_thresholds", "fit_thresholds"]
