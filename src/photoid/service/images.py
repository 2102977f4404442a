"""Image routes: a stored photo by its id only (never by a path), and a picture of the
keypoints a query photo shares with a candidate's photo (drawn in the app's CPU pool). Like
every answer holding catalog data they are not cached (:mod:`photoid.service.headers`)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from PIL import Image as PILImage
from PIL import ImageOps

from photoid.catalog.models import Image
from photoid.catalog.storage import EXTENSIONS
from photoid.service import queries
from photoid.service.auth import Viewer, catalog_of
from photoid.service.errors import ApiError
from photoid.service.evidence import match_picture
from photoid.service.offload import run_blocking, run_cpu
from photoid.service.schemas import IdPath

router = APIRouter(prefix="/api/v1/images")
MEDIA_TYPES = {fmt: f"image/{'jpeg' if ext == 'jpg' else ext}" for fmt, ext in EXTENSIONS.items()}


def image_or_404(request: Request, image_id: int) -> Image:
    """The image row with ``image_id`` whose file lies inside the image store, else 404."""
    catalog = catalog_of(request)
    image = queries.get_image(catalog, image_id)
    if image is not None:
        path = catalog.store.path(image.file).resolve()
        if path.is_relative_to(catalog.store.root.resolve()) and path.is_file():
            return image
    raise ApiError(404, f"no image {image_id} in the catalog")


@router.get("/{image_id:int}")
def get_image(request: Request, image_id: IdPath, _who: Viewer) -> FileResponse:
    """The photo's file as stored."""
    image = image_or_404(request, image_id)
    return FileResponse(
        catalog_of(request).store.path(image.file),
        media_type=MEDIA_TYPES.get(image.format, "application/octet-stream"),
    )


THUMBNAIL_SIDE = 160
"""Longest side, px, of the thumbnails in lists (the review queue)."""
THUMBNAILS_KEPT = 1024
"""Thumbnails kept in memory (about 10 KiB each): the queue shows the same ones on every visit."""


@lru_cache(maxsize=THUMBNAILS_KEPT)  # stored files are content-addressed: a path never changes
def thumbnail_jpeg(path: Path, side: int = THUMBNAIL_SIDE) -> bytes:
    """The photo at ``path`` shrunk to at most ``side`` px on its longest side, as JPEG bytes
    (EXIF orientation applied, so it shows as the full photo does)."""
    with PILImage.open(path) as opened:
        picture = ImageOps.exif_transpose(opened).convert("RGB")
    picture.thumbnail((side, side))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


@router.get("/{image_id:int}/thumbnail.jpg")
async def get_thumbnail(request: Request, image_id: IdPath, _who: Viewer) -> Response:
    """The photo at most 160 px on its longest side, as JPEG (drawn in the app's CPU pool)."""
    image = await run_blocking(image_or_404, request, image_id)
    path = catalog_of(request).store.path(image.file)
    return Response(await run_cpu(request, thumbnail_jpeg, path), media_type="image/jpeg")


def _match_inputs(
    request: Request, query_id: int, candidate_id: int
) -> tuple[Path, Path, list[list[float]]]:
    """The files of query photo ``query_id`` and of candidate ``candidate_id``'s best photo,
    with their matched keypoint pairs (404 when the engine gave no keypoints)."""
    catalog = catalog_of(request)
    candidate = queries.get_candidate(catalog, candidate_id)
    if (
        candidate is None
        or candidate.image_id != query_id
        or candidate.best_image_id is None
        or candidate.keypoints is None
    ):
        raise ApiError(
            404, f"no matched keypoints for candidate {candidate_id} of image {query_id}"
        )
    query = image_or_404(request, query_id)
    gallery = image_or_404(request, candidate.best_image_id)
    return catalog.store.path(query.file), catalog.store.path(gallery.file), candidate.keypoints


@router.get("/{query_id:int}/matches/{candidate_id:int}.png")
async def get_match_picture(
    request: Request, query_id: IdPath, candidate_id: IdPath, _who: Viewer
) -> Response:
    """The query photo beside the candidate's best-matching photo, with the keypoint pairs the
    engine matched drawn as lines (404 when the engine gave no keypoints)."""
    query, gallery, pairs = await run_blocking(_match_inputs, request, query_id, candidate_id)
    png = await run_cpu(request, match_picture, query, gallery, pairs)
    return Response(png, media_type="image/png")
