"""Individuals: add, look up, merge two into one, split images off into a new one.

Automatic codes (``ID-0001``, ...) are one past the highest, so two transactions adding an
individual at once must not both read the same highest code: the row is first inserted under a
provisional unique code, then the code is read and written under a lock held until commit (SQLite's
writer lock, which that insert took; on PostgreSQL a transaction-level advisory lock), in a
savepoint, so that a clash with a code the lock does not cover (one typed by a person at the
same moment) is retried with the next code.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photoid.catalog.audit import Changes
from photoid.catalog.db import Catalog
from photoid.catalog.models import Image, Individual
from photoid.errors import PhotoidError

CODE_PREFIX = "ID-"
_AUTO_CODE = re.compile(rf"^{CODE_PREFIX}(\d+)$")
_CODE_TRIES = 5
_CODE_LOCK = 0x70686F746F6964  # "photoid": the PostgreSQL advisory lock of automatic codes


def next_code(session: Session) -> str:
    """The next free automatic code: ``ID-0001``, ``ID-0002``, ... (one past the highest)."""
    numbers = [
        int(match.group(1))
        for code in session.scalars(select(Individual.code).where(Individual.code.like("ID-%")))
        if (match := _AUTO_CODE.match(code))
    ]
    return f"{CODE_PREFIX}{max(numbers, default=0) + 1:04d}"


def find_individual(session: Session, code: str) -> Individual:
    """The individual with ``code``; PhotoidError when there is none."""
    individual = session.scalar(select(Individual).where(Individual.code == code))
    if individual is None:
        raise PhotoidError(f"no individual with code {code!r} in the catalog")
    return individual


def create_individual(
    session: Session,
    changes: Changes,
    code: str | None,
    *,
    name: str | None = None,
    species: str | None = None,
    notes: str = "",
) -> Individual:
    """Add an individual inside an open transaction (``code`` None: the next automatic code)."""
    if code is None:
        return _create_numbered(session, changes, name, species, notes)
    code = code.strip()
    if not code:
        raise PhotoidError("an individual's code cannot be empty")
    taken = f"an individual with code {code!r} already exists; pick another code"
    if session.scalar(select(Individual.id).where(Individual.code == code)) is not None:
        raise PhotoidError(taken)
    individual = Individual(code=code, name=name, species=species, notes=notes)
    try:
        # the check above cannot see a row another transaction commits after it
        with session.begin_nested():
            changes.add(individual)
    except IntegrityError:
        raise PhotoidError(taken) from None
    return individual


def _create_numbered(
    session: Session, changes: Changes, name: str | None, species: str | None, notes: str
) -> Individual:
    """Add an individual with the next automatic code, safely under concurrent transactions."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CODE_LOCK})
    provisional = f"pending-{uuid.uuid4().hex}"  # unique until the real code replaces it below
    individual = Individual(code=provisional, name=name, species=species, notes=notes)
    changes.add(individual)  # on SQLite this insert begins the transaction and takes the lock
    for _ in range(_CODE_TRIES):
        code = next_code(session)
        try:
            with session.begin_nested():
                individual.code = code
                session.flush()
            return individual
        except IntegrityError:
            continue  # someone added this code by hand meanwhile: take the next one
    raise PhotoidError(
        f"could not give a new individual an automatic code in {_CODE_TRIES} tries "
        f"(the last was {code!r}); try again"
    )


def add_individual(
    catalog: Catalog,
    code: str | None = None,
    *,
    name: str | None = None,
    species: str | None = None,
    notes: str = "",
    actor: str = "system",
) -> Individual:
    """Add an individual; without ``code`` it gets the next automatic one (``ID-0001``...)."""
    with catalog.session() as session:
        changes = Changes(session)
        individual = create_individual(
            session, changes, code, name=name, species=species, notes=notes
        )
        changes.record(actor, "add_individual", f"add {individual.code}")
        return individual


def get_individual(catalog: Catalog, code: str) -> Individual:
    """The individual with ``code`` (PhotoidError when there is none)."""
    with catalog.session() as session:
        return find_individual(session, code)


def list_individuals(catalog: Catalog, include_merged: bool = False) -> list[Individual]:
    """Every individual ordered by code; those merged into another only when asked."""
    query = select(Individual).order_by(Individual.code)
    if not include_merged:
        query = query.where(Individual.merged_into_id.is_(None))
    with catalog.session() as session:
        return list(session.scalars(query))


def images_of(catalog: Catalog, code: str) -> list[Image]:
    """The images of the individual with ``code``, by id."""
    with catalog.session() as session:
        individual = find_individual(session, code)
        query = select(Image).where(Image.individual_id == individual.id).order_by(Image.id)
        return list(session.scalars(query))


def merge_individuals(
    catalog: Catalog, keep: str, absorb: str, actor: str = "system"
) -> Individual:
    """Merge individual ``absorb`` into ``keep``: its images move to ``keep`` and it is marked
    ``merged_into_id`` (it keeps its code and history). Returns ``keep``."""
    if keep == absorb:
        raise PhotoidError(f"cannot merge {keep!r} into itself")
    with catalog.session() as session:
        kept, absorbed = find_individual(session, keep), find_individual(session, absorb)
        for individual in (kept, absorbed):
            if individual.merged_into_id is not None:
                raise PhotoidError(
                    f"{individual.code!r} was already merged into another individual"
                )
        changes = Changes(session)
        moved = session.scalars(select(Image).where(Image.individual_id == absorbed.id))
        count = 0
        for image in moved:
            changes.touch(image)
            image.individual_id = kept.id
            count += 1
        changes.touch(absorbed)
        absorbed.merged_into_id = kept.id
        changes.record(actor, "merge", f"merge {absorb} into {keep} ({count} images)")
        return kept


def split_individual(
    catalog: Catalog,
    code: str,
    image_ids: Collection[int],
    new_code: str | None = None,
    actor: str = "system",
) -> Individual:
    """Move the images ``image_ids`` of individual ``code`` to a new individual (same species;
    ``new_code`` or the next automatic code) and return it. Every id must be one of its images.
    """
    if not image_ids:
        raise PhotoidError("a split needs at least one image to move")
    with catalog.session() as session:
        source = find_individual(session, code)
        images = list(session.scalars(select(Image).where(Image.id.in_(list(image_ids)))))
        foreign = sorted(set(image_ids) - {i.id for i in images if i.individual_id == source.id})
        if foreign:
            raise PhotoidError(f"images {foreign} are not images of {code!r}; nothing was split")
        changes = Changes(session)
        target = create_individual(session, changes, new_code, species=source.species)
        for image in images:
            changes.touch(image)
            image.individual_id = target.id
        changes.record(actor, "split", f"split {len(images)} images of {code} into {target.code}")
        return target
