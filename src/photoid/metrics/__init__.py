"""Evaluation metrics, pure numpy: MAP@k, top-k accuracy, open-set (new individual) metrics and
calibration (ECE, reliability curve, Brier score)."""

from photoid.core import NEW_INDIVIDUAL
from photoid.metrics.calibration import (
    ReliabilityCurve,
    brier_score,
    expected_calibration_error,
    reliability_curve,
)
from photoid.metrics.openset import (
    ThresholdSweep,
    balanced_accuracy_known,
    balanced_accuracy_new,
    insert_new_individual,
    known_new_accuracy,
    new_individual_auc,
    threshold_sweep,
)
from photoid.metrics.ranking import (
    Label,
    average_precision_at_k,
    map_at_k,
    top_k_accuracy,
)
from photoid.metrics.ranking_from_scores import rank_identities, rank_order
from photoid.metrics.shortlist import ShortlistTrace, shortlist_trace

__all__ = [
    "NEW_INDIVIDUAL",
    "Label",
    "ReliabilityCurve",
    "ShortlistTrace",
    "ThresholdSweep",
    "average_precision_at_k",
    "balanced_accuracy_known",
    "balanced_accuracy_new",
    "brier_score",
    "expected_calibration_error",
    "insert_new_individual",
    "known_new_accuracy",
    "map_at_k",
    "new_individual_auc",
    "rank_identities",
    "rank_order",
    "reliability_curve",
    "shortlist_trace",
    "threshold_sweep",
    "top_k_accuracy",
]
