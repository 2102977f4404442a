"""Server-side sessions, the login throttle and account management: logout, password changes,
deactivation and token revocation take a credential away at once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from service_support import PASSWORD, Service, csrf_of
from test_api import assert_error

NEW_PASSWORD = "battery staple"


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log ``client`` in through the form; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/review").text)


def logged_in(client: TestClient) -> bool:
    """Whether ``client``'s session cookie still opens a page."""
    return client.get("/review", follow_redirects=False).status_code == 200


def other_client(service: Service) -> TestClient:
    return TestClient(service.client.app)


def test_logout_ends_the_session_on_the_server(service: Service) -> None:
    csrf = log_in(service.client, "reviewer")
    copied = service.client.cookies["photoid_session"]
    out = service.client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert not logged_in(service.client)
    # a copy of the signed cookie taken before logout no longer opens anything
    replay = other_client(service)
    replay.cookies.set("photoid_session", copied)
    assert not logged_in(replay)
    answer = replay.get("/api/v1/me")
    assert_error(answer, 401, "unauthenticated")


def test_login_is_throttled_per_user_name(service: Service) -> None:
    token = csrf_of(service.client.get("/login").text)
    form = {"username": "reviewer", "csrf_token": token}
    for _ in range(5):
        wrong = service.client.post("/login", data={**form, "password": "not-it-at-all"})
        assert wrong.status_code == 401
    right = service.client.post("/login", data={**form, "password": PASSWORD})
    assert right.status_code == 429
    assert 0 < int(right.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed logins; try again in 15 minutes." in right.text
    # another user name from the same address is not locked out by these five
    log_in(other_client(service), "admin")
    # nor is the user themself, from another address
    log_in(TestClient(service.client.app, client=("10.0.0.2", 5000)), "reviewer")


def test_a_throttled_password_change_answers_429(service: Service) -> None:
    wrong = {"old_password": "not my password", "new_password": NEW_PASSWORD}
    for _ in range(5):
        answer = service.client.put(
            "/api/v1/me/password", json=wrong, headers=service.auth("viewer")
        )
        assert_error(answer, 400, "rejected")
    throttled = service.client.put(
        "/api/v1/me/password", json=wrong, headers=service.auth("viewer")
    )
    assert_error(throttled, 429, "too_many_requests")
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60


def test_admin_deactivation_ends_sessions_and_revokes_tokens(service: Service) -> None:
    reviewer = other_client(service)
    log_in(reviewer, "reviewer")
    admin = service.auth("admin")
    answer = service.client.post("/api/v1/users/reviewer/deactivate", headers=admin)
    assert answer.json() == {"sessions_ended": 1, "tokens_revoked": 1}
    assert not logged_in(reviewer)
    assert_error(
        service.client.get("/api/v1/me", headers=service.auth("reviewer")), 401, "unauthenticated"
    )
    token = csrf_of(reviewer.get("/login").text)
    refused = reviewer.post(
        "/login", data={"username": "reviewer", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 401
    users = service.client.get("/api/v1/users", headers=admin).json()
    assert [(u["name"], u["active"]) for u in users] == [
        ("admin", True),
        ("reviewer", False),
        ("viewer", True),
    ]
    back = service.client.post("/api/v1/users/reviewer/activate", headers=admin)
    assert back.status_code == 200
    log_in(reviewer, "reviewer")
    # the old token stays revoked: reactivation brings no old credential back
    assert_error(
        service.client.get("/api/v1/me", headers=service.auth("reviewer")), 401, "unauthenticated"
    )


def test_admin_password_reset_ends_the_users_sessions(service: Service) -> None:
    reviewer = other_client(service)
    log_in(reviewer, "reviewer")
    answer = service.client.put(
        "/api/v1/users/reviewer/password",
        json={"password": NEW_PASSWORD},
        headers=service.auth("admin"),
    )
    assert answer.json() == {"sessions_ended": 1, "tokens_revoked": 0}
    assert not logged_in(reviewer)
    log_in(reviewer, "reviewer", NEW_PASSWORD)
    short = service.client.put(
        "/api/v1/users/reviewer/password", json={"password": "short"}, headers=service.auth("admin")
    )
    assert_error(short, 400, "rejected")
    missing = service.client.put(
        "/api/v1/users/nobody/password",
        json={"password": NEW_PASSWORD},
        headers=service.auth("admin"),
    )
    assert_error(missing, 404, "not_found")


def test_own_password_change_keeps_this_session_and_ends_the_others(service: Service) -> None:
    csrf = log_in(service.client, "reviewer")
    elsewhere = other_client(service)
    log_in(elsewhere, "reviewer")
    wrong = service.client.put(
        "/api/v1/me/password",
        json={"old_password": "not my password", "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    error = assert_error(wrong, 400, "rejected")
    assert error["message"] == "the current password is wrong"
    changed = service.client.put(
        "/api/v1/me/password",
        json={"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.json() == {"sessions_ended": 1, "tokens_revoked": 0}
    assert logged_in(service.client)
    assert not logged_in(elsewhere)
    log_in(elsewhere, "reviewer", NEW_PASSWORD)
    # with a token: every browser session of the user ends
    by_token = service.client.put(
        "/api/v1/me/password",
        json={"old_password": NEW_PASSWORD, "new_password": PASSWORD},
        headers=service.auth("reviewer"),
    )
    assert by_token.json()["sessions_ended"] == 2
    assert not logged_in(elsewhere)


def test_tokens_are_listed_and_revoked(service: Service) -> None:
    viewer = service.auth("viewer")
    created = service.client.post("/api/v1/tokens", json={"label": "script"}, headers=viewer)
    new = {"Authorization": f"Bearer {created.json()['token']}"}
    listed = service.client.get("/api/v1/tokens", headers=viewer).json()
    assert [t["label"] for t in listed] == ["script", ""]
    assert set(listed[0]) == {"id", "label", "created_at", "last_used_at", "revoked_at"}
    assert_error(service.client.delete("/api/v1/tokens/999", headers=viewer), 404, "not_found")
    gone = service.client.delete(f"/api/v1/tokens/{listed[0]['id']}", headers=viewer)
    assert gone.status_code == 204
    assert_error(service.client.get("/api/v1/me", headers=new), 401, "unauthenticated")
    assert service.client.get("/api/v1/me", headers=viewer).status_code == 200
    # a viewer can neither list nor revoke another user's tokens; an admin can
    others = service.client.get("/api/v1/tokens?user=admin", headers=viewer)
    assert_error(others, 403, "forbidden")
    admins = service.client.get("/api/v1/tokens?user=admin", headers=service.auth("admin"))
    (admin_token,) = admins.json()
    stolen = service.client.delete(f"/api/v1/tokens/{admin_token['id']}", headers=viewer)
    assert_error(stolen, 404, "not_found")
    revoked = service.client.delete(
        f"/api/v1/tokens/{listed[1]['id']}", headers=service.auth("admin")
    )
    assert revoked.status_code == 204
    assert_error(service.client.get("/api/v1/me", headers=viewer), 401, "unauthenticated")


def test_sessions_can_be_ended_by_their_user_or_an_admin(service: Service) -> None:
    elsewhere = other_client(service)
    log_in(elsewhere, "viewer")
    viewer = service.auth("viewer")
    others = service.client.delete("/api/v1/users/reviewer/sessions", headers=viewer)
    assert_error(others, 403, "forbidden")
    own = service.client.delete("/api/v1/users/viewer/sessions", headers=viewer)
    assert own.json()["sessions_ended"] == 1
    assert not logged_in(elsewhere)
    log_in(elsewhere, "viewer")
    admin = service.client.delete("/api/v1/users/viewer/sessions", headers=service.auth("admin"))
    assert admin.json()["sessions_ended"] == 1
    assert not logged_in(elsewhere)


def test_user_management_needs_the_admin_role(service: Service) -> None:
    for role in ("viewer", "reviewer"):
        headers = service.auth(role)
        assert_error(service.client.get("/api/v1/users", headers=headers), 403, "forbidden")
        for action in ("deactivate", "activate"):
            answer = service.client.post(f"/api/v1/users/viewer/{action}", headers=headers)
            assert_error(answer, 403, "forbidden")
        reset = service.client.put(
            "/api/v1/users/viewer/password", json={"password": NEW_PASSWORD}, headers=headers
        )
        assert_error(reset, 403, "forbidden")
    assert_error(service.client.get("/api/v1/users"), 401, "unauthenticated")
