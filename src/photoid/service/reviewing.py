"""What the review page adds to the catalog's decisions: the verdicts a reviewer can give and
how each is stored, and the reviewer's last decision that an undo would reverse.

The catalog knows three verdicts (``same``, ``new``, ``not_sure``). "No match" (none of the
candidates shown) and "not comparable" (the photo cannot be compared: too blurred, wrong
side) are stored as ``not_sure`` decisions whose notes start with their label, so they stay
in the review queue like any ``not_sure`` encounter.
"""

from __future__ import annotations

from dataclasses import dataclass

from photoid.catalog.audit import history
from photoid.catalog.db import Catalog

NOTED = {"no_match": "no match", "not_comparable": "not comparable"}
"""Web verdict -> the label that starts the notes of its ``not_sure`` decision."""
LOOK_BACK = 200
"""How many of the latest changes are searched for the reviewer's last decision."""


def stored_verdict(verdict: str, notes: str) -> tuple[str, str]:
    """The catalog verdict and notes that record web ``verdict`` with the reviewer's ``notes``
    (``no_match`` and ``not_comparable`` become ``not_sure`` with their label first)."""
    label = NOTED.get(verdict)
    if label is None:
        return verdict, notes
    return "not_sure", f"{label}: {notes}" if notes else label


def verdict_label(verdict: str, notes: str) -> str:
    """How a stored decision reads on the page: "no match" for a ``not_sure`` noted so."""
    if verdict == "not_sure":
        for label in NOTED.values():
            if notes == label or notes.startswith(f"{label}: "):
                return label
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
    for entry in history(catalog, LOOK_BACK):
        if entry.actor != actor or entry.action != "decide" or entry.undone_by_id is not None:
            continue
        rows = [row for row in (entry.after.get("decisions") or {}).values() if row]
        if rows:
            return Undoable(entry.id, int(rows[0]["encounter_id"]), entry.summary)
    return None
