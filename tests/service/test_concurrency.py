"""CPU-heavy work of a request runs off the event loop, in a bounded pool: other requests are
answered while a photo is being decoded, and no more decodes run at once than the pool has
threads."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import Service, make_service, png_bytes

from photoid.service import uploads

SLOW = 2.0  # seconds each patched decode takes


def _slow_decode(
    monkeypatch: pytest.MonkeyPatch, started: threading.Event, finished: threading.Event
) -> Callable[..., None]:
    original = uploads.check_photo

    def slow(data: bytes, name: str, max_pixels: int) -> None:
        started.set()
        time.sleep(SLOW)
        original(data, name, max_pixels)
        finished.set()

    monkeypatch.setattr(uploads, "check_photo", slow)
    return slow


def test_requests_are_answered_while_a_photo_decodes(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, finished = threading.Event(), threading.Event()
    _slow_decode(monkeypatch, started, finished)
    viewer = service.auth("viewer")

    async def scenario() -> tuple[list[httpx.Response], bool, httpx.Response]:
        transport = httpx.ASGITransport(app=service.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://photoid") as client:
            upload = asyncio.create_task(
                client.post(
                    "/api/v1/encounters",
                    files=[("photos", ("a.png", png_bytes(1), "image/png"))],
                    headers=service.auth("reviewer"),
                )
            )
            deadline = time.monotonic() + 20
            while not started.is_set():
                assert time.monotonic() < deadline, "the upload never reached the decode"
                await asyncio.sleep(0.01)
            answers = [
                await client.get("/api/v1/health"),
                await client.get("/api/v1/me", headers=viewer),
            ]
            during = not finished.is_set()
            return answers, during, await upload

    answers, during, uploaded = asyncio.run(scenario())
    assert during, "the cheap requests waited for the decode to finish"
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == {"status": "ok"}
    assert answers[1].json()["name"] == "viewer"
    assert uploaded.status_code == 201, uploaded.text


def test_no_more_decodes_run_at_once_than_the_pool_has_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, most = 0, 0
    lock = threading.Lock()
    original = uploads.check_photo

    def counted(*args: Any) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.3)
        original(*args)
        with lock:
            running -= 1

    monkeypatch.setattr(uploads, "check_photo", counted)
    for service in make_service(tmp_path, None, cpu_threads=1):

        async def scenario(service: Service) -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=service.client.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://photoid") as client:
                return await asyncio.gather(
                    *(
                        client.post(
                            "/api/v1/encounters",
                            files=[("photos", (f"{seed}.png", png_bytes(seed), "image/png"))],
                            headers=service.auth("reviewer"),
                        )
                        for seed in (1, 2, 3)
                    )
                )

        answers = asyncio.run(scenario(service))
        assert [a.status_code for a in answers] == [201, 201, 201]
    assert most == 1
