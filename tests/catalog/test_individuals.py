"""Individuals: codes, merge, split, and the undo of each."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from photoid.catalog import (
    Catalog,
    ImageUpload,
    add_encounter,
    add_individual,
    decide,
    get_individual,
    history,
    images_of,
    list_individuals,
    merge_individuals,
    split_individual,
    undo,
)
from photoid.catalog.audit import Changes
from photoid.catalog.individuals import create_individual
from photoid.errors import PhotoidError

BURST = 24


def _photos(catalog: Catalog, code: str, seeds: list[int], png: Callable[..., bytes]) -> list[int]:
    _, images = add_encounter(
        catalog, [ImageUpload(png(s), f"{s}.png") for s in seeds], individual=code
    )
    return [i.id for i in images]


def test_add_individual_gives_the_next_automatic_code(catalog: Catalog) -> None:
    first = add_individual(catalog, species="lion", notes="scar on the left ear")
    add_individual(catalog, "Ayo")
    add_individual(catalog, "ID-0007")
    last = add_individual(catalog)
    assert (first.code, first.species, first.notes) == ("ID-0001", "lion", "scar on the left ear")
    assert last.code == "ID-0008"  # one past the highest automatic code
    assert [i.code for i in list_individuals(catalog)] == ["Ayo", "ID-0001", "ID-0007", "ID-0008"]
    assert get_individual(catalog, "Ayo").id == 2
    with pytest.raises(PhotoidError, match="'Ayo' already exists"):
        add_individual(catalog, "Ayo")
    with pytest.raises(PhotoidError, match="no individual with code 'Zed'"):
        get_individual(catalog, "Zed")


def test_simultaneous_new_individuals_all_get_distinct_codes(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    add_individual(catalog, "ID-0003")  # typed by hand: automatic codes continue after it
    photos = {
        encounter.id: images[0].id
        for encounter, images in (
            add_encounter(catalog, [ImageUpload(make_png(n), f"{n}.png")]) for n in range(BURST)
        )
    }
    owners: dict[int, int | None] = {}
    added: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(BURST + 2)

    def run(work: Callable[[], None]) -> None:
        try:
            start.wait()
            work()
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    def new_individual(encounter_id: int) -> None:
        owners[encounter_id] = decide(catalog, encounter_id, "new").individual_id

    jobs = [lambda e=e: new_individual(e) for e in photos]
    jobs += [lambda: added.append(add_individual(catalog).code)] * 2
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    individuals = {i.id: i.code for i in list_individuals(catalog)}
    expected = [f"ID-{n:04d}" for n in range(4, 4 + BURST + 2)]
    assert sorted(individuals.values()) == ["ID-0003", *expected]
    assert sorted([individuals[i] for i in owners.values() if i is not None] + added) == expected
    for encounter_id, image_id in photos.items():
        code = individuals[owners[encounter_id] or 0]
        assert [i.id for i in images_of(catalog, code)] == [image_id]


def test_an_automatic_code_is_rolled_back_with_its_transaction(catalog: Catalog) -> None:
    with pytest.raises(RuntimeError, match="stop"), catalog.session() as session:
        assert create_individual(session, Changes(session), None).code == "ID-0001"
        raise RuntimeError("stop")
    assert list_individuals(catalog) == []
    assert add_individual(catalog).code == "ID-0001"


def test_a_code_typed_twice_at_once_is_refused_not_crashed(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_individual(catalog, "Zara")
    with catalog.session() as session:
        # the other reviewer's row commits between this transaction's check and its insert
        monkeypatch.setattr(session, "scalar", lambda *args, **kwargs: None)
        with pytest.raises(PhotoidError, match="'Zara' already exists; pick another code"):
            create_individual(session, Changes(session), "Zara")
        monkeypatch.undo()
        assert create_individual(session, Changes(session), "Zoe").code == "Zoe"
    assert [i.code for i in list_individuals(catalog)] == ["Zara", "Zoe"]


def test_undo_add_individual(catalog: Catalog) -> None:
    add_individual(catalog, "A")
    entry = history(catalog)[0]
    assert (entry.action, entry.summary, entry.actor) == ("add_individual", "add A", "system")
    reverse = undo(catalog, entry.id, actor="ana")
    assert (reverse.action, reverse.undoes_id, reverse.actor) == ("undo", entry.id, "ana")
    assert list_individuals(catalog) == []
    assert history(catalog)[1].undone_by_id == reverse.id
    with pytest.raises(PhotoidError, match=f"already undone by #{reverse.id}"):
        undo(catalog, entry.id)
    with pytest.raises(PhotoidError, match="is itself an undo"):
        undo(catalog, reverse.id)
    with pytest.raises(PhotoidError, match="no change #99"):
        undo(catalog, 99)


def test_undo_refuses_while_a_later_change_depends(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    add_individual(catalog, "A")
    created = history(catalog)[0].id
    _photos(catalog, "A", [1], make_png)
    upload = history(catalog)[0].id
    with pytest.raises(PhotoidError, match=f"later change #{upload} .*undo #{upload} first"):
        undo(catalog, created)
    undo(catalog, upload)
    undo(catalog, created)  # nothing depends on it any more
    assert list_individuals(catalog) == []


def test_merge_moves_the_images_and_undo_moves_them_back(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    add_individual(catalog, "A")
    add_individual(catalog, "B")
    a_images = _photos(catalog, "A", [1], make_png)
    b_images = _photos(catalog, "B", [2, 3], make_png)
    kept = merge_individuals(catalog, "A", "B", actor="ana")
    assert kept.code == "A"
    assert [i.id for i in images_of(catalog, "A")] == a_images + b_images
    assert images_of(catalog, "B") == []
    assert [i.code for i in list_individuals(catalog)] == ["A"]
    assert get_individual(catalog, "B").merged_into_id == kept.id
    assert history(catalog)[0].summary == "merge B into A (2 images)"
    with pytest.raises(PhotoidError, match="'B' was already merged"):
        merge_individuals(catalog, "A", "B")
    with pytest.raises(PhotoidError, match="into itself"):
        merge_individuals(catalog, "A", "A")
    undo(catalog, history(catalog)[0].id)
    assert [i.id for i in images_of(catalog, "A")] == a_images
    assert [i.id for i in images_of(catalog, "B")] == b_images
    assert get_individual(catalog, "B").merged_into_id is None


def test_split_moves_chosen_images_and_undo_removes_the_new_individual(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    add_individual(catalog, "A", species="lion")
    first, second, third = _photos(catalog, "A", [1, 2, 3], make_png)
    new = split_individual(catalog, "A", [first, third])
    assert (new.code, new.species) == ("ID-0001", "lion")
    assert [i.id for i in images_of(catalog, "A")] == [second]
    assert [i.id for i in images_of(catalog, "ID-0001")] == [first, third]
    with pytest.raises(PhotoidError, match=rf"images \[{first}\] are not images of 'A'"):
        split_individual(catalog, "A", [first, second])
    with pytest.raises(PhotoidError, match="at least one image"):
        split_individual(catalog, "A", [])
    undo(catalog, history(catalog)[0].id)
    assert [i.id for i in images_of(catalog, "A")] == [first, second, third]
    assert [i.code for i in list_individuals(catalog)] == ["A"]
