"""REST API: roles on every route, error bodies, uploads, decisions, paging, merge/split/export."""

from __future__ import annotations

import io
import stat
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_support import PASSWORD, Service, make_service, png_bytes, seed_individual
from sqlalchemy.exc import IntegrityError

from photoid.catalog import (
    Evidence,
    add_user,
    create_token,
    images_of,
    job_counts,
    list_individuals,
    list_jobs,
    record_candidates,
)
from photoid.catalog.matching import enqueue_sync
from photoid.service.app import create_app
from photoid.service.errors import install_error_handlers
from photoid.service.settings import SECRET_FILE, Settings

# (method, path, least role); {enc} / {code} are filled in by the test
ROUTES = [
    ("GET", "/api/v1/me", "viewer"),
    ("GET", "/api/v1/encounters", "viewer"),
    ("GET", "/api/v1/encounters/{enc}", "viewer"),
    ("GET", "/api/v1/encounters/{enc}/candidates", "viewer"),
    ("GET", "/api/v1/individuals", "viewer"),
    ("GET", "/api/v1/individuals/{code}", "viewer"),
    ("GET", "/api/v1/images/{img}", "viewer"),
    ("POST", "/api/v1/tokens", "viewer"),
    ("POST", "/api/v1/encounters", "reviewer"),
    ("POST", "/api/v1/encounters/{enc}/decision", "reviewer"),
    ("POST", "/api/v1/individuals/{code}/merge", "reviewer"),
    ("POST", "/api/v1/individuals/{code}/split", "reviewer"),
    ("GET", "/api/v1/export", "admin"),
]
RANK = {"viewer": 0, "reviewer": 1, "admin": 2}


def assert_error(answer: Any, status: int, code: str) -> dict[str, Any]:
    """Check ``answer`` has ``status`` and the common error body with ``code``; return it."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def test_every_route_checks_its_role(service: Service) -> None:
    image = seed_individual(service.catalog, "ID-A", 1)
    for method, path, least in ROUTES:
        url = path.format(enc=1, code="ID-A", img=image)
        anonymous = service.client.request(method, url)
        assert_error(anonymous, 401, "unauthenticated")
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"
        forged = {"Authorization": "Bearer pid_forged"}
        assert_error(service.client.request(method, url, headers=forged), 401, "unauthenticated")
        for role in ("viewer", "reviewer"):
            if RANK[role] < RANK[least]:
                answer = service.client.request(method, url, headers=service.auth(role))
                assert_error(answer, 403, "forbidden")
        allowed = service.client.request(method, url, headers=service.auth(least))
        assert allowed.status_code not in (401, 403), (url, allowed.text)


def test_viewer_cannot_decide_and_nothing_changes(any_service: Service) -> None:
    seed_individual(any_service.catalog, "ID-A", 1)
    answer = any_service.client.post(
        "/api/v1/encounters/1/decision",
        json={"verdict": "new"},
        headers=any_service.auth("viewer"),
    )
    assert_error(answer, 403, "forbidden")
    assert [i.code for i in list_individuals(any_service.catalog)] == ["ID-A"]


def test_upload_candidates_and_decision(any_service: Service) -> None:
    service = any_service
    gallery = seed_individual(service.catalog, "ID-A", 1)
    seed_individual(service.catalog, "ID-B", 2)
    upload = service.client.post(
        "/api/v1/encounters",
        files=[("photos", ("../../evil/new.png", png_bytes(3), "image/png"))],
        data={"location": "North reef", "date": "2024-05-01T10:00:00"},
        headers=service.auth("reviewer"),
    )
    assert upload.status_code == 201, upload.text
    created = upload.json()
    assert created["location"] == "North reef"
    assert created["date"] == "2024-05-01T10:00:00"
    (photo,) = created["images"]
    assert photo["original_name"] == "new.png"  # folders of the client's name are dropped
    assert (photo["width"], photo["height"], photo["individual"]) == (12, 8, None)
    record_candidates(
        service.catalog,
        photo["id"],
        "local",
        [("ID-B", 0.25), ("ID-A", 0.75)],
        evidence={"ID-A": Evidence(gallery, [[1.0, 2.0, 3.0, 4.0]])},
    )
    listed = service.client.get(
        f"/api/v1/encounters/{created['id']}/candidates", headers=service.auth("viewer")
    ).json()
    assert [(c["individual"], c["rank"], c["score_kind"]) for c in listed] == [
        ("ID-A", 1, "raw score"),
        ("ID-B", 2, "raw score"),
    ]
    assert listed[0]["best_image_id"] == gallery
    assert listed[0]["keypoints"] == [[1.0, 2.0, 3.0, 4.0]]
    queue = service.client.get(
        "/api/v1/encounters?status=awaiting", headers=service.auth("viewer")
    ).json()
    assert [e["id"] for e in queue["items"]] == [created["id"]]
    decided = service.client.post(
        f"/api/v1/encounters/{created['id']}/decision",
        json={"verdict": "same", "individual": "ID-A"},
        headers=service.auth("reviewer"),
    )
    assert decided.status_code == 201, decided.text
    assert decided.json()["individual"] == "ID-A"
    assert decided.json()["decided_by"] == "reviewer"
    assert [i.id for i in images_of(service.catalog, "ID-A")] == [gallery, photo["id"]]
    detail = service.client.get("/api/v1/individuals/ID-A", headers=service.auth("viewer"))
    sightings = detail.json()["sightings"]
    assert [s["encounter"]["location"] for s in sightings] == ["North reef", "Bay"]
    queue = service.client.get("/api/v1/encounters?status=awaiting", headers=service.auth("viewer"))
    assert queue.json()["total"] == 0


def test_no_match_and_not_comparable_decisions_and_a_refused_second_one(
    any_service: Service,
) -> None:
    service = any_service
    seed_individual(service.catalog, "ID-A", 1)
    reviewer, viewer = service.auth("reviewer"), service.auth("viewer")
    for seed in (2, 3, 4):
        sent = service.client.post(
            "/api/v1/encounters",
            files=[("photos", (f"{seed}.png", png_bytes(seed), "image/png"))],
            headers=reviewer,
        )
        assert sent.status_code == 201, sent.text
    for encounter, verdict in ((2, "no_match"), (3, "not_comparable"), (4, "not_sure")):
        answer = service.client.post(
            f"/api/v1/encounters/{encounter}/decision",
            json={"verdict": verdict, "notes": "seen"},
            headers=reviewer,
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert (body["verdict"], body["individual"], body["notes"]) == (verdict, None, "seen")
    detail = service.client.get("/api/v1/encounters/2", headers=viewer).json()
    assert [(d["verdict"], d["individual"]) for d in detail["decisions"]] == [("no_match", None)]
    assert [i["individual"] for i in detail["images"]] == [None]
    listed = {
        status: [
            e["id"]
            for e in service.client.get(
                f"/api/v1/encounters?status={status}", headers=viewer
            ).json()["items"]
        ]
        for status in ("awaiting", "decided")
    }
    assert listed == {"awaiting": [4], "decided": [3, 2]}  # not_sure alone keeps it waiting
    again = service.client.post(
        "/api/v1/encounters/2/decision",
        json={"verdict": "same", "individual": "ID-A"},
        headers=reviewer,
    )
    error = assert_error(again, 409, "already_decided")
    assert error["message"].startswith("encounter 2 was already decided ('no_match' by reviewer")
    assert error["message"].endswith("undo that decision first to decide again")
    coded = service.client.post(
        "/api/v1/encounters/4/decision",
        json={"verdict": "no_match", "individual": "ID-A"},
        headers=reviewer,
    )
    assert_error(coded, 400, "rejected")
    unknown = service.client.post(
        "/api/v1/encounters/4/decision", json={"verdict": "maybe"}, headers=reviewer
    )
    assert_error(unknown, 422, "invalid")
    assert [i.id for i in images_of(service.catalog, "ID-A")] == [1]


def test_non_image_renamed_jpg_is_refused_and_nothing_stored(service: Service) -> None:
    answer = service.client.post(
        "/api/v1/encounters",
        files=[
            ("photos", ("good.png", png_bytes(1), "image/png")),
            ("photos", ("notes.jpg", b"these are field notes, not a photo", "image/jpeg")),
        ],
        headers=service.auth("reviewer"),
    )
    error = assert_error(answer, 422, "bad_image")
    assert error["message"].startswith("notes.jpg: not a readable image")
    assert error["details"] == {"file": "notes.jpg"}
    assert list(service.catalog.store.files()) == []
    listed = service.client.get("/api/v1/encounters", headers=service.auth("viewer")).json()
    assert listed["total"] == 0


def test_photo_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    for small in make_service(tmp_path, None, max_pixels=95):  # the 12 x 8 photo has 96
        answer = small.client.post(
            "/api/v1/encounters",
            files=[("photos", ("wide.png", png_bytes(1), "image/png"))],
            headers=small.auth("reviewer"),
        )
        error = assert_error(answer, 422, "bad_image")
        assert "wide.png" in error["message"] and "95" in error["message"]
        assert list(small.catalog.store.files()) == []


def test_oversize_photo_and_body_are_refused(service: Service) -> None:
    big = png_bytes(1, size=(64, 64))  # 64*64*3 random bytes: over the 4096-byte limit
    assert len(big) > 4096
    answer = service.client.post(
        "/api/v1/encounters",
        files=[("photos", ("big.png", big, "image/png"))],
        headers=service.auth("reviewer"),
    )
    assert_error(answer, 413, "too_large")
    # the whole body is over 3 photos x 4096 bytes + 1 MiB: refused from its Content-Length
    huge = service.client.post(
        "/api/v1/encounters",
        content=b"x" * (3 * 4096 + 1024 * 1024 + 1),
        headers={**service.auth("reviewer"), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_error(huge, 413, "too_large")
    assert list(service.catalog.store.files()) == []


TRAVERSALS = [
    "/api/v1/images/..%2Fcatalog.sqlite",
    "/api/v1/images/%2E%2E/%2E%2E/etc/passwd",
    "/api/v1/images/1%2F..%2F..%2Fcatalog.sqlite",
    "/api/v1/images/images%2Fab%2Fx.png",
    "/api/v1/images/1/../../catalog.sqlite",
    "/api/v1/images/-1",
    "/api/v1/images/99",
    "/api/v1/images/1/matches/1.png",
]


def test_image_routes_serve_ids_only(service: Service) -> None:
    image = seed_individual(service.catalog, "ID-A", 1)
    ok = service.client.get(f"/api/v1/images/{image}", headers=service.auth("viewer"))
    assert (ok.status_code, ok.content) == (200, png_bytes(1))
    for path in TRAVERSALS:
        answer = service.client.get(path, headers=service.auth("viewer"))
        assert_error(answer, 404, "not_found")


def test_validation_errors_use_the_error_body(service: Service) -> None:
    answer = service.client.get("/api/v1/individuals?limit=0", headers=service.auth("viewer"))
    error = assert_error(answer, 422, "invalid")
    assert error["details"] == [
        {"field": "query.limit", "problem": "Input should be greater than or equal to 1"}
    ]
    bad = service.client.post(
        "/api/v1/encounters/1/decision",
        json={"verdict": "same"},
        headers=service.auth("reviewer"),
    )
    assert_error(bad, 404, "not_found")  # encounter 1 does not exist yet
    seed_individual(service.catalog, "ID-A", 1)
    bad = service.client.post(
        "/api/v1/encounters/1/decision",
        json={"verdict": "same"},
        headers=service.auth("reviewer"),
    )
    assert_error(bad, 400, "rejected")  # a 'same' decision needs a code


def test_pagination_and_search(any_service: Service) -> None:
    for number in range(1, 8):
        species = "Panthera leo" if number % 2 else "Pan troglodytes"
        seed_individual(any_service.catalog, f"ID-{number}", number, species=species)
    page = any_service.client.get(
        "/api/v1/individuals?limit=3&offset=3", headers=any_service.auth("viewer")
    ).json()
    assert (page["total"], page["limit"], page["offset"]) == (7, 3, 3)
    assert [i["code"] for i in page["items"]] == ["ID-4", "ID-5", "ID-6"]
    last = any_service.client.get(
        "/api/v1/individuals?limit=3&offset=6", headers=any_service.auth("viewer")
    ).json()
    assert [i["code"] for i in last["items"]] == ["ID-7"]
    found = any_service.client.get(
        "/api/v1/individuals?q=TROGLO", headers=any_service.auth("viewer")
    ).json()
    assert (found["total"], [i["code"] for i in found["items"]]) == (3, ["ID-2", "ID-4", "ID-6"])
    encounters = any_service.client.get(
        "/api/v1/encounters?limit=2", headers=any_service.auth("viewer")
    ).json()
    assert (encounters["total"], [e["id"] for e in encounters["items"]]) == (7, [7, 6])
    any_service.client.post(
        "/api/v1/encounters",
        files=[("photos", ("n.png", png_bytes(9), "image/png"))],
        data={"location": "North 50%_reef"},
        headers=any_service.auth("reviewer"),
    )
    for q, total in (("50%_", 1), ("5%", 0), ("bay", 7), ("NORTH", 1)):
        found = any_service.client.get(
            "/api/v1/encounters", params={"q": q}, headers=any_service.auth("viewer")
        ).json()
        assert found["total"] == total, q
    docs = any_service.client.get("/openapi.json").json()
    assert "/api/v1/encounters/{encounter_id}/decision" in docs["paths"]


def test_merge_split_and_export(service: Service) -> None:
    first = seed_individual(service.catalog, "ID-A", 1)
    second = seed_individual(service.catalog, "ID-B", 2)
    reviewer = service.auth("reviewer")
    merged = service.client.post(
        "/api/v1/individuals/ID-A/merge", json={"absorb": "ID-B"}, headers=reviewer
    )
    assert merged.status_code == 200, merged.text
    assert [i.id for i in images_of(service.catalog, "ID-A")] == [first, second]
    missing = service.client.post(
        "/api/v1/individuals/ID-A/merge", json={"absorb": "ID-Z"}, headers=reviewer
    )
    assert_error(missing, 404, "not_found")
    split = service.client.post(
        "/api/v1/individuals/ID-A/split",
        json={"image_ids": [second], "new_code": "ID-C"},
        headers=reviewer,
    )
    assert split.status_code == 201, split.text
    assert split.json()["code"] == "ID-C"
    assert [i.id for i in images_of(service.catalog, "ID-C")] == [second]
    exported = service.client.get("/api/v1/export", headers=service.auth("admin"))
    assert exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        names = archive.namelist()
        metadata = archive.read("metadata.csv").decode()
    assert sorted(names) == ["images/", "images/ID-A.png", "images/ID-B.png", "metadata.csv"]
    assert ",ID-A," in metadata and ",ID-C," in metadata


def test_tokens_and_secret_file(service: Service) -> None:
    new = service.client.post(
        "/api/v1/tokens", json={"label": "script"}, headers=service.auth("viewer")
    )
    assert new.status_code == 201
    me = service.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {new.json()['token']}"}
    ).json()
    assert me == {"name": "viewer", "role": "viewer", "via": "token"}
    secret = service.catalog.data_dir / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) >= 40


def test_started_worker_runs_the_upload_match_job(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data", start_worker=True, job_lease_s=7.5))
    add_user(app.state.catalog, "rita", "reviewer", PASSWORD)
    token = create_token(app.state.catalog, "rita")
    with TestClient(app) as client:
        assert app.state.worker.running and app.state.worker.lease_s == 7.5
        answer = client.post(
            "/api/v1/encounters",
            files=[("photos", ("a.png", png_bytes(1), "image/png"))],
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 201
        deadline = time.monotonic() + 20
        while job_counts(app.state.catalog)["done"] < 1:
            assert time.monotonic() < deadline, list_jobs(app.state.catalog)
            time.sleep(0.1)
    assert app.state.worker is not None and not app.state.worker.running


def test_worker_keeps_its_gallery_in_the_data_folder_across_restarts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", start_worker=True)
    app = create_app(settings)
    image = seed_individual(app.state.catalog, "ID-A", 1)
    with TestClient(app):
        assert not app.state.worker.gallery.restored  # first start: nothing saved yet
        enqueue_sync(app.state.catalog)
        deadline = time.monotonic() + 20
        while job_counts(app.state.catalog)["done"] < 1:
            assert time.monotonic() < deadline, list_jobs(app.state.catalog)
            time.sleep(0.1)
    assert (settings.engine_dir / "gallery.json").is_file()
    again = create_app(settings)
    with TestClient(again):
        gallery = again.state.worker.gallery
        assert gallery.restored and gallery.sync(again.state.catalog).added == 0
        assert gallery.members() == {image: "ID-A"}


def test_body_without_length_is_cut_off_past_the_limit(service: Service) -> None:
    def body() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'--b\r\nContent-Disposition: form-data; name="photos"; filename="a.png"\r\n\r\n'
        for _ in range(100):  # 6.4 MiB in all, over the 3 x 4096 B + 1 MiB limit
            yield b"x" * 65536
        yield b"\r\n--b--\r\n"

    answer = service.client.post(
        "/api/v1/encounters",
        content=body(),
        headers={**service.auth("reviewer"), "Content-Type": "multipart/form-data; boundary=b"},
    )
    error = assert_error(answer, 413, "too_large")
    assert error["details"] == {"limit_bytes": 3 * 4096 + 1024 * 1024}
    assert list(service.catalog.store.files()) == []


def test_upload_filters_reach_the_match_job(service: Service) -> None:
    upload = service.client.post(
        "/api/v1/encounters",
        files=[("photos", ("a.png", png_bytes(5), "image/png"))],
        data={"filter_species": "lion", "filter_date_from": "2024-01-01"},
        headers=service.auth("reviewer"),
    )
    assert upload.status_code == 201, upload.text
    (job,) = list_jobs(service.catalog, kind="match")
    assert job.payload["filters"] == {
        "species": "lion",
        "location": None,
        "date_from": "2024-01-01",
        "date_to": None,
    }
    plain = service.client.post(
        "/api/v1/encounters",
        files=[("photos", ("b.png", png_bytes(6), "image/png"))],
        headers=service.auth("reviewer"),
    )
    assert plain.status_code == 201, plain.text
    newest = list_jobs(service.catalog, kind="match")[0]
    assert "filters" not in newest.payload


def test_a_uniqueness_clash_answers_409_not_500() -> None:
    racing = FastAPI()
    install_error_handlers(racing)

    @racing.post("/clash")
    def clash() -> None:
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    answer = TestClient(racing, raise_server_exceptions=False).post("/clash")
    assert_error(answer, 409, "conflict")
