"""Calibrated candidates from the matching worker, on tiny synthetic catalogs (SQLite, local
engine and an untrained tiny deep one, 128 px): photos 0..n-2 of each individual imported, the
last one uploaded."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from checkpoint_support import random_checkpoint
from photoid.catalog import (
    Catalog,
    ImageUpload,
    add_encounter,
    candidates_for,
    decide,
    import_dataset,
    open_catalog,
)
from photoid.catalog.calibration import (
    GalleryCalibration,
    calibrated_name,
    capped,
    enough_labels,
)
from photoid.catalog.gallery import CatalogGallery, Ranked
from photoid.catalog.matching import MatchWorker, enqueue_encounter, enqueue_sync
from photoid.data.schema import parse_bbox
from photoid.data.synth import generate
from photoid.local.config import LocalConfig

CONFIG = LocalConfig(max_side=256)


def _catalog(tmp_path: Path, individuals: int, photos: int) -> tuple[Catalog, Path]:
    """A SQLite catalog with the first ``photos - 1`` photos of each synthetic individual."""
    root = tmp_path / "animals"
    generate(root, individuals=individuals, images_per=photos, seed=5, size=128)
    table = pd.read_csv(root / "metadata.csv", dtype=str)
    part = tmp_path / "part"
    part.mkdir()
    # A copy, not a link: a dataset's images must lie inside its folder (photoid.data.paths).
    shutil.copytree(root / "images", part / "images")
    last = f"_{photos - 1:03d}.jpg"
    table[~table["image"].str.endswith(last)].to_csv(part / "metadata.csv", index=False)
    catalog = open_catalog(tmp_path / "data")
    assert import_dataset(catalog, part).images == individuals * (photos - 1)
    return catalog, root


def _upload(catalog: Catalog, root: Path, number: int) -> tuple[int, int, str]:
    """Upload the last photo of individual ``number``: (encounter id, image id, its code)."""
    table = pd.read_csv(root / "metadata.csv", dtype=str)
    identity = sorted(set(table["identity"]))[number]
    row = table[table["identity"] == identity].iloc[-1]
    bbox = parse_bbox(str(row["bbox"]))
    upload = ImageUpload((root / row["image"]).read_bytes(), str(row["image"]), bbox)
    encounter, (image,) = add_encounter(catalog, [upload])
    return encounter.id, image.id, identity


@pytest.fixture
def four_by_three(tmp_path: Path) -> Iterator[tuple[Catalog, Path]]:
    catalog, root = _catalog(tmp_path, individuals=4, photos=4)
    yield catalog, root
    catalog.close()


def test_enough_labels_and_capping_by_hand() -> None:
    assert enough_labels(["a", "a", "b", "b"])
    assert not enough_labels(["a", "a", "b", "c"])  # one individual with 2 photos
    assert not enough_labels(["a", "b", "c", "d"])
    assert enough_labels(["a", "a", "a", "b", "b", "b"], identities=2, photos=3)
    assert capped([0.9, 0.95, 0.2, 0.3]) == [0.9, 0.9, 0.2, 0.2]
    assert capped([]) == []
    assert calibrated_name("local") == "local calibrated"


def test_refit_only_after_twenty_percent_growth() -> None:
    calibration = GalleryCalibration(growth=0.2)
    assert calibration.due(1)  # never fitted
    calibration.fitted_size = 12
    assert [calibration.due(n) for n in (12, 13, 14, 15)] == [False, False, False, True]


def test_calibrated_candidates_keep_the_raw_order(
    four_by_three: tuple[Catalog, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, root = four_by_three
    gallery = CatalogGallery.build(catalog, config=CONFIG)
    asked: list[int] = []
    left_out = gallery.leave_one_out

    def counting(catalog: Catalog, ids: list[int], top: int = 5) -> dict[int, list[Ranked]]:
        asked.append(len(ids))
        return left_out(catalog, ids, top)

    monkeypatch.setattr(gallery, "leave_one_out", counting)
    calibration = GalleryCalibration(sample=10)
    worker = MatchWorker(catalog, gallery, name="w", calibration=calibration)
    encounter_id, image_id, identity = _upload(catalog, root, 2)
    enqueue_encounter(catalog, encounter_id)
    assert worker.run_once() is not None
    # 12 gallery photos, 10 of them drawn; one fit.
    assert (asked, calibration.fits, calibration.fitted_size) == ([10], 1, 12)
    raw = candidates_for(catalog, image_id, "local")
    calibrated = candidates_for(catalog, image_id, "local calibrated")
    assert len(raw) == len(calibrated) == 4
    assert [c.individual_id for c in calibrated] == [c.individual_id for c in raw]
    assert [c.rank for c in calibrated] == [1, 2, 3, 4]
    probabilities = [c.score for c in calibrated]
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert probabilities == sorted(probabilities, reverse=True)
    assert probabilities[0] > 0.5 > probabilities[1]  # the right individual first, then doubt
    assert raw[0].score > raw[1].score  # the raw scores are kept beside the probabilities
    assert [c.best_image_id for c in calibrated] == [c.best_image_id for c in raw]
    # Deciding the upload grows the gallery to 13 (< 12 * 1.2): the sync does not refit.
    decide(catalog, encounter_id, "same", individual=identity)
    enqueue_sync(catalog)
    assert worker.run_once() is not None
    assert (asked, calibration.fits, len(gallery)) == ([10], 1, 13)
    # Two more photos (15 >= 14.4): the next job refits.
    for number in (0, 1):
        other, _, code = _upload(catalog, root, number)
        decide(catalog, other, "same", individual=code)
    enqueue_sync(catalog)
    assert worker.run_once() is not None
    assert (asked, calibration.fits, calibration.fitted_size) == ([10, 10], 2, 15)


def test_one_photo_per_individual_stays_raw(tmp_path: Path) -> None:
    catalog, root = _catalog(tmp_path, individuals=4, photos=2)
    try:
        gallery = CatalogGallery.build(catalog, config=CONFIG)
        calibration = GalleryCalibration()
        worker = MatchWorker(catalog, gallery, name="w", calibration=calibration)
        encounter_id, image_id, _ = _upload(catalog, root, 1)
        enqueue_encounter(catalog, encounter_id)
        done = worker.run_once()
        assert done is not None and done.status == "done"
        assert (calibration.fits, calibration.calibrator) == (0, None)
        assert {c.engine for c in candidates_for(catalog, image_id)} == {"local"}
    finally:
        catalog.close()


def test_deep_gallery_ranks_itself_without_its_own_photo(
    four_by_three: tuple[Catalog, Path], tmp_path: Path
) -> None:
    catalog, root = four_by_three
    gallery = CatalogGallery.build(catalog, checkpoint=random_checkpoint(tmp_path / "m.ckpt"))
    members = gallery.members()
    answers = gallery.leave_one_out(catalog, sorted(members)[:3], top=5)
    assert sorted(answers) == sorted(members)[:3]
    for image_id, ranked in answers.items():
        # 4 individuals, each still shown by another photo; never the query photo itself.
        assert sorted(r.code for r in ranked) == sorted(set(members.values()))
        assert image_id not in {r.best_image_id for r in ranked}
        assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    calibration = GalleryCalibration()
    assert calibration.update(catalog, gallery)
    worker = MatchWorker(catalog, gallery, name="w", calibration=calibration)
    encounter_id, image_id, _ = _upload(catalog, root, 0)
    enqueue_encounter(catalog, encounter_id)
    assert worker.run_once() is not None
    found = candidates_for(catalog, image_id, "deep calibrated")
    assert [c.rank for c in found] == [1, 2, 3, 4]
    assert all(0.0 <= c.score <= 1.0 for c in found)
