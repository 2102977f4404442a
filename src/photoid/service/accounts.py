"""Accounts in the REST API: API tokens (create, list, revoke), passwords (your own with the
current one; any user's by an admin), browser sessions (end them all), and users (list,
deactivate, reactivate; admin). Every change that takes a credential away takes effect at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from photoid.catalog.logins import LoginThrottled, change_password
from photoid.catalog.models import User
from photoid.catalog.sessions import end_sessions
from photoid.catalog.users import (
    create_token,
    get_user,
    list_tokens,
    list_users,
    revoke_token_id,
    set_active,
    set_password,
)
from photoid.errors import PhotoidError
from photoid.service.auth import Admin, Principal, Viewer, catalog_of, client_address
from photoid.service.errors import ApiError
from photoid.service.offload import run_cpu
from photoid.service.schemas import (
    MAX_USER,
    EndedOut,
    IdPath,
    OwnPasswordIn,
    PasswordIn,
    TokenIn,
    TokenInfoOut,
    TokenOut,
    UserOut,
)

router = APIRouter(prefix="/api/v1")
UserName = Annotated[str, Path(min_length=1, max_length=MAX_USER)]


def _own_or_admin(who: Principal, name: str) -> None:
    if name != who.name and not who.can("admin"):
        raise ApiError(403, "only admins can manage another user's credentials")


def _user_or_404(request: Request, name: str) -> User:
    try:
        return get_user(catalog_of(request), name)
    except PhotoidError:
        raise ApiError(404, f"no user named {name!r}") from None


@router.post("/tokens", status_code=201)
def new_token(request: Request, body: TokenIn, who: Viewer) -> TokenOut:
    """A new API token for the caller (shown once)."""
    return TokenOut(token=create_token(catalog_of(request), who.name, body.label))


@router.get("/tokens")
def get_tokens(
    request: Request,
    who: Viewer,
    user: Annotated[
        str | None, Query(max_length=MAX_USER, description="Whose tokens (admins only).")
    ] = None,
) -> list[TokenInfoOut]:
    """Your API tokens (an admin may name another ``user``), newest first."""
    name = user or who.name
    _own_or_admin(who, name)
    _user_or_404(request, name)
    return [TokenInfoOut.of(row) for row in list_tokens(catalog_of(request), name)]


@router.delete("/tokens/{token_id:int}", status_code=204)
def delete_token(request: Request, token_id: IdPath, who: Viewer) -> Response:
    """Revoke one of your API tokens (an admin: anyone's) at once."""
    owner = None if who.can("admin") else who.name
    if not revoke_token_id(catalog_of(request), token_id, owner):
        raise ApiError(404, f"no live API token {token_id} of yours")
    return Response(status_code=204)


@router.put("/me/password")
async def put_own_password(request: Request, body: OwnPasswordIn, who: Viewer) -> EndedOut:
    """Change your password, giving the current one (wrong ones count as failed logins: 429
    with ``Retry-After`` while throttled, like logging in). Your other browser sessions end;
    the one making the change, if any, goes on."""
    try:
        ended = await run_cpu(
            request,
            change_password,
            catalog_of(request),
            who.name,
            body.old_password,
            body.new_password,
            client_address(request),
            who.session_id,
        )
    except LoginThrottled as exc:
        raise ApiError(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    return EndedOut(sessions_ended=ended)


@router.delete("/users/{name:path}/sessions")
def delete_sessions(request: Request, name: UserName, who: Viewer) -> EndedOut:
    """End every browser session of user ``name`` (yours, or anyone's for an admin)."""
    _own_or_admin(who, name)
    user = _user_or_404(request, name)
    return EndedOut(sessions_ended=end_sessions(catalog_of(request), user.id))


@router.get("/users")
def get_users(request: Request, _who: Admin) -> list[UserOut]:
    """Every user with their role and whether they may log in."""
    return [UserOut.of(user) for user in list_users(catalog_of(request))]


@router.put("/users/{name:path}/password")
async def put_password(request: Request, name: UserName, body: PasswordIn, _who: Admin) -> EndedOut:
    """Reset user ``name``'s password; their browser sessions end (their API tokens stay)."""
    _user_or_404(request, name)
    ended = await run_cpu(request, set_password, catalog_of(request), name, body.password)
    return EndedOut(sessions_ended=ended)


@router.post("/users/{name:path}/deactivate")
def deactivate(request: Request, name: UserName, _who: Admin) -> EndedOut:
    """Stop user ``name`` logging in: their browser sessions end and API tokens are revoked."""
    _user_or_404(request, name)
    ended = set_active(catalog_of(request), name, active=False)
    return EndedOut(sessions_ended=ended.sessions, tokens_revoked=ended.tokens)


@router.post("/users/{name:path}/activate")
def activate(request: Request, name: UserName, _who: Admin) -> EndedOut:
    """Let user ``name`` log in again (with new sessions and tokens; old ones stay revoked)."""
    _user_or_404(request, name)
    set_active(catalog_of(request), name, active=True)
    return EndedOut(sessions_ended=0)
