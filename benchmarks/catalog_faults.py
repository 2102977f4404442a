"""Faults for the catalog load benchmark (benchmarks/catalog_load.py), run against its server.

A burst of "new individual" decisions posted at the same moment (one connection each, after
uploading their encounters): every one must succeed with its own code. A worker killed in the
middle of a job: once the queue is idle, a separate worker process claims a match job under a
short lease, renews it for two leases (the server's worker must leave it alone) and is killed
with SIGKILL; the server's worker must then finish the job, and the time from the kill to the
job done is measured.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np

if TYPE_CHECKING:
    from photoid.catalog import Catalog

VICTIM = "victim"
HOLD_A_JOB = """
import sys, time
from photoid.catalog import claim, open_catalog
from photoid.catalog.jobs import keep_leased
from photoid.catalog.matching import MATCH, enqueue_encounter
catalog = open_catalog(sys.argv[1], sys.argv[2] or None)
encounter, lease = int(sys.argv[3]), float(sys.argv[4])
job = None
while job is None:  # the server's worker may take the job first: queue another
    enqueue_encounter(catalog, encounter)
    job = claim(catalog, "victim", (MATCH,), lease_s=lease)
print(job.id, flush=True)
with keep_leased(catalog, job, "victim", lease):
    time.sleep(3600)
"""
"""The killed worker: claims a match job, renews its lease while "working", until killed."""


@dataclass(frozen=True)
class Burst:
    """Simultaneous "new individual" decisions: how many, how many failed, the distinct codes
    given, and each request's latency (ms)."""

    size: int
    failed: int
    codes: int
    ms: list[float]


@dataclass(frozen=True)
class Takeover:
    """The job of the killed worker: whether its live worker kept it for two leases, then how
    it ended (status, worker, attempts) and how many seconds after the kill."""

    kept_while_alive: bool
    status: str
    worker: str | None
    attempts: int
    after_kill_s: float


def new_individual_burst(base: str, token: str, photo: bytes, size: int) -> tuple[Burst, int]:
    """Upload ``size`` encounters, then post a "new" decision on each at the same moment.
    Returns the burst and one of its encounters."""
    headers = {"Authorization": f"Bearer {token}"}
    files = [("photos", ("photo.png", photo, "image/png"))]
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        encounters = [
            int(http.post("/api/v1/encounters", files=files).json()["id"]) for _ in range(size)
        ]
    start = threading.Barrier(size)
    answers: list[tuple[float, str | None]] = []

    def post(encounter: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            http.get("/api/v1/me")  # connect first, so that the decisions leave together
            start.wait()
            began = time.perf_counter()
            code = None
            try:
                url = f"/api/v1/encounters/{encounter}/decision"
                answer = http.post(url, json={"verdict": "new"})
                code = answer.json().get("individual") if answer.is_success else None
            except httpx.HTTPError:
                pass
            answers.append(((time.perf_counter() - began) * 1000, code))

    threads = [threading.Thread(target=post, args=(e,)) for e in encounters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = [code for _, code in answers if code is not None]
    burst = Burst(size, size - len(codes), len(set(codes)), [ms for ms, _ in answers])
    return burst, encounters[0]


def kill_a_worker(data_dir: Path, url: str | None, encounter: int, lease_s: float) -> Takeover:
    """A worker process claims a match job (for ``encounter``) and is SIGKILLed; the server's
    worker must finish the job once the lease has expired."""
    from photoid.catalog import get_job, job_counts, open_catalog

    catalog = open_catalog(data_dir, url)
    try:
        idle = time.monotonic() + 600
        while any(job_counts(catalog)[s] for s in ("queued", "running")):
            if time.monotonic() > idle:
                raise RuntimeError("the job queue did not drain in 600 s")
            time.sleep(0.5)
        command = [sys.executable, "-c", HOLD_A_JOB, str(data_dir), url or "", str(encounter)]
        victim = subprocess.Popen([*command, str(lease_s)], stdout=subprocess.PIPE)
        assert victim.stdout is not None
        job_id = int(victim.stdout.readline())
        time.sleep(2 * lease_s)  # alive and renewing: the server's worker must leave it alone
        held = get_job(catalog, job_id)
        kept = (held.status, held.worker) == ("running", VICTIM)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed = time.monotonic()
        job = get_job(catalog, job_id)
        while job.status == "running" and time.monotonic() - killed < 300 + lease_s:
            time.sleep(0.05)
            job = get_job(catalog, job_id)
        return Takeover(kept, job.status, job.worker, job.attempts, time.monotonic() - killed)
    finally:
        catalog.close()


def jobs_by_kind(catalog: Catalog) -> dict[str, int]:
    """The jobs in the catalog: ``kind`` and ``kind status`` -> count."""
    from sqlalchemy import func, select

    from photoid.catalog.models import Job

    query = select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
    counts: dict[str, int] = {}
    with catalog.session() as session:
        for kind, status, count in session.execute(query):
            counts[kind] = counts.get(kind, 0) + count
            counts[f"{kind} {status}"] = count
    return counts


def match_seconds(catalog: Catalog) -> dict[str, float]:
    """Finished match jobs: p50 and p95 seconds queued (created -> started) and running
    (started -> finished), the time a reviewer waits for an upload's candidates."""
    from sqlalchemy import select

    from photoid.catalog.models import Job

    query = select(Job.created_at, Job.started_at, Job.finished_at).where(
        Job.kind == "match", Job.status == "done"
    )
    with catalog.session() as session:
        rows = [r for r in session.execute(query) if r[1] is not None and r[2] is not None]
    if not rows:
        return {}
    queued = np.array([(started - created).total_seconds() for created, started, _ in rows])
    running = np.array([(finished - started).total_seconds() for _, started, finished in rows])
    return {
        "queued p50": float(np.percentile(queued, 50)),
        "queued p95": float(np.percentile(queued, 95)),
        "running p50": float(np.percentile(running, 50)),
        "running p95": float(np.percentile(running, 95)),
    }


def fault_row(backend: str, burst: Burst, takeover: Takeover, jobs: dict[str, int]) -> str:
    """One row of :data:`FAULT_HEADER`'s table."""
    p50, top = (np.percentile(burst.ms, 50), max(burst.ms)) if burst.ms else (np.nan, np.nan)
    t = takeover
    return (
        f"| {backend} | {burst.size} | {burst.failed} | {burst.codes} | {p50:.0f} | {top:.0f} "
        f"| {'yes' if t.kept_while_alive else 'NO'} | {t.status} | {t.worker} | {t.attempts} "
        f"| {t.after_kill_s:.1f} | {jobs.get('match', 0)} | {jobs.get('sync', 0)} |"
    )


FAULT_HEADER = [
    "| backend | new-individual burst | failed | distinct codes | p50 ms | max ms "
    "| killed worker kept its job while alive | then | by | attempt | s after the kill "
    "| match jobs | sync jobs |",
    "|" + "---|" * 13,
]


def faulty(burst: Burst, takeover: Takeover) -> bool:
    """A failed or duplicated new individual, or a killed worker's job not finished by another."""
    return bool(
        burst.failed
        or burst.codes != burst.size
        or not takeover.kept_while_alive
        or takeover.status != "done"
        or takeover.worker == VICTIM
    )
