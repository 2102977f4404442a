"""photoid from Python: load a dataset, fit an engine, keep it, identify photos with it.

Four functions over the library calls the command line makes (``photoid fit``, ``photoid
identify``); each takes a path as ``str`` or :class:`pathlib.Path`. They are reached as
``photoid.load_dataset``, ``photoid.fit``, ``photoid.load_engine`` and
``photoid.identify_photos``, imported on first use so ``import photoid`` stays instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from photoid.core import Identification
from photoid.data.table import Dataset
from photoid.data.table import load_dataset as _load_dataset
from photoid.decide.policy import Prior
from photoid.engines.base import Engine, EngineOptions
from photoid.engines.fitting import fit_engine
from photoid.engines.store import load_engine as _load_engine
from photoid.engines.store import save_engine
from photoid.errors import PhotoidError
from photoid.identify.files import collect_images
from photoid.identify.run import identify_with

__all__ = ["EngineOptions", "fit", "identify_photos", "load_dataset", "load_engine"]

PathLike = str | Path


def load_dataset(path: PathLike) -> Dataset:
    """The dataset in folder ``path`` (its ``metadata.csv`` and images), checked cell by cell;
    raises :class:`photoid.errors.DatasetError` naming the bad rows."""
    return _load_dataset(Path(path))


def fit(
    dataset: Dataset | PathLike,
    method: str = "local",
    *,
    options: EngineOptions | None = None,
    split_column: str | None = None,
    out: PathLike | None = None,
) -> Engine:
    """An engine of ``method`` (a name of :data:`photoid.engines.registry.METHODS`) fitted on
    ``dataset`` (a :class:`Dataset` or its folder), saved in folder ``out`` when given.

    The gallery is every labelled row, or the ``train``/``gallery`` rows of ``split_column``
    (its ``val`` rows then fit the new-individual decision). ``local`` needs no trained
    weights; ``deep`` needs ``options=EngineOptions(models=(checkpoint,))``; networks run on
    ``options.device`` (``auto``: a CUDA GPU when there is one).
    """
    options = options or EngineOptions()
    if method == "deep" and not options.models:
        raise PhotoidError(
            "method 'deep' needs a trained model: options=EngineOptions(models=(Path(CKPT),))"
        )
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    engine, gallery = fit_engine(data, method, options, split_column)
    if out is not None:
        save_engine(engine, Path(out), gallery)
    return engine


def load_engine(path: PathLike, device: str = "auto") -> Engine:
    """The fitted engine saved in folder ``path`` (by :func:`fit` or ``photoid fit``), its
    networks on ``device`` (``auto``: a CUDA GPU when there is one, ``cpu``, ``cuda:N``).
    Loading unpickles it: load only folders you or your team wrote."""
    return _load_engine(Path(path), device)


def identify_photos(
    engine: Engine | PathLike,
    photos: PathLike | Iterable[PathLike],
    *,
    prior: Prior = None,
) -> list[Identification]:
    """Each photo's top 5 candidates, best first, ``new_individual`` placed where the engine's
    fitted policy puts it; one :class:`photoid.core.Identification` per photo, in order.

    ``engine``: a fitted engine or its folder. ``photos``: an image file, a folder (its images,
    recursively, sorted by path) or several of them. ``prior``: the share of new individuals
    expected among these photos, for calibrated engines (see :mod:`photoid.decide.policy`).
    """
    fitted = engine if isinstance(engine, Engine) else load_engine(engine)
    given = [photos] if isinstance(photos, str | Path) else list(photos)
    return identify_with(fitted, collect_images([Path(p) for p in given]), prior=prior)
