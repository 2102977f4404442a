"""Evaluation of an identification method on a split of a labelled dataset."""

from photoid.evaluation.result import EvaluationResult
from photoid.evaluation.run import evaluate_deep, evaluate_local

__all__ = ["EvaluationResult", "evaluate_deep", "evaluate_local"]
