"""The demo: synthetic photo-ID data, an open-set split, local-feature identification, a report,
and a catalog whose review queue holds the query photos, ready for ``photoid serve``.

Everything is generated, so it runs on a fresh machine offline with no trained weights.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from photoid.catalog import (
    EncounterInfo,
    ImageUpload,
    add_encounter,
    add_user,
    candidates_for,
    import_dataset,
    open_catalog,
)
from photoid.data import Dataset, load_dataset
from photoid.data.schema import METADATA_FILE
from photoid.data.splits_apply import SplitRequest, add_split_column
from photoid.data.synth import generate
from photoid.data.table import save_metadata
from photoid.errors import PhotoidError
from photoid.evaluation import EvaluationResult, evaluate_local
from photoid.evaluation.report import write_report
from photoid.evaluation.run import split_rows
from photoid.files import link_or_copy
from photoid.local.config import LocalConfig
from photoid.progress import StageProgress, stage_callback

DEMO_USER = "demo"


@dataclass(frozen=True)
class DemoSettings:
    """Size of the demo: 40 individuals x 5 photos; 20% of the individuals are never in the
    gallery, so their photos must come back as new individuals."""

    individuals: int = 40
    images_per: int = 5
    seed: int = 0
    size: int = 256
    unseen_fraction: float = 0.2


@dataclass(frozen=True)
class DemoCatalog:
    """The demo catalog in ``data_dir``: reviewer ``user`` logs in with ``password``;
    ``awaiting`` query encounters wait for review, with ``candidates`` ranked candidates."""

    data_dir: Path
    user: str
    password: str
    awaiting: int
    candidates: int


@dataclass(frozen=True)
class DemoResult:
    dataset: Path
    report: Path
    evaluation: EvaluationResult
    catalog: DemoCatalog


def run_demo(
    out: Path,
    settings: DemoSettings | None = None,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoResult:
    """Generate (once) the dataset under ``out/data``, evaluate, write ``out/report.html``, and
    build the review catalog ``out/catalog`` afresh (:func:`build_demo_catalog`)."""
    settings = settings or DemoSettings()
    data = out / "data"
    if not (data / METADATA_FILE).is_file():
        generate(
            data,
            individuals=settings.individuals,
            images_per=settings.images_per,
            seed=settings.seed,
            size=settings.size,
        )
        request = SplitRequest(
            kind="open", seed=settings.seed, unseen_fraction=settings.unseen_fraction
        )
        add_split_column(data, request, column="split")
    result = evaluate_local(
        load_dataset(data),
        "split",
        LocalConfig(),
        cache_dir=out / "cache",
        new_threshold="auto",
        progress=progress,
    )
    report = write_report(result, out / "report.html")
    dataset = load_dataset(data)
    catalog = build_demo_catalog(out, dataset, "split", progress=progress)
    return DemoResult(data, report, result, catalog)


def _copy_rows(dataset: Dataset, folder: Path) -> None:
    """``dataset`` as a native dataset in ``folder``: its metadata.csv and its images (hard
    links where the file system allows, else copies)."""
    for relative in dataset.table["image"]:
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(dataset.root / relative, target)
    save_metadata(dataset.table, folder)


def build_demo_catalog(
    out: Path, dataset: Dataset, split_column: str, *, progress: StageProgress | None = None
) -> DemoCatalog:
    """Replace ``out/catalog`` with a catalog of ``dataset``'s gallery (``train`` rows of
    ``split_column``), each query photo (``test`` rows) uploaded as its own encounter awaiting
    review, the local-feature match worker run until every upload has its candidates, and a
    reviewer ``demo`` with a new random password (returned; printed by ``photoid demo``)."""
    from photoid.catalog.gallery import CatalogGallery
    from photoid.catalog.matching import MatchWorker, enqueue_encounter
    from photoid.service.settings import ENGINE_DIR

    gallery, queries = split_rows(dataset, split_column)
    data_dir = out / "catalog"
    shutil.rmtree(data_dir, ignore_errors=True)
    password = secrets.token_urlsafe(9)
    catalog = open_catalog(data_dir)
    try:
        with tempfile.TemporaryDirectory(prefix="catalog-source-", dir=out) as source:
            _copy_rows(gallery, Path(source))
            import_dataset(catalog, Path(source), actor="demo", progress=progress)
        step = stage_callback(progress, "Uploading query photos", len(queries))
        images = []
        for number, row in enumerate(queries.table.to_dict("records"), start=1):
            bbox = row.get("bbox") if isinstance(row.get("bbox"), tuple) else None
            photo = ImageUpload((dataset.root / row["image"]).read_bytes(), row["image"], bbox)
            info = EncounterInfo(location="Demo bay", label=f"demo query {number}")
            encounter, added = add_encounter(catalog, [photo], info, actor="demo")
            enqueue_encounter(catalog, encounter.id)
            images += added
            if step is not None:
                step(1)
        catalog_gallery = CatalogGallery.build(catalog, folder=data_dir / ENGINE_DIR)
        worker = MatchWorker(catalog, catalog_gallery, name="demo")
        step = stage_callback(progress, "Ranking candidates", len(queries))
        while worker.run_once() is not None:
            if step is not None:
                step(1)
        candidates = [len(candidates_for(catalog, image.id)) for image in images]
        if not all(candidates):
            missing = [
                image.original_name for image, n in zip(images, candidates, strict=True) if not n
            ]
            raise PhotoidError(f"the match worker left demo uploads without candidates: {missing}")
        add_user(catalog, DEMO_USER, "reviewer", password)
    finally:
        catalog.close()
    return DemoCatalog(data_dir, DEMO_USER, password, len(images), sum(candidates))
