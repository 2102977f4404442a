"""Decisions: a reviewer says an encounter shows a known individual, a new one, or is not sure.

The decision row, the images it attaches and its audit entry commit in one transaction, so a
crash leaves either the whole decision or none of it.
"""

from __future__ import annotations

from sqlalchemy import select

from photoid.catalog.audit import Changes
from photoid.catalog.db import Catalog
from photoid.catalog.individuals import create_individual, find_individual
from photoid.catalog.models import VERDICTS, Decision, Encounter, Image
from photoid.errors import PhotoidError


def decide(
    catalog: Catalog,
    encounter_id: int,
    verdict: str,
    individual: str | None = None,
    decided_by: str = "system",
    user_id: int | None = None,
    notes: str = "",
) -> Decision:
    """Record a decision on an encounter and apply it.

    ``verdict``: ``"same"`` attaches the encounter's images to ``individual`` (a code, needed);
    ``"new"`` creates an individual (code ``individual`` or the next automatic one) and
    attaches them to it;
    ``"not_sure"`` only records the decision. Returns the decision.
    """
    if verdict not in VERDICTS:
        raise PhotoidError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    if verdict == "same" and individual is None:
        raise PhotoidError("a 'same' decision needs the code of the individual it matches")
    if verdict == "not_sure" and individual is not None:
        raise PhotoidError("a 'not_sure' decision names no individual")
    with catalog.session() as session:
        if session.get(Encounter, encounter_id) is None:
            raise PhotoidError(f"no encounter {encounter_id} in the catalog")
        changes = Changes(session)
        target = None
        if verdict == "same" and individual is not None:
            target = find_individual(session, individual)
            if target.merged_into_id is not None:
                raise PhotoidError(
                    f"{individual!r} was merged into another individual; decide on that one"
                )
        elif verdict == "new":
            target = create_individual(session, changes, individual)
        decision = Decision(
            encounter_id=encounter_id,
            verdict=verdict,
            individual_id=None if target is None else target.id,
            decided_by=decided_by,
            user_id=user_id,
            notes=notes,
        )
        changes.add(decision)
        if target is not None:
            images = session.scalars(select(Image).where(Image.encounter_id == encounter_id))
            for image in images:
                changes.touch(image)
                image.individual_id = target.id
        shown = "" if target is None else f" {target.code}"
        changes.record(decided_by, "decide", f"encounter {encounter_id}: {verdict}{shown}")
        return decision
