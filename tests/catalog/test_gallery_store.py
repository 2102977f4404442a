"""The catalog gallery kept in a folder: reopened without extracting, grown by the photos
attached since, rebuilt (never loaded) when its format, settings or images changed, and never
proposing an image the database no longer attaches. Tiny synthetic catalog: 4 individuals x 3
photos imported, a fourth photo of each kept back (128 px, local engine, no feature cache, so
every extraction is a real one)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import delete, update

from checkpoint_support import random_checkpoint
from photoid.catalog import (
    Catalog,
    ImageUpload,
    add_encounter,
    decide,
    gallery_store,
    images_of,
    import_dataset,
)
from photoid.catalog.gallery import CatalogGallery, Ranked
from photoid.catalog.models import Image
from photoid.data.schema import parse_bbox
from photoid.data.synth import generate
from photoid.errors import PhotoidError
from photoid.fusion.config import Queries
from photoid.local import engine as local_engine
from photoid.local.config import LocalConfig
from photoid.local.extraction import extract_many

CONFIG = LocalConfig(max_side=256)
LAST = 3  # photo number kept back from each individual


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "animals"
    generate(root, individuals=4, images_per=LAST + 1, seed=5, size=128)
    return root


@pytest.fixture
def imported(catalog: Catalog, synth: Path, tmp_path: Path) -> Catalog:
    table = pd.read_csv(synth / "metadata.csv", dtype=str)
    part = tmp_path / "part"
    part.mkdir()
    # A copy, not a link: a dataset's images must lie inside its folder (photoid.data.paths).
    shutil.copytree(synth / "images", part / "images")
    table[~table["image"].str.endswith(f"_{LAST:03d}.jpg")].to_csv(
        part / "metadata.csv", index=False
    )
    assert import_dataset(catalog, part).images == 12
    return catalog


@pytest.fixture
def extractions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many photos each call of the local engine's extraction got (empty calls left out)."""
    calls: list[int] = []

    def counting(paths: Any, *args: Any, **kwargs: Any) -> Any:
        if len(paths):
            calls.append(len(paths))
        return extract_many(paths, *args, **kwargs)

    monkeypatch.setattr(local_engine, "extract_many", counting)
    return calls


def _kept_back(catalog: Catalog, synth: Path, number: int) -> tuple[int, Image, str]:
    """Upload the kept-back photo of individual ``number``: (encounter id, image, identity)."""
    table = pd.read_csv(synth / "metadata.csv", dtype=str)
    identity = sorted(set(table["identity"]))[number]
    row = table[table["identity"] == identity].iloc[-1]
    photo = ImageUpload((synth / row["image"]).read_bytes(), row["image"], parse_bbox(row["bbox"]))
    encounter, (image,) = add_encounter(catalog, [photo])
    return encounter.id, image, identity


def _again(catalog: Catalog, image: Image) -> Image:
    """A new unattached encounter holding a copy of ``image`` (same bytes, same box)."""
    data = catalog.store.path(image.file).read_bytes()
    _, (copy,) = add_encounter(catalog, [ImageUpload(data, "again.jpg", image.bbox)])
    return copy


def _rank(gallery: CatalogGallery, catalog: Catalog, images: list[Image]) -> list[list[Ranked]]:
    return gallery.rank(catalog, images, top=4)


def test_reopened_gallery_ranks_alike_without_extracting_and_adds_only_new_photos(
    imported: Catalog, synth: Path, tmp_path: Path, extractions: list[int]
) -> None:
    catalog, folder = imported, tmp_path / "engine"
    first = CatalogGallery.build(catalog, config=CONFIG, folder=folder)
    assert (first.restored, len(first), extractions) == (False, 12, [12])
    manifest = json.loads((folder / gallery_store.MANIFEST).read_text())
    assert (manifest["format"], manifest["method"], manifest["images"]) == (1, "local", 12)
    encounter_id, query, identity = _kept_back(catalog, synth, 2)
    before = _rank(first, catalog, [query])
    assert before[0][0].code == identity

    extractions.clear()
    second = CatalogGallery.open(folder, config=CONFIG)
    assert (second.restored, second.rebuild_reason) == (True, None)
    assert second.sync(catalog).added == 0
    assert (extractions, second.members()) == ([], first.members())
    assert _rank(second, catalog, [query]) == before
    assert extractions == [1]  # the query alone

    # Deciding the upload attaches one photo: the next sync extracts that one and saves.
    decide(catalog, encounter_id, "same", individual=identity)
    extractions.clear()
    assert (second.sync(catalog).added, extractions) == (1, [1])
    third = CatalogGallery.build(catalog, config=CONFIG, folder=folder)
    assert (third.restored, len(third), third.owner(query.id), extractions) == (
        True,
        13,
        identity,
        [1],
    )


def test_saved_after_syncs_that_add_images_only(
    imported: Catalog, synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = imported
    gallery = CatalogGallery.build(catalog, config=CONFIG, folder=tmp_path / "engine")
    saves: list[int] = []
    save = gallery.save

    def counting(folder: Path | None = None) -> Path:
        saves.append(len(gallery))
        return save(folder)

    monkeypatch.setattr(gallery, "save", counting)
    some = images_of(catalog, "spotted_0000")[0].id
    with catalog.session() as session:
        session.execute(update(Image).where(Image.id == some).values(individual_id=None))
    assert (gallery.sync(catalog).dropped, saves) == (1, [])
    encounter_id, _, identity = _kept_back(catalog, synth, 1)
    decide(catalog, encounter_id, "same", individual=identity)
    assert (gallery.sync(catalog).added, saves) == (1, [12])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("format", "format 2"),
        ("settings", "options.local.max_keypoints"),
        ("wide", "wide"),
        ("manifest", "not a gallery manifest"),
        ("state", "cannot be read"),
    ],
)
def test_other_format_or_settings_is_rebuilt_not_loaded(
    imported: Catalog,
    tmp_path: Path,
    extractions: list[int],
    caplog: pytest.LogCaptureFixture,
    change: str,
    reason: str,
) -> None:
    folder = tmp_path / "engine"
    CatalogGallery.build(imported, config=CONFIG, folder=folder)
    config, wide = CONFIG, 200
    manifest = folder / gallery_store.MANIFEST
    if change == "format":
        saved = json.loads(manifest.read_text())
        manifest.write_text(json.dumps({**saved, "format": 2}))
    elif change == "settings":
        config = CONFIG.with_overrides(max_keypoints=500)
    elif change == "wide":
        wide = 50
    elif change == "manifest":
        manifest.write_text("{")
    else:
        (folder / gallery_store.STATE).write_bytes(b"not a pickle")
    extractions.clear()
    with caplog.at_level(logging.WARNING, "photoid.catalog.gallery"):
        gallery = CatalogGallery.open(folder, config=config, wide=wide)
    assert not gallery.restored and gallery.rebuild_reason is not None
    assert reason in gallery.rebuild_reason
    assert any("building the local gallery anew" in r.getMessage() for r in caplog.records)
    assert (len(gallery.engine.images), gallery.sync(imported).added, extractions) == (0, 12, [12])
    # Rebuilt and saved again: the next start loads it.
    assert CatalogGallery.open(folder, config=config, wide=wide).restored


def test_first_start_without_a_folder_builds_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "photoid.catalog.gallery"):
        gallery = CatalogGallery.open(tmp_path / "none", config=CONFIG)
    assert not gallery.restored and gallery.rebuild_reason == f"no saved gallery in {tmp_path}/none"
    assert caplog.records == []


def test_saved_gallery_never_proposes_images_deleted_or_detached_since(
    imported: Catalog, tmp_path: Path
) -> None:
    catalog, folder = imported, tmp_path / "engine"
    CatalogGallery.build(catalog, config=CONFIG, folder=folder)
    gone, detached, kept = images_of(catalog, "spotted_0000")
    query = _again(catalog, gone)
    other = _again(catalog, detached)
    with catalog.session() as session:
        session.execute(delete(Image).where(Image.id == gone.id))
        session.execute(update(Image).where(Image.id == detached.id).values(individual_id=None))
    gallery = CatalogGallery.open(folder, config=CONFIG)
    assert gallery.restored
    assert gallery.sync(catalog).added == 0
    assert len(gallery.engine.images) == 12  # both keep their rows in the engine...
    rows = {name: row for row, name in enumerate(gallery.engine.images)}
    alive = gallery.engine.engine.retrieval.alive  # type: ignore[attr-defined]
    assert not alive[rows[str(gone.id)]] and not alive[rows[str(detached.id)]]  # ...removed
    assert alive.sum() == 10
    assert gone.id not in gallery.members() and detached.id not in gallery.members()
    for ranked in _rank(gallery, catalog, [query, other]):
        best = {r.best_image_id for r in ranked}
        assert gone.id not in best and detached.id not in best  # never proposed
        codes = {r.code: r.best_image_id for r in ranked}
        assert codes["spotted_0000"] == kept.id
    assert _rank(gallery, catalog, [query])[0][0].code == "spotted_0000"
    left_out = gallery.leave_one_out(catalog, [gone.id, detached.id, kept.id])
    assert list(left_out) == [kept.id]


def test_an_indexed_id_holding_another_photo_is_taken_out_and_added_again(
    imported: Catalog, tmp_path: Path, extractions: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    catalog, folder = imported, tmp_path / "engine"
    CatalogGallery.build(catalog, config=CONFIG, folder=folder)
    some = images_of(catalog, "spotted_0000")[0].id
    with catalog.session() as session:  # as if the id were given to another photo
        session.execute(update(Image).where(Image.id == some).values(sha256="0" * 64))
    gallery = CatalogGallery.open(folder, config=CONFIG)
    assert gallery.restored
    extractions.clear()
    with caplog.at_level(logging.WARNING, "photoid.catalog.gallery"):
        assert gallery.sync(catalog).added == 1  # that image alone, no rebuild
    assert (extractions, len(gallery.engine.images), len(gallery)) == ([1], 13, 12)
    alive = gallery.engine.engine.retrieval.alive  # type: ignore[attr-defined]
    assert list(alive).count(False) == 1  # its old row is out
    assert "rebuilding" not in caplog.text


def test_save_needs_a_folder(tmp_path: Path) -> None:
    gallery = CatalogGallery.local(CONFIG)
    with pytest.raises(PhotoidError, match="no folder given"):
        gallery.save()
    assert gallery.save(tmp_path / "x").name == gallery_store.MANIFEST


def test_deep_gallery_reopens_with_the_same_checkpoint_only(
    imported: Catalog, tmp_path: Path
) -> None:
    catalog, folder = imported, tmp_path / "engine"
    checkpoint = random_checkpoint(tmp_path / "m.ckpt")
    first = CatalogGallery.build(catalog, checkpoint=checkpoint, folder=folder)
    query = _again(catalog, images_of(catalog, "spotted_0000")[1])
    asked = Queries([catalog.store.path(query.file)], [str(query.id)], [query.bbox])
    # The engine ranks every gallery image (up to ``wide``), not its default six identities.
    assert len(first.engine.identify(asked)[0].candidates) == 12
    before = _rank(first, catalog, [query])
    again = CatalogGallery.open(folder, checkpoint)
    assert again.restored and again.sync(catalog).added == 0
    assert _rank(again, catalog, [query]) == before
    moved = checkpoint.rename(tmp_path / "moved.ckpt")
    assert CatalogGallery.open(folder, moved).restored  # the same weights elsewhere
    rebuilt = CatalogGallery.open(folder, random_checkpoint(tmp_path / "other.ckpt", seed=1))
    assert not rebuilt.restored and "options.models" in (rebuilt.rebuild_reason or "")
