"""Write a synthetic dataset in the native format: ``metadata.csv`` plus ``images/<identity>/``.

Every photo is made from its own random stream keyed by (seed, individual, photo), so the output
does not depend on the number of worker processes, and the first N individuals of a bigger
dataset are byte-identical to a dataset of N individuals.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import cv2
import pandas as pd

from photoid.data.schema import METADATA_FILE
from photoid.data.synth.camera import encode
from photoid.data.synth.config import SynthConfig
from photoid.data.synth.individual import make_individual
from photoid.data.synth.render import render_photo
from photoid.data.table import save_metadata
from photoid.errors import DatasetError

COLUMNS = ("image", "identity", "species", "viewpoint", "bbox", "date", "encounter")

_Job = tuple[Path, SynthConfig, int, int, int]  # out, config, seed, individual, images_per
_Row = dict[str, object]


def generate(
    out: Path,
    *,
    individuals: int,
    images_per: int,
    seed: int,
    size: int | None = None,
    asymmetric: bool | None = None,
    overwrite: bool = False,
    workers: int = 1,
    config: SynthConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Render ``individuals x images_per`` photos into ``out`` and return its metadata.csv path.

    ``size`` (longest image side, px) and ``asymmetric`` override the fields of ``config``
    (default :class:`SynthConfig`: 256 px, one flank) when given; with ``config.size_range``
    set, ``size`` only sets the detail of the animal's texture (the photo sizes are drawn from
    the range). ``workers`` > 1 renders in that many processes with identical results.
    ``progress`` is called with the number of photos just written. metadata.csv is written
    last, so an interrupted run leaves no half dataset behind.
    Raises DatasetError if ``out`` already holds a metadata.csv and ``overwrite`` is False;
    with ``overwrite`` the old metadata.csv is replaced, and old image files that the new
    dataset does not rewrite stay on disk (unlisted).
    """
    for name, value, least in (
        ("individuals", individuals, 1),
        ("images_per", images_per, 1),
        ("seed", seed, 0),
        ("workers", workers, 1),
    ):
        if value < least:
            raise ValueError(f"{name} must be at least {least}, got {value}")
    settings = config or SynthConfig()
    if size is not None:
        settings = replace(settings, size=size)
    if asymmetric is not None:
        settings = replace(settings, asymmetric=asymmetric)
    out = Path(out)
    if (out / METADATA_FILE).exists() and not overwrite:
        raise DatasetError(
            f"already holds a dataset ({METADATA_FILE}); choose an empty folder "
            "or pass overwrite=True (CLI: --overwrite) to replace it",
            path=out,
        )
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(out, settings, seed, index, images_per) for index in range(individuals)]
    rows: list[_Row] = []
    for batch in _run(jobs, workers):
        rows.extend(batch)
        if progress is not None:
            progress(len(batch))
    return save_metadata(pd.DataFrame(rows, columns=list(COLUMNS)), out)


def _run(jobs: list[_Job], workers: int) -> Iterable[list[_Row]]:
    if workers == 1 or len(jobs) == 1:
        yield from map(_write_individual, jobs)
        return
    # forkserver, not fork: forking a process that already runs threads (OpenMP, OpenCV, a
    # thread pool) can copy a held lock into the child and deadlock it.
    context = multiprocessing.get_context("forkserver")
    with context.Pool(min(workers, len(jobs)), _one_thread) as pool:
        yield from pool.imap(_write_individual, jobs)


def _one_thread() -> None:
    """Worker initialiser: one OpenCV thread per process, so workers do not oversubscribe."""
    cv2.setNumThreads(1)


def _write_individual(job: _Job) -> list[_Row]:
    out, config, seed, index, images_per = job
    individual = make_individual(config, seed, index, images_per)
    folder = out / "images" / individual.identity
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[_Row] = []
    for number in range(images_per):
        photo = render_photo(individual, number, seed, config)
        name = f"{individual.identity}_{number:03d}.{config.image_format}"
        (folder / name).write_bytes(encode(photo.image, photo.jpeg_quality, config.image_format))
        encounter = individual.photo_encounters[number]
        rows.append(
            {
                "image": f"images/{individual.identity}/{name}",
                "identity": individual.identity,
                "species": individual.species.label,
                "viewpoint": photo.side,
                "bbox": photo.bbox,
                "date": individual.dates[encounter],
                "encounter": individual.encounter_name(encounter),
            }
        )
    return rows
