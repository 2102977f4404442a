"""Who is asking: Bearer API tokens or browser sessions, roles, and CSRF protection.

Roles are ordered viewer < reviewer < admin; ``require("reviewer")`` lets reviewers and admins
in. A browser session is a signed cookie holding the user's id and a CSRF token; every unsafe
request (POST, PUT, PATCH, DELETE) made with that cookie must carry the token in the
``csrf_token`` form field or the ``X-CSRF-Token`` header. Requests with an API token carry no
cookie, so they cannot be forged by another site and are exempt.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from starlette.datastructures import UploadFile

from photoid.catalog import Catalog, verify_token
from photoid.catalog.models import ROLES, User
from photoid.service.errors import ApiError

ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    """The user behind a request and how they proved it (``token`` or ``session``)."""

    user_id: int
    name: str
    role: str
    via: Literal["token", "session"]

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class LoginRequired(Exception):
    """A web page was asked for without a session: the browser is sent to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def catalog_of(request: Request) -> Catalog:
    """The catalog the app serves."""
    catalog: Catalog = request.app.state.catalog
    return catalog


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _session_user(catalog: Catalog, user_id: object) -> User | None:
    if not isinstance(user_id, int):
        return None
    with catalog.session() as session:
        user = session.get(User, user_id)
        return user if user is not None and user.active else None


def authenticate(request: Request) -> Principal | None:
    """The user behind ``request`` (API token first, then session cookie), or None.

    Raises ApiError 401 for an Authorization header whose token is unknown or revoked.
    """
    catalog = catalog_of(request)
    token = _bearer(request)
    if token is not None:
        user = verify_token(catalog, token)
        if user is None:
            raise ApiError(401, "the API token is unknown or revoked", headers=CHALLENGE)
        return Principal(user.id, user.name, user.role, "token")
    if "authorization" in request.headers:
        raise ApiError(401, "use 'Authorization: Bearer <token>'", headers=CHALLENGE)
    user = _session_user(catalog, request.session.get("user_id"))
    if user is None:
        return None
    return Principal(user.id, user.name, user.role, "session")


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use); put it in every form."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse (403) an unsafe request whose CSRF token is missing or not this session's."""
    expected = request.session.get("csrf")
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        supplied = None if isinstance(value, UploadFile) else value
    if not isinstance(expected, str) or not supplied:
        raise ApiError(403, "missing CSRF token; reload the page and try again", "csrf")
    if not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise ApiError(403, "wrong CSRF token; reload the page and try again", "csrf")


async def _authorize(request: Request, principal: Principal | None, role: str) -> Principal:
    if principal is None:
        raise ApiError(401, "log in or send 'Authorization: Bearer <token>'", headers=CHALLENGE)
    if principal.via == "session" and request.method not in SAFE_METHODS:
        await check_csrf(request)
    if not principal.can(role):
        raise ApiError(403, f"this needs the {role} role; you are a {principal.role}")
    return principal


def require(role: str) -> Callable[[Request], Awaitable[Principal]]:
    """A route dependency letting in users with ``role`` or above (401 without credentials,
    403 with too low a role or, for session requests that change something, a bad CSRF token)."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(request: Request) -> Principal:
        return await _authorize(request, authenticate(request), role)

    return dependency


def require_page(role: str) -> Callable[[Request], Awaitable[Principal]]:
    """Like :func:`require` for web pages: without a session, go to the login page instead."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        if principal is None:
            raise LoginRequired(request.url.path)
        return await _authorize(request, principal, role)

    return dependency


def log_in(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (new CSRF token, so an old one cannot be reused)."""
    request.session.clear()
    request.session["user_id"] = user.id
    csrf_token(request)


def log_out(request: Request) -> None:
    """End the session."""
    request.session.clear()
