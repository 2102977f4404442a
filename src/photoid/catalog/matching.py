"""Computing match candidates in the background: one job per uploaded encounter, run by a
:class:`MatchWorker` thread that never blocks the caller, through the catalog's job queue
(so queued work survives a restart).

Keeping the gallery current: after a decision (or merge, split, undo) the caller either calls
``gallery.sync(catalog)`` itself or, to keep the web request fast, :func:`enqueue_sync`; the
worker also syncs before every match job. A sync only indexes newly attached images and reads
the catalog as it is when it runs, so sync jobs are coalesced (one queued sync covers every
change before it) and match jobs go first (each syncs anyway): uploads never wait behind syncs.

A worker holds its job under a lease that it renews while it works
(:func:`~photoid.catalog.jobs.keep_leased`); the job of a killed worker is taken over by the
next claim once its lease has expired. A worker that finds it lost the lease (it stalled past
it, and another took the job over) stops before recording anything: the job is the new
holder's.

    gallery = CatalogGallery.build(catalog)
    worker = MatchWorker(catalog, gallery)
    worker.start()
    enqueue_encounter(catalog, encounter.id)
    ...
    worker.stop()

With a :class:`~photoid.catalog.calibration.GalleryCalibration`
(``MatchWorker(catalog, gallery, calibration=GalleryCalibration())``) the worker also stores
each image's candidates as calibrated probabilities under the engine name ``"<engine>
calibrated"`` (same individuals, same ranks), once the gallery has enough labelled photos;
the raw scores stay stored under the engine's own name.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, select

from photoid.catalog.calibration import GalleryCalibration, calibrated_name
from photoid.catalog.candidates import Evidence, candidates_for, record_candidates
from photoid.catalog.db import Catalog
from photoid.catalog.encounters import encounter_images, set_detected_boxes
from photoid.catalog.gallery import CatalogGallery, Ranked
from photoid.catalog.jobs import (
    DEFAULT_LEASE_S,
    DEFAULT_MAX_ATTEMPTS,
    claim,
    complete,
    enqueue,
    fail,
    get_job,
    keep_leased,
    requeue_stale,
)
from photoid.catalog.models import Encounter, Image, Individual, Job
from photoid.errors import PhotoidError

if TYPE_CHECKING:
    from photoid.detect.run import Detector

MATCH = "match"
SYNC = "sync"
MATCH_PRIORITY = 0
SYNC_PRIORITY = 10
"""Claims take match jobs before sync jobs (lowest first): a match job syncs first anyway."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchFilter:
    """Restrict candidates to individuals of ``species`` that were seen (one of their images'
    encounters) at ``location`` and between ``date_from`` and ``date_to``. Every part is
    optional; a plain date covers its whole day, so ``date_to`` is inclusive."""

    species: str | None = None
    location: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def to_payload(self) -> dict[str, str | None]:
        """The filter as JSON-ready text (dates in ISO format)."""
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items()}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> MatchFilter:
        """The inverse of :meth:`to_payload`; a datetime's time is kept."""

        def day(text: str | None) -> date | None:
            if not text:
                return None
            parsed = datetime.fromisoformat(text)
            return parsed.date() if len(text) <= 10 else parsed

        return cls(
            payload.get("species"),
            payload.get("location"),
            day(payload.get("date_from")),
            day(payload.get("date_to")),
        )

    @property
    def empty(self) -> bool:
        return all(value is None for value in asdict(self).values())


def _start(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time.min)


def allowed_codes(catalog: Catalog, filters: MatchFilter) -> set[str] | None:
    """Codes of the (unmerged) individuals that pass ``filters``; None when it filters nothing."""
    if filters.empty:
        return None
    query = select(Individual.code).where(Individual.merged_into_id.is_(None))
    if filters.species is not None:
        query = query.where(Individual.species == filters.species)
    seen: list[ColumnElement[bool]] = []
    if filters.location is not None:
        seen.append(Encounter.location == filters.location)
    if filters.date_from is not None:
        seen.append(Encounter.date >= _start(filters.date_from))
    if filters.date_to is not None:
        end = filters.date_to
        seen.append(
            Encounter.date <= end
            if isinstance(end, datetime)
            else Encounter.date < _start(end) + timedelta(days=1)
        )
    if seen:
        sighting = (
            select(Image.id)
            .join(Encounter, Image.encounter_id == Encounter.id)
            .where(Image.individual_id == Individual.id, and_(*seen))
        )
        query = query.where(exists(sighting))
    with catalog.session() as session:
        return set(session.scalars(query))


def enqueue_encounter(
    catalog: Catalog, encounter_id: int, filters: MatchFilter | None = None
) -> Job:
    """Queue one job computing candidates for every image of an encounter; ``filters``
    replace the worker's own for this job. Returns the job (running it twice is harmless:
    candidates are replaced)."""
    images = encounter_images(catalog, encounter_id)
    payload: dict[str, Any] = {"encounter_id": encounter_id}
    if filters is not None:
        payload["filters"] = filters.to_payload()
    image_id = images[0].id if images else None
    return enqueue(catalog, MATCH, payload, image_id=image_id, priority=MATCH_PRIORITY)


def enqueue_sync(catalog: Catalog) -> Job:
    """Queue a gallery sync (after a decision), so the web request does no feature work.

    Coalesced: while a sync job is queued and not started, that job is returned (it will see
    this change too); only once it has started does a change queue another."""
    return enqueue(catalog, SYNC, {}, priority=SYNC_PRIORITY, dedupe_key=SYNC)


def default_worker_name() -> str:
    """``host:pid:random``: unique among running workers, even across containers (which may
    share a host name and a pid). A restarted worker gets a new name, so it cannot requeue its
    predecessor's jobs by name: their leases expire instead and the next claim takes them."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class MatchWorker:
    """Runs match and sync jobs against ``gallery``: :meth:`run_once` runs one in the calling
    thread, :meth:`start`/:meth:`stop` a background thread polling every ``poll_s`` seconds.

    ``filters`` apply to every job without its own; ``top`` candidates are stored per image.
    A claimed job is leased for ``lease_s`` seconds and the lease renewed while it runs, so the
    job of a killed worker is taken over by another ``lease_s`` seconds after its last renewal;
    on :meth:`start`, jobs still held by a worker of the same ``name`` (a restarted one given
    its predecessor's fixed ``name``) go back to the queue at once, with every job whose lease
    has expired; the default name is new each time, so a predecessor's jobs then wait out
    their leases (``lease_s``, a minute by default) and are taken over by the next claim. A job
    that raises, or whose worker keeps dying, is retried until it has had ``max_attempts``
    attempts, then marked failed with the error.
    ``calibration``: also store calibrated candidates, refitted after syncs (None: raw only).
    ``detector``: finds the animal in each uploaded photo that has no box before matching
    (:class:`photoid.detect.run.Detector`); the box is stored with the image (an audited
    change), so the engines crop to it and the review page frames it.
    """

    def __init__(
        self,
        catalog: Catalog,
        gallery: CatalogGallery,
        filters: MatchFilter | None = None,
        *,
        name: str | None = None,
        top: int = 5,
        poll_s: float = 1.0,
        lease_s: float = DEFAULT_LEASE_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        calibration: GalleryCalibration | None = None,
        detector: Detector | None = None,
    ) -> None:
        self.catalog = catalog
        self.gallery = gallery
        self.filters = filters or MatchFilter()
        self.name = name or default_worker_name()
        self.top = top
        self.poll_s = poll_s
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.calibration = calibration
        self.detector = detector
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Job | None:
        """Claim and run one job; returns it as it ended (None when nothing was queued)."""
        job = claim(
            self.catalog,
            self.name,
            (MATCH, SYNC),
            lease_s=self.lease_s,
            max_attempts=self.max_attempts,
        )
        if job is None:
            return None
        try:
            with keep_leased(self.catalog, job, self.name, self.lease_s) as lost:
                self._run(job, lost)
        except Exception as exc:  # any failure of one job must not stop the worker
            log.exception("job %s failed", job.id)
            error = f"{type(exc).__name__}: {exc}"
            fail(self.catalog, job.id, self.name, error, self.max_attempts, job.attempts)
        else:
            if not complete(self.catalog, job.id, self.name, job.attempts):
                log.warning("job %s was taken from worker %s before it finished", job.id, self.name)
        return get_job(self.catalog, job.id)

    def _run(self, job: Job, lost: threading.Event) -> None:
        self.gallery.sync(self.catalog)
        if self.calibration is not None:
            self.calibration.update(self.catalog, self.gallery)
        if job.kind == SYNC:
            return
        encounter_id = job.payload.get("encounter_id")
        if not isinstance(encounter_id, int):
            raise PhotoidError(f"job {job.id}: payload has no encounter_id")
        raw = job.payload.get("filters")
        filters = MatchFilter.from_payload(raw) if isinstance(raw, dict) else self.filters
        images = encounter_images(self.catalog, encounter_id)
        if self._detect(images):
            images = encounter_images(self.catalog, encounter_id)
        allowed = allowed_codes(self.catalog, filters)
        own = {image.id for image in images}
        ranking = self.gallery.rank(self.catalog, images, self.top, allowed, own)
        for image, ranked in zip(images, ranking, strict=True):
            if lost.is_set():
                log.warning(
                    "worker %s lost job %s before recording its candidates; its new holder will",
                    self.name,
                    job.id,
                )
                return
            self._record(image.id, ranked)

    def _detect(self, images: list[Image]) -> int:
        """Store the detector's box of each image without one (none where it sees no animal);
        returns how many were stored (0 without a detector)."""
        missing = [image for image in images if image.bbox is None]
        if self.detector is None or not missing:
            return 0
        found = self.detector.find([self.catalog.store.path(i.file) for i in missing], workers=0)
        boxes = {i.id: f.box for i, f in zip(missing, found, strict=True) if f.box is not None}
        return set_detected_boxes(self.catalog, boxes, f"worker {self.name}") if boxes else 0

    def _record(self, image_id: int, ranked: list[Ranked]) -> None:
        """Store raw candidates and, when calibrated, their probabilities (in the raw order);
        calibrated candidates left from an earlier calibration are removed when there is none."""
        actor = f"worker {self.name}"
        evidence = {r.code: Evidence(r.best_image_id, r.keypoints) for r in ranked}
        name = self.gallery.name
        record_candidates(
            self.catalog, image_id, name, [(r.code, r.score) for r in ranked], actor, evidence
        )
        calibrated = calibrated_name(name)
        calibration = self.calibration
        probabilities = (
            calibration.probabilities([r.score for r in ranked]) if calibration else None
        )
        if probabilities is not None:
            scored = [(r.code, p) for r, p in zip(ranked, probabilities, strict=True)]
            record_candidates(self.catalog, image_id, calibrated, scored, actor, evidence)
        elif candidates_for(self.catalog, image_id, calibrated):
            record_candidates(self.catalog, image_id, calibrated, [], actor)

    def start(self) -> None:
        """Requeue this worker's leftovers (and expired jobs), then run jobs in a background
        (daemon) thread until stopped."""
        if self._thread is not None and self._thread.is_alive():
            return
        count = requeue_stale(self.catalog, None, self.name, self.max_attempts)
        if count:
            log.info("requeued %d jobs left running by a stopped worker", count)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"match-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the thread to stop after its current job and wait up to ``timeout`` seconds.
        A thread still busy then is kept (:attr:`running` stays true, :meth:`start` starts no
        second one): it stops once its job ends."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning(
                    "worker %s did not stop within %s s; it stops after its current job",
                    self.name,
                    timeout,
                )
            else:
                self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.run_once()
            except Exception:  # the database may be briefly unreachable: wait and poll again
                log.exception("worker %s could not take a job", self.name)
                job = None
            if job is None:
                self._stop.wait(self.poll_s)
