"""From ``--model`` paths to checkpoints, and to the engine that uses them: one model or an
ensemble."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from photoid.data.table import Dataset
from photoid.deep.engine import DeepEngine
from photoid.deep.ensemble import COMBINES, Combine, DeepEnsemble
from photoid.errors import PhotoidError
from photoid.search.gallery import Aggregate

CHECKPOINTS_DIR = "checkpoints"


def run_checkpoint(run: Path) -> Path:
    """The checkpoint of a run folder written by ``photoid train``: its best checkpoint by
    validation MAP@5 (``checkpoints/best-*.ckpt``, the newest if several), else
    ``checkpoints/last.ckpt``."""
    folder = run / CHECKPOINTS_DIR
    best = sorted(folder.glob("best-*.ckpt"), key=lambda p: (p.stat().st_mtime, p.name))
    if best:
        return best[-1]
    last = folder / "last.ckpt"
    if last.is_file():
        return last
    raise PhotoidError(f"{run}: the run folder holds no checkpoints/best-*.ckpt or last.ckpt")


def resolve_checkpoints(models: Sequence[Path]) -> list[Path]:
    """Checkpoint files for ``--model`` paths, in order. A path may be a ``.ckpt`` file, a run
    folder (holding ``checkpoints/``), or a folder of run folders (e.g. ``fold0/``, ``fold1/``
    of ``photoid train --folds``, sorted by name): one checkpoint per run (:func:`run_checkpoint`).
    """
    found: list[Path] = []
    for model in models:
        if model.is_file():
            found.append(model)
        elif (model / CHECKPOINTS_DIR).is_dir():
            found.append(run_checkpoint(model))
        elif model.is_dir():
            runs = sorted(p for p in model.iterdir() if (p / CHECKPOINTS_DIR).is_dir())
            if not runs:
                raise PhotoidError(
                    f"{model}: no checkpoint here; give a .ckpt file, a run folder of "
                    "`photoid train` (with checkpoints/) or a folder of such runs"
                )
            found.extend(run_checkpoint(run) for run in runs)
        else:
            raise PhotoidError(f"{model}: no such checkpoint file or folder")
    if not found:
        raise PhotoidError("--method deep needs --model CHECKPOINT (from photoid train)")
    return found


def load_deep_engine(
    models: Sequence[Path],
    dataset: Dataset,
    *,
    tta: Sequence[str] = (),
    aggregate: Aggregate = "max",
    ensemble: Combine = "mean",
    progress: Callable[[int], None] | None = None,
    device: str = "auto",
    precision: str = "auto",
) -> DeepEngine | DeepEnsemble:
    """The gallery of ``dataset`` embedded by the model(s): a :class:`DeepEngine` for one
    checkpoint, a :class:`DeepEnsemble` combining them by ``ensemble`` for several."""
    if ensemble not in COMBINES:
        raise PhotoidError(f"unknown ensemble {ensemble!r}; choose one of {', '.join(COMBINES)}")
    checkpoints = resolve_checkpoints(models)
    if len(checkpoints) == 1:
        return DeepEngine.from_checkpoint(
            checkpoints[0],
            dataset,
            tta=tta,
            aggregate=aggregate,
            progress=progress,
            device=device,
            precision=precision,
        )
    return DeepEnsemble.from_checkpoints(
        checkpoints,
        dataset,
        tta=tta,
        aggregate=aggregate,
        combine=ensemble,
        progress=progress,
        device=device,
        precision=precision,
    )
