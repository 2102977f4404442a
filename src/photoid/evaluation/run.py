"""Run an engine (local, or deep with one model or an ensemble) on a dataset split: gallery rows
against query rows, with metrics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from photoid.data.schema import UNKNOWN_IDENTITY
from photoid.data.table import Dataset
from photoid.decide import SpeciesThresholds, apply_thresholds
from photoid.deep.auto_threshold import fit_gallery_threshold, fit_query_threshold
from photoid.deep.checkpoints import load_deep_engine
from photoid.deep.engine import DeepEngine
from photoid.deep.ensemble import Combine, DeepEnsemble
from photoid.errors import DatasetError
from photoid.evaluation.result import EvaluationResult
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.local.results import Identification
from photoid.local.threshold import fit_new_threshold
from photoid.metrics import (
    NEW_INDIVIDUAL,
    known_new_accuracy,
    map_at_k,
    threshold_sweep,
    top_k_accuracy,
)
from photoid.progress import StageProgress, stage_callback


def split_rows(dataset: Dataset, column: str) -> tuple[Dataset, Dataset]:
    """Gallery (``train``/``gallery`` rows) and queries (``test``/``query`` rows) of a column."""
    if column not in dataset.split_columns:
        raise DatasetError(
            f"no split column {column!r}; this dataset has {dataset.split_columns or 'none'} "
            "(make one with `photoid data split`)",
            path=dataset.root / "metadata.csv",
        )
    values = dataset.table[column]
    gallery = dataset.subset(values.isin(["train", "gallery"]).to_numpy())
    queries = dataset.subset(values.isin(["test", "query"]).to_numpy())
    if len(gallery) == 0 or len(queries) == 0:
        raise DatasetError(
            f"split column {column!r} needs rows marked train (gallery) and test (queries); "
            f"it has {len(gallery)} and {len(queries)}",
            path=dataset.root / "metadata.csv",
        )
    return gallery, queries


def evaluate_local(
    dataset: Dataset,
    split_column: str,
    config: LocalConfig | None = None,
    *,
    cache_dir: Path | None = None,
    new_threshold: float | Literal["auto"] | None = None,
    progress: StageProgress | None = None,
) -> EvaluationResult:
    """Build the gallery from the split's train rows, identify its test rows, score the answers.

    ``new_threshold``: a query whose best score is below it gets ``new_individual`` first (the
    competitions' rule); ``"auto"`` fits it on the gallery alone by leave-one-out
    (:mod:`photoid.local.threshold`); None never inserts it. The oracle threshold (the best one in
    hindsight, from the query labels) is reported alongside for reference, never used.
    """
    gallery, queries = split_rows(dataset, split_column)
    started = time.perf_counter()
    fit = isinstance(new_threshold, str)  # "auto"
    threshold = None if isinstance(new_threshold, str) else new_threshold
    engine = LocalEngine.from_dataset(
        gallery,
        config,
        cache_dir,
        stage_callback(progress, "gallery", len(gallery)),
        keep_descriptors=fit,
    )
    if fit:
        fitted = fit_new_threshold(engine)
        threshold = None if fitted is None else round(fitted.threshold, 6)
    built = time.perf_counter()
    answers = engine.identify(
        queries.paths(),
        bboxes=queries.cells("bbox"),
        viewpoints=queries.cells("viewpoint"),
        names=list(queries.table["image"]),
        progress=stage_callback(progress, "queries", len(queries)),
    )
    finished = time.perf_counter()
    return _score(
        "local",
        dataset,
        split_column,
        queries,
        answers,
        engine.identities,
        None if threshold is None else SpeciesThresholds(threshold),
        (started, built, finished),
        engine.skipped,
    )


def evaluate_deep(
    dataset: Dataset,
    split_column: str,
    model: Path | Sequence[Path],
    *,
    tta: Sequence[str] = (),
    aggregate: Literal["max", "centroid"] = "max",
    ensemble: Combine = "mean",
    new_threshold: float | Literal["auto"] | None = None,
    progress: StageProgress | None = None,
) -> EvaluationResult:
    """The deep engine on a split: embed the train rows as the gallery, rank identities for the
    test rows by cosine similarity, score the answers.

    ``model``: checkpoint(s), run folder(s) or a folder of fold runs
    (:func:`photoid.deep.checkpoints.resolve_checkpoints`); several models are combined by
    ``ensemble``. ``new_threshold``: as :func:`evaluate_local`; ``"auto"`` fits it on the
    split's ``val`` rows where it has them (validation queries ranked against the gallery; their
    identities missing from the gallery are new individuals), else on the gallery alone by
    leave-one-out (:mod:`photoid.deep.auto_threshold`), per species too when the table has a
    species column.
    """
    gallery, queries = split_rows(dataset, split_column)
    models = [model] if isinstance(model, Path) else list(model)
    started = time.perf_counter()
    engine = load_deep_engine(
        models,
        gallery,
        tta=tta,
        aggregate=aggregate,
        ensemble=ensemble,
        progress=stage_callback(progress, "gallery", len(gallery)),
    )
    fitted, fit_info = _deep_thresholds(
        engine, gallery, _validation_rows(dataset, split_column), new_threshold
    )
    built = time.perf_counter()
    answers = engine.identify(
        queries.paths(),
        bboxes=queries.cells("bbox"),
        names=list(queries.table["image"]),
        progress=stage_callback(progress, "queries", len(queries)),
    )
    finished = time.perf_counter()
    return _score(
        "deep",
        dataset,
        split_column,
        queries,
        answers,
        engine.identities,
        fitted,
        (started, built, finished),
        engine.skipped,
        fit_info,
    )


def _validation_rows(dataset: Dataset, column: str) -> Dataset:
    """The rows a split column marks ``val`` (none: an empty dataset)."""
    return dataset.subset((dataset.table[column] == "val").to_numpy())


def _deep_thresholds(
    engine: DeepEngine | DeepEnsemble,
    gallery: Dataset,
    validation: Dataset,
    new_threshold: float | Literal["auto"] | None,
) -> tuple[SpeciesThresholds | None, dict[str, Any] | None]:
    """The thresholds to apply, and for ``auto`` how they were fitted (for the summary): on the
    split's ``val`` rows where it has them, else on the gallery by leave-one-out."""
    if new_threshold is None:
        return None, None
    if new_threshold != "auto":
        return SpeciesThresholds(new_threshold), None
    if len(validation):
        answers = engine.identify(
            validation.paths(),
            bboxes=validation.cells("bbox"),
            names=list(validation.table["image"]),
            top=6,  # a validation query of a known identity may also play a new one
        )
        fit = fit_query_threshold(
            [str(x) for x in validation.table["identity"]],
            [[c.identity for c in a.candidates] for a in answers],
            np.array([_padded([c.score for c in a.candidates], 6) for a in answers]),
            set(engine.identities),
            validation.cells("species"),
        )
        source = "val"
    else:
        by_image = dict(zip(gallery.table["image"], gallery.cells("species") or [], strict=False))
        species = [by_image.get(name) for name in engine.images] if by_image else None
        fit = fit_gallery_threshold(engine, species)
        source = "gallery"
    if fit is None:
        return None, None
    info = {
        "source": source,
        "queries": fit.queries,
        "new": fit.new,
        "map5": {name or "global": round(v, 4) for name, v in fit.thresholds.map5.items()},
    }
    return fit.thresholds, info


def _score(
    method: str,
    dataset: Dataset,
    split_column: str,
    queries: Dataset,
    answers: list[Identification],
    gallery_identities: list[str],
    thresholds: SpeciesThresholds | None,
    times: tuple[float, float, float],
    skipped: list[str],
    threshold_fit: dict[str, Any] | None = None,
) -> EvaluationResult:
    ranked = [[c.identity for c in a.candidates] for a in answers]
    if thresholds is None:
        predictions = [list(r[:5]) for r in ranked]
    else:
        scores = np.array([_padded([c.score for c in a.candidates]) for a in answers])
        species = queries.cells("species")
        predictions = [
            [str(x) for x in row] for row in apply_thresholds(ranked, scores, thresholds, species)
        ]
    result = score_answers(
        method,
        dataset,
        split_column,
        queries,
        answers,
        gallery_identities,
        predictions,
        times,
        skipped,
    )
    return replace(
        result,
        new_threshold=None if thresholds is None else thresholds.global_threshold,
        species_thresholds={} if thresholds is None else dict(thresholds.per_species),
        threshold_fit=threshold_fit,
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
    skipped: list[str],
) -> EvaluationResult:
    """Score final top-5 ``predictions`` (``new_individual`` already placed) of the ``queries``
    rows; ``answers`` give the candidate scores for the oracle threshold; ``times``:
    (started, gallery built, queries answered) from ``time.perf_counter``."""
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
        skipped=skipped,
    )


def _padded(values: list[float], width: int = 5) -> list[float]:
    return (values + [-np.inf] * width)[:width]
