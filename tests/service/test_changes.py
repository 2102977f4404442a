"""The audit trail over the API: the latest changes, and undo (your own, or anyone's as admin)."""

from __future__ import annotations

from service_support import PASSWORD, Service, png_bytes, seed_individual

from photoid.catalog import add_user, create_token, images_of


def _decided_encounter(service: Service, headers: dict[str, str]) -> tuple[int, int]:
    """Upload one photo as a reviewer and decide it is ID-A; (encounter id, image id)."""
    upload = service.client.post(
        "/api/v1/encounters",
        files=[("photos", ("new.png", png_bytes(3), "image/png"))],
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    encounter = upload.json()
    decided = service.client.post(
        f"/api/v1/encounters/{encounter['id']}/decision",
        json={"verdict": "same", "individual": "ID-A"},
        headers=headers,
    )
    assert decided.status_code == 201, decided.text
    return encounter["id"], encounter["images"][0]["id"]


def test_a_reviewer_undoes_their_own_decision(service: Service) -> None:
    gallery = seed_individual(service.catalog, "ID-A", 1)
    encounter, photo = _decided_encounter(service, service.auth("reviewer"))
    assert [i.id for i in images_of(service.catalog, "ID-A")] == [gallery, photo]
    changes = service.client.get("/api/v1/changes?limit=1", headers=service.auth("viewer"))
    (newest,) = changes.json()
    assert (newest["actor"], newest["action"]) == ("reviewer", "decide")
    assert newest["summary"].startswith(f"encounter {encounter}: same")
    undone = service.client.post(
        f"/api/v1/changes/{newest['id']}/undo", headers=service.auth("reviewer")
    )
    assert undone.status_code == 201, undone.text
    assert (undone.json()["action"], undone.json()["undoes"]) == ("undo", newest["id"])
    # The photo is no longer ID-A's, and the encounter awaits review again.
    assert [i.id for i in images_of(service.catalog, "ID-A")] == [gallery]
    queue = service.client.get("/api/v1/encounters?status=awaiting", headers=service.auth("viewer"))
    assert [e["id"] for e in queue.json()["items"]] == [encounter]
    listed = service.client.get("/api/v1/changes?limit=2", headers=service.auth("viewer")).json()
    assert listed[1]["undone_by"] == undone.json()["id"]
    again = service.client.post(
        f"/api/v1/changes/{newest['id']}/undo", headers=service.auth("reviewer")
    )
    assert again.status_code == 400 and "already undone" in again.text


def test_only_an_admin_undoes_someone_elses_change(service: Service) -> None:
    seed_individual(service.catalog, "ID-A", 1)
    add_user(service.catalog, "rita", "reviewer", PASSWORD)
    rita = {"Authorization": f"Bearer {create_token(service.catalog, 'rita')}"}
    _decided_encounter(service, rita)
    (newest,) = service.client.get("/api/v1/changes?limit=1", headers=service.auth("viewer")).json()
    url = f"/api/v1/changes/{newest['id']}/undo"
    assert service.client.post(url, headers=service.auth("viewer")).status_code == 403
    other = service.client.post(url, headers=service.auth("reviewer"))
    assert other.status_code == 403 and "ask an admin" in other.text
    assert service.client.post(url, headers=service.auth("admin")).status_code == 201
    missing = service.client.post("/api/v1/changes/999999/undo", headers=service.auth("admin"))
    assert missing.status_code == 404
