"""Read-only views of the catalog that the service pages and lists need: paged, searchable
lists of individuals and encounters, the review view of an encounter, an individual's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import ColumnElement, Exists, Select, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from photoid.catalog import Catalog
from photoid.catalog.calibration import SUFFIX
from photoid.catalog.models import (
    SETTLING_VERDICTS,
    Decision,
    Encounter,
    Image,
    Individual,
    MatchCandidate,
)

T = TypeVar("T")
EncounterStatus = Literal["all", "awaiting", "decided"]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: ``items`` from position ``offset`` (0-based) of ``total``."""

    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class CandidateView:
    """One candidate individual of an encounter under review: its best-ranked ``guess`` (the
    stored candidate row, made for query photo ``guess.image_id``) and the individual's photo
    to show: the engine's best-matching one, else the individual's newest."""

    individual: Individual
    guess: MatchCandidate
    best_image_id: int | None

    @property
    def has_keypoints(self) -> bool:
        """Whether the engine stored matched keypoints that can be drawn."""
        return self.guess.keypoints is not None and self.guess.best_image_id is not None


@dataclass(frozen=True)
class EncounterView:
    """An encounter with its photos, decisions (oldest first) and top candidate individuals;
    ``boxes``: the animal's box (x, y, w, h in pixels) of every photo shown that has one (the
    encounter's and the candidates' photos), by image id."""

    encounter: Encounter
    images: list[Image]
    decisions: list[Decision]
    candidates: list[CandidateView]
    owners: dict[int, Individual]
    boxes: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Sighting:
    """An encounter in which an individual was photographed, with those photos."""

    encounter: Encounter
    images: list[Image]


def _paged(catalog: Catalog, query: Select[T], limit: int, offset: int) -> Page[T]:
    with catalog.session() as session:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        items = list(session.scalars(query.limit(limit).offset(offset)))
    return Page(items, int(total or 0), limit, offset)


def _contains(text: str, *columns: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """Any of ``columns`` contains ``text``, ignoring case (``%`` and ``_`` match themselves)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))


def search_individuals(
    catalog: Catalog,
    q: str | None = None,
    include_merged: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[Individual]:
    """Individuals ordered by code whose code, name or species contains ``q`` (any case)."""
    query = select(Individual).order_by(Individual.code)
    if not include_merged:
        query = query.where(Individual.merged_into_id.is_(None))
    if q:
        query = query.where(_contains(q, Individual.code, Individual.name, Individual.species))
    return _paged(catalog, query, limit, offset)


def _decided() -> Exists:
    """The encounter has a decision that takes it out of the review queue (not ``not_sure``)."""
    return exists().where(
        Decision.encounter_id == Encounter.id, Decision.verdict.in_(SETTLING_VERDICTS)
    )


def _unassigned() -> Exists:
    return exists().where(Image.encounter_id == Encounter.id, Image.individual_id.is_(None))


def list_encounters(
    catalog: Catalog,
    status: EncounterStatus = "all",
    limit: int = 50,
    offset: int = 0,
    q: str | None = None,
) -> Page[Encounter]:
    """Encounters, newest first. ``awaiting``: photos not yet given to an individual and no
    decision but ``not_sure`` (oldest first, the review queue); ``decided``: with a decision
    other than ``not_sure`` (same, new, no match, not comparable).
    ``q``: only those whose location, label or observer contains it (any case)."""
    query = select(Encounter).order_by(Encounter.id.desc())
    if status == "awaiting":
        query = select(Encounter).where(_unassigned(), ~_decided()).order_by(Encounter.id.asc())
    elif status == "decided":
        query = query.where(_decided())
    if q:
        query = query.where(_contains(q, Encounter.location, Encounter.label, Encounter.observer))
    return _paged(catalog, query, limit, offset)


def first_images(catalog: Catalog, encounter_ids: list[int]) -> dict[int, int]:
    """The first photo (lowest image id) of each of these encounters: encounter id -> image
    id (an encounter without photos is absent)."""
    if not encounter_ids:
        return {}
    query = (
        select(Image.encounter_id, func.min(Image.id))
        .where(Image.encounter_id.in_(encounter_ids))
        .group_by(Image.encounter_id)
    )
    with catalog.session() as session:
        return {int(encounter): int(image) for encounter, image in session.execute(query)}


def next_awaiting(catalog: Catalog, after: int) -> int | None:
    """The id of the encounter to review after encounter ``after``: the next one awaiting
    review, wrapping round to the oldest; never ``after`` itself (None when no other waits)."""
    waiting = select(Encounter.id).where(_unassigned(), ~_decided(), Encounter.id != after)
    with catalog.session() as session:
        later = session.scalar(waiting.where(Encounter.id > after).order_by(Encounter.id))
        return later if later is not None else session.scalar(waiting.order_by(Encounter.id))


def get_encounter(catalog: Catalog, encounter_id: int) -> Encounter | None:
    """The encounter with ``encounter_id``, or None."""
    with catalog.session() as session:
        return session.get(Encounter, encounter_id)


def get_image(catalog: Catalog, image_id: int) -> Image | None:
    """The image with ``image_id``, or None."""
    with catalog.session() as session:
        return session.get(Image, image_id)


def get_candidate(catalog: Catalog, candidate_id: int) -> MatchCandidate | None:
    """The match candidate with ``candidate_id``, or None."""
    with catalog.session() as session:
        return session.get(MatchCandidate, candidate_id)


def find_individual(catalog: Catalog, code: str) -> Individual | None:
    """The individual with ``code``, or None."""
    with catalog.session() as session:
        return session.scalar(select(Individual).where(Individual.code == code))


def encounter_view(catalog: Catalog, encounter_id: int, top: int = 5) -> EncounterView | None:
    """The review view of an encounter (None when there is none): its ``top`` candidate
    individuals over all its photos and engines, each by its best rank then highest score; an
    engine's calibrated candidates are shown instead of its raw ones."""
    with catalog.session() as session:
        encounter = session.get(Encounter, encounter_id)
        if encounter is None:
            return None
        images = list(
            session.scalars(
                select(Image).where(Image.encounter_id == encounter_id).order_by(Image.id)
            )
        )
        decisions = list(
            session.scalars(
                select(Decision).where(Decision.encounter_id == encounter_id).order_by(Decision.id)
            )
        )
        guesses = list(
            session.scalars(
                select(MatchCandidate)
                .where(MatchCandidate.image_id.in_([i.id for i in images]))
                .order_by(MatchCandidate.rank, MatchCandidate.score.desc(), MatchCandidate.engine)
            )
        )
        # An engine's calibrated candidates replace its raw ones (same ranking, probabilities).
        calibrated = {g.engine.removesuffix(SUFFIX) for g in guesses if g.engine.endswith(SUFFIX)}
        best: dict[int, MatchCandidate] = {}
        for guess in guesses:
            if guess.engine not in calibrated:
                best.setdefault(guess.individual_id, guess)
        chosen = list(best.values())[:top]
        wanted = {g.individual_id for g in chosen} | {
            i.individual_id for i in images if i.individual_id is not None
        }
        individuals = {
            row.id: row
            for row in session.scalars(select(Individual).where(Individual.id.in_(wanted)))
        }
        theirs = list(
            session.scalars(
                select(Image)
                .where(Image.individual_id.in_([g.individual_id for g in chosen]))
                .order_by(Image.id)
            )
        )
        shown = {row.individual_id: row.id for row in theirs if row.individual_id is not None}
        candidates = [
            CandidateView(
                individuals[g.individual_id], g, g.best_image_id or shown.get(g.individual_id)
            )
            for g in chosen
        ]
        owners = {i.id: individuals[i.individual_id] for i in images if i.individual_id is not None}
        # The photos shown: the encounter's and each candidate's (most already read above).
        pictured = {c.best_image_id for c in candidates if c.best_image_id is not None}
        photos = [*images, *(i for i in theirs if i.id in pictured)]
        unread = pictured - {i.id for i in photos}
        if unread:
            photos += session.scalars(select(Image).where(Image.id.in_(unread)))
        boxes = {i.id: box for i in photos if (box := i.bbox) is not None}
        return EncounterView(encounter, images, decisions, candidates, owners, boxes)


def sightings_of(catalog: Catalog, individual_id: int) -> list[Sighting]:
    """The encounters holding photos of an individual, newest date first (undated last)."""
    with catalog.session() as session:
        rows = session.execute(
            select(Image, Encounter)
            .join(Encounter, Image.encounter_id == Encounter.id)
            .where(Image.individual_id == individual_id)
            .order_by(Image.id)
        ).all()
    grouped: dict[int, Sighting] = {}
    for image, encounter in rows:
        grouped.setdefault(encounter.id, Sighting(encounter, [])).images.append(image)
    return sorted(
        grouped.values(),
        key=lambda s: (
            s.encounter.date is None,
            -(s.encounter.date or s.encounter.created_at).timestamp(),
            -s.encounter.id,
        ),
    )


def codes_of(catalog: Catalog, ids: set[int | None]) -> dict[int, str]:
    """The codes of the individuals with these ids (None ignored)."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    with catalog.session() as session:
        rows = session.execute(
            select(Individual.id, Individual.code).where(Individual.id.in_(wanted))
        ).all()
    return {row_id: code for row_id, code in rows}
