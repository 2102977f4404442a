"""What a catalog gallery reads from the catalog: the images attached to individuals with their
signatures, images by id, and images as engine queries named by their ids."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from photoid.catalog.db import Catalog
from photoid.catalog.gallery_store import Signature
from photoid.catalog.models import Image, Individual
from photoid.fusion.config import Queries

_CHUNK = 500  # image ids per IN (...) query, well below SQLite's limit on bound parameters


def engine_queries(catalog: Catalog, images: Sequence[Image]) -> Queries:
    """Catalog images as engine queries, named by their image ids."""
    return Queries(
        [catalog.store.path(image.file) for image in images],
        [str(image.id) for image in images],
        [image.bbox for image in images],
    )


def attached(session: Session) -> tuple[dict[int, str], dict[int, Signature]]:
    """Every image attached to an individual: image id -> individual code, and image id ->
    its signature (content hash and box)."""
    rows = select(
        Image.id,
        Image.sha256,
        Image.bbox_x,
        Image.bbox_y,
        Image.bbox_w,
        Image.bbox_h,
        Individual.code,
    ).join(Individual, Image.individual_id == Individual.id)
    codes: dict[int, str] = {}
    signatures: dict[int, Signature] = {}
    for image_id, sha, x, y, w, h, code in session.execute(rows):
        codes[image_id] = code
        box = None if x is None or y is None or w is None or h is None else (x, y, w, h)
        signatures[image_id] = (sha, box)
    return codes, signatures


def images_by_id(session: Session, ids: Sequence[int]) -> list[Image]:
    """The images with these (sorted) ids, in id order, fetched in chunks."""
    return [
        image
        for start in range(0, len(ids), _CHUNK)
        for image in session.scalars(
            select(Image).where(Image.id.in_(ids[start : start + _CHUNK])).order_by(Image.id)
        )
    ]
