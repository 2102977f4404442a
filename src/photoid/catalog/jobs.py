"""A job queue in the catalog database: work is enqueued, claimed by exactly one worker under a
lease, then completed or failed (and retried up to a limit).

Claiming is one ``UPDATE ... WHERE id = (SELECT ... LIMIT 1) AND <claimable> RETURNING``:
PostgreSQL adds ``FOR UPDATE SKIP LOCKED`` to the inner select, so concurrent workers take
different jobs without waiting; SQLite runs the statement under its single writer lock
(waiting up to the busy timeout), so no two workers see the same claimable row. A job is
claimable when queued, or running with an expired lease: its worker stopped renewing it
(:func:`heartbeat`, or :func:`keep_leased` around the work), e.g. because it was killed, and
the next claim takes the job over (one more attempt; a job that has had ``max_attempts`` is
failed instead, so a job that kills its worker every time cannot loop forever). Completing,
failing and renewing check the worker and its attempt, so a worker whose job was taken over
cannot finish it. Every job must therefore be safe to run twice.

Claims take the lowest ``priority`` first, then the oldest job. A job enqueued with a
``dedupe_key`` is coalesced: while a job of that key is queued and has never started, enqueueing
another returns it instead (a partial unique index keeps concurrent enqueues to one row).

Jobs live in the database, so queued work survives a restart. Times come from each process's
clock (naive UTC): the hosts of workers sharing a database need synchronised clocks, well
within the lease. Jobs are operational rows, not recorded in the audit trail.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Update, and_, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from photoid.catalog.db import Catalog, rows_changed
from photoid.catalog.models import JOB_STATUSES, Job, utcnow
from photoid.errors import PhotoidError

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_LEASE_S = 60.0
"""How long a claim holds a job without renewal (seconds): a killed worker's job waits this
long before another worker takes it over."""
STOPPED = "its worker stopped before finishing"
_ENQUEUE_TRIES = 3
log = logging.getLogger(__name__)


def enqueue(
    catalog: Catalog,
    kind: str,
    payload: dict[str, Any],
    image_id: int | None = None,
    *,
    priority: int = 0,
    dedupe_key: str | None = None,
) -> Job:
    """Add a queued job of ``kind`` with a JSON ``payload``; ``image_id`` ties it to an image
    (the job is deleted with it); claims take the lowest ``priority`` first. With a
    ``dedupe_key``, a queued job of that key that has not started yet is returned instead of
    adding one (it covers this request: use it for work that reads the latest state when it
    runs). Returns the job."""
    if not kind:
        raise PhotoidError("a job needs a kind")
    for _ in range(_ENQUEUE_TRIES):
        if dedupe_key is not None and (pending := _pending(catalog, dedupe_key)) is not None:
            return pending
        try:
            with catalog.session() as session:
                job = Job(
                    kind=kind,
                    payload=dict(payload),
                    status="queued",
                    image_id=image_id,
                    priority=priority,
                    dedupe_key=dedupe_key,
                )
                session.add(job)
                session.flush()
                return job
        except IntegrityError:
            # Another enqueue of the same key won the race (else it is a real error: raise).
            # Its job may already have been claimed before we look: try again.
            if dedupe_key is None:
                raise
    raise PhotoidError(f"could not enqueue a {kind!r} job with dedupe key {dedupe_key!r}")


def _pending(catalog: Catalog, dedupe_key: str) -> Job | None:
    """The queued, never-started job of ``dedupe_key`` (None when there is none)."""
    query = select(Job).where(
        Job.dedupe_key == dedupe_key, Job.status == "queued", Job.attempts == 0
    )
    with catalog.session() as session:
        return session.scalar(query)


def claim(
    catalog: Catalog,
    worker: str,
    kinds: tuple[str, ...] | None = None,
    *,
    lease_s: float = DEFAULT_LEASE_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Job | None:
    """Atomically take a job (of one of ``kinds``, or any) for ``worker``: the queued job or
    the running job whose lease expired with the lowest priority, then the oldest.

    The job becomes ``running`` with ``worker``, ``started_at`` = now, a lease of ``lease_s``
    seconds (renew it with :func:`heartbeat`) and one more attempt. Expired jobs that already
    had ``max_attempts`` attempts are marked failed instead. Returns the job, or None when
    there is nothing to take.
    """
    now = utcnow()
    of_kind: ColumnElement[bool] = true() if kinds is None else Job.kind.in_(kinds)
    expired = and_(Job.status == "running", Job.lease_expires_at < now)
    spent = select(Job.id).where(expired, Job.attempts >= max_attempts, of_kind)
    give_up = _give_up(
        Job.id.in_(spent.with_for_update(skip_locked=True)),
        f"failed after {max_attempts} attempts: {STOPPED} (its lease expired)",
        now,
    )
    claimable = or_(Job.status == "queued", and_(expired, Job.attempts < max_attempts))
    inner = (
        select(Job.id)
        .where(claimable, of_kind)
        .order_by(Job.priority, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Job)
        .where(Job.id == inner.scalar_subquery(), claimable)
        .values(
            status="running",
            worker=worker,
            started_at=now,
            finished_at=None,
            lease_expires_at=now + timedelta(seconds=lease_s),
            attempts=Job.attempts + 1,
        )
        .returning(Job.id)
    )
    with catalog.session() as session:
        session.execute(give_up)
        claimed = session.execute(statement).scalar()
        return None if claimed is None else session.get(Job, claimed)


def _holder(job_id: int, worker: str, attempt: int | None) -> ColumnElement[bool]:
    """``worker`` holds running job ``job_id`` (in its claim number ``attempt``, when given)."""
    held = and_(Job.id == job_id, Job.status == "running", Job.worker == worker)
    return held if attempt is None else and_(held, Job.attempts == attempt)


def _finish(catalog: Catalog, job_id: int, worker: str, attempt: int | None, **values: Any) -> bool:
    statement = update(Job).where(_holder(job_id, worker, attempt)).values(**values)
    with catalog.session() as session:
        return rows_changed(session, statement) > 0


def heartbeat(
    catalog: Catalog,
    job_id: int,
    worker: str,
    lease_s: float = DEFAULT_LEASE_S,
    attempt: int | None = None,
) -> bool:
    """Renew ``worker``'s lease on its running job: ``lease_s`` seconds from now. ``attempt``
    (the job's ``attempts`` when claimed) tells this claim from an earlier one of a worker of
    the same name. False when it no longer holds the job (taken over after its lease expired)."""
    until = utcnow() + timedelta(seconds=lease_s)
    return _finish(catalog, job_id, worker, attempt, lease_expires_at=until)


@contextmanager
def keep_leased(
    catalog: Catalog, job: Job, worker: str, lease_s: float = DEFAULT_LEASE_S
) -> Iterator[threading.Event]:
    """Renew ``worker``'s lease on the claimed ``job`` from a background thread, three times
    per lease, while the block runs. Yields an event set when the lease was lost (the job was
    taken over: its result will not count)."""
    lost = threading.Event()
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease_s / 3):
            try:
                held = heartbeat(catalog, job.id, worker, lease_s, job.attempts)
            except Exception:  # the database may be briefly unreachable: try again
                log.exception("worker %s could not renew the lease of job %s", worker, job.id)
                continue
            if not held:
                log.warning("worker %s lost job %s to another worker", worker, job.id)
                lost.set()
                return

    thread = threading.Thread(target=renew, name=f"lease-{job.id}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join()


def complete(catalog: Catalog, job_id: int, worker: str, attempt: int | None = None) -> bool:
    """Mark ``worker``'s running job done. False when it no longer holds the job (its lease
    expired and another worker took it over): the result is then not final. ``attempt``: as
    in :func:`heartbeat`."""
    return _finish(
        catalog,
        job_id,
        worker,
        attempt,
        status="done",
        finished_at=utcnow(),
        error=None,
        lease_expires_at=None,
    )


def fail(
    catalog: Catalog,
    job_id: int,
    worker: str,
    error: str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    attempt: int | None = None,
) -> bool:
    """Record ``error`` on ``worker``'s running job: back to the queue while it has had fewer
    than ``max_attempts`` attempts, else ``failed`` for good. False when the worker no longer
    holds the job. ``attempt``: as in :func:`heartbeat`."""
    with catalog.session() as session:
        job = session.get(Job, job_id)
        attempts = 0 if job is None else job.attempts
    final = attempts >= max_attempts
    return _finish(
        catalog,
        job_id,
        worker,
        attempt,
        status="failed" if final else "queued",
        error=error,
        finished_at=utcnow() if final else None,
        lease_expires_at=None,
    )


def requeue_stale(
    catalog: Catalog,
    older_than_s: float | None = None,
    worker: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> int:
    """Put back in the queue the running jobs whose lease has expired, those started more than
    ``older_than_s`` seconds ago (when given) and every running job of ``worker`` (a restarted
    worker's own leftovers); returns how many. Those that already had ``max_attempts``
    attempts are marked failed instead.

    Claims take expired jobs over by themselves; a worker runs this when it starts, to get its
    own leftovers done without waiting for their leases.
    """
    now = utcnow()
    stale = [Job.lease_expires_at < now]
    if older_than_s is not None:
        stale.append(Job.started_at < now - timedelta(seconds=older_than_s))
    if worker is not None:
        stale.append(Job.worker == worker)
    left = and_(Job.status == "running", or_(*stale))
    give_up = _give_up(
        and_(left, Job.attempts >= max_attempts),
        f"failed after {max_attempts} attempts: {STOPPED}",
        now,
    )
    retry = (
        update(Job)
        .where(left)
        .values(status="queued", error=f"requeued: {STOPPED}", lease_expires_at=None)
    )
    with catalog.session() as session:
        session.execute(give_up)
        return rows_changed(session, retry)


def _give_up(where: ColumnElement[bool], error: str, now: datetime) -> Update:
    """The statement failing for good the running jobs matching ``where``, whose worker
    stopped once too often."""
    return (
        update(Job)
        .where(where)
        .values(status="failed", error=error, finished_at=now, lease_expires_at=None)
    )


def get_job(catalog: Catalog, job_id: int) -> Job:
    """The job ``job_id`` (PhotoidError when there is none)."""
    with catalog.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise PhotoidError(f"no job {job_id} in the catalog")
        return job


def list_jobs(
    catalog: Catalog, status: str | None = None, kind: str | None = None, limit: int = 100
) -> list[Job]:
    """The newest ``limit`` jobs (of one ``status`` / ``kind``, or all), newest first."""
    if status is not None and status not in JOB_STATUSES:
        raise PhotoidError(f"job status {status!r} is not one of {', '.join(JOB_STATUSES)}")
    query = select(Job)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    with catalog.session() as session:
        return list(session.scalars(query.order_by(Job.id.desc()).limit(limit)))


def job_counts(catalog: Catalog) -> dict[str, int]:
    """How many jobs are in each status (every status listed, 0 when none)."""
    counts = dict.fromkeys(JOB_STATUSES, 0)
    query = select(Job.status, func.count()).group_by(Job.status)
    with catalog.session() as session:
        for status, count in session.execute(query):
            counts[status] = int(count)
    return counts
