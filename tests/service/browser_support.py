"""Helpers of the headless-Chromium tests: the browser, the service on a free port, logging in,
and the pages' Content-Security-Policy complaints."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse"


def require_chromium() -> None:
    """Skip the test, saying why, when Chromium is missing (fail under
    ``PHOTOID_REQUIRE_SHARED=1``)."""
    reason = ""
    if not CHROMIUM.is_file():
        reason = f"Chromium not installed at {CHROMIUM} (Debian package 'chromium')"
    elif not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is not executable"
    if reason:
        if os.environ.get("PHOTOID_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " (PHOTOID_REQUIRE_SHARED=1 forbids skipping)")
        pytest.skip(reason)


def launch(playwright: Playwright) -> Browser:
    """Headless Chromium."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served on a free local port in a thread; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start in 20 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def csp_violations(page: Page) -> list[str]:
    """The console messages of ``page`` about its Content-Security-Policy (filled as it runs)."""
    found: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", note)
    return found


def log_in(page: Page, base: str, name: str) -> None:
    """Log in as ``name`` through the login form and land on the review queue."""
    page.goto(f"{base}/review")
    assert "/login" in page.url
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_url(f"{base}/review")
