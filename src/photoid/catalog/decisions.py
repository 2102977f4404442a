"""Decisions: a reviewer says an encounter shows a known individual, a new one, none of the
candidates, that its photos cannot be compared, or is not sure.

The decision row, the images it attaches and its audit entry commit in one transaction, so a
crash leaves either the whole decision or none of it.
"""

from __future__ import annotations

from sqlalchemy import select

from photoid.catalog.audit import Changes
from photoid.catalog.db import Catalog
from photoid.catalog.individuals import create_individual, find_individual
from photoid.catalog.models import (
    NAMING_VERDICTS,
    SETTLING_VERDICTS,
    VERDICTS,
    Decision,
    Encounter,
    Image,
)
from photoid.errors import PhotoidError


class AlreadyDecided(PhotoidError):
    """The encounter already has a decision in effect; undo it before deciding again."""


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
    attaches them to it. The other verdicts name no individual and change no image:
    ``"no_match"`` (none of the candidates is the animal) and ``"not_comparable"`` (the
    photos cannot be compared: blurred, other side) take the encounter out of the review queue
    like ``same`` and ``new`` (a ``no_match`` encounter keeps its photos unassigned, for
    someone to make a new individual of later); ``"not_sure"`` leaves it in the queue for a
    second look. Returns the decision.

    Refuses (:class:`AlreadyDecided`) a decision on an encounter that already has a decision
    other than ``not_sure`` in effect (undo that one first); ``not_sure`` decisions may be
    followed by others, since they leave the encounter waiting.
    """
    if verdict not in VERDICTS:
        raise PhotoidError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    if verdict == "same" and individual is None:
        raise PhotoidError("a 'same' decision needs the code of the individual it matches")
    if verdict not in NAMING_VERDICTS and individual is not None:
        raise PhotoidError(
            f"a {verdict!r} decision names no individual; leave out the code {individual!r}"
        )
    with catalog.session() as session:
        if session.get(Encounter, encounter_id) is None:
            raise PhotoidError(f"no encounter {encounter_id} in the catalog")
        earlier = session.scalar(
            select(Decision)
            .where(Decision.encounter_id == encounter_id)
            .where(Decision.verdict.in_(SETTLING_VERDICTS))
            .order_by(Decision.id)
        )
        if earlier is not None:
            raise AlreadyDecided(
                f"encounter {encounter_id} was already decided ({earlier.verdict!r} by "
                f"{earlier.decided_by}, decision {earlier.id}); undo that decision first to "
                "decide again"
            )
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
