"""The audit trail in the REST API: the latest changes, and undo.

A reviewer may undo their own changes (a decision made in haste); an admin may undo anyone's.
An undo is itself a change (final: make the change again instead of undoing an undo), and it
refuses, naming it, a change that a later change still in effect depends on.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from photoid.catalog.audit import find_change, history, undo
from photoid.catalog.matching import enqueue_sync
from photoid.service.auth import Reviewer, Viewer, catalog_of
from photoid.service.errors import ApiError
from photoid.service.schemas import ChangeOut, IdPath

router = APIRouter(prefix="/api/v1")


@router.get("/changes")
def get_changes(
    request: Request,
    _who: Viewer,
    limit: Annotated[int, Query(ge=1, le=500, description="Changes, newest first.")] = 50,
) -> list[ChangeOut]:
    """The latest changes, newest first."""
    return [ChangeOut.of(entry) for entry in history(catalog_of(request), limit)]


@router.post("/changes/{change_id:int}/undo", status_code=201)
def post_undo(request: Request, change_id: IdPath, who: Reviewer) -> ChangeOut:
    """Undo a change (your own; an admin: anyone's); answers the undo, itself a change."""
    catalog = catalog_of(request)
    entry = find_change(catalog, change_id)
    if entry is None:
        raise ApiError(404, f"no change #{change_id}")
    if not who.can("admin") and entry.actor != who.name:
        raise ApiError(
            403,
            f"change #{change_id} was made by {entry.actor}: a reviewer undoes only their own "
            "changes; ask an admin",
        )
    reverse = undo(catalog, change_id, actor=who.name)
    enqueue_sync(catalog)  # the gallery follows the identities the undo put back
    return ChangeOut.of(reverse)
