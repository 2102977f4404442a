"""Uploads of an encounter: the multipart body is read only once the route knows who sends it
(its size is limited by :mod:`photoid.service.limits`), its fields are checked like any other
input, and each photo is checked for size, type (from its content, never its name) and pixel
count before anything is stored, with only its base name kept. Decoding runs in the app's CPU
pool, never on the event loop."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from photoid.catalog import EncounterInfo, ImageUpload
from photoid.catalog.matching import MatchFilter
from photoid.catalog.storage import EXTENSIONS
from photoid.data.images import load_image, read_info
from photoid.errors import ImageLoadError
from photoid.service.errors import ApiError, invalid
from photoid.service.offload import run_cpu
from photoid.service.schemas import MAX_FILE_NAME, MAX_NOTES, MAX_TEXT, ONE_LINE
from photoid.service.settings import Settings

CHUNK = 1 << 16
ACCEPTED = ", ".join(sorted(EXTENSIONS))


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


async def checked_uploads(request: Request, files: Sequence[UploadFile]) -> list[ImageUpload]:
    """Read and check every uploaded photo against the app's settings (decoding in its CPU
    pool); any refusal raises before anything is stored."""
    settings: Settings = request.app.state.settings
    if not files:
        raise ApiError(422, "send at least one photo in the 'photos' field")
    if len(files) > settings.max_files:
        raise ApiError(413, f"at most {settings.max_files} photos per upload; got {len(files)}")
    uploads = []
    for upload in files:
        name = safe_name(upload.filename)
        if len(name) > MAX_FILE_NAME:
            raise ApiError(
                422,
                f"{name[:40]}...: the file name is longer than {MAX_FILE_NAME} characters; "
                "rename the photo",
                "invalid",
                {"file": name[:MAX_FILE_NAME]},
            )
        data = await read_photo(upload, settings.max_file_bytes)
        await run_cpu(request, check_photo, data, name, settings.max_pixels)
        uploads.append(ImageUpload(data, name))
    return uploads


ShortText = Annotated[str | None, Field(max_length=MAX_TEXT, pattern=ONE_LINE)]


class EncounterForm(BaseModel):
    """The fields sent with an encounter's photos (empty ones count as not sent).

    ``filter_*`` restrict its match candidates to individuals of that species, seen at that
    location, or seen between those dates.
    """

    model_config = ConfigDict(extra="ignore")

    date: datetime | None = None
    location: ShortText = None
    observer: ShortText = None
    notes: str = Field("", max_length=MAX_NOTES)
    label: ShortText = None
    filter_species: ShortText = None
    filter_location: ShortText = None
    filter_date_from: dt.date | None = None
    filter_date_to: dt.date | None = None

    def info(self) -> EncounterInfo:
        """The encounter's facts."""
        return EncounterInfo(self.date, self.location, self.observer, self.notes, self.label)

    def filters(self) -> MatchFilter | None:
        """The candidate filter, or None when no ``filter_*`` field was sent."""
        parts = (
            self.filter_species,
            self.filter_location,
            self.filter_date_from,
            self.filter_date_to,
        )
        return MatchFilter(*parts) if any(parts) else None


def form_openapi() -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of an upload route (its body is read by the route, so
    FastAPI cannot describe it)."""
    schema = EncounterForm.model_json_schema()
    photos = {"type": "array", "items": {"type": "string", "format": "binary"}}
    schema["properties"] = {"photos": photos, **schema["properties"]}
    schema["required"] = ["photos"]
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


async def encounter_form(request: Request) -> tuple[list[UploadFile], EncounterForm]:
    """The photos (field ``photos``) and the checked fields of an upload's multipart body.

    Call it only after checking who is asking: it reads the body. Raises ApiError 422 for
    a field that is too long or not of its type.
    """
    settings: Settings = request.app.state.settings
    form = await request.form(max_files=settings.max_files, max_fields=100)
    photos = [v for k, v in form.multi_items() if k == "photos" and isinstance(v, UploadFile)]
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str) and v != ""}
    try:
        return photos, EncounterForm.model_validate(fields)
    except ValidationError as exc:
        raise invalid([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
