"""Encounters and their images: upload photos (bytes in) as one sighting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from photoid.catalog.audit import Changes
from photoid.catalog.db import Catalog
from photoid.catalog.individuals import find_individual
from photoid.catalog.models import Encounter, Image
from photoid.catalog.storage import StoredFile
from photoid.data.images import DEFAULT_MAX_PIXELS
from photoid.errors import PhotoidError


@dataclass(frozen=True)
class ImageUpload:
    """One photo to add: the file's bytes, its name (for messages and export), and optionally
    the animal's box (x, y, w, h in pixels of the upright image) and viewpoint."""

    data: bytes
    name: str
    bbox: tuple[float, float, float, float] | None = None
    viewpoint: str | None = None


@dataclass(frozen=True)
class EncounterInfo:
    """Where, when and by whom an encounter was seen (all optional)."""

    date: datetime | None = None
    location: str | None = None
    observer: str | None = None
    notes: str = ""
    label: str | None = None


def image_row(
    stored: StoredFile,
    name: str,
    encounter_id: int,
    bbox: tuple[float, float, float, float] | None = None,
    viewpoint: str | None = None,
) -> Image:
    """The ``images`` row of a stored file (not yet added to a session)."""
    x, y, w, h = bbox if bbox is not None else (None, None, None, None)
    return Image(
        sha256=stored.sha256,
        file=stored.file,
        original_name=name,
        format=stored.format,
        width=stored.width,
        height=stored.height,
        bbox_x=x,
        bbox_y=y,
        bbox_w=w,
        bbox_h=h,
        viewpoint=viewpoint,
        encounter_id=encounter_id,
    )


def create_encounter(session: Session, changes: Changes, info: EncounterInfo) -> Encounter:
    """Add an encounter row inside an open transaction."""
    encounter = Encounter(
        date=info.date,
        location=info.location,
        observer=info.observer,
        notes=info.notes,
        label=info.label,
    )
    changes.add(encounter)
    return encounter


def add_encounter(
    catalog: Catalog,
    uploads: Sequence[ImageUpload],
    info: EncounterInfo | None = None,
    individual: str | None = None,
    actor: str = "system",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[Encounter, list[Image]]:
    """Store the photos of one encounter and add it with its images in one transaction.

    Every file is checked (type read from the content, whole decode, at most ``max_pixels``)
    and stored before any row is written; one bad photo adds nothing (ImageLoadError names
    it). ``individual`` (a code) attaches the images to a known individual; without it they
    wait for a decision. Returns the encounter and its images in upload order.
    """
    if not uploads:
        raise PhotoidError("an encounter needs at least one photo")
    for upload in uploads:
        if upload.bbox is not None and (upload.bbox[2] <= 0 or upload.bbox[3] <= 0):
            raise PhotoidError(f"{upload.name}: bbox width and height must be positive")
    stored = [catalog.store.put(u.data, u.name, max_pixels) for u in uploads]
    with catalog.session() as session:
        owner = find_individual(session, individual).id if individual is not None else None
        changes = Changes(session)
        encounter = create_encounter(session, changes, info or EncounterInfo())
        images = []
        for file, upload in zip(stored, uploads, strict=True):
            image = image_row(file, upload.name, encounter.id, upload.bbox, upload.viewpoint)
            image.individual_id = owner
            changes.add(image)
            images.append(image)
        changes.record(
            actor, "add_encounter", f"encounter {encounter.id} with {len(images)} images"
        )
        return encounter, images


def encounter_images(catalog: Catalog, encounter_id: int) -> list[Image]:
    """The images of an encounter, by id (PhotoidError for an unknown encounter)."""
    with catalog.session() as session:
        if session.get(Encounter, encounter_id) is None:
            raise PhotoidError(f"no encounter {encounter_id} in the catalog")
        query = select(Image).where(Image.encounter_id == encounter_id).order_by(Image.id)
        return list(session.scalars(query))


def set_detected_boxes(
    catalog: Catalog, boxes: Mapping[int, tuple[float, float, float, float]], actor: str
) -> int:
    """Give the images in ``boxes`` (image id -> x, y, w, h) a detector's box, as one audited
    change; an image that has a box already keeps it (a person's box is never overwritten).
    Returns how many images got a box."""
    with catalog.session() as session:
        changes = Changes(session)
        done = 0
        for image_id, (x, y, w, h) in boxes.items():
            image = session.get(Image, image_id)
            if image is None or image.bbox is not None:
                continue
            changes.touch(image)
            image.bbox_x, image.bbox_y, image.bbox_w, image.bbox_h = x, y, w, h
            done += 1
        if done:
            changes.record(actor, "detect", f"detected the animal's box in {done} images")
        return done
