"""Fused, calibrated identification: local features, colour and deep embeddings, each engine's
scores calibrated into probabilities and stacked, with the probability of a new individual.

Evaluation on a split lives in :mod:`photoid.fusion.run` (``evaluate_fused``)."""

from photoid.fusion.config import FusedAnswers, FusedConfig, Queries
from photoid.fusion.engine import FusedEngine
from photoid.fusion.stack import CandidatePairs, FusionModel, fit_fusion, shortlist

__all__ = [
    "CandidatePairs",
    "FusedAnswers",
    "FusedConfig",
    "FusedEngine",
    "FusionModel",
    "Queries",
    "fit_fusion",
    "shortlist",
]
