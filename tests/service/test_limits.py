"""Body limits per route, checked before the body is read: small for login and JSON routes,
large only for uploads, whose body is read only once the sender is known to be a reviewer
(other routes read theirs, within the small limit, before checking the sender)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from service_support import Service, csrf_of, make_service, png_bytes
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send
from test_api import assert_error

from photoid.service.limits import Allowance, BodyLimit, route_path

SMALL = 64 * 1024
CHUNK = 16 * 1024
MULTIPART = {"Content-Type": "multipart/form-data; boundary=b"}


def _send_streamed(
    service: Service, path: str, chunks: int, headers: dict[str, str]
) -> tuple[httpx.Response, int]:
    """POST a chunked body (no Content-Length) of ``chunks`` x 16 KiB to ``path``; returns
    the answer and how many chunks the service read."""
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        read += 1
        yield b'--b\r\nContent-Disposition: form-data; name="photos"; filename="a.png"\r\n\r\n'
        for _ in range(chunks):
            read += 1
            yield b"x" * CHUNK
        yield b"\r\n--b--\r\n"

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=service.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://photoid") as client:
            return await client.post(path, content=body(), headers=headers)

    return asyncio.run(send()), read


def test_login_body_over_the_small_limit_is_refused_from_its_length(service: Service) -> None:
    token = csrf_of(service.client.get("/login").text)
    answer = service.client.post(
        "/login",
        data={"username": "viewer", "password": "x" * (SMALL + 1), "csrf_token": token},
    )
    error = assert_error(answer, 413, "too_large")
    assert "64 KiB allowed for POST /login" in error["message"]
    assert error["details"] == {"limit_bytes": SMALL}


def test_json_body_streamed_past_the_small_limit_is_cut_off(service: Service) -> None:
    answer, read = _send_streamed(
        service, "/api/v1/tokens", 40, {**service.auth("viewer"), **MULTIPART}
    )
    assert_error(answer, 413, "too_large")
    assert read <= SMALL // CHUNK + 2  # nothing read past the limit


def test_upload_route_takes_bodies_over_the_small_limit(tmp_path: Path) -> None:
    for service in make_service(tmp_path, None, max_file_bytes=1024 * 1024):
        photo = png_bytes(1, size=(200, 200))
        assert len(photo) > SMALL
        answer = service.client.post(
            "/api/v1/encounters",
            files=[("photos", ("big.png", photo, "image/png"))],
            headers=service.auth("reviewer"),
        )
        assert answer.status_code == 201, answer.text


def test_upload_body_is_not_read_before_authentication(service: Service) -> None:
    chunks = 40  # 640 KiB, under the upload limit of 3 x 4096 B + 1 MiB
    anonymous, read = _send_streamed(service, "/api/v1/encounters", chunks, MULTIPART)
    assert_error(anonymous, 401, "unauthenticated")
    assert read <= 1
    forged = {**MULTIPART, "Authorization": "Bearer pid_forged"}
    refused, read = _send_streamed(service, "/api/v1/encounters", chunks, forged)
    assert_error(refused, 401, "unauthenticated")
    assert read <= 1
    viewer = {**MULTIPART, **service.auth("viewer")}
    too_low, read = _send_streamed(service, "/api/v1/encounters", chunks, viewer)
    assert_error(too_low, 403, "forbidden")
    assert read <= 1
    reviewer = {**MULTIPART, **service.auth("reviewer")}
    allowed, read = _send_streamed(service, "/api/v1/encounters", chunks, reviewer)
    assert_error(allowed, 413, "too_large")  # the 640 KiB photo is over 4096 bytes
    assert read == chunks + 1
    assert list(service.catalog.store.files()) == []


def test_web_upload_asks_for_a_login_before_reading(service: Service) -> None:
    answer, read = _send_streamed(service, "/upload", 40, MULTIPART)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/upload"
    assert read <= 1


def test_an_upload_route_keeps_its_limit_under_a_root_path() -> None:
    received: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        received.append(message.get("body", b""))
        await PlainTextResponse("ok")(scope, receive, send)

    limited = BodyLimit(app, Allowance(10), {("POST", "/api/v1/encounters"): Allowance(1000)})
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/photoid/api/v1/encounters",
        "root_path": "/photoid",
        "headers": [(b"content-length", b"100")],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * 100, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(limited(scope, receive, send))
    assert received == [b"x" * 100]
    assert sent[0]["status"] == 200
    assert route_path({"path": "/photoid", "root_path": "/photoid"}) == "/"
    assert route_path({"path": "/photoidx/a", "root_path": "/photoid"}) == "/photoidx/a"
