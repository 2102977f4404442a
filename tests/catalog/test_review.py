"""Encounters with images, match candidates and decisions, and the undo of each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import select

from photoid.catalog import (
    AlreadyDecided,
    Catalog,
    EncounterInfo,
    ImageUpload,
    add_encounter,
    add_individual,
    candidates_for,
    check,
    decide,
    encounter_images,
    history,
    images_of,
    list_individuals,
    record_candidates,
    undo,
)
from photoid.catalog.models import Decision, Image
from photoid.errors import ImageLoadError, PhotoidError


def test_add_encounter_stores_rows_and_files(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    info = EncounterInfo(datetime(2024, 5, 1, 10, 30), "Masai Mara", "ana", "at dawn")
    encounter, images = add_encounter(
        catalog,
        [
            ImageUpload(make_png(1, size=(12, 8)), "left.png", (1, 2, 10, 5), "left"),
            ImageUpload(make_png(2, size=(6, 9)), "right.png"),
        ],
        info,
    )
    assert (encounter.date, encounter.location, encounter.observer, encounter.notes) == (
        datetime(2024, 5, 1, 10, 30),
        "Masai Mara",
        "ana",
        "at dawn",
    )
    stored = encounter_images(catalog, encounter.id)
    assert [i.id for i in stored] == [i.id for i in images]
    left, right = stored
    assert (left.width, left.height, left.bbox, left.viewpoint) == (12, 8, (1, 2, 10, 5), "left")
    assert (right.width, right.height, right.bbox, right.individual_id) == (6, 9, None, None)
    assert catalog.store.path(left.file).read_bytes() == make_png(1, size=(12, 8))
    assert history(catalog)[0].summary == f"encounter {encounter.id} with 2 images"


def test_one_bad_photo_adds_nothing(catalog: Catalog, make_png: Callable[..., bytes]) -> None:
    uploads = [ImageUpload(make_png(1), "good.png"), ImageUpload(b"GIF89a broken", "bad.gif")]
    with pytest.raises(ImageLoadError, match=r"^bad\.gif: "):
        add_encounter(catalog, uploads)
    with pytest.raises(PhotoidError, match="at least one photo"):
        add_encounter(catalog, [])
    assert history(catalog) == []


def test_candidates_are_ranked_by_score_and_replaced(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    for code in ("A", "B", "C"):
        add_individual(catalog, code)
    _, (image,) = add_encounter(catalog, [ImageUpload(make_png(1), "q.png")])
    record_candidates(catalog, image.id, "deep", [("B", 0.4), ("A", 0.9), ("C", 0.1)])
    record_candidates(catalog, image.id, "local", [("C", 12.0)])
    ranked = candidates_for(catalog, image.id)
    codes = {i.id: i.code for i in list_individuals(catalog)}
    assert [(c.engine, c.rank, codes[c.individual_id], c.score) for c in ranked] == [
        ("deep", 1, "A", 0.9),
        ("deep", 2, "B", 0.4),
        ("deep", 3, "C", 0.1),
        ("local", 1, "C", 12.0),
    ]
    record_candidates(catalog, image.id, "deep", [("C", 0.7)])
    again = candidates_for(catalog, image.id, "deep")
    assert [(c.rank, codes[c.individual_id]) for c in again] == [(1, "C")]
    undo(catalog, history(catalog)[0].id)  # the replaced candidates come back, same ids
    restored = candidates_for(catalog, image.id, "deep")
    assert [c.id for c in restored] == [c.id for c in ranked[:3]]
    assert [(c.rank, codes[c.individual_id], c.score) for c in restored] == [
        (1, "A", 0.9),
        (2, "B", 0.4),
        (3, "C", 0.1),
    ]
    with pytest.raises(PhotoidError, match="no individual with code 'Z'"):
        record_candidates(catalog, image.id, "deep", [("Z", 1.0)])


def test_decide_same_attaches_the_encounter(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    add_individual(catalog, "A")
    encounter, images = add_encounter(
        catalog, [ImageUpload(make_png(1), "1.png"), ImageUpload(make_png(2), "2.png")]
    )
    decision = decide(catalog, encounter.id, "same", "A", decided_by="ana", notes="ear notch")
    assert (decision.verdict, decision.decided_by, decision.notes) == ("same", "ana", "ear notch")
    assert isinstance(decision.decided_at, datetime)
    assert [i.id for i in images_of(catalog, "A")] == [i.id for i in images]
    assert history(catalog)[0].summary == f"encounter {encounter.id}: same A"
    undo(catalog, history(catalog)[0].id)
    assert images_of(catalog, "A") == []
    with catalog.session() as session:
        assert session.get(Decision, decision.id) is None


def test_decide_new_creates_the_next_individual(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    add_individual(catalog)  # ID-0001
    encounter, (image,) = add_encounter(catalog, [ImageUpload(make_png(1), "1.png")])
    decision = decide(catalog, encounter.id, "new", decided_by="ana")
    assert [i.code for i in list_individuals(catalog)] == ["ID-0001", "ID-0002"]
    assert [i.id for i in images_of(catalog, "ID-0002")] == [image.id]
    assert decision.individual_id == list_individuals(catalog)[1].id
    undo(catalog, history(catalog)[0].id)
    assert [i.code for i in list_individuals(catalog)] == ["ID-0001"]
    assert encounter_images(catalog, encounter.id)[0].individual_id is None


def test_decide_not_sure_changes_no_image(catalog: Catalog, make_png: Callable[..., bytes]) -> None:
    encounter, _ = add_encounter(catalog, [ImageUpload(make_png(1), "1.png")])
    decision = decide(catalog, encounter.id, "not_sure", decided_by="ana")
    assert (decision.verdict, decision.individual_id) == ("not_sure", None)
    assert encounter_images(catalog, encounter.id)[0].individual_id is None
    entry = history(catalog)[0]
    assert set(entry.after) == {"decisions"}
    undo(catalog, entry.id)
    assert history(catalog)[0].summary == f"undo #{entry.id} (decide)"


@pytest.mark.parametrize("verdict", ["no_match", "not_comparable"])
def test_decide_no_match_or_not_comparable_records_it_and_assigns_nothing(
    catalog: Catalog, make_png: Callable[..., bytes], verdict: str
) -> None:
    add_individual(catalog, "A")
    encounter, _ = add_encounter(catalog, [ImageUpload(make_png(1), "1.png")])
    decision = decide(catalog, encounter.id, verdict, decided_by="ana", notes="left flank")
    assert (decision.verdict, decision.individual_id, decision.notes) == (
        verdict,
        None,
        "left flank",
    )
    assert encounter_images(catalog, encounter.id)[0].individual_id is None
    assert images_of(catalog, "A") == []
    assert check(catalog) == []  # naming no individual is right for these verdicts
    entry = history(catalog)[0]
    assert (entry.summary, set(entry.after)) == (
        f"encounter {encounter.id}: {verdict}",
        {"decisions"},
    )
    undo(catalog, entry.id)
    with catalog.session() as session:
        assert session.get(Decision, decision.id) is None


@pytest.mark.parametrize("verdict", ["not_sure", "no_match", "not_comparable"])
def test_decide_refuses_a_code_for_a_verdict_that_names_no_individual(
    catalog: Catalog, make_png: Callable[..., bytes], verdict: str
) -> None:
    add_individual(catalog, "A")
    encounter, _ = add_encounter(catalog, [ImageUpload(make_png(1), "1.png")])
    with pytest.raises(PhotoidError, match=f"a '{verdict}' decision names no individual; leave"):
        decide(catalog, encounter.id, verdict, "A")
    assert len(history(catalog)) == 2  # the individual and the upload, no decision


@pytest.mark.parametrize("first", ["same", "new", "no_match", "not_comparable"])
def test_a_second_decision_is_refused_until_the_first_is_undone(
    catalog: Catalog, make_png: Callable[..., bytes], first: str
) -> None:
    add_individual(catalog, "A")
    encounter, (image,) = add_encounter(catalog, [ImageUpload(make_png(1), "1.png")])
    decision = decide(catalog, encounter.id, first, "A" if first == "same" else None, "ana")
    change = history(catalog)[0].id
    for second in ("same", "new", "not_sure", "no_match", "not_comparable"):
        with pytest.raises(
            AlreadyDecided,
            match=rf"^encounter {encounter.id} was already decided \('{first}' by ana, "
            rf"decision {decision.id}\); undo that decision first to decide again$",
        ):
            decide(catalog, encounter.id, second, "A" if second == "same" else None)
    assert history(catalog)[0].id == change
    undo(catalog, change)
    decide(catalog, encounter.id, "same", "A")
    assert [i.id for i in images_of(catalog, "A")] == [image.id]


def test_not_sure_may_be_followed_by_other_decisions(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    add_individual(catalog, "A")
    encounter, (image,) = add_encounter(catalog, [ImageUpload(make_png(1), "1.png")])
    decide(catalog, encounter.id, "not_sure", decided_by="ana")
    decide(catalog, encounter.id, "not_sure", decided_by="bo")
    decide(catalog, encounter.id, "same", "A", decided_by="cy")
    with catalog.session() as session:
        rows = session.scalars(select(Decision).order_by(Decision.id))
        assert [(d.verdict, d.decided_by) for d in rows] == [
            ("not_sure", "ana"),
            ("not_sure", "bo"),
            ("same", "cy"),
        ]
    assert [i.id for i in images_of(catalog, "A")] == [image.id]


def test_decide_refuses_what_it_cannot_do(catalog: Catalog, make_png: Callable[..., bytes]) -> None:
    encounter, _ = add_encounter(catalog, [ImageUpload(make_png(1), "1.png")])
    with pytest.raises(
        PhotoidError, match="'maybe' is not one of same, new, not_sure, no_match, not_comparable"
    ):
        decide(catalog, encounter.id, "maybe")
    with pytest.raises(PhotoidError, match="needs the code"):
        decide(catalog, encounter.id, "same")
    with pytest.raises(PhotoidError, match="no encounter 99"):
        decide(catalog, 99, "new")
    with pytest.raises(PhotoidError, match="no individual with code 'Q'"):
        decide(catalog, encounter.id, "same", "Q")
    assert len(history(catalog)) == 1  # only the upload


def test_undo_add_encounter_removes_its_rows(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    encounter, _ = add_encounter(catalog, [ImageUpload(make_png(1), "1.png")])
    undo(catalog, history(catalog)[0].id)
    with pytest.raises(PhotoidError, match=f"no encounter {encounter.id} in the catalog"):
        encounter_images(catalog, encounter.id)
    with catalog.session() as session:
        assert session.scalars(select(Image)).all() == []


def test_open_changes_are_one_actors_not_undone_ones_within_the_latest(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    from photoid.catalog.audit import open_changes

    decided = []
    for n, who in enumerate(["ana", "ben", "ana", "ana"]):
        encounter, _ = add_encounter(catalog, [ImageUpload(make_png(n + 1), f"{n}.png")])
        decide(catalog, encounter.id, "no_match", decided_by=who)
        decided.append(history(catalog)[0].id)
    undo(catalog, decided[3], actor="ana")  # ana's latest decision is undone
    assert [e.id for e in open_changes(catalog, "ana", "decide", 100)] == [decided[2], decided[0]]
    assert [e.id for e in open_changes(catalog, "ben", "decide", 100)] == [decided[1]]
    # The latest 4 changes: the undo, decision 3, encounter 3's upload, decision 2.
    assert [e.id for e in open_changes(catalog, "ana", "decide", 4)] == [decided[2]]
    assert open_changes(catalog, "ana", "decide", 3) == []
