"""The JSON shapes of the REST API (pydantic models built from catalog rows), and the limits
of what a client may send: text no longer than its column, ids within the database's integers,
so bad input is answered 422 at the edge instead of failing in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, Self, TypeVar

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String

from photoid.catalog.models import (
    ApiToken,
    AuditEntry,
    Base,
    Decision,
    Encounter,
    Image,
    Individual,
    MatchCandidate,
    User,
)
from photoid.catalog.users import MAX_PASSWORD

T = TypeVar("T")
ScoreKind = Literal["calibrated probability", "raw score"]


def column_length(model: type[Base], column: str) -> int:
    """The declared length of the ``String`` column ``column`` of ``model``'s table."""
    kind = model.__table__.c[column].type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{model.__name__}.{column} is not a String column with a length")
    return kind.length


MAX_ID = 2**31 - 1
"""The largest id (and offset) accepted: PostgreSQL's INTEGER."""
MAX_CODE = column_length(Individual, "code")
MAX_TEXT = column_length(Encounter, "location")
"""Locations, observers, labels, species, names: String(200) columns."""
MAX_FILE_NAME = column_length(Image, "original_name")
MAX_LABEL = column_length(ApiToken, "label")
MAX_USER = column_length(User, "name")
MAX_NOTES = 10_000
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
"""Codes, names, labels and other short text: no line breaks or other control characters,
which the exported metadata.csv (one row per line) could not hold. Notes may span lines."""
Code = Annotated[str, Field(max_length=MAX_CODE, pattern=ONE_LINE)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A row id in a route's path."""


def score_kind(engine: str) -> ScoreKind:
    """How to label an engine's scores: engines named ``...calibrated`` give probabilities."""
    return "calibrated probability" if engine.endswith("calibrated") else "raw score"


CHANCE_WORDS: tuple[tuple[float, str], ...] = (
    (0.95, "almost certainly"),
    (0.75, "very likely"),
    (0.5, "likely"),
    (0.25, "possibly"),
    (0.05, "unlikely"),
    (0.0, "very unlikely"),
)
"""The words for a calibrated probability that a candidate is the individual: the first whose
lower bound it reaches."""


def chance_in_words(probability: float) -> str:
    """``0.83`` -> ``"83% · very likely"``: a calibrated probability as a reviewer reads it."""
    words = next(text for bound, text in CHANCE_WORDS if probability >= bound)
    return f"{probability:.0%} · {words}"


class RowOut(BaseModel):
    """A shape whose fields are the catalog row's attributes of the same names."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, row: object) -> Self:
        return cls.model_validate(row)


class PageOut(BaseModel, Generic[T]):
    """A page of a list: ``total`` items in all, these from ``offset`` (at most ``limit``)."""

    items: list[T]
    total: int
    limit: int
    offset: int


class IndividualOut(BaseModel):
    code: str
    name: str | None
    species: str | None
    notes: str
    merged_into: str | None = None

    @classmethod
    def of(cls, row: Individual, merged_into: str | None = None) -> IndividualOut:
        return cls(
            code=row.code,
            name=row.name,
            species=row.species,
            notes=row.notes,
            merged_into=merged_into,
        )


class ImageOut(BaseModel):
    """A photo; ``url`` serves its file, ``bbox`` is x, y, w, h in pixels."""

    id: int
    url: str
    original_name: str | None
    format: str
    width: int
    height: int
    bbox: tuple[float, float, float, float] | None
    viewpoint: str | None
    encounter_id: int
    individual: str | None

    @classmethod
    def of(cls, row: Image, individual: str | None) -> ImageOut:
        return cls(
            id=row.id,
            url=f"/api/v1/images/{row.id}",
            original_name=row.original_name,
            format=row.format,
            width=row.width,
            height=row.height,
            bbox=row.bbox,
            viewpoint=row.viewpoint,
            encounter_id=row.encounter_id,
            individual=individual,
        )


class EncounterOut(RowOut):
    id: int
    date: datetime | None
    location: str | None
    observer: str | None
    notes: str
    label: str | None
    created_at: datetime


class DecisionOut(BaseModel):
    id: int
    encounter_id: int
    verdict: str
    individual: str | None
    decided_by: str
    decided_at: datetime
    notes: str

    @classmethod
    def of(cls, row: Decision, individual: str | None) -> DecisionOut:
        return cls(
            id=row.id,
            encounter_id=row.encounter_id,
            verdict=row.verdict,
            individual=individual,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            notes=row.notes,
        )


class EncounterDetailOut(EncounterOut):
    images: list[ImageOut]
    decisions: list[DecisionOut]


class CandidateOut(BaseModel):
    """An engine's guess that query image ``image_id`` shows ``individual`` (rank 1 = best):
    its best-matching photo of the individual and the matched keypoint pairs
    ``[[qx, qy, gx, gy], ...]`` in pixels of each photo (None when the engine gives none)."""

    image_id: int
    individual: str
    engine: str
    score: float
    score_kind: ScoreKind
    rank: int
    best_image_id: int | None
    keypoints: list[list[float]] | None

    @classmethod
    def of(cls, row: MatchCandidate, individual: str) -> CandidateOut:
        return cls(
            image_id=row.image_id,
            individual=individual,
            engine=row.engine,
            score=row.score,
            score_kind=score_kind(row.engine),
            rank=row.rank,
            best_image_id=row.best_image_id,
            keypoints=row.keypoints,
        )


class SightingOut(BaseModel):
    encounter: EncounterOut
    image_ids: list[int]


class IndividualDetailOut(IndividualOut):
    images: list[ImageOut]
    sightings: list[SightingOut]


class DecisionIn(BaseModel):
    """``same`` needs ``individual`` (a code); ``new`` may give the new code; ``not_sure``,
    ``no_match`` and ``not_comparable`` name none."""

    verdict: Literal["same", "new", "not_sure", "no_match", "not_comparable"]
    individual: Code | None = None
    notes: str = Field("", max_length=MAX_NOTES)


class MergeIn(BaseModel):
    """Merge individual ``absorb`` into the one in the URL."""

    absorb: str = Field(min_length=1, max_length=MAX_CODE, pattern=ONE_LINE)


class SplitIn(BaseModel):
    """Move these images of the individual in the URL to a new one (``new_code`` or automatic)."""

    image_ids: list[RowId] = Field(min_length=1, max_length=5_000)
    new_code: Code | None = None


class TokenIn(BaseModel):
    label: str = Field("", max_length=MAX_LABEL, pattern=ONE_LINE)


class TokenOut(BaseModel):
    """A new API token: shown once, send it as ``Authorization: Bearer <token>``."""

    token: str


class MeOut(BaseModel):
    name: str
    role: str
    via: str


class UserOut(RowOut):
    name: str
    role: str
    active: bool
    created_at: datetime


class TokenInfoOut(RowOut):
    """An API token's facts (never the token: only its hash is kept); revoke it by ``id``."""

    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ChangeOut(BaseModel):
    """One change of the catalog: who, when, what; ``undoes``: the change this one undid;
    ``undone_by``: the change that undid this one."""

    id: int
    at: datetime
    actor: str
    action: str
    summary: str
    undoes: int | None
    undone_by: int | None

    @classmethod
    def of(cls, entry: AuditEntry) -> ChangeOut:
        return cls(
            id=entry.id,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            summary=entry.summary,
            undoes=entry.undoes_id,
            undone_by=entry.undone_by_id,
        )


class PasswordIn(BaseModel):
    """A new password (8 characters or more), set by an admin."""

    password: str = Field(max_length=MAX_PASSWORD)


class OwnPasswordIn(BaseModel):
    """Change your own password: the current one, then the new one."""

    old_password: str = Field(max_length=MAX_PASSWORD)
    new_password: str = Field(max_length=MAX_PASSWORD)


class EndedOut(BaseModel):
    """How many browser sessions and API tokens a change ended."""

    sessions_ended: int
    tokens_revoked: int = 0
