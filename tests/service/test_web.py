"""Web pages through the test client: login, CSRF on every form, roles, upload refusals,
the review page's candidates and the keypoint picture."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image as PILImage
from service_support import PASSWORD, Service, csrf_of, png_bytes, seed_individual

from photoid.catalog import Evidence, images_of, list_individuals, record_candidates


def test_pages_need_a_session(service: Service) -> None:
    answer = service.client.get("/review/1", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login?next=/review/1")
    token = csrf_of(service.client.get("/login").text)
    refused = service.client.post(
        "/login", data={"username": "viewer", "password": "nope-nope", "csrf_token": token}
    )
    assert refused.status_code == 401
    assert "Wrong user name or password." in refused.text
    no_csrf = service.client.post("/login", data={"username": "viewer", "password": PASSWORD})
    assert no_csrf.status_code == 403
    assert no_csrf.json()["error"]["code"] == "csrf"


def test_csrf_missing_or_wrong_is_refused(service: Service) -> None:
    seed_individual(service.catalog, "ID-A", 1)
    csrf = service.login("reviewer")
    form = {"verdict": "new", "new_code": "ID-NEW"}
    for extra in ({}, {"csrf_token": "forged"}):
        answer = service.client.post("/review/1", data={**form, **extra})
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "csrf"
    # the API with only the session cookie needs the token too (header), a Bearer token does not
    api = service.client.post("/api/v1/encounters/1/decision", json={"verdict": "not_sure"})
    assert api.json()["error"]["code"] == "csrf"
    assert [i.code for i in list_individuals(service.catalog)] == ["ID-A"]
    headed = service.client.post(
        "/api/v1/encounters/1/decision",
        json={"verdict": "not_sure"},
        headers={"X-CSRF-Token": csrf},
    )
    assert headed.status_code == 201, headed.text
    done = service.client.post(
        "/review/1", data={**form, "csrf_token": csrf}, follow_redirects=False
    )
    assert (done.status_code, done.headers["location"]) == (303, "/review?done=1")
    assert [i.code for i in list_individuals(service.catalog)] == ["ID-A", "ID-NEW"]


def test_viewer_sees_no_buttons_and_cannot_post(service: Service) -> None:
    seed_individual(service.catalog, "ID-A", 1)
    csrf = service.login("viewer")
    page = service.client.get("/review/1")
    assert page.status_code == 200
    assert 'value="same"' not in page.text and 'id="decision"' not in page.text
    assert "deciding needs the reviewer role" in page.text
    forged = service.client.post("/review/1", data={"verdict": "new", "csrf_token": csrf})
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "forbidden"
    assert service.client.get("/upload").status_code == 403
    assert [i.code for i in list_individuals(service.catalog)] == ["ID-A"]


def test_upload_page_refuses_a_bad_photo_with_its_name(service: Service) -> None:
    csrf = service.login("reviewer")
    answer = service.client.post(
        "/upload",
        data={"csrf_token": csrf, "location": "Bay"},
        files=[("photos", ("fake.jpg", b"GIF89a but not really", "image/jpeg"))],
    )
    assert answer.status_code == 422
    assert "fake.jpg: not a readable image" in answer.text
    assert list(service.catalog.store.files()) == []
    good = service.client.post(
        "/upload",
        data={"csrf_token": csrf, "date": "2024-06-02", "location": "Bay"},
        files=[("photos", ("ok.png", png_bytes(4), "image/png"))],
        follow_redirects=False,
    )
    assert (good.status_code, good.headers["location"]) == (303, "/review/1")


def _upload_query(service: Service) -> str:
    """Log in as the reviewer and upload one query photo (image 3: two are seeded first);
    returns the session's CSRF token."""
    csrf = service.login("reviewer")
    service.client.post(
        "/upload",
        data={"csrf_token": csrf},
        files=[("photos", ("q.png", png_bytes(3, size=(24, 16)), "image/png"))],
    )
    return csrf


def test_review_page_shows_candidates_scores_and_keypoints(service: Service) -> None:
    gallery = seed_individual(service.catalog, "ID-A", 1, name="Asha")
    seed_individual(service.catalog, "ID-B", 2)
    csrf = _upload_query(service)
    pairs = [[1.0, 1.0, 2.0, 3.0], [20.0, 10.0, 9.0, 6.0]]
    rows = record_candidates(
        service.catalog,
        3,
        "local",
        [("ID-A", 0.9), ("ID-B", 0.1)],
        evidence={"ID-A": Evidence(gallery, pairs)},
    )
    page = service.client.get("/review/3").text
    assert page.index("ID-A") < page.index("ID-B")
    assert page.count("raw score") == 2 and "0.900" in page
    assert f"/api/v1/images/3/matches/{rows[0].id}.png" in page
    assert f"/matches/{rows[1].id}.png" not in page  # ID-B came with no keypoints
    picture = service.client.get(f"/api/v1/images/3/matches/{rows[0].id}.png")
    assert picture.headers["content-type"] == "image/png"
    drawn = np.asarray(PILImage.open(io.BytesIO(picture.content)))
    # both photos scaled to 320 px high: 24x16 -> 480 wide, 12x8 -> 480 wide, 8 px apart
    assert drawn.shape == (320, 968, 3)
    assert service.client.get(f"/api/v1/images/3/matches/{rows[1].id}.png").status_code == 404
    decided = service.client.post(
        "/review/3",
        data={"csrf_token": csrf, "verdict": "same", "individual": "ID-A"},
        follow_redirects=False,
    )
    assert decided.headers["location"] == "/review?done=3"
    assert [i.id for i in images_of(service.catalog, "ID-A")] == [gallery, 3]
    history = service.client.get("/individuals/ID-A").text
    assert "Sightings (2)" in history and "Photo history (2)" in history


def test_calibrated_candidates_replace_the_raw_ones_on_the_page(service: Service) -> None:
    """The worker stores an engine's ranking twice: raw scores under "local" and probabilities
    under "local calibrated"; the review page shows the probabilities only."""
    seed_individual(service.catalog, "ID-A", 1)
    seed_individual(service.catalog, "ID-B", 2)
    _upload_query(service)
    record_candidates(service.catalog, 3, "local", [("ID-A", 41.5), ("ID-B", 7.25)])
    record_candidates(service.catalog, 3, "local calibrated", [("ID-A", 0.83), ("ID-B", 0.12)])
    page = service.client.get("/review/3").text
    assert page.index("ID-A") < page.index("ID-B")
    assert page.count("calibrated probability") == 2 and "raw score" not in page
    assert "83% · very likely</strong> this individual" in page
    assert "12% · unlikely</strong> this individual" in page
    assert 'title="0.830"' in page  # the exact value on hover
    assert "41.500" not in page and "7.250" not in page


def test_login_never_redirects_off_site_and_pages_refuse_framing(service: Service) -> None:
    page = service.client.get("/login")
    assert page.headers["X-Frame-Options"] == "DENY"
    token = csrf_of(page.text)
    for target, expected in (("//evil.example", "/review"), ("/\\evil.example", "/review")):
        answer = service.client.post(
            "/login",
            data={"username": "viewer", "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert (answer.status_code, answer.headers["location"]) == (303, expected)
        token = csrf_of(service.client.get("/review").text)
    kept = service.client.post(
        "/login",
        data={
            "username": "viewer",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/individuals",
        },
        follow_redirects=False,
    )
    assert kept.headers["location"] == "/individuals"


def test_after_a_decision_the_next_waiting_encounter_opens(service: Service) -> None:
    for seed in (1, 2, 3):
        service.client.post(
            "/api/v1/encounters",
            files=[("photos", (f"{seed}.png", png_bytes(seed), "image/png"))],
            headers=service.auth("reviewer"),
        )
    csrf = service.login("reviewer")
    # not sure keeps an encounter waiting, so the queue wraps round past it, never to itself
    for encounter, verdict, following in ((2, "not_sure", 3), (3, "not_sure", 1), (1, "new", 2)):
        answer = service.client.post(
            f"/review/{encounter}",
            data={"csrf_token": csrf, "verdict": verdict},
            follow_redirects=False,
        )
        assert answer.headers["location"] == f"/review/{following}"


def test_a_decided_page_marks_the_chosen_candidate_not_the_first(service: Service) -> None:
    seed_individual(service.catalog, "ID-A", 1)
    seed_individual(service.catalog, "ID-B", 2)
    csrf = _upload_query(service)
    record_candidates(service.catalog, 3, "local", [("ID-A", 0.9), ("ID-B", 0.1)])
    waiting = service.client.get("/review/3").text
    assert "chosen" not in waiting.split('class="candidate-list"')[1]
    assert 'value="ID-A" data-key="1" checked' in waiting  # undecided: the best one is ready
    service.client.post(
        "/review/3", data={"csrf_token": csrf, "verdict": "same", "individual": "ID-B"}
    )
    page = service.client.get("/review/3").text
    assert '<li class="candidate chosen" data-code="ID-B">' in page
    assert '<li class="candidate" data-code="ID-A">' in page
    assert 'value="ID-B" data-key="2" checked' in page
    assert 'value="ID-A" data-key="1" checked' not in page
    assert page.count('class="decided"') == 1


def test_the_queue_shows_a_thumbnail_of_each_encounter(service: Service) -> None:
    csrf = service.login("reviewer")
    buffer = io.BytesIO()
    PILImage.new("RGB", (640, 320), (30, 90, 40)).save(buffer, format="PNG")  # a few hundred bytes
    big = buffer.getvalue()
    sent = service.client.post(
        "/upload", data={"csrf_token": csrf}, files=[("photos", ("big.png", big, "image/png"))]
    )
    assert sent.status_code in (200, 303), sent.text
    queue = service.client.get("/review").text
    assert '<img class="thumb" loading="lazy" src="/api/v1/images/1/thumbnail.jpg"' in queue
    thumb = service.client.get("/api/v1/images/1/thumbnail.jpg")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(thumb.content)).size == (160, 80)  # 640x320 -> 160 wide
    assert service.client.get("/api/v1/images/99/thumbnail.jpg").status_code == 404
    service.client.cookies.clear()
    assert service.client.get("/api/v1/images/1/thumbnail.jpg").status_code == 401
