"""A real crash: a child process uploading and deciding in a loop is killed with SIGKILL at
random moments; the database and the files must stay consistent every time. A matching worker
killed in the middle of a job: another worker takes the job over once its lease expires. The
children are forked (not spawned) so that each round costs milliseconds, not an interpreter
start."""

from __future__ import annotations

import io
import multiprocessing
import random
import signal
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from sqlalchemy import func, select

from photoid.catalog import (
    ImageUpload,
    add_encounter,
    add_individual,
    check,
    claim,
    decide,
    gc,
    get_job,
    open_catalog,
    record_candidates,
)
from photoid.catalog.gallery import CatalogGallery, SyncReport
from photoid.catalog.matching import MatchWorker, enqueue_sync
from photoid.catalog.models import AuditEntry, Decision, Encounter, Image

ROUNDS = 8


def _png(rng: np.random.Generator) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(rng.integers(0, 256, (8, 10, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def _work(data_dir: Path, url: str | None, seed: int, ready: Event) -> None:
    """The child: upload an encounter, record candidates, decide; again, until killed."""
    catalog = open_catalog(data_dir, url)
    rng = np.random.default_rng(seed)
    ready.set()
    for step in range(1_000_000):
        uploads = [ImageUpload(_png(rng), f"{seed}-{step}-{k}.png") for k in range(2)]
        encounter, images = add_encounter(catalog, uploads, actor="worker")
        record_candidates(catalog, images[0].id, "deep", [("A", 0.5)])
        verdict = ("same", "new", "not_sure")[step % 3]
        decide(catalog, encounter.id, verdict, "A" if verdict == "same" else None)


def _run_and_kill(data_dir: Path, url: str | None, seed: int, delay: float) -> None:
    """Fork a worker (a separate process with its own connections), SIGKILL it after ``delay``
    seconds of work."""
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_work, args=(data_dir, url, seed, ready), daemon=True)
    child.start()
    assert ready.wait(30), "the worker did not start"
    time.sleep(delay)
    child.kill()  # SIGKILL: no cleanup, no rollback by the child
    child.join()
    assert child.exitcode == -signal.SIGKILL, f"the worker stopped on its own ({child.exitcode})"


def test_sigkill_mid_upload_or_decision_leaves_everything_consistent(
    tmp_path: Path, catalog_url: str | None
) -> None:
    data_dir = tmp_path / "data"
    catalog = open_catalog(data_dir, catalog_url)
    add_individual(catalog, "A")
    catalog.close()
    rng = random.Random(5)
    for round_number in range(ROUNDS):
        _run_and_kill(data_dir, catalog_url, round_number, rng.uniform(0.05, 0.5))
        catalog = open_catalog(data_dir, catalog_url)
        assert check(catalog) == []
        with catalog.session() as session:
            for encounter_id, count in session.execute(
                select(Image.encounter_id, func.count()).group_by(Image.encounter_id)
            ):
                assert count == 2, f"encounter {encounter_id} has {count} of its 2 images"
            encounters = session.scalar(select(func.count()).select_from(Encounter))
            assert encounters == len(set(session.scalars(select(Image.encounter_id))))
            decisions = list(session.scalars(select(Decision)))
            for decision in decisions:
                owners = set(
                    session.scalars(
                        select(Image.individual_id).where(
                            Image.encounter_id == decision.encounter_id
                        )
                    )
                )
                assert owners == {decision.individual_id}, f"decision {decision.id} half-applied"
            decided = {
                int(i)
                for after in session.scalars(
                    select(AuditEntry.after).where(AuditEntry.action == "decide")
                )
                for i in after["decisions"]
            }
            assert decided == {d.id for d in decisions}
        gc(catalog, min_age_s=0)
        assert check(catalog) == []
        catalog.close()
    assert len(decisions) >= ROUNDS, "the worker made too little progress to test anything"


LEASE_S = 1.0


def _stuck_worker(data_dir: Path, url: str | None, working: Event) -> None:
    """The child: a matching worker (renewing its lease) whose job never ends."""
    catalog = open_catalog(data_dir, url)

    class StuckGallery(CatalogGallery):
        def sync(self, catalog: object) -> SyncReport:
            working.set()
            time.sleep(3600)
            raise AssertionError("killed before")

    MatchWorker(catalog, StuckGallery.local(), name="worker-1", lease_s=LEASE_S).run_once()


def test_the_job_of_a_killed_worker_is_finished_by_another(
    tmp_path: Path, catalog_url: str | None
) -> None:
    catalog = open_catalog(tmp_path / "data", catalog_url)
    job = enqueue_sync(catalog)
    context = multiprocessing.get_context("fork")
    working = context.Event()
    child = context.Process(
        target=_stuck_worker, args=(tmp_path / "data", catalog_url, working), daemon=True
    )
    child.start()
    try:
        assert working.wait(30), "the worker did not take the job"
        time.sleep(2.5 * LEASE_S)  # past its first lease: only its heartbeats keep the job
        assert claim(catalog, "thief") is None
        held = get_job(catalog, job.id)
        assert (held.status, held.worker, held.attempts) == ("running", "worker-1", 1)
    finally:
        child.kill()
        child.join()
    assert child.exitcode == -signal.SIGKILL
    killed = time.monotonic()
    worker = MatchWorker(catalog, CatalogGallery.local(), name="worker-2", lease_s=LEASE_S)
    while (ran := worker.run_once()) is None:
        assert time.monotonic() - killed < 30 * LEASE_S, "the job was never taken over"
        time.sleep(0.05)
    waited = time.monotonic() - killed
    assert (ran.id, ran.status, ran.worker, ran.attempts) == (job.id, "done", "worker-2", 2)
    assert waited <= LEASE_S + 5  # one lease after the last renewal, plus slack for a busy CI
    catalog.close()
