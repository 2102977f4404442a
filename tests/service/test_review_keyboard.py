"""A reviewer's working session in headless Chromium, on the keyboard alone after logging in:
ten encounters decided, skipped, undone and decided again, with the zoom and the keypoints
overlay used on the way; then the catalog holds exactly the decisions planned by hand.

Candidates are recorded by hand (no engine runs), so which key picks which individual is
known in advance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import PASSWORD, csp_violations, launch, log_in, require_chromium, serving
from playwright.sync_api import Page, sync_playwright

from photoid.catalog import Catalog, add_user, images_of, import_dataset
from photoid.catalog.audit import history
from photoid.catalog.candidates import Evidence, record_candidates
from photoid.data.csvio import read_metadata_csv, write_metadata_csv
from photoid.data.synth import generate
from photoid.service import queries
from photoid.service.app import create_app
from photoid.service.settings import Settings

PAIRS = [[10.0, 12.0, 20.0, 22.0], [40.0, 30.0, 35.0, 28.0]]
ORDERS = {0: (0, 1, 2), 1: (1, 0, 2), 2: (1, 2, 0), 7: (1, 0, 2), 9: (1, 2, 0)}
"""Encounter position in the queue -> its candidates best first, as indices into (its true
individual, the next individual by code, the one after); the others get (0, 1, 2)."""


@dataclass
class Session:
    base: str
    catalog: Catalog
    encounters: list[int]  # the ten awaiting review, queue order
    truth: list[str]  # the individual each one shows
    others: list[tuple[str, str]]  # the two wrong candidates of each


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    """Five individuals with one labelled photo each and ten photos of them awaiting review
    (one encounter each), every one with three candidates recorded by hand."""
    require_chromium()
    dataset = tmp_path / "synth"
    metadata = generate(dataset, individuals=5, images_per=3, seed=1, size=96)
    table = read_metadata_csv(metadata)
    codes = sorted(table["identity"].unique())
    truth_of = dict(zip(table["image"], table["identity"], strict=True))
    labelled = table.groupby("identity")["image"].transform("first") == table["image"]
    table.loc[~labelled, "identity"] = "unknown"
    table["encounter"] = [f"e{row}" for row in range(len(table))]  # one photo each
    write_metadata_csv(table, metadata)
    app = create_app(Settings(data_dir=tmp_path / "data", start_worker=False))
    catalog: Catalog = app.state.catalog
    import_dataset(catalog, dataset)
    add_user(catalog, "rita", "reviewer", PASSWORD)
    best = {code: images_of(catalog, code)[0].id for code in codes}
    waiting = queries.list_encounters(catalog, "awaiting", 50, 0).items
    assert len(waiting) == 10
    truth, others = [], []
    for position, encounter in enumerate(waiting):
        view = queries.encounter_view(catalog, encounter.id, top=0)
        assert view is not None
        image = view.images[0]
        true = truth_of[image.original_name]
        after = codes.index(true)
        wrong = [codes[(after + 1) % len(codes)], codes[(after + 2) % len(codes)]]
        ranked = [true, *wrong]
        order = ORDERS.get(position, (0, 1, 2))
        scored = [(ranked[who], 0.9 - 0.2 * place) for place, who in enumerate(order)]
        evidence = {code: Evidence(best[code], PAIRS) for code in ranked}
        record_candidates(catalog, image.id, "local", scored, evidence=evidence)
        truth.append(true)
        others.append((wrong[0], wrong[1]))
    with serving(app) as base:
        yield Session(base, catalog, [e.id for e in waiting], truth, others)


def _press(page: Page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def _selected(page: Page) -> str | None:
    return page.locator("input[name=individual]:checked").get_attribute("value")


def test_ten_encounters_reviewed_with_the_keyboard_alone(session: Session) -> None:
    base, e, truth, others = session.base, session.encounters, session.truth, session.others
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            violations = csp_violations(page)
            log_in(page, base, "rita")
            page.goto(f"{base}/review/{e[0]}")

            # 1: the best candidate is right; look at it zoomed with its keypoints first
            assert _selected(page) == truth[0]
            page.wait_for_function("document.getElementById('candidate-view').naturalWidth > 0")
            _press(page, "p")
            assert page.locator("#overlay").is_visible()
            assert page.locator("#overlay circle").count() == 4
            assert page.locator("#overlay line").count() == 2
            _press(page, "+", "+")
            assert page.locator("#zoom-level").inner_text() == "156%"
            transforms = page.locator(".stage").evaluate_all(
                "els => els.map(e => e.style.transform)"
            )
            assert transforms[0] == transforms[1] and "scale(1.5625)" in transforms[0]
            _press(page, "Shift+ArrowRight", "0")
            assert page.locator("#zoom-level").inner_text() == "100%"
            _press(page, "p")
            # The keypoints go; the animals' boxes (the synthetic photos have them) stay framed.
            assert page.locator("#overlay circle").count() == 0
            assert page.locator("#overlay line").count() == 0
            assert page.locator("#overlay rect.animal-box").count() == 2
            _press(page, "s")
            page.wait_for_url(f"{base}/review/{e[1]}")
            # 2: the right one is second; 3: third, reached with j j
            _press(page, "2")
            assert _selected(page) == truth[1]
            _press(page, "s", "s")  # a double press decides once
            page.wait_for_url(f"{base}/review/{e[2]}")
            _press(page, "j", "j")
            assert _selected(page) == truth[2]
            assert "Candidate 3: " + truth[2] in page.locator("#candidate-label").inner_text()
            _press(page, "s")
            page.wait_for_url(f"{base}/review/{e[3]}")
            # 4: a new individual; 5: no match; 6: not comparable; 7: skipped
            _press(page, "n")
            page.wait_for_url(f"{base}/review/{e[4]}")
            _press(page, "x")
            page.wait_for_url(f"{base}/review/{e[5]}")
            _press(page, "c")
            page.wait_for_url(f"{base}/review/{e[6]}")
            _press(page, "l")
            page.wait_for_url(f"{base}/review/{e[7]}")
            # 8: matched in haste to the first (wrong) candidate, undone from the next page
            _press(page, "s")
            page.wait_for_url(f"{base}/review/{e[8]}")
            assert page.locator("#undo").get_attribute("data-encounter") == str(e[7])
            _press(page, "z")
            page.wait_for_url(f"{base}/review/{e[7]}")
            _press(page, "2", "s")
            page.wait_for_url(f"{base}/review/{e[8]}")
            # 9: not sure; 10: the third, via 3 k j
            _press(page, "u")
            page.wait_for_url(f"{base}/review/{e[9]}")
            _press(page, "3", "k")
            assert _selected(page) == others[9][1]
            _press(page, "j", "s")
            # back round to the oldest still waiting: the skipped one ("no match" and "not
            # comparable" took theirs out of the queue)
            page.wait_for_url(f"{base}/review/{e[6]}")
            assert violations == []
        finally:
            browser.close()

    catalog = session.catalog

    def state(position: int) -> tuple[list[tuple[str, str]], str | None]:
        view = queries.encounter_view(catalog, e[position], top=0)
        assert view is not None
        owner = view.owners.get(view.images[0].id)
        return [(d.verdict, d.notes) for d in view.decisions], owner.code if owner else None

    for matched in (0, 1, 2, 7, 9):
        assert state(matched) == ([("same", "")], truth[matched]), matched
    decisions, new_code = state(3)
    assert decisions == [("new", "")] and new_code not in truth
    assert state(4) == ([("no_match", "")], None)
    assert state(5) == ([("not_comparable", "")], None)
    assert state(6) == ([], None)
    assert state(8) == ([("not_sure", "")], None)
    assert queries.search_individuals(catalog).total == 6
    undos = [entry for entry in history(catalog, 100) if entry.action == "undo"]
    assert [(u.actor, u.undoes_id is not None) for u in undos] == [("rita", True)]
    undone = next(entry for entry in history(catalog, 100) if entry.id == undos[0].undoes_id)
    assert undone.summary == f"encounter {e[7]}: same {others[7][0]}"
    waiting = queries.list_encounters(catalog, "awaiting", 50, 0).items
    assert [w.id for w in waiting] == [e[6], e[8]]
