"""Background matching on a tiny synthetic catalog: 6 individuals x 4 photos imported, a fifth
photo of each kept back as an upload (160 px, local engine)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select, update

from checkpoint_support import random_checkpoint
from photoid.catalog import (
    Catalog,
    ImageUpload,
    add_encounter,
    add_individual,
    candidates_for,
    decide,
    enqueue,
    get_job,
    history,
    images_of,
    import_dataset,
    list_jobs,
    matching,
    merge_individuals,
    undo,
)
from photoid.catalog.gallery import CatalogGallery, SyncReport
from photoid.catalog.matching import (
    MATCH,
    SYNC,
    MatchFilter,
    MatchWorker,
    allowed_codes,
    enqueue_encounter,
    enqueue_sync,
)
from photoid.catalog.models import Encounter, Image, Individual, Job
from photoid.data.schema import parse_bbox
from photoid.data.synth import generate
from photoid.local import engine as local_engine
from photoid.local.config import LocalConfig
from photoid.local.extraction import extract_many

CONFIG = LocalConfig(max_side=256)
KEPT_BACK = 4  # photo number (0..4) of each individual not imported


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "animals"
    generate(root, individuals=6, images_per=5, seed=3, size=160)
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("features")


@pytest.fixture
def imported(catalog: Catalog, synth: Path, tmp_path: Path) -> Catalog:
    """The catalog with photos 0-3 of every individual imported."""
    table = pd.read_csv(synth / "metadata.csv", dtype=str)
    part = tmp_path / "part"
    part.mkdir()
    # A copy, not a link: a dataset's images must lie inside its folder (photoid.data.paths).
    shutil.copytree(synth / "images", part / "images")
    table[~table["image"].str.endswith(f"_{KEPT_BACK:03d}.jpg")].to_csv(
        part / "metadata.csv", index=False
    )
    assert import_dataset(catalog, part).images == 24
    return catalog


def _upload(catalog: Catalog, synth: Path, identity: str) -> int:
    """Add the kept-back photo of ``identity`` as a new encounter; returns its encounter id."""
    table = pd.read_csv(synth / "metadata.csv", dtype=str).set_index("image")
    name = f"images/{identity}/{identity}_{KEPT_BACK:03d}.jpg"
    bbox = parse_bbox(str(table.loc[name, "bbox"]))
    encounter, _ = add_encounter(catalog, [ImageUpload((synth / name).read_bytes(), name, bbox)])
    return encounter.id


def _count_extractions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many images each call of the local engine's feature extraction gets (calls
    with none, as when an empty engine is started, extract nothing and are not recorded)."""
    calls: list[int] = []

    def counting(paths: Any, *args: Any, **kwargs: Any) -> Any:
        if len(paths):
            calls.append(len(paths))
        return extract_many(paths, *args, **kwargs)

    monkeypatch.setattr(local_engine, "extract_many", counting)
    return calls


def _code(catalog: Catalog, individual_id: int) -> str:
    with catalog.session() as session:
        individual = session.get(Individual, individual_id)
        assert individual is not None
        return individual.code


def _ranked_codes(catalog: Catalog, image_id: int) -> list[str]:
    return [_code(catalog, c.individual_id) for c in candidates_for(catalog, image_id, "local")]


def _query_image(catalog: Catalog, encounter_id: int) -> Image:
    with catalog.session() as session:
        image = session.scalar(select(Image).where(Image.encounter_id == encounter_id))
        assert image is not None
        return image


def test_upload_is_matched_then_decided_into_the_gallery_without_rebuild(
    imported: Catalog, synth: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = imported
    calls = _count_extractions(monkeypatch)
    gallery = CatalogGallery.build(catalog, config=CONFIG, cache_dir=cache)
    assert (len(gallery), len(gallery.engine.images), calls) == (24, 24, [24])
    encounter_id = _upload(catalog, synth, "striped_0004")
    query = _query_image(catalog, encounter_id)
    job = enqueue_encounter(catalog, encounter_id)
    worker = MatchWorker(catalog, gallery, name="w")
    done = worker.run_once()
    assert done is not None and (done.id, done.status, done.error) == (job.id, "done", None)
    assert worker.run_once() is None
    found = candidates_for(catalog, query.id, "local")
    assert [c.rank for c in found] == [1, 2, 3, 4, 5]
    assert _code(catalog, found[0].individual_id) == "striped_0004"
    assert found[0].score > found[1].score
    own = {image.id for image in images_of(catalog, "striped_0004")}
    assert found[0].best_image_id in own
    pairs = found[0].keypoints
    assert pairs is not None and len(pairs) >= CONFIG.min_inliers
    assert all(len(p) == 4 and 0 <= p[0] <= 160 and 0 <= p[1] <= 160 for p in pairs)
    # The decision adds exactly the one new image: one extraction, no rebuild.
    decide(catalog, encounter_id, "same", individual="striped_0004")
    calls.clear()
    report = gallery.sync(catalog)
    assert (report.added, report.relabelled, report.dropped) == (1, 0, 0)
    assert (len(gallery.engine.images), calls) == (25, [1])
    assert gallery.owner(query.id) == "striped_0004"
    # Undo detaches it again; merge relabels; neither extracts anything.
    undo(catalog, history(catalog, limit=1)[0].id)
    assert gallery.sync(catalog) == SyncReport(0, 0, 1)
    assert gallery.owner(query.id) is None
    merge_individuals(catalog, "striped_0001", "striped_0004")
    assert gallery.sync(catalog) == SyncReport(0, 4, 0)
    assert calls == [1] and len(gallery.engine.images) == 25
    enqueue_encounter(catalog, encounter_id)
    assert worker.run_once() is not None
    assert _ranked_codes(catalog, query.id)[0] == "striped_0001"


def test_filters_by_species_date_and_location(imported: Catalog, synth: Path, cache: Path) -> None:
    catalog = imported
    with catalog.session() as session:
        session.execute(
            update(Encounter).where(Encounter.label == "striped_0004_e0").values(location="north")
        )
    assert allowed_codes(catalog, MatchFilter()) is None
    assert allowed_codes(catalog, MatchFilter(location="north")) == {"striped_0004"}
    # Dates of the imported photos: striped_0001 2019-08-22, finned_0005 2019-07-14 and
    # 2019-08-17, striped_0004 2019-10-21; a plain date_to covers its whole day.
    in_2019 = MatchFilter(date_from=date(2019, 1, 1), date_to=date(2019, 8, 22))
    assert allowed_codes(catalog, in_2019) == {"striped_0001", "finned_0005"}
    gallery = CatalogGallery.build(catalog, config=CONFIG, cache_dir=cache)
    striped = MatchFilter(species="striped equid (synthetic)")
    worker = MatchWorker(catalog, gallery, striped, name="w")
    encounter_id = _upload(catalog, synth, "spotted_0000")
    query = _query_image(catalog, encounter_id)
    enqueue_encounter(catalog, encounter_id)
    assert worker.run_once() is not None
    assert sorted(_ranked_codes(catalog, query.id)) == ["striped_0001", "striped_0004"]
    enqueue_encounter(catalog, encounter_id, in_2019)  # a job's own filter wins
    assert worker.run_once() is not None
    assert sorted(_ranked_codes(catalog, query.id)) == ["finned_0005", "striped_0001"]
    job = enqueue_encounter(catalog, encounter_id, MatchFilter(species="spotted cat (synthetic)"))
    assert MatchFilter.from_payload(job.payload["filters"]) == MatchFilter(
        species="spotted cat (synthetic)"
    )
    assert worker.run_once() is not None
    assert _ranked_codes(catalog, query.id)[0] == "spotted_0000"


DECISIONS = 50


def test_a_burst_of_decisions_queues_one_sync_that_applies_them_all(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    add_individual(catalog, "A")
    photos = {
        encounter.id: images[0].id
        for encounter, images in (
            add_encounter(catalog, [ImageUpload(make_png(n, size=(24, 16)), f"{n}.png")])
            for n in range(DECISIONS + 1)
        )
    }
    *decided, upload = photos
    errors: list[BaseException] = []
    start = threading.Barrier(DECISIONS)

    def decide_then_sync(encounter_id: int) -> None:
        # What the service does for each decision: decide, then queue a gallery sync.
        try:
            start.wait()
            if encounter_id % 2:
                decide(catalog, encounter_id, "same", individual="A")
            else:
                decide(catalog, encounter_id, "new")
            enqueue_sync(catalog)
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=decide_then_sync, args=(e,)) for e in decided]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    (sync,) = list_jobs(catalog, kind=SYNC)
    assert sync.status == "queued"
    # An upload's match job queued after the sync is run first; the sync still waits.
    match = enqueue_encounter(catalog, upload)
    gallery = CatalogGallery.local(CONFIG)
    worker = MatchWorker(catalog, gallery, name="w")
    first = worker.run_once()
    assert first is not None and (first.id, first.kind, first.status) == (match.id, MATCH, "done")
    assert get_job(catalog, sync.id).status == "queued"
    gallery = CatalogGallery.local(CONFIG)  # a fresh gallery: the sync job alone fills it
    worker = MatchWorker(catalog, gallery, name="w")
    second = worker.run_once()
    assert second is not None and (second.id, second.status) == (sync.id, "done")
    assert worker.run_once() is None
    members = gallery.members()
    assert sorted(members) == sorted(photos[e] for e in decided)
    assert sorted(set(members.values())) == ["A"] + [f"ID-{n:04d}" for n in range(1, 26)]


def test_a_bad_job_is_retried_then_failed(catalog: Catalog) -> None:
    worker = MatchWorker(catalog, CatalogGallery.local(CONFIG), name="w", max_attempts=2)
    job = enqueue(catalog, "match", {"encounter": 1})
    first = worker.run_once()
    assert first is not None and (first.status, first.attempts) == ("queued", 1)
    second = worker.run_once()
    assert second is not None and (second.id, second.status) == (job.id, "failed")
    assert second.error == f"PhotoidError: job {job.id}: payload has no encounter_id"
    synced = enqueue_sync(catalog)
    ran = worker.run_once()
    assert ran is not None and (ran.id, ran.status) == (synced.id, "done")


HOLD_A_JOB = """
import sys, time
from photoid.catalog import claim, open_catalog
catalog = open_catalog(sys.argv[1], sys.argv[2])
job = claim(catalog, "worker-1")
print("claimed", job.id, flush=True)
time.sleep(120)
"""


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_work_survives_a_killed_worker(imported: Catalog, synth: Path, cache: Path) -> None:
    catalog = imported
    encounter_id = _upload(catalog, synth, "spotted_0003")
    job = enqueue_encounter(catalog, encounter_id)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_JOB, str(catalog.data_dir), catalog.url],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().split() == ["claimed", str(job.id)]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    assert holder.returncode == -signal.SIGKILL
    left = get_job(catalog, job.id)
    assert (left.status, left.worker) == ("running", "worker-1")
    gallery = CatalogGallery.build(catalog, config=CONFIG, cache_dir=cache)
    worker = MatchWorker(catalog, gallery, name="worker-1", poll_s=0.05)
    worker.start()
    try:
        assert _wait(lambda: get_job(catalog, job.id).status == "done", 60)
    finally:
        worker.stop()
    assert not worker.running
    assert (get_job(catalog, job.id).attempts, get_job(catalog, job.id).worker) == (2, "worker-1")
    query = _query_image(catalog, encounter_id)
    assert _ranked_codes(catalog, query.id)[0] == "spotted_0003"
    with catalog.session() as session:
        assert session.scalar(select(Job.status).where(Job.id == job.id)) == "done"


def test_deep_engine_gallery_stores_best_image_without_keypoints(
    imported: Catalog, tmp_path: Path
) -> None:
    catalog = imported
    gallery = CatalogGallery.build(catalog, checkpoint=random_checkpoint(tmp_path / "m.ckpt"))
    assert (gallery.name, len(gallery), len(gallery.engine.images)) == ("deep", 24, 24)
    # The same photo uploaded again embeds identically: its source is rank 1 (cosine 1).
    source = images_of(catalog, "finned_0005")[1]
    data = catalog.store.path(source.file).read_bytes()
    encounter, (query,) = add_encounter(catalog, [ImageUpload(data, "again.jpg", source.bbox)])
    enqueue_encounter(catalog, encounter.id)
    assert MatchWorker(catalog, gallery, name="w").run_once() is not None
    found = candidates_for(catalog, query.id, "deep")
    assert [c.rank for c in found] == [1, 2, 3, 4, 5]
    assert _code(catalog, found[0].individual_id) == "finned_0005"
    assert found[0].best_image_id == source.id
    assert found[0].score == pytest.approx(1.0, abs=1e-4)
    assert all(c.keypoints is None for c in found)


def test_a_worker_that_lost_its_lease_records_no_candidates(
    catalog: Catalog, make_png: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    encounter, _ = add_encounter(catalog, [ImageUpload(make_png(1), "a.png")])
    enqueue_encounter(catalog, encounter.id)
    gallery = CatalogGallery.local(CONFIG)
    worker = MatchWorker(catalog, gallery, name="w")
    recorded: list[int] = []
    monkeypatch.setattr(gallery, "sync", lambda _catalog: SyncReport(0, 0, 0))
    monkeypatch.setattr(gallery, "rank", lambda _catalog, images, *_: [[] for _ in images])
    monkeypatch.setattr(worker, "_record", lambda image_id, _ranked: recorded.append(image_id))

    @contextmanager
    def lost_meanwhile(*_args: Any) -> Iterator[threading.Event]:
        lost = threading.Event()
        lost.set()  # another worker took the job over while this one ranked
        yield lost

    monkeypatch.setattr(matching, "keep_leased", lost_meanwhile)
    assert worker.run_once() is not None
    assert recorded == []


def test_stop_keeps_a_thread_that_did_not_stop_in_time(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = MatchWorker(catalog, CatalogGallery.local(CONFIG), name="w", poll_s=0.01)
    busy = threading.Event()
    release = threading.Event()

    def long_job() -> None:
        busy.set()
        release.wait(30)

    monkeypatch.setattr(worker, "run_once", long_job)
    worker.start()
    assert busy.wait(30)
    worker.stop(timeout=0.05)
    assert worker.running  # still busy: a second start() must not start another thread
    release.set()
    worker.stop()
    assert not worker.running


def test_default_worker_names_differ_within_one_process(catalog: Catalog) -> None:
    gallery = CatalogGallery.local(CONFIG)
    first, second = MatchWorker(catalog, gallery), MatchWorker(catalog, gallery)
    assert first.name != second.name
    assert first.name.startswith(f"{socket.gethostname()}:{os.getpid()}:")
