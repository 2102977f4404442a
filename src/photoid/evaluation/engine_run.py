"""Evaluate any registered engine on a dataset split: fit on the split's gallery rows (its
``val`` rows, when it has them, calibrate and fit the new-individual policy), identify its query
rows, score the answers. Photos that cannot be read are counted with their reasons; past
``max_skipped`` of the gallery or of the queries the run fails (:mod:`.skips`)."""

from __future__ import annotations

import time
import warnings
from dataclasses import replace

from photoid.core import NEW_INDIVIDUAL
from photoid.data.selection import select_rows
from photoid.data.table import Dataset
from photoid.decide.policy import NewIndividualSetting, Prior, predictions_of
from photoid.engines.base import EngineOptions, StageProgress
from photoid.engines.registry import create_engine
from photoid.errors import PhotoidError
from photoid.evaluation.result import EvaluationResult
from photoid.evaluation.scoring import score_answers
from photoid.evaluation.skips import (
    DEFAULT_MAX_SKIPPED,
    check_skips,
    gallery_skips,
    query_skips,
)
from photoid.fusion.config import Queries
from photoid.progress import stage_callback


def evaluate(
    dataset: Dataset,
    split_column: str,
    method: str,
    options: EngineOptions | None = None,
    *,
    new_individual: NewIndividualSetting | None = None,
    prior: Prior = None,
    progress: StageProgress | None = None,
    max_skipped: float = DEFAULT_MAX_SKIPPED,
) -> EvaluationResult:
    """Fit ``method`` on the split's gallery rows and score its answers to the query rows.

    ``new_individual`` None: ``auto`` when some query's identity is absent from the gallery (an
    open split), else ``never`` (a closed split, where every query is a known individual).
    ``prior``: the share of new individuals among the queries for calibrated engines (a number,
    ``"estimate"`` from the queries themselves, or None: as fitted).
    ``max_skipped``: the share (0 to 1) of gallery photos, or of queries, that may be left out
    because they cannot be read; past it PhotoidError names how many, why, and the fix (checked
    once the gallery is built, and again once the queries are answered).
    """
    if not 0.0 <= max_skipped <= 1.0:
        raise PhotoidError(f"--max-skipped {max_skipped}: give a share between 0 and 1")
    rows = select_rows(dataset, split_column)
    if new_individual is None:
        new_individual = default_setting(rows.gallery, rows.queries)
    options = replace(options or EngineOptions(), new_individual=new_individual)
    engine = create_engine(method, options)
    started = time.perf_counter()
    engine.fit(rows.gallery, calibration=rows.calibration, progress=progress)
    built = time.perf_counter()
    left_out = gallery_skips(rows.gallery, engine.skipped)
    check_skips(left_out, max_skipped)
    rankings, decided = engine.answer(
        Queries.of(rows.queries),
        stage_callback(progress, "queries", len(rows.queries)),
        prior,
    )
    finished = time.perf_counter()
    unanswered = query_skips(rows.queries, rankings)
    check_skips(unanswered, max_skipped)
    predictions = predictions_of(decided)
    result = score_answers(
        method,
        dataset,
        split_column,
        rows.queries,
        rankings,
        engine.identities,
        predictions,
        (started, built, finished),
        (left_out, unanswered),
    )
    policy = engine.policy
    thresholds = policy.thresholds
    result = replace(
        result,
        new_threshold=None if thresholds is None else thresholds.global_threshold,
        species_thresholds={} if thresholds is None else dict(thresholds.per_species),
        threshold_fit=policy.summary(),
    )
    if any(t == NEW_INDIVIDUAL for t in result.truth) and not any(
        NEW_INDIVIDUAL in p for p in predictions
    ):
        warnings.warn(
            f"{result.truth.count(NEW_INDIVIDUAL)} queries show individuals absent from the "
            f"gallery, but no answer is new_individual (--new-individual {new_individual}; "
            f"policy: {policy.rule})",
            stacklevel=2,
        )
    if engine.calibrated:
        probabilities = [
            [c.probability if c.probability is not None else 0.0 for c in d.candidates]
            for d in decided
        ]
        # The answer's own P(new) (after --new-prior), else the ranking's.
        p_new = [
            next((p for p in (d.new_probability, r.new_probability) if p is not None), 0.0)
            for d, r in zip(decided, rankings, strict=True)
        ]
        result = result.with_calibration(probabilities, p_new, dict(engine.calibration))
    return result


def default_setting(gallery: Dataset, queries: Dataset) -> NewIndividualSetting:
    """``auto`` where some query identity is missing from the gallery, else ``never``."""
    known = set(gallery.table["identity"].astype(str))
    new = any(str(t) not in known for t in queries.table["identity"])
    return NewIndividualSetting("auto" if new else "never")
