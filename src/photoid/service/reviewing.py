"""What the review page adds to the catalog's decisions: how a verdict reads on the page, and
the reviewer's last decision that an undo would reverse.

The page offers every catalog verdict: match (``same``), new individual (``new``), "no match"
(``no_match``: none of the candidates shown), "not comparable" (``not_comparable``: the photo
cannot be compared, too blurred or the wrong side) and "not sure" (``not_sure``).
"""

from __future__ import annotations

from dataclasses import dataclass

from photoid.catalog.audit import open_changes
from photoid.catalog.db import Catalog

LOOK_BACK = 200
"""How many of the latest changes are searched for the reviewer's last decision."""


def verdict_label(verdict: str) -> str:
    """How a stored verdict reads on the page: ``no_match`` as "no match"."""
    return verdict.replace("_", " ")


@dataclass(frozen=True)
class Undoable:
    """A decision change that its reviewer may undo: audit entry ``change_id`` decided
    encounter ``encounter_id``; ``summary`` says how (for the button's tooltip)."""

    change_id: int
    encounter_id: int
    summary: str


def last_decision(catalog: Catalog, actor: str) -> Undoable | None:
    """The latest decision of ``actor`` among the last :data:`LOOK_BACK` changes that is not
    undone yet (None when there is none), so that undoing again steps further back. The undo
    itself may still be refused when a later change depends on it."""
    for entry in open_changes(catalog, actor, "decide", LOOK_BACK):
        rows = [row for row in (entry.after.get("decisions") or {}).values() if row]
        if rows:
            return Undoable(entry.id, int(rows[0]["encounter_id"]), entry.summary)
    return None
