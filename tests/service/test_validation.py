"""Bad input is answered 422 at the edge on every database, never 500: text longer than its
column, integers past the database's, and individual codes holding ``/`` are reachable."""

from __future__ import annotations

from service_support import Service, png_bytes, seed_individual
from test_api import assert_error

from photoid.catalog import list_individuals

LONG = "x" * 201  # codes, labels and places are String(200)
HUGE = 10**20  # past every database integer


def test_over_long_text_is_refused_on_every_database(any_service: Service) -> None:
    service = any_service
    image = seed_individual(service.catalog, "ID-A", 1)
    reviewer = service.auth("reviewer")
    for path, body in (
        ("/api/v1/individuals/ID-A/split", {"image_ids": [image], "new_code": LONG}),
        ("/api/v1/individuals/ID-A/merge", {"absorb": LONG}),
        ("/api/v1/encounters/1/decision", {"verdict": "new", "individual": LONG}),
        ("/api/v1/tokens", {"label": LONG}),
    ):
        answer = service.client.post(path, json=body, headers=reviewer)
        error = assert_error(answer, 422, "invalid")
        assert "at most 200 characters" in error["message"], path
    upload = service.client.post(
        "/api/v1/encounters",
        files=[("photos", ("a.png", png_bytes(2), "image/png"))],
        data={"observer": LONG},
        headers=reviewer,
    )
    assert assert_error(upload, 422, "invalid")["details"][0]["field"] == "body.observer"
    named = service.client.post(
        "/api/v1/encounters",
        files=[("photos", ("n" * 497 + ".png", png_bytes(3), "image/png"))],
        headers=reviewer,
    )
    assert "longer than 500 characters" in assert_error(named, 422, "invalid")["message"]
    assert [i.code for i in list_individuals(service.catalog)] == ["ID-A"]
    assert len(list(service.catalog.store.files())) == 1


def test_huge_integers_are_refused_on_every_database(any_service: Service) -> None:
    service = any_service
    seed_individual(service.catalog, "ID-A", 1)
    viewer = service.auth("viewer")
    for path in (
        f"/api/v1/encounters?offset={HUGE}",
        f"/api/v1/individuals?offset={HUGE}",
        f"/api/v1/encounters/{HUGE}",
        f"/api/v1/encounters/{HUGE}/candidates",
        f"/api/v1/images/{HUGE}",
        f"/api/v1/images/1/matches/{HUGE}.png",
        f"/api/v1/images/{2**31}",
    ):
        assert_error(service.client.get(path, headers=viewer), 422, "invalid")
    split = service.client.post(
        "/api/v1/individuals/ID-A/split",
        json={"image_ids": [HUGE]},
        headers=service.auth("reviewer"),
    )
    assert_error(split, 422, "invalid")
    service.login("viewer")
    for page in (f"/review?offset={HUGE}", f"/review?done={HUGE}", f"/review/{HUGE}"):
        assert_error(service.client.get(page), 422, "invalid")
    assert service.client.get(f"/api/v1/images/{2**31 - 1}", headers=viewer).status_code == 404


def test_codes_with_slashes_are_reachable(service: Service) -> None:
    seed_individual(service.catalog, "M/23", 1)
    seed_individual(service.catalog, "odd ?#%", 2)
    viewer = service.auth("viewer")
    for path in ("/api/v1/individuals/M/23", "/api/v1/individuals/M%2F23"):
        answer = service.client.get(path, headers=viewer)
        assert (answer.status_code, answer.json()["code"]) == (200, "M/23"), path
    odd = service.client.get("/api/v1/individuals/odd%20%3F%23%25", headers=viewer)
    assert odd.json()["code"] == "odd ?#%"
    merged = service.client.post(
        "/api/v1/individuals/M/23/merge", json={"absorb": "odd ?#%"}, headers=service.auth("admin")
    )
    assert (merged.status_code, merged.json()["code"]) == (200, "M/23")
    service.login("viewer")
    listing = service.client.get("/individuals").text
    assert 'href="/individuals/M%2F23"' in listing
    page = service.client.get("/individuals/M%2F23")
    assert page.status_code == 200 and "<h1>M/23" in page.text
    assert_error(service.client.get("/api/v1/individuals/M/24", headers=viewer), 404, "not_found")


def test_control_characters_in_short_text_are_refused(service: Service) -> None:
    image = seed_individual(service.catalog, "ID-A", 1)
    reviewer = service.auth("reviewer")
    for path, body in (
        ("/api/v1/individuals/ID-A/split", {"image_ids": [image], "new_code": "ID\nB"}),
        ("/api/v1/individuals/ID-A/merge", {"absorb": "ID-\x00A"}),
        ("/api/v1/encounters/1/decision", {"verdict": "new", "individual": "ID\rC"}),
        ("/api/v1/tokens", {"label": "lap\x7ftop"}),
    ):
        answer = service.client.post(path, json=body, headers=reviewer)
        assert_error(answer, 422, "invalid")
    upload = service.client.post(
        "/api/v1/encounters",
        files=[("photos", ("a.png", png_bytes(2), "image/png"))],
        data={"label": "first\nsighting"},
        headers=reviewer,
    )
    assert assert_error(upload, 422, "invalid")["details"][0]["field"] == "body.label"
    assert [i.code for i in list_individuals(service.catalog)] == ["ID-A"]
