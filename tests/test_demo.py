"""The demo at a tiny size: report, and a review catalog holding the queries with candidates."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from photoid.catalog import candidates_for, encounter_images, open_catalog, verify_password
from photoid.catalog.models import Encounter, Image, Individual
from photoid.demo import DEMO_USER, DemoSettings, run_demo

# 6 individuals x 3 photos; the open split holds 20% of the individuals (1) out entirely.
TINY = DemoSettings(individuals=6, images_per=3, size=96)


def test_demo_catalog_queues_every_query_with_candidates_and_reruns(tmp_path: Path) -> None:
    first = run_demo(tmp_path, TINY)
    summary = first.evaluation.summary()
    gallery, queries = int(summary["gallery"]), int(summary["queries"])
    assert gallery + queries == 18
    assert first.report.is_file()
    made = first.catalog
    assert made.data_dir == tmp_path / "catalog"
    assert made.awaiting == queries
    catalog = open_catalog(made.data_dir)
    try:
        with catalog.session() as session:
            images = session.scalar(select(func.count()).select_from(Image))
            attached = session.scalar(
                select(func.count()).select_from(Image).where(Image.individual_id.is_not(None))
            )
            individuals = session.scalar(select(func.count()).select_from(Individual))
            queued = list(
                session.scalars(select(Encounter.id).where(Encounter.label.like("demo query %")))
            )
        assert (images, attached) == (18, gallery)
        assert individuals == 5  # the held-out individual is not in the catalog
        assert len(queued) == queries  # one uploaded encounter per query photo
        ranked = 0
        for encounter_id in queued:
            (image,) = encounter_images(catalog, encounter_id)
            assert image.individual_id is None
            rows = candidates_for(catalog, image.id)
            assert rows, f"no candidates for query image {image.original_name}"
            ranked += len(rows)
        assert ranked == made.candidates
        user = verify_password(catalog, DEMO_USER, made.password)
        assert user is not None and user.role == "reviewer"
    finally:
        catalog.close()

    again = run_demo(tmp_path, TINY).catalog  # an existing demo folder: the catalog is rebuilt
    assert (again.awaiting, again.candidates) == (made.awaiting, made.candidates)
    assert again.password != made.password
    catalog = open_catalog(again.data_dir)
    try:
        with catalog.session() as session:
            assert session.scalar(select(func.count()).select_from(Image)) == 18
        assert verify_password(catalog, DEMO_USER, made.password) is None
        assert verify_password(catalog, DEMO_USER, again.password) is not None
    finally:
        catalog.close()
