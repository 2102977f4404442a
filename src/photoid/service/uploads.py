"""Upload limits: the request body is cut off past its limit while it is read (413), each
photo is checked for size, type (from its content, never its name) and pixel count before
anything is stored, and only the photo's base name is kept."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photoid.catalog import ImageUpload
from photoid.catalog.storage import EXTENSIONS
from photoid.data.images import load_image, read_info
from photoid.errors import ImageLoadError
from photoid.service.errors import ApiError, error_response

CHUNK = 1 << 16
ACCEPTED = ", ".join(sorted(EXTENSIONS))


class BodyTooLarge(ApiError):
    """The request body passed the service's limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the upload is larger than the {limit // (1024 * 1024)} MiB allowed in one request; "
            "send fewer or smaller photos",
            details={"limit_bytes": limit},
        )


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes (413): at once when the
    Content-Length says so, else as soon as the bytes read pass it (the rest is never read).

    Whatever answer the app then makes of the cut-off body (a parse error, say) is replaced
    by the 413 answer.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = BodyTooLarge(self.limit)
        answer = error_response(413, refusal.message, refusal.code, refusal.details)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await answer(scope, receive, send)
            return
        seen = 0
        exceeded = False
        started = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise refusal
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded:
                if not started:
                    started = True
                    await answer(scope, receive, send)
                return
            started = True
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except BodyTooLarge:
            if not started:
                started = True
                await answer(scope, receive, send)


def safe_name(name: str | None) -> str:
    """The base name of an uploaded file's name (no folders, either slash), or ``photo``."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name.strip()
    return base if base not in ("", ".", "..") else "photo"


async def read_photo(upload: UploadFile, max_bytes: int) -> bytes:
    """The bytes of an uploaded photo, reading no more than ``max_bytes`` + 1 (413 past it)."""
    name = safe_name(upload.filename)
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(
                413,
                f"{name} is larger than the {max_bytes} bytes allowed per photo",
                details={"file": name, "limit_bytes": max_bytes},
            )
        parts.append(chunk)
    return b"".join(parts)


def check_photo(data: bytes, name: str, max_pixels: int) -> None:
    """Raise ImageLoadError naming ``name`` unless ``data`` is a whole image of an accepted
    type (read from the bytes) with at most ``max_pixels`` pixels. Nothing is kept."""
    if not data:
        raise ImageLoadError(Path(name), "the file is empty")
    with tempfile.TemporaryDirectory(prefix="photoid-upload-") as folder:
        path = Path(folder) / "photo"
        path.write_bytes(data)
        try:
            info = read_info(path, max_pixels=max_pixels)
            load_image(path, max_pixels=max_pixels)
        except ImageLoadError as exc:
            reason = exc.reason.replace(str(path), name)
            if reason.startswith("not a readable image"):
                reason += f"; send a photo of one of these types: {ACCEPTED}"
            raise ImageLoadError(Path(name), reason) from None
    if info.format not in EXTENSIONS:
        raise ImageLoadError(
            Path(name),
            f"{info.format} images are not accepted; send one of {ACCEPTED}",
        )


async def checked_uploads(
    files: Sequence[UploadFile], max_files: int, max_bytes: int, max_pixels: int
) -> list[ImageUpload]:
    """Read and check every uploaded photo; any refusal raises before anything is stored."""
    if not files:
        raise ApiError(422, "send at least one photo in the 'photos' field")
    if len(files) > max_files:
        raise ApiError(413, f"at most {max_files} photos per upload; got {len(files)}")
    uploads = []
    for upload in files:
        name = safe_name(upload.filename)
        data = await read_photo(upload, max_bytes)
        check_photo(data, name, max_pixels)
        uploads.append(ImageUpload(data, name))
    return uploads
