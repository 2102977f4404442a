"""Security headers: a Content-Security-Policy allowing nothing inline on the review pages
(whose templates hold no inline script or style), the documentation pages' inline blocks
allowed by hash only, and no caching of pages and API answers."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
from service_support import Service, seed_individual

import photoid.service

TEMPLATES = Path(photoid.service.__file__).resolve().parent / "templates"
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
)


def policy_of(answer: httpx.Response) -> dict[str, str]:
    """The directives of an answer's Content-Security-Policy, by name."""
    header = answer.headers["Content-Security-Policy"]
    return {
        name: value.strip()
        for name, _, value in (part.strip().partition(" ") for part in header.split(";"))
    }


def test_pages_allow_nothing_inline_and_are_not_cached(service: Service) -> None:
    image = seed_individual(service.catalog, "ID-A", 1)
    login = service.client.get("/login")
    service.login("reviewer")
    for answer in (login, service.client.get("/review/1"), service.client.get("/individuals")):
        assert answer.status_code == 200
        policy = policy_of(answer)
        assert "'unsafe-inline'" not in answer.headers["Content-Security-Policy"]
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["Cache-Control"] == "no-store"
    for path in ("/api/v1/me", f"/api/v1/images/{image}", "/api/v1/individuals"):
        answer = service.client.get(path, headers=service.auth("viewer"))
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-store", path
    refused = service.client.post("/login", content=b"x" * 100_000)
    assert refused.status_code == 413 and refused.headers["Cache-Control"] == "no-store"
    style = service.client.get("/static/style.css")
    assert "no-store" not in style.headers.get("Cache-Control", "")


def test_templates_hold_no_inline_script_style_or_handler() -> None:
    for template in sorted(TEMPLATES.glob("*.html")):
        found = INLINE.findall(template.read_text(encoding="utf-8"))
        assert not found, f"{template.name}: {found}"


def test_docs_pages_allow_only_their_own_inline_blocks(service: Service) -> None:
    for page, kind in (("/docs", "script"), ("/redoc", "style")):
        answer = service.client.get(page)
        (inline,) = re.findall(rf"<{kind}>(.*?)</{kind}>", answer.text, re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        policy = policy_of(answer)
        if kind == "script":
            assert policy["script-src"] == f"'self' 'sha256-{digest}'"
        else:
            assert policy["script-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert answer.headers["Cache-Control"] == "no-store"
