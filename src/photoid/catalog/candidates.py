"""Match candidates: an engine's ranked guesses of which individual a query image shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from photoid.catalog.audit import Changes
from photoid.catalog.db import Catalog
from photoid.catalog.individuals import find_individual
from photoid.catalog.models import Image, MatchCandidate
from photoid.errors import PhotoidError


@dataclass(frozen=True)
class Evidence:
    """Why an engine proposed an individual: its best-matching gallery image (an image id) and
    the matched keypoint pairs ``[[qx, qy, gx, gy], ...]`` in pixels of the query and of that
    image (None when the engine gives none)."""

    best_image_id: int | None = None
    keypoints: list[list[float]] | None = None


def record_candidates(
    catalog: Catalog,
    image_id: int,
    engine: str,
    scored: Sequence[tuple[str, float]],
    actor: str = "system",
    evidence: Mapping[str, Evidence] | None = None,
) -> list[MatchCandidate]:
    """Store ``engine``'s candidates for image ``image_id`` as (individual code, score) pairs.

    They are ranked by score, highest first (rank 1; ties keep their given order), and replace
    the candidates ``engine`` gave this image before. ``evidence`` maps an individual code to
    its best gallery image and matched keypoints. Returns them by rank.
    """
    shown = evidence or {}
    with catalog.session() as session:
        if session.get(Image, image_id) is None:
            raise PhotoidError(f"no image {image_id} in the catalog")
        ids = {code: find_individual(session, code).id for code, _ in scored}
        changes = Changes(session)
        old = session.scalars(
            select(MatchCandidate).where(
                MatchCandidate.image_id == image_id, MatchCandidate.engine == engine
            )
        )
        for row in list(old):
            changes.delete(row)
        ranked = sorted(scored, key=lambda pair: -pair[1])
        rows = []
        for rank, (code, score) in enumerate(ranked, start=1):
            proof = shown.get(code, Evidence())
            row = MatchCandidate(
                image_id=image_id,
                individual_id=ids[code],
                engine=engine,
                score=float(score),
                rank=rank,
                best_image_id=proof.best_image_id,
                keypoints=proof.keypoints,
            )
            changes.add(row)
            rows.append(row)
        changes.record(actor, "candidates", f"{len(rows)} {engine} candidates for image {image_id}")
        return rows


def candidates_for(
    catalog: Catalog, image_id: int, engine: str | None = None
) -> list[MatchCandidate]:
    """The stored candidates of an image (of one ``engine`` or all), by engine then rank."""
    query = select(MatchCandidate).where(MatchCandidate.image_id == image_id)
    if engine is not None:
        query = query.where(MatchCandidate.engine == engine)
    with catalog.session() as session:
        return list(session.scalars(query.order_by(MatchCandidate.engine, MatchCandidate.rank)))
