"""The datasets a benchmark runs on: a folder with metadata.csv, a shared dataset by name, the
synthetic data of ``make demo``, or synthetic field photos (``photoid synth --preset field``),
both rendered into the work folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoid.benchmark.splits import with_encounter_split
from photoid.data.schema import METADATA_FILE
from photoid.data.synth import generate
from photoid.data.synth.presets import PRESETS
from photoid.data.table import Dataset, load_dataset
from photoid.demo import DemoSettings
from photoid.errors import PhotoidError

SYNTHETIC = "synthetic"
FIELD = "field"
SHARED_ENV = "PHOTOID_SHARED_DATASETS"


@dataclass(frozen=True)
class FieldSettings:
    """Size and seed of the ``field`` dataset: ``individuals`` x ``images_per`` photos rendered
    with the ``field`` preset of :mod:`photoid.data.synth.presets`."""

    individuals: int = 30
    images_per: int = 6
    seed: int = 0


@dataclass(frozen=True)
class BenchmarkDataset:
    """A loaded dataset, the ``name`` the table shows (folder name, or ``synthetic``), and a
    one-line ``note`` on where it came from."""

    name: str
    dataset: Dataset
    note: str


def shared_root() -> Path:
    """Folder of the shared datasets: ``$PHOTOID_SHARED_DATASETS``, else ``../shared/datasets``
    from the current folder (the layout beside the repository)."""
    configured = os.environ.get(SHARED_ENV)
    return Path(configured) if configured else Path.cwd().parent / "shared" / "datasets"


def resolve_dataset(
    argument: str,
    work: Path,
    synthetic: DemoSettings | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> BenchmarkDataset:
    """``argument``: a folder holding metadata.csv, the name of a folder under
    :func:`shared_root`, ``synthetic`` (rendered under ``work`` by :func:`synthetic_dataset`
    with ``synthetic`` settings, default the demo's) or ``field`` (:func:`field_dataset`).
    Raises PhotoidError naming what was tried."""
    if argument == SYNTHETIC:
        return synthetic_dataset(work, synthetic, progress=progress)
    if argument == FIELD:
        return field_dataset(work, progress=progress)
    folder = Path(argument)
    if (folder / METADATA_FILE).is_file():
        return BenchmarkDataset(folder.resolve().name, load_dataset(folder), f"`{folder}`")
    shared = shared_root() / argument
    if folder.name == argument and (shared / METADATA_FILE).is_file():
        return BenchmarkDataset(argument, load_dataset(shared), f"shared dataset `{argument}`")
    raise PhotoidError(
        f"dataset {argument!r}: neither {folder / METADATA_FILE} nor {shared / METADATA_FILE} "
        f"exists; give a dataset folder, a dataset name under {shared_root()} (set "
        f"{SHARED_ENV} to another folder), {SYNTHETIC!r} or {FIELD!r}"
    )


def synthetic_dataset(
    work: Path,
    settings: DemoSettings | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> BenchmarkDataset:
    """The synthetic photos of ``make demo`` (:class:`photoid.demo.DemoSettings`: individuals,
    photos each, seed, longest side in px), rendered once into ``work`` and reused after."""
    s = settings or DemoSettings()
    folder = work / f"synthetic-{s.individuals}x{s.images_per}-{s.size}px-seed{s.seed}"
    _rendered(folder, s.individuals, s.images_per, s.seed, progress, size=s.size)
    note = (
        f"`photoid synth` {s.individuals} individuals x {s.images_per} photos, {s.size} px, "
        f"seed {s.seed}" + (" (the `make demo` data)" if s == DemoSettings() else "")
    )
    return BenchmarkDataset(SYNTHETIC, load_dataset(folder), note)


def field_dataset(
    work: Path,
    settings: FieldSettings | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> BenchmarkDataset:
    """Synthetic field photos (``photoid synth --preset field``: 1-2.5k px frames, the animal
    10-50% of the width, scenery shared by the photos taken at 6 sites), rendered once into
    ``work`` and reused after. Its own split is by encounter
    (:func:`~photoid.benchmark.splits.with_encounter_split`): gallery photos from each
    individual's earlier encounters, queries from its later ones, often at another place."""
    s = settings or FieldSettings()
    folder = work / f"field-{s.individuals}x{s.images_per}-seed{s.seed}"
    _rendered(folder, s.individuals, s.images_per, s.seed, progress, config=PRESETS[FIELD])
    note = (
        f"`photoid synth --preset field` {s.individuals} individuals x {s.images_per} photos, "
        f"seed {s.seed}; gallery and queries from different encounters"
    )
    return BenchmarkDataset(FIELD, with_encounter_split(load_dataset(folder)), note)


def _rendered(
    folder: Path,
    individuals: int,
    images_per: int,
    seed: int,
    progress: Callable[[int], None] | None,
    **options: Any,
) -> None:
    """Render a synthetic dataset into ``folder`` unless it is already there (``options``: the
    ``size`` or the ``config`` preset of :func:`photoid.data.synth.generate`)."""
    if (folder / METADATA_FILE).is_file():
        return
    generate(
        folder,
        individuals=individuals,
        images_per=images_per,
        seed=seed,
        overwrite=True,
        workers=min(2, os.cpu_count() or 1),
        progress=progress,
        **options,
    )
