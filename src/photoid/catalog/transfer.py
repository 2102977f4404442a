"""Import a labelled dataset in the native format into an empty catalog; export the catalog as
one (metadata.csv + images), which :func:`photoid.data.table.load_dataset` reads back."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from photoid.catalog.audit import Changes
from photoid.catalog.db import Catalog
from photoid.catalog.encounters import EncounterInfo, create_encounter, image_row
from photoid.catalog.individuals import create_individual
from photoid.catalog.models import Encounter, Image, Individual
from photoid.catalog.storage import StoredFile
from photoid.data.images import DEFAULT_MAX_PIXELS
from photoid.data.schema import METADATA_FILE, UNKNOWN_IDENTITY, format_bbox
from photoid.data.table import load_dataset, save_metadata
from photoid.errors import DatasetError, PhotoidError
from photoid.progress import StageProgress, stage_callback

EXPORT_COLUMNS = ("image", "identity", "species", "viewpoint", "bbox", "date", "encounter")


@dataclass(frozen=True)
class ImportSummary:
    """What an import added: counts of individuals, encounters and images, and its audit id."""

    individuals: int
    encounters: int
    images: int
    audit_id: int


def _optional(value: Any) -> Any:
    return None if value is None or (not isinstance(value, tuple) and pd.isna(value)) else value


def import_dataset(
    catalog: Catalog,
    root: Path,
    actor: str = "import",
    progress: StageProgress | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ImportSummary:
    """Start an empty catalog from the dataset in ``root`` (native format, strictly loaded:
    every image must lie inside ``root``, a symbolic link out of it is refused, see
    :mod:`photoid.data.paths`).

    Each identity becomes an individual (code = identity, species from its first row with
    one); ``unknown`` rows stay unassigned. Rows sharing an ``encounter`` cell form one
    encounter (dated by their first date); without one, each image is its own encounter.
    Image files are checked and copied into the store first; then every row is added in one
    transaction, recorded as one audit entry (so one undo removes the whole import).
    """
    dataset = load_dataset(root)
    with catalog.session() as session:
        held = session.scalar(select(func.count()).select_from(Image))
        held = (held or 0) + (session.scalar(select(func.count()).select_from(Individual)) or 0)
    if held:
        raise PhotoidError(
            f"the catalog in {catalog.data_dir} is not empty; import starts a new catalog, "
            "so give an empty --data folder"
        )
    table = dataset.table
    step = stage_callback(progress, "Copying images", len(table))
    stored: list[StoredFile] = []
    for line, relative in zip(table.index, table["image"], strict=True):
        path = dataset.root / relative
        if not path.is_file():
            raise DatasetError(f"image {relative} not found", path=root / METADATA_FILE, row=line)
        stored.append(catalog.store.put(path.read_bytes(), str(path), max_pixels))
        if step is not None:
            step(1)
    rows = table.to_dict("records")
    with catalog.session() as session:
        changes = Changes(session)
        species: dict[str, str | None] = {}
        for row in rows:
            if row["identity"] != UNKNOWN_IDENTITY and not species.get(row["identity"]):
                species[row["identity"]] = _optional(row.get("species"))
        owners = {
            identity: create_individual(session, changes, identity, species=kind).id
            for identity, kind in species.items()
        }
        encounters: dict[object, int] = {}
        for number, (row, file) in enumerate(zip(rows, stored, strict=True)):
            label = _optional(row.get("encounter"))
            key = ("row", number) if label is None else label
            if key not in encounters:
                date = _optional(row.get("date"))
                info = EncounterInfo(
                    date=None if date is None else date.to_pydatetime(), label=label
                )
                encounters[key] = create_encounter(session, changes, info).id
            bbox, viewpoint = _optional(row.get("bbox")), _optional(row.get("viewpoint"))
            image = image_row(file, row["image"], encounters[key], bbox, viewpoint)
            image.individual_id = owners.get(row["identity"])
            changes.add(image)
        entry = changes.record(actor, "import", f"import {len(rows)} images from {root}")
        return ImportSummary(len(owners), len(encounters), len(rows), entry.id)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _one_line(text: str) -> str:
    """``text`` with each line break or other control character (stored before the API refused
    them) replaced by a space, so that metadata.csv keeps one row per line."""
    return _CONTROL.sub(" ", text)


def _export_names(images: list[Image]) -> list[str]:
    """Each image's path in the exported dataset: its original name when every one is a safe,
    distinct relative path, else ``images/<id>.<ext>``."""
    names = []
    for image in images:
        original = PurePosixPath(image.original_name or "")
        if (
            not original.parts
            or original.is_absolute()
            or ".." in original.parts
            or _CONTROL.search(str(original))
        ):
            break
        names.append(str(original if original.parts[0] == "images" else "images" / original))
    if len(names) == len(images) and len(set(names)) == len(names):
        return names
    return [f"images/{image.id}{PurePosixPath(image.file).suffix}" for image in images]


def _format_date(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.date().isoformat() if value.time() == value.min.time() else value.isoformat()


def export_dataset(catalog: Catalog, out: Path, progress: StageProgress | None = None) -> Path:
    """Write every image of the catalog, with its individual's code as identity (``unknown``
    when unassigned), into ``out`` as a native dataset; return the metadata.csv path.

    Columns: image, identity, species (the individual's), viewpoint, bbox, date (the
    encounter's) and encounter (its label, else ``E<id>``). Refuses a folder that already
    holds a metadata.csv.
    """
    out = Path(out)
    if (out / METADATA_FILE).exists():
        raise PhotoidError(f"{out / METADATA_FILE} already exists; export into an empty folder")
    with catalog.session() as session:
        found = session.execute(
            select(Image, Encounter, Individual)
            .join(Encounter, Image.encounter_id == Encounter.id)
            .outerjoin(Individual, Image.individual_id == Individual.id)
            .order_by(Image.id)
        ).all()
    images = [image for image, _, _ in found]
    names = _export_names(images)
    step = stage_callback(progress, "Copying images", len(found))
    records = []
    for name, (image, encounter, individual) in zip(names, found, strict=True):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(catalog.store.path(image.file), target)
        records.append(
            {
                "image": name,
                "identity": UNKNOWN_IDENTITY if individual is None else _one_line(individual.code),
                "species": "" if individual is None else _one_line(individual.species or ""),
                "viewpoint": _one_line(image.viewpoint or ""),
                "bbox": format_bbox(image.bbox),
                "date": _format_date(encounter.date),
                "encounter": _one_line(encounter.label or f"E{encounter.id}"),
            }
        )
        if step is not None:
            step(1)
    return save_metadata(pd.DataFrame(records, columns=list(EXPORT_COLUMNS)), out)
