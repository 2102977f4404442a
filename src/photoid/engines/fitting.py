"""Fit an engine on a dataset's gallery rows and keep it in a folder (behind `photoid fit`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from photoid.data.selection import select_rows
from photoid.data.table import Dataset, load_dataset
from photoid.engines.base import Engine, EngineOptions, StageProgress
from photoid.engines.registry import create_engine
from photoid.engines.store import MANIFEST, gallery_digest, read_manifest, save_engine
from photoid.errors import PhotoidError


@dataclass(frozen=True)
class FitReport:
    """What :func:`fit_dataset` did: ``refitted`` False when the saved engine was already fitted
    on the same photos with the same options."""

    folder: Path
    method: str
    photos: int
    identities: int
    seconds: float
    refitted: bool
    policy: dict[str, object]


def gallery_rows(dataset: Dataset, split_column: str | None) -> tuple[Dataset, Dataset | None]:
    """The gallery (``train``/``gallery`` rows of ``split_column``, or every labelled row
    without one) and the calibration rows (``val``), if any."""
    if split_column is None:
        return dataset, None
    rows = select_rows(dataset, split_column, need_queries=False)
    return rows.gallery, rows.calibration if len(rows.calibration) else None


def fit_engine(
    dataset: Dataset,
    method: str,
    options: EngineOptions,
    split_column: str | None = None,
    progress: StageProgress | None = None,
) -> tuple[Engine, Dataset]:
    """An engine of ``method`` fitted on the dataset's gallery rows; returns it and them."""
    gallery, calibration = gallery_rows(dataset, split_column)
    engine = create_engine(method, options)
    engine.fit(gallery, calibration=calibration, progress=progress)
    return engine, gallery


def fit_dataset(
    dataset: Path | str,
    method: str,
    out: Path | str,
    options: EngineOptions | None = None,
    *,
    split_column: str | None = None,
    force: bool = False,
    command: str = "",
    progress: StageProgress | None = None,
) -> FitReport:
    """Fit ``method`` on the gallery rows of ``dataset`` and save it in ``out``.

    With ``options.cache_dir`` (the command line uses ``out/features``) features are cached by
    image content: refitting after photos were added extracts only the new ones. A folder already
    holding an engine of the same method and options fitted on the same photos (same names,
    labels, boxes and image contents) is left as it is unless ``force``.
    """
    folder = Path(out)
    options = options or EngineOptions()
    data = load_dataset(dataset)
    gallery, calibration = gallery_rows(data, split_column)
    digest = gallery_digest(gallery)
    if not force and (folder / MANIFEST).is_file():
        try:
            saved = read_manifest(folder)
        except PhotoidError:
            saved = None
        if (
            saved is not None
            and saved.method == method
            and saved.digest == digest
            and saved.data.get("options") == _plain(options)
        ):
            return FitReport(
                folder,
                method,
                saved.photos,
                saved.identities,
                0.0,
                False,
                dict(saved.data.get("new_individual", {})),
            )
    started = time.perf_counter()
    engine = create_engine(method, options)
    engine.fit(gallery, calibration=calibration, progress=progress)
    save_engine(engine, folder, gallery, command=command, digest=digest)
    return FitReport(
        folder,
        method,
        len(engine.identities),
        len(set(engine.identities)),
        time.perf_counter() - started,
        True,
        engine.policy.summary(),
    )


def _plain(options: EngineOptions) -> object:
    """The options as the manifest stores them (JSON round trip)."""
    return json.loads(json.dumps(options.describe(), default=str))
