"""The review page's work tools through the test client: "no match" and "not comparable"
verdicts, the skip link, the undo button (the reviewer's own last decision, reversed through
the undo API route) and the keyboard legend."""

from __future__ import annotations

import re

import pytest
from service_support import Service, png_bytes, seed_individual

from photoid.catalog import images_of, record_candidates
from photoid.service import queries
from photoid.service.reviewing import verdict_label


@pytest.mark.parametrize(
    ("verdict", "label"),
    [
        ("same", "same"),
        ("new", "new"),
        ("not_sure", "not sure"),
        ("no_match", "no match"),
        ("not_comparable", "not comparable"),
    ],
)
def test_each_verdict_reads_under_its_name(verdict: str, label: str) -> None:
    assert verdict_label(verdict) == label


def _two_queries(service: Service) -> str:
    """ID-A (encounter 1) and two uploaded query encounters 2 and 3 (images 2 and 3), each
    with ID-A as its only candidate; returns the reviewer's CSRF token."""
    seed_individual(service.catalog, "ID-A", 1)
    csrf = service.login("reviewer")
    for seed in (2, 3):
        sent = service.client.post(
            "/upload",
            data={"csrf_token": csrf},
            files=[("photos", (f"q{seed}.png", png_bytes(seed), "image/png"))],
        )
        assert sent.status_code in (200, 303), sent.text
        record_candidates(service.catalog, seed, "local", [("ID-A", 0.9)])
    return csrf


def _undo_button(page: str) -> str:
    found = re.search(r'<button type="button" id="undo"[^>]*>', page)
    assert found is not None
    return found.group(0)


def test_no_match_and_not_comparable_are_stored_as_such_and_leave_the_queue(
    service: Service,
) -> None:
    csrf = _two_queries(service)
    first = service.client.post(
        "/review/2",
        data={"csrf_token": csrf, "verdict": "no_match", "individual": "ID-A"},
        follow_redirects=False,
    )
    assert first.headers["location"] == "/review/3"
    second = service.client.post(
        "/review/3",
        data={"csrf_token": csrf, "verdict": "not_comparable", "notes": "blurred"},
        follow_redirects=False,
    )
    assert second.headers["location"] == "/review?done=3"  # 2 left the queue: none waits
    for encounter, verdict, notes in ((2, "no_match", ""), (3, "not_comparable", "blurred")):
        view = queries.encounter_view(service.catalog, encounter)
        assert view is not None
        assert [(d.verdict, d.notes, d.individual_id) for d in view.decisions] == [
            (verdict, notes, None)
        ]
    assert [i.id for i in images_of(service.catalog, "ID-A")] == [1]
    assert queries.list_encounters(service.catalog, "awaiting").total == 0
    decided = queries.list_encounters(service.catalog, "decided").items
    assert [e.id for e in decided] == [3, 2]
    assert "Decided “no match” by reviewer" in service.client.get("/review/2").text
    assert "Decided “not comparable” by reviewer" in service.client.get("/review/3").text


def test_a_second_decision_is_refused_until_the_first_is_undone(service: Service) -> None:
    csrf = _two_queries(service)
    service.client.post("/review/2", data={"csrf_token": csrf, "verdict": "no_match"})
    again = service.client.post(
        "/review/2", data={"csrf_token": csrf, "verdict": "same", "individual": "ID-A"}
    )
    assert again.status_code == 409
    assert "encounter 2 was already decided (&#39;no_match&#39; by reviewer" in again.text
    assert "undo that decision first" in again.text
    button = _undo_button(service.client.get("/review/3").text)
    change = re.search(r'data-change="(\d+)" data-encounter="2"', button)
    assert change is not None, button
    undone = service.client.post(
        f"/api/v1/changes/{change.group(1)}/undo", headers={"X-CSRF-Token": csrf}
    )
    assert undone.status_code == 201, undone.text
    view = queries.encounter_view(service.catalog, 2)
    assert view is not None and view.decisions == []
    matched = service.client.post(
        "/review/2",
        data={"csrf_token": csrf, "verdict": "same", "individual": "ID-A"},
        follow_redirects=False,
    )
    assert matched.status_code == 303
    assert [i.id for i in images_of(service.catalog, "ID-A")] == [1, 2]


def test_skip_opens_the_next_encounter_and_undo_reverses_the_own_last_decision(
    service: Service,
) -> None:
    csrf = _two_queries(service)
    page = service.client.get("/review/2").text
    assert '<a class="button" id="skip" href="/review/3">' in page
    assert " disabled " in _undo_button(page)
    assert 'aria-label="keyboard shortcuts"' in page and "<kbd>z</kbd>" in page
    service.client.post(
        "/review/2", data={"csrf_token": csrf, "verdict": "same", "individual": "ID-A"}
    )
    # an admin's later decision is not the reviewer's to undo from the page
    by_admin = service.client.post(
        "/api/v1/encounters/3/decision",
        json={"verdict": "not_sure"},
        headers=service.auth("admin"),
    )
    assert by_admin.status_code == 201, by_admin.text
    button = _undo_button(service.client.get("/review/3").text)
    change = re.search(r'data-change="(\d+)" data-encounter="2"', button)
    assert change is not None, button
    queue = service.client.get("/review").text
    assert f'data-change="{change.group(1)}"' in queue
    undone = service.client.post(
        f"/api/v1/changes/{change.group(1)}/undo", headers={"X-CSRF-Token": csrf}
    )
    assert undone.status_code == 201, undone.text
    assert [i.id for i in images_of(service.catalog, "ID-A")] == [1]
    assert " disabled " in _undo_button(service.client.get("/review/2").text)


def test_a_viewer_gets_no_decision_tools(service: Service) -> None:
    seed_individual(service.catalog, "ID-A", 1)
    service.login("viewer")
    page = service.client.get("/review/1").text
    assert 'id="undo"' not in page and 'id="skip"' not in page
    assert 'id="panes"' in page  # the viewer still compares photos
    assert 'id="undo"' not in service.client.get("/review").text
