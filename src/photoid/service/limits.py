"""Request body limits per route, enforced before the route reads anything: a small limit for
every route (login, JSON), a large one only for the upload routes. A body is refused (413) at
once when its Content-Length is over the limit, else as soon as the bytes read pass it (the rest
is never read).

Upload routes check who is asking before they read their body (see
:func:`photoid.service.uploads.encounter_form`), so an anonymous client cannot make the service
read a large body either. Other routes' bodies are read before the sender is checked (FastAPI
parses them before the route's dependencies run), so they are bounded by the small limit alone.

Routes are matched on the path without the ``root_path`` a proxy mounts the service under.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photoid.service.errors import ApiError, error_response


def shown_size(size: int) -> str:
    """``size`` bytes in the largest of MiB, KiB or bytes that shows it whole or nearly."""
    for unit, name in ((1024 * 1024, "MiB"), (1024, "KiB")):
        if size >= unit:
            return f"{size / unit:.3g} {name}"
    return f"{size} bytes"


def route_path(scope: Scope) -> str:
    """The request's path as the routes see it: without the ``root_path`` a proxy mounts the
    service under (uvicorn ``--root-path``), which ``scope["path"]`` starts with."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :] or "/"
    return path


@dataclass(frozen=True)
class Allowance:
    """The largest body a route takes, and what to tell a client who sends more."""

    limit: int
    hint: str = "send a smaller request"


class BodyTooLarge(ApiError):
    """The request body passed its route's limit."""

    def __init__(self, allowance: Allowance, route: str) -> None:
        super().__init__(
            413,
            f"the request body is larger than the {shown_size(allowance.limit)} allowed for "
            f"{route}; {allowance.hint}",
            details={"limit_bytes": allowance.limit},
        )


class BodyLimit:
    """ASGI middleware refusing request bodies over their route's limit (413).

    ``routes`` maps ``(method, path)`` to its :class:`Allowance`; every other request gets
    ``default``. Whatever answer the app then makes of a cut-off body (a parse error, say) is
    replaced by the 413 answer.
    """

    def __init__(
        self, app: ASGIApp, default: Allowance, routes: Mapping[tuple[str, str], Allowance]
    ) -> None:
        self.app = app
        self.default = default
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], route_path(scope)
        allowance = self.routes.get((method, path), self.default)
        route = f"{method} {path}"

        async def answer() -> None:
            # built only for a refusal: most requests never need it
            refusal = BodyTooLarge(allowance, route)
            await error_response(413, refusal.message, refusal.code, refusal.details)(
                scope, receive, send
            )

        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > allowance.limit:
            await answer()
            return
        seen = 0
        exceeded = False
        started = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > allowance.limit:
                    exceeded = True
                    raise BodyTooLarge(allowance, route)
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded:
                if not started:
                    started = True
                    await answer()
                return
            started = True
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except BodyTooLarge:
            if not started:
                started = True
                await answer()
