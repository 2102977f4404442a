"""Keeping the store and the database in step: remove orphan files, check consistency."""

from __future__ import annotations

import time

from sqlalchemy import select, text

from photoid.catalog.db import Catalog
from photoid.catalog.models import NAMING_VERDICTS, AuditEntry, Decision, Image
from photoid.catalog.storage import file_sha256

DEFAULT_MIN_AGE_S = 3600.0


def gc(catalog: Catalog, min_age_s: float = DEFAULT_MIN_AGE_S) -> list[str]:
    """Delete stored files no image row names (left by a crash, an undo or a failed upload)
    and return them. Only files older than ``min_age_s`` seconds go, so a file an upload has
    just written, whose row is not committed yet, is kept."""
    with catalog.session() as session:
        named = set(session.scalars(select(Image.file)))
    cutoff = time.time() - min_age_s
    removed = []
    for file in catalog.store.files():
        path = catalog.store.path(file)
        if file not in named and path.stat().st_mtime <= cutoff:
            catalog.store.remove(file)
            removed.append(file)
    return removed


def check(catalog: Catalog) -> list[str]:
    """Problems found, one sentence each (empty when consistent): image rows whose file is
    missing or does not hash to ``sha256``; decisions with no audit entry or missing their
    individual; on SQLite, a failed integrity or foreign-key check."""
    problems: list[str] = []
    with catalog.session() as session:
        for image in session.scalars(select(Image).order_by(Image.id)):
            path = catalog.store.path(image.file)
            if not path.is_file():
                problems.append(f"image {image.id}: file {image.file} is missing")
            elif file_sha256(path) != image.sha256:
                problems.append(f"image {image.id}: file {image.file} does not match its hash")
        audited: set[int] = set()
        for after in session.scalars(select(AuditEntry.after)):
            audited.update(int(i) for i in after.get("decisions", {}))
        for decision in session.scalars(select(Decision).order_by(Decision.id)):
            if decision.id not in audited:
                problems.append(f"decision {decision.id}: no audit entry records it")
            if decision.verdict in NAMING_VERDICTS and decision.individual_id is None:
                problems.append(f"decision {decision.id}: '{decision.verdict}' has no individual")
        if catalog.engine.dialect.name == "sqlite":
            result = session.execute(text("PRAGMA integrity_check")).scalar()
            if result != "ok":
                problems.append(f"SQLite integrity check: {result}")
            for row in session.execute(text("PRAGMA foreign_key_check")):
                problems.append(f"foreign key broken: {tuple(row)}")
    return problems
