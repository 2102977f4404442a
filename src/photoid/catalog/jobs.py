"""A job queue in the catalog database: work is enqueued, claimed by exactly one worker, then
completed or failed (and retried up to a limit).

Claiming is one ``UPDATE ... WHERE id = (SELECT ... LIMIT 1) AND status = 'queued'
RETURNING``: PostgreSQL adds ``FOR UPDATE SKIP LOCKED`` to the inner select, so concurrent
workers take different jobs without waiting; SQLite runs the statement under its single
writer lock (waiting up to the busy timeout), so no two workers see the same queued row.
Jobs live in the database, so queued work survives a restart; a job left ``running`` by a
killed worker goes back to the queue with :func:`requeue_stale`. Jobs are operational rows,
not recorded in the audit trail.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from photoid.catalog.db import Catalog
from photoid.catalog.models import JOB_STATUSES, Job, utcnow
from photoid.errors import PhotoidError

DEFAULT_MAX_ATTEMPTS = 3


def enqueue(
    catalog: Catalog, kind: str, payload: dict[str, Any], image_id: int | None = None
) -> Job:
    """Add a queued job of ``kind`` with a JSON ``payload``; ``image_id`` ties it to an image
    (the job is deleted with it). Returns the job."""
    if not kind:
        raise PhotoidError("a job needs a kind")
    with catalog.session() as session:
        job = Job(kind=kind, payload=dict(payload), status="queued", image_id=image_id)
        session.add(job)
        session.flush()
        return job


def claim(catalog: Catalog, worker: str, kinds: tuple[str, ...] | None = None) -> Job | None:
    """Atomically take the oldest queued job (of one of ``kinds``, or any) for ``worker``.

    The job becomes ``running`` with ``worker``, ``started_at`` = now and one more attempt.
    Returns it, or None when nothing is queued.
    """
    inner = select(Job.id).where(Job.status == "queued")
    if kinds is not None:
        inner = inner.where(Job.kind.in_(kinds))
    inner = inner.order_by(Job.id).limit(1).with_for_update(skip_locked=True)
    statement = (
        update(Job)
        .where(Job.id == inner.scalar_subquery(), Job.status == "queued")
        .values(
            status="running",
            worker=worker,
            started_at=utcnow(),
            finished_at=None,
            attempts=Job.attempts + 1,
        )
        .returning(Job.id)
    )
    with catalog.session() as session:
        claimed = session.execute(statement).scalar()
        return None if claimed is None else session.get(Job, claimed)


def _finish(catalog: Catalog, job_id: int, worker: str, **values: Any) -> bool:
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.status == "running", Job.worker == worker)
        .values(**values)
    )
    with catalog.session() as session:
        return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def complete(catalog: Catalog, job_id: int, worker: str) -> bool:
    """Mark ``worker``'s running job done. False when it no longer holds the job (it was
    requeued as stale and perhaps claimed by another worker): the result is then not final."""
    return _finish(catalog, job_id, worker, status="done", finished_at=utcnow(), error=None)


def fail(
    catalog: Catalog,
    job_id: int,
    worker: str,
    error: str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> bool:
    """Record ``error`` on ``worker``'s running job: back to the queue while it has had fewer
    than ``max_attempts`` attempts, else ``failed`` for good. False when the worker no longer
    holds the job."""
    with catalog.session() as session:
        job = session.get(Job, job_id)
        attempts = 0 if job is None else job.attempts
    final = attempts >= max_attempts
    return _finish(
        catalog,
        job_id,
        worker,
        status="failed" if final else "queued",
        error=error,
        finished_at=utcnow() if final else None,
    )


def requeue_stale(
    catalog: Catalog,
    older_than_s: float,
    worker: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> int:
    """Put back in the queue the running jobs started more than ``older_than_s`` seconds ago,
    and every running job of ``worker`` (a restarted worker's own leftovers); returns how many.
    Those that already had ``max_attempts`` attempts are marked failed instead, so a job that
    kills its worker every time cannot loop forever.

    Run it when a worker starts: the jobs of a worker that was killed are then done again
    (every job must therefore be safe to run twice).
    """
    stale = Job.started_at < utcnow() - timedelta(seconds=older_than_s)
    left = and_(
        Job.status == "running", stale if worker is None else or_(stale, Job.worker == worker)
    )
    error = "its worker stopped before finishing"
    give_up = (
        update(Job)
        .where(left, Job.attempts >= max_attempts)
        .values(
            status="failed", error=f"failed: {error} {max_attempts} times", finished_at=utcnow()
        )
    )
    retry = update(Job).where(left).values(status="queued", error=f"requeued: {error}")
    with catalog.session() as session:
        session.execute(give_up)
        return int(session.execute(retry).rowcount)  # type: ignore[attr-defined]


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
