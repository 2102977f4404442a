"""The fused engine on a dataset split: the split's ``train`` rows are the gallery, its ``test``
rows the queries and its ``val`` rows, when it has them, the calibration queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from photoid.core import Candidate, Identification, Match
from photoid.data.table import Dataset
from photoid.decide.open_set import place_new_individual
from photoid.decide.policy import parse_new_individual
from photoid.errors import PhotoidError
from photoid.evaluation.result import EvaluationResult
from photoid.fusion.config import FusedAnswers, FusedConfig
from photoid.local.config import LocalConfig
from photoid.progress import StageProgress, stage_callback

_EMPTY = np.zeros((0, 2), np.float32)

if TYPE_CHECKING:
    from photoid.deep.engine import DeepEngine


def load_deep(
    model: Path | Sequence[Path] | None,
    gallery: Dataset,
    progress: StageProgress | None = None,
) -> DeepEngine | None:
    """The deep engine of one checkpoint (or run folder) over ``gallery``, or None."""
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
        checkpoints[0], gallery, progress=stage_callback(progress, "deep", len(gallery))
    )


def decide(
    answers: FusedAnswers, insert_new: bool, k: int = 5
) -> tuple[list[list[str]], list[list[float]]]:
    """Top-``k`` identities per query and the probability that each is right, adding up to at
    most 1 per query; with ``insert_new``, ``new_individual`` is placed where it maximises
    expected MAP@k and the candidates share the known mass ``1 - P(new)``."""
    ranked = [[c.identity for c in a.candidates] for a in answers.answers]
    width = max([k, *(len(r) for r in ranked)])
    probabilities = np.zeros((len(ranked), width), np.float64)
    for i, answer in enumerate(answers.answers):
        values = [c.score for c in answer.candidates]
        probabilities[i, : len(values)] = values
    p_new = answers.new_probability
    if insert_new and p_new is not None:
        return place_new_individual(ranked, probabilities, p_new, k)
    totals = np.maximum(1.0, probabilities.sum(axis=1))
    return (
        [list(r[:k]) for r in ranked],
        [(probabilities[i, : min(k, len(r))] / totals[i]).tolist() for i, r in enumerate(ranked)],
    )


def with_new_individual(answers: FusedAnswers, k: int = 5) -> list[Identification]:
    """Each answer's top ``k`` as :func:`decide` places them, ``new_individual`` included as a
    candidate (no gallery photo) when the engine estimates P(new); scores are the
    probabilities that each entry is right."""
    predictions, probabilities = decide(answers, insert_new=True, k=k)
    out = []
    for answer, names, values in zip(answers.answers, predictions, probabilities, strict=True):
        if answer.warning is not None:
            out.append(answer)
            continue
        evidence = {c.identity: c.best for c in answer.candidates}
        candidates = [
            Candidate(name, value, evidence.get(name) or Match("", value, 0, _EMPTY, _EMPTY))
            for name, value in zip(names, values, strict=True)
        ]
        out.append(replace(answer, candidates=candidates))
    return out


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
