"""The JSON shapes of the REST API (pydantic models built from catalog rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from photoid.catalog.models import Decision, Encounter, Image, Individual, MatchCandidate

T = TypeVar("T")
ScoreKind = Literal["calibrated probability", "raw score"]


def score_kind(engine: str) -> ScoreKind:
    """How to label an engine's scores: engines named ``...calibrated`` give probabilities."""
    return "calibrated probability" if engine.endswith("calibrated") else "raw score"


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


class EncounterOut(BaseModel):
    id: int
    date: datetime | None
    location: str | None
    observer: str | None
    notes: str
    label: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Encounter) -> EncounterOut:
        return cls(
            id=row.id,
            date=row.date,
            location=row.location,
            observer=row.observer,
            notes=row.notes,
            label=row.label,
            created_at=row.created_at,
        )


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
    """``same`` needs ``individual`` (a code); ``new`` may give the new code; ``not_sure`` none."""

    verdict: Literal["same", "new", "not_sure"]
    individual: str | None = None
    notes: str = ""


class MergeIn(BaseModel):
    """Merge individual ``absorb`` into the one in the URL."""

    absorb: str = Field(min_length=1)


class SplitIn(BaseModel):
    """Move these images of the individual in the URL to a new one (``new_code`` or automatic)."""

    image_ids: list[int] = Field(min_length=1)
    new_code: str | None = None


class TokenIn(BaseModel):
    label: str = ""


class TokenOut(BaseModel):
    """A new API token: shown once, send it as ``Authorization: Bearer <token>``."""

    token: str


class MeOut(BaseModel):
    name: str
    role: str
    via: str
