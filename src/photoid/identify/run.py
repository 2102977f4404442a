"""Build a gallery from a dataset and identify query files against it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from photoid.data.table import load_dataset
from photoid.deep.checkpoints import load_deep_engine
from photoid.deep.engine import DeepEngine
from photoid.deep.ensemble import Combine, DeepEnsemble
from photoid.errors import PhotoidError
from photoid.fusion import FusedEngine, Queries, load_deep, with_new_individual
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.local.results import Identification
from photoid.progress import stage_callback

METHODS = ("local", "deep", "fused")


def identify_files(
    gallery: Path,
    queries: list[Path],
    *,
    method: str = "local",
    config: LocalConfig | None = None,
    cache_dir: Path | None = None,
    model: Path | Sequence[Path] | None = None,
    tta: Sequence[str] = (),
    ensemble: Combine = "mean",
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Identification]:
    """Every labelled row of the ``gallery`` dataset is the gallery; rank identities per query.

    ``method`` ``local`` uses ``config`` and ``cache_dir``; ``deep`` needs ``model``: a
    checkpoint from ``photoid train``, a run folder, a folder of fold runs, or several of these
    (an ensemble combined by ``ensemble``, :mod:`photoid.deep.ensemble`); it takes ``tta`` views.
    ``fused`` combines the local engine, colour and ``model`` when given
    (:mod:`photoid.fusion`): scores are calibrated probabilities and ``new_individual`` is a
    candidate where it maximises expected MAP@5.
    """
    if method not in METHODS:
        raise PhotoidError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "deep" and model is None:
        raise PhotoidError("--method deep needs --model CHECKPOINT (from photoid train)")
    dataset = load_dataset(gallery)
    if method == "fused":
        fused = FusedEngine.build(
            dataset,
            local_config=config,
            cache_dir=cache_dir,
            deep=load_deep(model, dataset, progress),
            progress=progress,
        )
        asked = Queries(list(queries), [str(q) for q in queries])
        found = fused.identify(asked, stage_callback(progress, "queries", len(queries)))
        return with_new_individual(found)

    engine: LocalEngine | DeepEngine | DeepEnsemble
    if model is not None and method == "deep":
        engine = load_deep_engine(
            [model] if isinstance(model, Path) else model,
            dataset,
            tta=tta,
            ensemble=ensemble,
            progress=stage_callback(progress, "gallery", len(dataset)),
        )
    else:
        engine = LocalEngine.from_dataset(
            dataset, config, cache_dir, stage_callback(progress, "gallery", len(dataset))
        )
    return engine.identify(queries, progress=stage_callback(progress, "queries", len(queries)))
