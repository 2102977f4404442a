"""The catalog's tables as SQLAlchemy 2 typed declarative models.

Times are naive UTC datetimes (the same on SQLite and PostgreSQL). Boxes are pixels of the
upright image, top-left corner x, y and width w, height h. Changes to the catalog tables
(individuals to decisions) are recorded in ``audit_log``; ``jobs``, ``users``, ``api_tokens``,
``sessions`` and ``login_failures`` are operational and not undoable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so migrations can alter them on every database (SQLite batch mode too).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

VERDICTS: tuple[str, ...] = ("same", "new", "not_sure", "no_match", "not_comparable")
NAMING_VERDICTS: tuple[str, ...] = ("same", "new")
"""The verdicts that give the encounter's photos to an individual (the others name none)."""
SETTLING_VERDICTS: tuple[str, ...] = tuple(v for v in VERDICTS if v != "not_sure")
"""The verdicts that take an encounter out of the review queue (all but ``not_sure``)."""
ROLES: tuple[str, ...] = ("viewer", "reviewer", "admin")
JOB_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed")


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (how the catalog stores every time)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Individual(Base):
    """One animal. ``merged_into_id`` is set when it was merged into another (it keeps its code)."""

    __tablename__ = "individuals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    species: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("individuals.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Encounter(Base):
    """One sighting: the photos taken of one animal at one place and time.

    ``label`` is an optional name for it, e.g. the ``encounter`` cell of an imported dataset.
    """

    __tablename__ = "encounters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    location: Mapped[str | None] = mapped_column(String(200), index=True)
    observer: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Image(Base):
    """One photo. ``file`` is the path inside the data folder of the content-addressed copy."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    file: Mapped[str] = mapped_column(String(300))
    original_name: Mapped[str | None] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bbox_x: Mapped[float | None] = mapped_column(Float)
    bbox_y: Mapped[float | None] = mapped_column(Float)
    bbox_w: Mapped[float | None] = mapped_column(Float)
    bbox_h: Mapped[float | None] = mapped_column(Float)
    viewpoint: Mapped[str | None] = mapped_column(String(100))
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    individual_id: Mapped[int | None] = mapped_column(ForeignKey("individuals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        """(x, y, w, h) in pixels, or None when the whole photo is the animal."""
        x, y, w, h = self.bbox_x, self.bbox_y, self.bbox_w, self.bbox_h
        if x is None or y is None or w is None or h is None:
            return None
        return (x, y, w, h)


class MatchCandidate(Base):
    """An engine's ranked guess: query image ``image_id`` may show ``individual_id``.

    ``score`` is the engine's raw score. ``best_image_id`` is the individual's gallery image
    that matched best (None when unknown) and ``keypoints`` the matched keypoint pairs as
    ``[[qx, qy, gx, gy], ...]`` in pixels of the query and of that gallery image (None when the
    engine gives none, e.g. the deep engine).
    """

    __tablename__ = "match_candidates"
    __table_args__ = (
        UniqueConstraint(
            "image_id", "engine", "rank", name="uq_match_candidates_image_engine_rank"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"))
    individual_id: Mapped[int] = mapped_column(ForeignKey("individuals.id"), index=True)
    engine: Mapped[str] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    best_image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    keypoints: Mapped[list[list[float]] | None] = mapped_column(JSON)


class Decision(Base):
    """A reviewer's verdict on an encounter: same individual, new individual, none of the
    candidates (``no_match``), a photo that cannot be compared (``not_comparable``) or not sure."""

    __tablename__ = "decisions"
    __table_args__ = (_one_of("verdict", VERDICTS, "verdict"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    individual_id: Mapped[int | None] = mapped_column(ForeignKey("individuals.id"))
    decided_by: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """One change: the rows it touched before and after, as ``{table: {id: row or null}}``."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("audit_log.id"))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("audit_log.id"))


# At most one never-started queued job per dedupe key (coalesced work, e.g. gallery syncs).
_QUEUED_KEY = "status = 'queued' AND attempts = 0 AND dedupe_key IS NOT NULL"


class Job(Base):
    """Background work (e.g. computing candidates for an upload), claimed by one worker.

    A running job is held until ``lease_expires_at`` (its worker renews the lease while it
    works); claims take the lowest ``priority`` first, then the oldest. ``dedupe_key``: a
    queued job that has not started yet covers every later job of the same key.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        _one_of("status", JOB_STATUSES, "status"),
        Index("ix_jobs_status_priority_id", "status", "priority", "id"),
        Index(
            "uq_jobs_queued_dedupe_key",
            "dedupe_key",
            unique=True,
            sqlite_where=text(_QUEUED_KEY),
            postgresql_where=text(_QUEUED_KEY),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    dedupe_key: Mapped[str | None] = mapped_column(String(100))


class User(Base):
    """A person using the service; ``password_hash`` is argon2id."""

    __tablename__ = "users"
    __table_args__ = (_one_of("role", ROLES, "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """An API token; only the SHA-256 of the (random, 256-bit) token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class UserSession(Base):
    """A browser session: the cookie carries a random (256-bit) token, only its SHA-256 is
    stored. It ends at ``expires_at`` or when revoked (logout, a password change, the user's
    deactivation), whichever comes first."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginFailure(Base):
    """A failed login (the user name tried, the client's address), kept while it counts
    towards the login throttle; written before the password is checked, so an attempt still
    being checked counts too (see :mod:`photoid.catalog.logins`)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_user_name_at", "user_name", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
