"""Run the local engine on a dataset split: gallery rows against query rows, with metrics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from photoid.data.schema import UNKNOWN_IDENTITY
from photoid.data.table import Dataset
from photoid.deep.engine import DeepEngine
from photoid.errors import DatasetError
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.local.results import Identification
from photoid.local.threshold import fit_new_threshold
from photoid.metrics import (
    NEW_INDIVIDUAL,
    insert_new_individual,
    known_new_accuracy,
    map_at_k,
    threshold_sweep,
    top_k_accuracy,
)
from photoid.progress import StageProgress, stage_callback


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics of one run, and every answer for the report.

    ``truth``: each query's identity, ``new_individual`` when it is not in the gallery.
    ``predictions``: the top-5 identities per query after the new-individual decision.
    """

    method: str
    dataset: str
    split_column: str
    gallery: int
    queries: int
    top1: float
    top5: float
    map5: float
    acc_known: float
    acc_new: float
    new_threshold: float | None
    oracle_threshold: float
    oracle_map5: float
    seconds: float
    gallery_seconds: float
    truth: list[str]
    predictions: list[list[str]]
    identifications: list[Identification]
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The numbers as one JSON-ready dict (the CLI prints it as its last line)."""
        return {
            "method": self.method,
            "dataset": self.dataset,
            "split_column": self.split_column,
            "top1": round(self.top1, 4),
            "top5": round(self.top5, 4),
            "map5": round(self.map5, 4),
            "acc_known": _round(self.acc_known),
            "acc_new": _round(self.acc_new),
            "new_threshold": None if self.new_threshold is None else _round(self.new_threshold),
            "oracle_threshold": _round(self.oracle_threshold),
            "oracle_map5": round(self.oracle_map5, 4),
            "queries": self.queries,
            "gallery": self.gallery,
            "seconds": round(self.seconds, 2),
            "gallery_seconds": round(self.gallery_seconds, 2),
            "queries_per_second": round(self.queries / max(self.seconds, 1e-9), 3),
            "skipped": len(self.skipped),
        }


def _round(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 4)


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
        threshold,
        (started, built, finished),
        engine.skipped,
    )


def evaluate_deep(
    dataset: Dataset,
    split_column: str,
    checkpoint: Path,
    *,
    tta: Sequence[str] = (),
    aggregate: Literal["max", "centroid"] = "max",
    new_threshold: float | None = None,
    progress: StageProgress | None = None,
) -> EvaluationResult:
    """The deep engine on a split: embed the train rows as the gallery with the checkpoint's
    embedder, rank identities for the test rows by cosine similarity, score the answers."""
    gallery, queries = split_rows(dataset, split_column)
    started = time.perf_counter()
    engine = DeepEngine.from_checkpoint(
        checkpoint,
        gallery,
        tta=tta,
        aggregate=aggregate,
        progress=stage_callback(progress, "gallery", len(gallery)),
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
        new_threshold,
        (started, built, finished),
        engine.skipped,
    )


def _score(
    method: str,
    dataset: Dataset,
    split_column: str,
    queries: Dataset,
    answers: list[Identification],
    gallery_identities: list[str],
    new_threshold: float | None,
    times: tuple[float, float, float],
    skipped: list[str],
) -> EvaluationResult:
    known = set(gallery_identities)
    truth = [
        name if name in known and name != UNKNOWN_IDENTITY else NEW_INDIVIDUAL
        for name in queries.table["identity"]
    ]
    ranked = [[c.identity for c in a.candidates] for a in answers]
    scores = np.array([_padded([c.score for c in a.candidates]) for a in answers])
    oracle_threshold, oracle_map = threshold_sweep(truth, ranked, scores).best
    if new_threshold is None:
        predictions = [list(r[:5]) for r in ranked]
    else:
        predictions = [
            [str(x) for x in row] for row in insert_new_individual(ranked, scores, new_threshold)
        ]
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
        new_threshold=new_threshold,
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
