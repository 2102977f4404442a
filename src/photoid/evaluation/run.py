"""Run an engine (local, or deep with one model or an ensemble) on a dataset split: gallery rows
against query rows, with metrics. Thin wrappers over :func:`photoid.evaluation.engine_run.evaluate`,
kept for their older arguments."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from photoid.data.selection import select_rows
from photoid.data.table import Dataset
from photoid.decide.policy import NewIndividualSetting, parse_new_individual
from photoid.engines.base import Combine, EngineOptions
from photoid.evaluation.engine_run import evaluate
from photoid.evaluation.result import EvaluationResult
from photoid.local.config import LocalConfig
from photoid.progress import StageProgress

NewThreshold = float | Literal["auto"] | None


def split_rows(dataset: Dataset, column: str) -> tuple[Dataset, Dataset]:
    """Gallery (``train``/``gallery`` rows) and queries (``test``/``query`` rows) of a column."""
    rows = select_rows(dataset, column)
    return rows.gallery, rows.queries


def setting_of(new_threshold: NewThreshold) -> NewIndividualSetting:
    """The older ``new_threshold`` argument as a setting: None never inserts
    ``new_individual``, ``"auto"`` fits the policy, a number is a fixed score threshold."""
    return parse_new_individual("never" if new_threshold is None else new_threshold)


def evaluate_local(
    dataset: Dataset,
    split_column: str,
    config: LocalConfig | None = None,
    *,
    cache_dir: Path | None = None,
    new_threshold: NewThreshold = None,
    progress: StageProgress | None = None,
) -> EvaluationResult:
    """The local engine on a split (:func:`photoid.evaluation.engine_run.evaluate`)."""
    options = EngineOptions(local=config or LocalConfig(), cache_dir=cache_dir)
    return evaluate(
        dataset,
        split_column,
        "local",
        options,
        new_individual=setting_of(new_threshold),
        progress=progress,
    )


def evaluate_deep(
    dataset: Dataset,
    split_column: str,
    model: Path | Sequence[Path],
    *,
    tta: Sequence[str] = (),
    aggregate: Literal["max", "centroid"] = "max",
    ensemble: Combine = "mean",
    new_threshold: NewThreshold = None,
    progress: StageProgress | None = None,
) -> EvaluationResult:
    """The deep engine on a split: ``model`` is checkpoint(s), run folder(s) or a folder of fold
    runs (:func:`photoid.deep.checkpoints.resolve_checkpoints`); several are an ensemble."""
    models = (model,) if isinstance(model, Path) else tuple(model)
    options = EngineOptions(models=models, tta=tuple(tta), aggregate=aggregate, ensemble=ensemble)
    return evaluate(
        dataset,
        split_column,
        "deep",
        options,
        new_individual=setting_of(new_threshold),
        progress=progress,
    )
