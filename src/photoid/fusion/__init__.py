"""Fused, calibrated identification: local features, colour and deep embeddings, each engine's
scores calibrated into probabilities and stacked, with the probability of a new individual."""

from photoid.fusion.config import FusedAnswers, FusedConfig, Queries
from photoid.fusion.engine import FusedEngine
from photoid.fusion.run import decide, evaluate_fused, load_deep, with_new_individual
from photoid.fusion.stack import CandidatePairs, FusionModel, fit_fusion, shortlist

__all__ = [
    "CandidatePairs",
    "FusedAnswers",
    "FusedConfig",
    "FusedEngine",
    "FusionModel",
    "Queries",
    "decide",
    "evaluate_fused",
    "fit_fusion",
    "load_deep",
    "shortlist",
    "with_new_individual",
]
