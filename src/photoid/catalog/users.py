"""Users with roles (viewer / reviewer / admin), argon2id passwords and API tokens.

Only hashes are stored: argon2id for passwords, SHA-256 for tokens (a token is 256 random
bits, so a fast hash cannot be brute-forced and lets a token be looked up directly).
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from photoid.catalog.db import Catalog
from photoid.catalog.models import ROLES, ApiToken, User, utcnow
from photoid.errors import PhotoidError

TOKEN_PREFIX = "pid_"
MIN_PASSWORD = 8
_HASHER = PasswordHasher()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(catalog: Catalog, name: str, role: str, password: str) -> User:
    """Add a user with ``role`` (viewer, reviewer or admin) and a password of 8+ characters."""
    name = name.strip()
    if not name:
        raise PhotoidError("a user name cannot be empty")
    if role not in ROLES:
        raise PhotoidError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise PhotoidError(f"the password must have at least {MIN_PASSWORD} characters")
    with catalog.session() as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise PhotoidError(f"a user named {name!r} already exists")
        user = User(name=name, role=role, password_hash=_HASHER.hash(password))
        session.add(user)
        session.flush()
        return user


def verify_password(catalog: Catalog, name: str, password: str) -> User | None:
    """The active user ``name`` if ``password`` is theirs, else None."""
    with catalog.session() as session:
        user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
        if user is None:
            return None
        try:
            _HASHER.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = _HASHER.hash(password)
        return user


def create_token(catalog: Catalog, name: str, label: str = "") -> str:
    """A new API token for user ``name``; shown once, only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with catalog.session() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise PhotoidError(f"no user named {name!r}; add one with `photoid users add`")
        session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), label=label))
    return token


def verify_token(catalog: Catalog, token: str) -> User | None:
    """The active user owning ``token`` if it exists and is not revoked, else None."""
    with catalog.session() as session:
        row = session.scalar(
            select(ApiToken).where(
                ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
            )
        )
        if row is None:
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            return None
        row.last_used_at = utcnow()
        return user


def revoke_token(catalog: Catalog, token: str) -> bool:
    """Revoke ``token``; False when no such live token exists."""
    with catalog.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        return True
