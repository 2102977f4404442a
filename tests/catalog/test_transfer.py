"""Import a native dataset into a catalog and export it back, on synthetic and real data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from photoid.catalog import (
    Catalog,
    add_individual,
    check,
    export_dataset,
    images_of,
    import_dataset,
    list_individuals,
    undo,
)
from photoid.catalog.db import open_catalog
from photoid.catalog.models import Encounter, Individual
from photoid.catalog.storage import file_sha256
from photoid.data.synth import generate
from photoid.data.table import load_dataset
from photoid.errors import DatasetError, PhotoidError

KEPT = ["image", "identity", "species", "viewpoint", "bbox", "date", "encounter"]


def _comparable(root: Path, columns: list[str]) -> pd.DataFrame:
    table = load_dataset(root).table.reset_index(drop=True)
    return table[columns].astype(str).sort_values("image").reset_index(drop=True)


def test_synthetic_round_trip(catalog: Catalog, tmp_path: Path) -> None:
    source = tmp_path / "synth"
    generate(source, individuals=3, images_per=2, seed=0, size=40)
    summary = import_dataset(catalog, source)
    assert (summary.individuals, summary.encounters, summary.images) == (3, 6, 6)
    species = {i.code: i.species for i in list_individuals(catalog)}
    assert species["spotted_0000"] == "spotted cat (synthetic)"
    out = tmp_path / "exported"
    export_dataset(catalog, out)
    assert _comparable(out, KEPT).equals(_comparable(source, KEPT))
    for relative in load_dataset(out).table["image"]:
        assert file_sha256(out / relative) == file_sha256(source / relative)
    with pytest.raises(PhotoidError, match="already exists; export into an empty folder"):
        export_dataset(catalog, out)


def test_line_breaks_stored_before_they_were_refused_export_as_spaces(
    catalog: Catalog, tmp_path: Path
) -> None:
    source = tmp_path / "synth"
    generate(source, individuals=2, images_per=1, seed=0, size=40)
    import_dataset(catalog, source)
    with catalog.session() as session:
        individual = session.scalars(select(Individual).order_by(Individual.id)).first()
        assert individual is not None
        individual.code, individual.species = "old\ncode", "spotted\r\ncat\t"
        encounter = session.scalars(select(Encounter)).first()
        assert encounter is not None
        encounter.label = "first\nsighting"
    out = tmp_path / "exported"
    export_dataset(catalog, out)
    table = load_dataset(out).table
    assert "old code" in set(table["identity"])
    assert "spotted  cat" in set(table["species"])
    assert "first sighting" in set(table["encounter"])
    again = open_catalog(tmp_path / "again")
    try:
        assert import_dataset(again, out).images == 2
        assert "old code" in {i.code for i in list_individuals(again)}
    finally:
        again.close()


def test_import_needs_an_empty_catalog_and_undoes_whole(catalog: Catalog, tmp_path: Path) -> None:
    source = tmp_path / "synth"
    generate(source, individuals=2, images_per=2, seed=1, size=40)
    summary = import_dataset(catalog, source)
    with pytest.raises(PhotoidError, match="is not empty; import starts a new catalog"):
        import_dataset(catalog, source)
    undo(catalog, summary.audit_id)
    assert list_individuals(catalog) == []
    assert import_dataset(catalog, source).images == 4


def test_rows_without_encounter_get_one_each_and_unknown_stays_unassigned(
    catalog: Catalog, tmp_path: Path
) -> None:
    source = tmp_path / "synth"
    generate(source, individuals=1, images_per=3, seed=2, size=40)
    frame = pd.read_csv(source / "metadata.csv", dtype=str, keep_default_na=False)
    frame = frame.drop(columns=["encounter"])
    frame.loc[2, "identity"] = "unknown"
    frame.to_csv(source / "metadata.csv", index=False)
    summary = import_dataset(catalog, source)
    assert (summary.individuals, summary.encounters, summary.images) == (1, 3, 3)
    (code,) = (i.code for i in list_individuals(catalog))
    assert len(images_of(catalog, code)) == 2
    out = tmp_path / "out"
    export_dataset(catalog, out)
    exported = load_dataset(out).table
    assert list(exported["identity"]) == [code, code, "unknown"]
    assert list(exported["encounter"]) == ["E1", "E2", "E3"]


def test_a_missing_image_names_the_row(catalog: Catalog, tmp_path: Path) -> None:
    source = tmp_path / "synth"
    generate(source, individuals=1, images_per=2, seed=3, size=40)
    first = load_dataset(source).table["image"].iloc[1]
    (source / first).unlink()
    with pytest.raises(DatasetError, match=rf"row 3: image {first} not found"):
        import_dataset(catalog, source)
    add_individual(catalog, "still-usable")
    assert check(catalog) == []


@pytest.mark.shared
def test_lion_slice_round_trip(catalog: Catalog, tmp_path: Path, shared_datasets: Path) -> None:
    lions = shared_datasets / "LionData"
    frame = pd.read_csv(lions / "metadata.csv", dtype=str, keep_default_na=False)
    picked = frame[frame["identity"].isin(sorted(set(frame["identity"]))[:4])]
    source = tmp_path / "lions"
    for relative in picked["image"]:
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lions / relative, source / relative)
    picked.to_csv(source / "metadata.csv", index=False)
    summary = import_dataset(catalog, source)
    assert (summary.individuals, summary.images) == (4, len(picked))
    assert summary.encounters == len(picked)  # LionData has no encounter column
    out = tmp_path / "exported"
    export_dataset(catalog, out)
    columns = ["image", "identity", "species", "viewpoint", "bbox", "date"]
    assert _comparable(out, columns).equals(_comparable(source, columns))
    assert check(catalog) == []
