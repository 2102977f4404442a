"""The job queue: atomic claims under concurrent workers, leases taken over when they expire,
retries, stale jobs requeued, priorities and coalesced jobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
from photoid.catalog.jobs import heartbeat, keep_leased
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
    assert final.error == "failed after 2 attempts: its worker stopped before finishing"
    assert claim(catalog, "w") is None


def _expire(catalog: Catalog, job_id: int) -> None:
    """Let the lease of job ``job_id`` run out (as if its worker had stopped a minute ago)."""
    with catalog.session() as session:
        past = utcnow() - timedelta(minutes=1)
        session.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=past))


def test_a_job_whose_lease_expired_is_taken_over_and_finished(catalog: Catalog) -> None:
    job = enqueue(catalog, "match", {})
    first = claim(catalog, "w1", lease_s=60)
    assert first is not None and first.lease_expires_at is not None
    assert first.lease_expires_at > utcnow() + timedelta(seconds=50)
    assert claim(catalog, "w2") is None  # a live lease is not taken
    _expire(catalog, job.id)
    second = claim(catalog, "w2", lease_s=60)
    assert second is not None
    assert (second.id, second.worker, second.attempts) == (job.id, "w2", 2)
    # The first worker comes back: its claim is over, it cannot renew or finish the job.
    assert not heartbeat(catalog, job.id, "w1", 60, attempt=1)
    assert not complete(catalog, job.id, "w1", attempt=1)
    assert not fail(catalog, job.id, "w1", "late", attempt=1)
    assert complete(catalog, job.id, "w2", attempt=2)
    done = get_job(catalog, job.id)
    assert (done.status, done.worker, done.error, done.lease_expires_at) == (
        "done",
        "w2",
        None,
        None,
    )


def test_a_restarted_worker_of_the_same_name_cannot_finish_its_old_claim(
    catalog: Catalog,
) -> None:
    job = enqueue(catalog, "match", {})
    assert claim(catalog, "w") is not None
    _expire(catalog, job.id)
    assert claim(catalog, "w") is not None  # the same name again, attempt 2
    assert not complete(catalog, job.id, "w", attempt=1)
    assert get_job(catalog, job.id).status == "running"
    assert complete(catalog, job.id, "w", attempt=2)


def test_heartbeats_keep_a_job(catalog: Catalog) -> None:
    job = enqueue(catalog, "match", {})
    held = claim(catalog, "w1", lease_s=60)
    assert held is not None
    _expire(catalog, job.id)
    assert heartbeat(catalog, job.id, "w1", 60, attempt=held.attempts)  # renewed in time
    assert claim(catalog, "w2") is None
    lease = 0.6
    with keep_leased(catalog, held, "w1", lease) as lost:
        time.sleep(3 * lease)  # three leases long: only the renewals keep it
        assert claim(catalog, "w2", lease_s=lease) is None
        assert not lost.is_set()
    time.sleep(1.5 * lease)  # no more renewals: the lease runs out
    taken = claim(catalog, "w2")
    assert taken is not None and (taken.id, taken.worker) == (job.id, "w2")


def test_a_job_whose_worker_keeps_dying_fails_after_its_attempts(catalog: Catalog) -> None:
    job = enqueue(catalog, "match", {})
    for worker in ("w1", "w2"):
        assert claim(catalog, worker, max_attempts=2) is not None
        _expire(catalog, job.id)
    assert claim(catalog, "w3", max_attempts=2) is None
    final = get_job(catalog, job.id)
    assert (final.status, final.attempts, final.worker) == ("failed", 2, "w2")
    assert final.error == (
        "failed after 2 attempts: its worker stopped before finishing (its lease expired)"
    )


def _together(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(0..count-1)`` in ``count`` threads started at once; re-raise any error."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def test_concurrent_claimers_take_expired_jobs_exactly_once(catalog: Catalog) -> None:
    ids = [enqueue(catalog, "match", {"n": n}).id for n in range(12)]
    for job_id in ids[:6]:  # half of them held by a worker that died
        dead = claim(catalog, "dead")
        assert dead is not None and dead.id == job_id
    for job_id in ids[:6]:
        _expire(catalog, job_id)
    taken: dict[int, list[int]] = {n: [] for n in range(4)}

    def drain(n: int) -> None:
        while (job := claim(catalog, f"w{n}")) is not None:
            taken[n].append(job.id)

    _together(len(taken), drain)
    assert sorted(i for jobs in taken.values() for i in jobs) == ids


def test_claims_take_the_lowest_priority_first(catalog: Catalog) -> None:
    later = enqueue(catalog, "sync", {}, priority=10)
    first = enqueue(catalog, "match", {"n": 1})
    second = enqueue(catalog, "match", {"n": 2})
    order = [claim(catalog, "w") for _ in range(3)]
    assert [job.id for job in order if job is not None] == [first.id, second.id, later.id]


def test_a_queued_job_covers_later_ones_of_its_dedupe_key(catalog: Catalog) -> None:
    jobs: list[int] = []
    _together(16, lambda n: jobs.append(enqueue(catalog, "sync", {}, dedupe_key="sync").id))
    assert len(set(jobs)) == 1
    assert job_counts(catalog)["queued"] == 1
    other = enqueue(catalog, "sync", {}, dedupe_key="other")
    assert other.id != jobs[0]
    assert claim(catalog, "w") is not None  # the first one starts: later changes need another
    again = enqueue(catalog, "sync", {}, dedupe_key="sync")
    assert again.id not in (jobs[0], other.id)
    assert enqueue(catalog, "sync", {}, dedupe_key="sync").id == again.id
    assert enqueue(catalog, "sync", {}).id not in (jobs[0], other.id, again.id)  # no key
