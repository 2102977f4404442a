"""Who is asking: Bearer API tokens or browser sessions, roles, and CSRF protection.

Roles are ordered viewer < reviewer < admin; ``require("reviewer")`` lets reviewers and admins
in. A browser session lives on the server (:mod:`photoid.catalog.sessions`): the signed cookie
holds only its random token and a CSRF token, so logout, a password change or the user's
deactivation ends it at once, whatever copies of the cookie exist. Every unsafe request (POST,
PUT, PATCH, DELETE) made with that cookie must carry the CSRF token in the ``csrf_token`` form
field or the ``X-CSRF-Token`` header. Requests with an API token carry no cookie, so they cannot
be forged by another site and are exempt.

Only upload routes settle who is asking before their body is read (see
:func:`photoid.service.uploads.encounter_form`); FastAPI reads the JSON or form body of every
other route before its dependencies run, so those bodies are bounded by the small per-route
limit (:mod:`photoid.service.limits`) instead. The role is checked before the CSRF token (which
may sit in the body).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from starlette.datastructures import UploadFile

from photoid.catalog import Catalog, verify_token
from photoid.catalog.models import ROLES
from photoid.catalog.sessions import end_session, session_user
from photoid.service.errors import ApiError
from photoid.service.offload import run_blocking

ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_KEY = "sid"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    """The user behind a request and how they proved it (``token`` or ``session``, then with
    the session's row id)."""

    user_id: int
    name: str
    role: str
    via: Literal["token", "session"]
    session_id: int | None = None

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class LoginRequired(Exception):
    """A web page was asked for without a session: the browser is sent to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def client_address(request: Request) -> str:
    """The caller's network address (``unknown`` when the server does not know it)."""
    return request.client.host if request.client else "unknown"


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


def authenticate(request: Request) -> Principal | None:
    """The user behind ``request`` (API token first, then session cookie), or None.

    Raises ApiError 401 for an Authorization header whose token is unknown or revoked. Blocks
    on the database: ``async`` code awaits :func:`authenticated` instead.
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
    sid = request.session.get(SESSION_KEY)
    live = session_user(catalog, sid) if isinstance(sid, str) else None
    if live is None:
        return None
    return Principal(live.user.id, live.user.name, live.user.role, "session", live.session_id)


async def authenticated(request: Request) -> Principal | None:
    """:func:`authenticate` off the event loop."""
    return await run_blocking(authenticate, request)


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
    if not principal.can(role):
        raise ApiError(403, f"this needs the {role} role; you are a {principal.role}")
    if principal.via == "session" and request.method not in SAFE_METHODS:
        await check_csrf(request)
    return principal


def require(role: str) -> Callable[[Request], Awaitable[Principal]]:
    """A route dependency letting in users with ``role`` or above (401 without credentials,
    403 with too low a role or, for session requests that change something, a bad CSRF token)."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(request: Request) -> Principal:
        return await _authorize(request, await authenticated(request), role)

    return dependency


Viewer = Annotated[Principal, Depends(require("viewer"))]
Reviewer = Annotated[Principal, Depends(require("reviewer"))]
Admin = Annotated[Principal, Depends(require("admin"))]
"""The API routes' callers with at least that role (web pages use :func:`require_page`)."""


def require_page(role: str) -> Callable[[Request], Awaitable[Principal]]:
    """Like :func:`require` for web pages: without a session, go to the login page instead."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(request: Request) -> Principal:
        principal = await authenticated(request)
        if principal is None:
            raise LoginRequired(request.url.path)
        return await _authorize(request, principal, role)

    return dependency


def log_in(request: Request, session_token: str) -> None:
    """Put a new server-side session's token in the cookie, with a new CSRF token (so one
    seen before login cannot be reused)."""
    request.session.clear()
    request.session[SESSION_KEY] = session_token
    csrf_token(request)


def log_out(request: Request) -> None:
    """End the server-side session and clear the cookie. Blocks on the database."""
    sid = request.session.get(SESSION_KEY)
    if isinstance(sid, str):
        end_session(catalog_of(request), sid)
    request.session.clear()
