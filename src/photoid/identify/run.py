"""Identify query files with a fitted engine: one loaded from its folder, or one fitted on a
gallery dataset for this call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from photoid.core import Box, Identification
from photoid.data.table import load_dataset
from photoid.decide.policy import Prior
from photoid.engines.base import Engine, EngineOptions
from photoid.engines.fitting import fit_engine
from photoid.engines.registry import METHODS
from photoid.engines.store import load_engine
from photoid.errors import PhotoidError
from photoid.fusion.config import Queries
from photoid.progress import stage_callback

__all__ = ["METHODS", "identify_files", "identify_with"]


def identify_with(
    engine: Engine,
    queries: Sequence[Path],
    progress: Callable[[str, int, int], None] | None = None,
    prior: Prior = None,
    boxes: Sequence[Box | None] | None = None,
) -> list[Identification]:
    """Each query's top 5 from a fitted engine, ``new_individual`` placed by its policy
    (``prior``: the share of new individuals among these queries, see
    :mod:`photoid.decide.policy`); ``boxes``: each query's animal (x, y, w, h, a detector's),
    None for the whole photo."""
    asked = Queries(
        list(queries), [str(q) for q in queries], None if boxes is None else list(boxes)
    )
    _, decided = engine.answer(asked, stage_callback(progress, "queries", len(queries)), prior)
    return decided


def identify_files(
    gallery: Path | None,
    queries: list[Path],
    *,
    method: str = "local",
    options: EngineOptions | None = None,
    engine: Path | None = None,
    split_column: str | None = None,
    prior: Prior = None,
    progress: Callable[[str, int, int], None] | None = None,
    boxes: Sequence[Box | None] | None = None,
) -> list[Identification]:
    """Rank identities per query photo, best first, ``new_individual`` placed by the engine's
    policy; each query cropped to its box in ``boxes`` (None: the whole photo).

    ``engine``: a folder written by ``photoid fit`` (then ``gallery`` and ``method`` are not
    used). Else ``method`` is fitted on the ``gallery`` dataset for this call: its
    ``split_column``'s gallery rows (``val`` rows calibrate), or every labelled row without one.
    """
    if engine is not None:
        chosen = options or EngineOptions()
        fitted = load_engine(engine, chosen.device, chosen.precision)
        return identify_with(fitted, queries, progress, prior, boxes)
    if gallery is None:
        raise PhotoidError("give --engine FOLDER (from photoid fit) or --gallery DATASET")
    if method not in METHODS:
        raise PhotoidError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    options = options or EngineOptions()
    if method == "deep" and not options.models:
        raise PhotoidError("--method deep needs --model CHECKPOINT (from photoid train)")
    fitted, _ = fit_engine(load_dataset(gallery), method, options, split_column, progress)
    return identify_with(fitted, queries, progress, prior, boxes)
