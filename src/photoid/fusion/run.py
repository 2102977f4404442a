"""The fused engine on a dataset split: the split's ``train`` rows are the gallery, its ``test``
rows the queries and its ``val`` rows, when it has them, the calibration queries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from photoid.data.table import Dataset
from photoid.decide.policy import parse_new_individual
from photoid.errors import PhotoidError
from photoid.evaluation.result import EvaluationResult
from photoid.fusion.config import FusedConfig
from photoid.local.config import LocalConfig
from photoid.progress import StageProgress, stage_callback

if TYPE_CHECKING:
    from photoid.deep.engine import DeepEngine


def load_deep(
    model: Path | Sequence[Path] | None,
    gallery: Dataset,
    progress: StageProgress | None = None,
    device: str = "auto",
    precision: str = "auto",
) -> DeepEngine | None:
    """The deep engine of one checkpoint (or run folder) over ``gallery`` on ``device``, or
    None."""
    if model is None:
        return None
    from photoid.deep.checkpoints import resolve_checkpoints
    from photoid.deep.engine import DeepEngine  # torch: only with a model

    checkpoints = resolve_checkpoints([model] if isinstance(model, Path) else list(model))
    if len(checkpoints) != 1:
        raise PhotoidError(
            f"--method fused takes one deep model; {len(checkpoints)} checkpoints were given "
            "(evaluate ensembles with --method deep)"
        )
    return DeepEngine.from_checkpoint(
        checkpoints[0],
        gallery,
        progress=stage_callback(progress, "deep", len(gallery)),
        device=device,
        precision=precision,
    )


def evaluate_fused(
    dataset: Dataset,
    split_column: str,
    *,
    model: Path | Sequence[Path] | None = None,
    config: LocalConfig | None = None,
    cache_dir: Path | None = None,
    new_threshold: Literal["auto"] | None = None,
    fused: FusedConfig | None = None,
    progress: StageProgress | None = None,
) -> EvaluationResult:
    """The fused engine on a split (:func:`photoid.evaluation.engine_run.evaluate`): fitted on
    the gallery rows, calibrated on the ``val`` rows where the split has them.

    ``new_threshold="auto"``: ``new_individual`` enters each top 5 where the calibrated
    probability of a new individual maximises expected MAP@5; None: never.
    """
    from photoid.engines.base import EngineOptions
    from photoid.evaluation.engine_run import evaluate

    models = () if model is None else ((model,) if isinstance(model, Path) else tuple(model))
    options = EngineOptions(
        local=config or LocalConfig(),
        cache_dir=cache_dir,
        models=models,
        fused=fused or FusedConfig(),
    )
    return evaluate(
        dataset,
        split_column,
        "fused",
        options,
        new_individual=parse_new_individual("never" if new_threshold is None else new_threshold),
        progress=progress,
    )
