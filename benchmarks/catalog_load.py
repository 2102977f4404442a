"""Load on the catalog service over loopback: concurrent reviewers uploading, reading candidates
and posting decisions, against SQLite and against PostgreSQL.

    .venv/bin/python benchmarks/catalog_load.py [--seconds 60] [--clients 20] [--backend both]
        [--burst 40] [--lease 5]

For each backend: a fresh data folder, a synthetic catalog imported (--individuals x --photos
photos at --size px; one more photo per individual is kept aside as the photos clients upload),
a reviewer with an API token, then ``photoid serve`` (with its matching worker) as a real server
process on a free loopback port. Each client loops until --seconds have passed: upload an
encounter with one photo, poll its candidates until the worker has ranked it (at most
--poll-timeout s), decide (same individual as the top candidate, else new), then list the
review queue and the individuals and read one individual's page. A loop started before the
deadline finishes. Afterwards (after the faults below too) the server is stopped and the
decision rows in the database are counted: they must equal the decisions answered 2xx. Errors
are non-2xx answers and exceptions. PostgreSQL is a temporary server started as the tests do
(tests/pg_support.py).

Then two faults on the same server (benchmarks/catalog_faults.py): a burst of --burst "new
individual" decisions posted at the same moment (every one must succeed with its own code),
and a worker process killed with SIGKILL while it holds a match job under a --lease s lease (the
server's worker must finish the job; the time from the kill is reported). Last, the jobs left in
the database are counted by kind (sync jobs are coalesced: a handful, not one per decision).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
from _machine import describe
from catalog_faults import (
    FAULT_HEADER,
    Burst,
    Takeover,
    fault_row,
    faulty,
    jobs_by_kind,
    kill_a_worker,
    match_seconds,
    new_individual_burst,
)

if TYPE_CHECKING:
    from photoid.catalog import Catalog

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from pg_support import free_port, temporary_server  # noqa: E402

KINDS = ("upload", "candidates", "decision", "list", "page")
USER = "loadtest"


@dataclass
class Tally:
    """What the clients saw: latencies (ms) per request kind, errors per kind, decisions."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    samples: list[str] = field(default_factory=list)
    decided: int = 0
    without_candidates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, kind: str, send: httpx.Client, method: str, url: str, **kw: Any) -> object:
        """Send one request, record it; returns the JSON body of a 2xx answer, else None."""
        started = time.perf_counter()
        try:
            answer = send.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self._fail(kind, started, f"{kind}: {type(exc).__name__}: {exc}")
            return None
        if not answer.is_success:
            self._fail(kind, started, f"{kind}: {answer.status_code} {answer.text[:200]}")
            return None
        with self.lock:
            self.latencies[kind].append((time.perf_counter() - started) * 1000)
            self.decided += kind == "decision"
        return answer.json()

    def _fail(self, kind: str, started: float, message: str) -> None:
        with self.lock:
            self.latencies[kind].append((time.perf_counter() - started) * 1000)
            self.errors[kind] += 1
            if len(self.samples) < 5:
                self.samples.append(message)


@dataclass(frozen=True)
class LoadResult:
    backend: str
    clients: int
    elapsed_s: float
    tally: Tally
    stored: int
    burst: Burst
    takeover: Takeover
    jobs: dict[str, int]
    waits: dict[str, float]  # match jobs: seconds queued and running, p50 and p95


def prepare(work: Path, url: str | None, individuals: int, photos: int, size: int) -> list[bytes]:
    """Import the synthetic catalog into ``work/data`` (and ``url``), add the reviewer; returns
    the photos kept aside for upload (PNG/JPEG bytes, one per individual)."""
    from photoid.catalog import add_user, import_dataset, open_catalog
    from photoid.data.csvio import read_metadata_csv, write_metadata_csv
    from photoid.data.synth import generate

    dataset = work / "dataset"
    metadata = generate(
        dataset, individuals=individuals, images_per=photos + 1, seed=0, size=size, overwrite=True
    )
    table = read_metadata_csv(metadata)
    aside = table.groupby("identity").tail(1)
    uploads = [(dataset / name).read_bytes() for name in aside["image"]]
    write_metadata_csv(table.drop(aside.index), metadata)
    catalog = open_catalog(work / "data", url)
    try:
        import_dataset(catalog, dataset)
        add_user(catalog, USER, "reviewer", "load-test-password")
    finally:
        catalog.close()
    return uploads


def new_token(work: Path, url: str | None) -> str:
    from photoid.catalog import create_token, open_catalog

    catalog = open_catalog(work / "data", url)
    try:
        return create_token(catalog, USER, "load benchmark")
    finally:
        catalog.close()


def count_decisions(catalog: Catalog) -> int:
    from sqlalchemy import func, select

    from photoid.catalog.models import Decision

    with catalog.session() as session:
        return int(session.scalar(select(func.count()).select_from(Decision)) or 0)


@contextmanager
def serving(work: Path, url: str | None, startup_s: float = 300.0) -> Iterator[str]:
    """``photoid serve`` on a free loopback port; yields its base URL, stops it (SIGINT) after."""
    port = free_port()
    command = [sys.executable, "-c", "from photoid.cli.app import main; main()", "serve"]
    command += ["--data", str(work / "data"), "--port", str(port)]
    command += ["--url", url] if url else []
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                tail = (work / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"photoid serve did not start; its log ends:\n{tail}")
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        yield base
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()


def client_loop(
    base: str, token: str, photos: list[bytes], seed: int, until: float, poll_s: float, tally: Tally
) -> None:
    """One reviewer: upload, wait for candidates, decide, browse; until ``until`` (monotonic)."""
    rng = np.random.default_rng(seed)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        while time.monotonic() < until:
            photo = photos[int(rng.integers(len(photos)))]
            files = [("photos", ("photo.png", photo, "image/png"))]
            created = tally.call("upload", http, "POST", "/api/v1/encounters", files=files)
            if not isinstance(created, dict):
                continue
            encounter = created["id"]
            candidates: object = []
            waited = time.monotonic() + poll_s
            while True:
                candidates = tally.call(
                    "candidates", http, "GET", f"/api/v1/encounters/{encounter}/candidates"
                )
                if candidates or time.monotonic() > waited:
                    break
                time.sleep(0.25)
            if isinstance(candidates, list) and candidates:
                top = min(candidates, key=lambda c: c["rank"])["individual"]
                body = {"verdict": "same", "individual": top}
            else:
                body = {"verdict": "new"}
                with tally.lock:
                    tally.without_candidates += 1
            decision = tally.call(
                "decision", http, "POST", f"/api/v1/encounters/{encounter}/decision", json=body
            )
            tally.call("list", http, "GET", "/api/v1/encounters", params={"status": "awaiting"})
            tally.call("list", http, "GET", "/api/v1/individuals", params={"limit": 20})
            if isinstance(decision, dict) and decision.get("individual"):
                tally.call("page", http, "GET", f"/api/v1/individuals/{decision['individual']}")


def run_load(backend: str, args: argparse.Namespace) -> LoadResult:
    """Set up, serve and load one backend (``sqlite`` or ``postgresql``)."""
    with tempfile.TemporaryDirectory(prefix="photoid-load-") as folder:
        work = Path(folder)
        if backend == "postgresql":
            with temporary_server(max_connections=200) as pg:
                return _load(work, pg.empty_database(), backend, args)
        return _load(work, None, backend, args)


def _load(work: Path, url: str | None, backend: str, args: argparse.Namespace) -> LoadResult:
    photos = prepare(work, url, args.individuals, args.photos, args.size)
    token = new_token(work, url)
    tally = Tally()
    with serving(work, url) as base:
        started = time.monotonic()
        until = started + args.seconds
        threads = [
            threading.Thread(
                target=client_loop, args=(base, token, photos, n, until, args.poll_timeout, tally)
            )
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        burst, encounter = new_individual_burst(base, token, photos[0], args.burst)
        takeover = kill_a_worker(work / "data", url, encounter, args.lease)
    from photoid.catalog import open_catalog

    with closing(open_catalog(work / "data", url)) as catalog:
        stored = count_decisions(catalog)
        jobs = jobs_by_kind(catalog)
        waits = match_seconds(catalog)
    return LoadResult(backend, args.clients, elapsed, tally, stored, burst, takeover, jobs, waits)


def _stats(ms: list[float], elapsed_s: float) -> str:
    p50, p95 = np.percentile(ms, [50, 95]) if ms else (float("nan"), float("nan"))
    return f"{len(ms)} | {len(ms) / elapsed_s:.1f} | {p50:.0f} | {p95:.0f}"


def tables(results: list[LoadResult]) -> str:
    """Two markdown tables: per backend (all requests, decisions posted vs stored), then per
    backend and request kind."""
    lines = [
        "| backend | clients | seconds | requests | req/s | p50 ms | p95 ms | errors "
        "| decisions posted / stored | decided without candidates |",
        "|" + "---|" * 10,
    ]
    for r in results:
        every = [ms for kind in KINDS for ms in r.tally.latencies[kind]]
        lines.append(
            f"| {r.backend} | {r.clients} | {r.elapsed_s:.1f} | {_stats(every, r.elapsed_s)} "
            f"| {sum(r.tally.errors.values())} | {_posted(r)} / {r.stored} "
            f"| {r.tally.without_candidates} |"
        )
    lines += ["", "| backend | kind | requests | req/s | p50 ms | p95 ms | errors |"]
    lines.append("|" + "---|" * 7)
    for r in results:
        for kind in KINDS:
            stats = _stats(r.tally.latencies[kind], r.elapsed_s)
            lines.append(f"| {r.backend} | {kind} | {stats} | {r.tally.errors[kind]} |")
    lines += ["", *FAULT_HEADER]
    lines += [fault_row(r.backend, r.burst, r.takeover, r.jobs) for r in results]
    return "\n".join(lines)


def _posted(r: LoadResult) -> int:
    """Decisions answered 2xx: by the clients' loops and by the burst."""
    return r.tally.decided + r.burst.size - r.burst.failed


def _faulty(r: LoadResult) -> bool:
    """Lost requests or decisions, or a fault of :func:`catalog_faults.faulty`."""
    lost = sum(r.tally.errors.values()) or _posted(r) != r.stored
    return bool(lost or faulty(r.burst, r.takeover))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="Load duration per backend.")
    parser.add_argument("--clients", type=int, default=20, help="Concurrent clients.")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--individuals", type=int, default=20, help="Individuals in the catalog.")
    parser.add_argument("--photos", type=int, default=4, help="Catalog photos per individual.")
    parser.add_argument("--size", type=int, default=192, help="Photo size (longest side, px).")
    parser.add_argument(
        "--poll-timeout", type=float, default=30.0, help="Longest wait for candidates (s)."
    )
    parser.add_argument("--burst", type=int, default=40, help="Simultaneous new individuals.")
    parser.add_argument("--lease", type=float, default=5.0, help="Killed worker's lease (s).")
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = [run_load(backend, args) for backend in backends]
    print(f"Machine: {describe()}; server and clients on the same machine (loopback)")
    print(
        f"Catalog: {args.individuals} individuals x {args.photos} photos at {args.size} px; "
        "local-feature matching worker in the server process"
    )
    print()
    print(tables(results))
    for r in results:
        for sample in r.tally.samples:
            print(f"{r.backend} error: {sample}")
        print(f"{r.backend} jobs left: {dict(sorted(r.jobs.items()))}")
        shown = ", ".join(f"{name} {value:.1f}" for name, value in r.waits.items())
        print(f"{r.backend} match jobs, seconds: {shown}")
    return 1 if any(_faulty(r) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
