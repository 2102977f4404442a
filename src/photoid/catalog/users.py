"""Users with roles (viewer / reviewer / admin), argon2id passwords and API tokens.

Only hashes are stored: argon2id for passwords, SHA-256 for tokens (a token is 256 random
bits, so a fast hash cannot be brute-forced and lets a token be looked up directly).
Checking a password takes the same time whether the user exists or not (a dummy hash is
verified for unknown names), so the time of a refusal does not tell which names exist.
Deactivating a user, or setting their password, ends their browser sessions at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from photoid.catalog.db import Catalog, rows_changed
from photoid.catalog.models import ROLES, ApiToken, User, utcnow
from photoid.catalog.sessions import SEEN_EVERY, ending_sessions, token_hash
from photoid.errors import PhotoidError

TOKEN_PREFIX = "pid_"
MIN_PASSWORD = 8
MAX_PASSWORD = 1000
MAX_NAME = 200
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class Ended:
    """How many live browser sessions and API tokens a change ended."""

    sessions: int
    tokens: int


@cache
def _dummy_hash() -> str:
    """An argon2id hash of a random password, verified in place of an unknown user's."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def _matches(password_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise PhotoidError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PhotoidError(f"the password must have at most {MAX_PASSWORD} characters")
    return password


def add_user(catalog: Catalog, name: str, role: str, password: str) -> User:
    """Add a user with ``role`` (viewer, reviewer or admin) and a password of 8+ characters."""
    name = name.strip()
    if not name:
        raise PhotoidError("a user name cannot be empty")
    if len(name) > MAX_NAME:
        raise PhotoidError(f"a user name can have at most {MAX_NAME} characters")
    if role not in ROLES:
        raise PhotoidError(f"role {role!r} is not one of {', '.join(ROLES)}")
    hashed = _HASHER.hash(_checked_password(password))
    with catalog.session() as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise PhotoidError(f"a user named {name!r} already exists")
        user = User(name=name, role=role, password_hash=hashed)
        session.add(user)
        session.flush()
        return user


def _named(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise PhotoidError(f"no user named {name!r}; add one with `photoid users add`")
    return user


def get_user(catalog: Catalog, name: str) -> User:
    """The user named ``name`` (PhotoidError when there is none)."""
    with catalog.session() as session:
        return _named(session, name)


def list_users(catalog: Catalog) -> list[User]:
    """Every user, by name."""
    with catalog.session() as session:
        return list(session.scalars(select(User).order_by(User.name)))


def verify_password(catalog: Catalog, name: str, password: str) -> User | None:
    """The active user ``name`` if ``password`` is theirs, else None. Takes as long for an
    unknown or inactive user as for a wrong password."""
    dummy = _dummy_hash()  # made before any lookup, so only the first call ever pays for it
    with catalog.session() as session:
        user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
        matched = _matches(dummy if user is None else user.password_hash, password)
        if user is None or not matched:
            return None
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = _HASHER.hash(password)
        return user


def set_password(
    catalog: Catalog, name: str, password: str, keep_session: int | None = None
) -> int:
    """Give user ``name`` a new password and end their browser sessions but ``keep_session``
    (the row id of the session making the change, if any); returns how many ended."""
    hashed = _HASHER.hash(_checked_password(password))
    with catalog.session() as session:
        user = _named(session, name)
        user.password_hash = hashed
        return rows_changed(session, ending_sessions(user.id, keep_session))


def set_active(catalog: Catalog, name: str, active: bool) -> Ended:
    """Reactivate or deactivate user ``name``. Deactivating ends their browser sessions and
    revokes their API tokens, so reactivating never brings an old credential back."""
    with catalog.session() as session:
        user = _named(session, name)
        user.active = active
        if active:
            return Ended(0, 0)
        sessions = rows_changed(session, ending_sessions(user.id))
        tokens = rows_changed(
            session,
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow()),
        )
        return Ended(sessions, tokens)


def create_token(catalog: Catalog, name: str, label: str = "") -> str:
    """A new API token for user ``name``; shown once, only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with catalog.session() as session:
        user = _named(session, name)
        session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), label=label))
    return token


def list_tokens(catalog: Catalog, name: str) -> list[ApiToken]:
    """User ``name``'s API tokens (live and revoked), newest first; hashes only."""
    with catalog.session() as session:
        user = _named(session, name)
        return list(
            session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
            )
        )


def verify_token(catalog: Catalog, token: str) -> User | None:
    """The active user owning ``token`` if it exists and is not revoked, else None."""
    with catalog.session() as session:
        row = session.scalar(
            select(ApiToken).where(
                ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None)
            )
        )
        if row is None:
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            return None
        # Written at most once a minute: a write per request would queue every API call (and
        # the matching worker's job claims) behind SQLite's one writer.
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= SEEN_EVERY:
            row.last_used_at = now
        return user


def revoke_token(catalog: Catalog, token: str) -> bool:
    """Revoke ``token``; False when no such live token exists."""
    with catalog.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        return True


def revoke_token_id(catalog: Catalog, token_id: int, owner: str | None = None) -> bool:
    """Revoke the API token with row id ``token_id`` (only if it belongs to user ``owner``,
    when given); False when no such live token exists."""
    query = select(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    if owner is not None:
        query = query.join(User, User.id == ApiToken.user_id).where(User.name == owner)
    with catalog.session() as session:
        row = session.scalar(query)
        if row is None:
            return False
        row.revoked_at = utcnow()
        return True
