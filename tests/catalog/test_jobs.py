"""The job queue: atomic claims under concurrent workers, retries, stale jobs requeued."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from photoid.catalog import (
    Catalog,
    claim,
    complete,
    enqueue,
    fail,
    get_job,
    job_counts,
    list_jobs,
    requeue_stale,
)
from photoid.catalog.models import Job, utcnow
from photoid.errors import PhotoidError


def test_claim_takes_the_oldest_queued_job_once(catalog: Catalog) -> None:
    first = enqueue(catalog, "match", {"encounter_id": 1})
    second = enqueue(catalog, "match", {"encounter_id": 2})
    taken = claim(catalog, "w1")
    assert taken is not None
    assert (taken.id, taken.status, taken.worker, taken.attempts) == (first.id, "running", "w1", 1)
    assert taken.payload == {"encounter_id": 1}
    assert taken.started_at is not None
    again = claim(catalog, "w2")
    assert again is not None and again.id == second.id
    assert claim(catalog, "w3") is None
    assert job_counts(catalog) == {"queued": 0, "running": 2, "done": 0, "failed": 0}


def test_claim_can_be_limited_to_kinds(catalog: Catalog) -> None:
    enqueue(catalog, "sync", {})
    wanted = enqueue(catalog, "match", {})
    taken = claim(catalog, "w", ("match",))
    assert taken is not None and taken.id == wanted.id
    assert claim(catalog, "w", ("match",)) is None


def test_concurrent_claimers_take_each_job_exactly_once(catalog: Catalog) -> None:
    ids = [enqueue(catalog, "match", {"n": n}).id for n in range(24)]
    taken: dict[str, list[int]] = {f"w{n}": [] for n in range(4)}
    errors: list[BaseException] = []
    start = threading.Barrier(len(taken))

    def drain(worker: str) -> None:
        try:
            start.wait()
            while (job := claim(catalog, worker)) is not None:
                taken[worker].append(job.id)
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    claimed = [job_id for jobs in taken.values() for job_id in jobs]
    assert sorted(claimed) == ids
    for worker, jobs in taken.items():
        assert all(get_job(catalog, job_id).worker == worker for job_id in jobs)


def test_complete_only_by_the_holder(catalog: Catalog) -> None:
    job = enqueue(catalog, "match", {})
    assert claim(catalog, "w1") is not None
    assert not complete(catalog, job.id, "intruder")
    assert complete(catalog, job.id, "w1")
    done = get_job(catalog, job.id)
    assert (done.status, done.error) == ("done", None)
    assert done.finished_at is not None
    assert not complete(catalog, job.id, "w1")


def test_fail_retries_until_the_attempts_are_spent(catalog: Catalog) -> None:
    job = enqueue(catalog, "match", {})
    for attempt in (1, 2):
        assert claim(catalog, "w") is not None
        assert fail(catalog, job.id, "w", f"boom {attempt}", max_attempts=3)
        back = get_job(catalog, job.id)
        assert (back.status, back.attempts, back.error) == ("queued", attempt, f"boom {attempt}")
    assert claim(catalog, "w") is not None
    assert fail(catalog, job.id, "w", "boom 3", max_attempts=3)
    final = get_job(catalog, job.id)
    assert (final.status, final.attempts, final.error) == ("failed", 3, "boom 3")
    assert claim(catalog, "w") is None


def test_requeue_stale_by_age_and_by_worker_name(catalog: Catalog) -> None:
    old, young, mine = (enqueue(catalog, "match", {"n": n}).id for n in range(3))
    for worker in ("a", "b", "me"):
        assert claim(catalog, worker) is not None
    with catalog.session() as session:
        hour_ago = utcnow() - timedelta(hours=1)
        session.execute(update(Job).where(Job.id == old).values(started_at=hour_ago))
    assert requeue_stale(catalog, older_than_s=600) == 1
    assert [get_job(catalog, i).status for i in (old, young, mine)] == [
        "queued",
        "running",
        "running",
    ]
    assert requeue_stale(catalog, older_than_s=600, worker="me") == 1
    assert get_job(catalog, mine).status == "queued"
    assert "requeued" in (get_job(catalog, mine).error or "")
    retaken = claim(catalog, "c")
    assert retaken is not None and (retaken.id, retaken.attempts) == (old, 2)


def test_list_jobs_newest_first_and_filtered(catalog: Catalog) -> None:
    ids = [enqueue(catalog, kind, {}).id for kind in ("match", "sync", "match")]
    claim(catalog, "w")
    assert [j.id for j in list_jobs(catalog)] == ids[::-1]
    assert [j.id for j in list_jobs(catalog, status="queued")] == [ids[2], ids[1]]
    assert [j.id for j in list_jobs(catalog, kind="match", limit=1)] == [ids[2]]
    with pytest.raises(PhotoidError, match="job status 'busy' is not one of"):
        list_jobs(catalog, status="busy")
    with pytest.raises(PhotoidError, match="no job 99"):
        get_job(catalog, 99)


def test_a_job_that_keeps_killing_its_worker_fails(catalog: Catalog) -> None:
    job = enqueue(catalog, "match", {})
    assert claim(catalog, "w") is not None
    assert requeue_stale(catalog, older_than_s=600, worker="w", max_attempts=2) == 1
    assert claim(catalog, "w") is not None
    assert requeue_stale(catalog, older_than_s=600, worker="w", max_attempts=2) == 0
    final = get_job(catalog, job.id)
    assert (final.status, final.attempts) == ("failed", 2)
    assert final.error == "failed: its worker stopped before finishing 2 times"
    assert claim(catalog, "w") is None
