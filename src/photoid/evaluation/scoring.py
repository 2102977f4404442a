"""Score an engine's final answers against the truth: top-k, MAP@5, known/new accuracy and the
oracle threshold (the best one in hindsight, reported for reference, never used)."""

from __future__ import annotations

import numpy as np

from photoid.core import Identification
from photoid.data.schema import UNKNOWN_IDENTITY
from photoid.data.table import Dataset
from photoid.evaluation.result import EvaluationResult
from photoid.evaluation.skips import Skips
from photoid.metrics import (
    NEW_INDIVIDUAL,
    known_new_accuracy,
    map_at_k,
    threshold_sweep,
    top_k_accuracy,
)


def score_answers(
    method: str,
    dataset: Dataset,
    split_column: str,
    queries: Dataset,
    answers: list[Identification],
    gallery_identities: list[str],
    predictions: list[list[str]],
    times: tuple[float, float, float],
    skips: tuple[Skips, ...] = (),
) -> EvaluationResult:
    """Score final top-5 ``predictions`` (``new_individual`` already placed) of the ``queries``
    rows; ``answers`` give the candidate scores for the oracle threshold; ``times``:
    (started, gallery built, queries answered) from ``time.perf_counter``; ``skips``: the
    photos left out (gallery, queries)."""
    known = set(gallery_identities)
    truth = [
        name if name in known and name != UNKNOWN_IDENTITY else NEW_INDIVIDUAL
        for name in queries.table["identity"]
    ]
    ranked = [[c.identity for c in a.candidates] for a in answers]
    scores = np.array([_padded([c.score for c in a.candidates]) for a in answers])
    oracle_threshold, oracle_map = threshold_sweep(truth, ranked, scores).best
    acc_known, acc_new = known_new_accuracy(truth, predictions)
    started, built, finished = times
    return EvaluationResult(
        method=method,
        dataset=str(dataset.root),
        split_column=split_column,
        gallery=len(gallery_identities),
        queries=len(queries),
        top1=top_k_accuracy(truth, predictions, 1),
        top5=top_k_accuracy(truth, predictions, 5),
        map5=map_at_k(truth, predictions, 5),
        acc_known=acc_known,
        acc_new=acc_new,
        new_threshold=None,
        oracle_threshold=oracle_threshold,
        oracle_map5=oracle_map,
        seconds=finished - built,
        gallery_seconds=built - started,
        truth=truth,
        predictions=predictions,
        identifications=answers,
        skips=skips,
    )


def _padded(values: list[float], width: int = 5) -> list[float]:
    return (values + [-np.inf] * width)[:width]
