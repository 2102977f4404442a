"""Server-side browser sessions: a random 256-bit token in the (signed) cookie, only its
SHA-256 in the ``sessions`` table, so a session can be ended at once from the server: on
logout, on a password change, on the user's deactivation, or by an admin.

    token = start_session(catalog, user.id)
    found = session_user(catalog, token)   # (user, session id) while live, else None
    end_session(catalog, token)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Update, delete, select, update

from photoid.catalog.db import Catalog, rows_changed
from photoid.catalog.models import User, UserSession, utcnow

LIFETIME = timedelta(hours=8)
"""How long a session lasts from login, however active (the cookie's lifetime too)."""
SEEN_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often, not on every request."""
KEEP_ENDED = timedelta(days=1)
"""Sessions that ended longer ago than this are deleted when the next one starts."""


@dataclass(frozen=True)
class LiveSession:
    """The user behind a live session and the session's row id."""

    user: User
    session_id: int


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored for a session token (or API token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    catalog: Catalog, user_id: int, lifetime: timedelta = LIFETIME, now: datetime | None = None
) -> str:
    """A new session for user ``user_id`` lasting ``lifetime``; returns its token (kept only
    hashed). Sessions that ended more than :data:`KEEP_ENDED` ago are deleted."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with catalog.session() as session:
        old = now - KEEP_ENDED
        session.execute(
            delete(UserSession).where(
                (UserSession.expires_at < old) | (UserSession.revoked_at < old)
            )
        )
        session.add(
            UserSession(
                user_id=user_id,
                token_hash=token_hash(token),
                created_at=now,
                last_seen_at=now,
                expires_at=now + lifetime,
            )
        )
    return token


def session_user(catalog: Catalog, token: str, now: datetime | None = None) -> LiveSession | None:
    """The active user of session ``token`` while it is neither expired nor revoked, else
    None; notes the time it was seen."""
    now = now or utcnow()
    with catalog.session() as session:
        row = session.scalar(
            select(UserSession).where(
                UserSession.token_hash == token_hash(token),
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
        )
        if row is None:
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            return None
        if now - row.last_seen_at >= SEEN_EVERY:
            row.last_seen_at = now
        return LiveSession(user, row.id)


def end_session(catalog: Catalog, token: str) -> bool:
    """Revoke session ``token``; False when it was not live."""
    ending = (
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    with catalog.session() as session:
        return rows_changed(session, ending) > 0


def ending_sessions(user_id: int, keep: int | None = None, now: datetime | None = None) -> Update:
    """The statement revoking every live session of user ``user_id`` but session ``keep`` (a
    row id), to run in the transaction that makes the change ending them."""
    now = now or utcnow()
    query = update(UserSession).where(
        UserSession.user_id == user_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
    )
    if keep is not None:
        query = query.where(UserSession.id != keep)
    return query.values(revoked_at=now)


def end_sessions(catalog: Catalog, user_id: int, keep: int | None = None) -> int:
    """Revoke every live session of user ``user_id`` but session ``keep`` (a row id);
    returns how many were ended."""
    with catalog.session() as session:
        return rows_changed(session, ending_sessions(user_id, keep))
