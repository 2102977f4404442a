"""Evaluation of an identification method on a split of a labelled dataset."""

from photoid.evaluation.run import EvaluationResult, evaluate_deep, evaluate_local

__all__ = ["EvaluationResult", "evaluate_deep", "evaluate_local"]
