"""Security headers on every answer, and no caching of anything but static files.

The review pages load scripts and styles from ``/static`` only (no inline script, style or
event handler), so their Content-Security-Policy allows nothing inline. The API documentation
pages carry one inline script (Swagger UI) or style (ReDoc): :func:`docs_policy` allows exactly
those by hash, plus the inline styles the documentation bundles add as they render.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
CACHED_PREFIXES = ("/static/", "/docs/assets/")
"""Files that are the same for everyone (styles, scripts): the browser may cache them."""
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def docs_policy(html: str) -> str:
    """The Content-Security-Policy of a documentation page: its inline ``<script>`` and
    ``<style>`` blocks allowed by their SHA-256, nothing else inline but styles."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    scripts = " ".join(["'self'", *hashes["script"]])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """ASGI middleware adding to every answer, unless its route set them: a
    Content-Security-Policy, no framing, no type sniffing, no referrers to other sites; and,
    on everything but :data:`CACHED_PREFIXES`, ``Cache-Control: no-store`` whatever the route
    said (pages and API answers hold a user's data, photos and CSRF token: a shared
    computer's browser must not keep them after logout)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cached = str(scope["path"]).startswith(CACHED_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", PAGE_POLICY)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if not cached:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
