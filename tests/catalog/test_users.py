"""Users, passwords (argon2id), API tokens and browser sessions (only hashes stored), and the
login throttle."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from photoid.catalog import (
    Catalog,
    add_user,
    create_token,
    logins,
    revoke_token,
    users,
    verify_password,
    verify_token,
)
from photoid.catalog.logins import (
    LoginThrottled,
    Throttle,
    WrongPassword,
    change_password,
    log_in,
    retry_after,
)
from photoid.catalog.models import ApiToken, User, UserSession
from photoid.catalog.sessions import LIFETIME, end_session, session_user, start_session
from photoid.catalog.users import (
    Ended,
    list_tokens,
    list_users,
    revoke_token_id,
    set_active,
    set_password,
)
from photoid.errors import PhotoidError


def test_password_is_hashed_and_verified(catalog: Catalog) -> None:
    user = add_user(catalog, "ana", "reviewer", "correct horse")
    assert (user.name, user.role) == ("ana", "reviewer")
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    found = verify_password(catalog, "ana", "correct horse")
    assert found is not None and found.id == user.id
    assert verify_password(catalog, "ana", "wrong horse") is None
    assert verify_password(catalog, "bob", "correct horse") is None


def test_add_user_refuses_bad_input(catalog: Catalog) -> None:
    add_user(catalog, "ana", "admin", "12345678")
    with pytest.raises(PhotoidError, match="'boss' is not one of viewer, reviewer, admin"):
        add_user(catalog, "bob", "boss", "12345678")
    with pytest.raises(PhotoidError, match="at least 8 characters"):
        add_user(catalog, "bob", "viewer", "1234567")
    with pytest.raises(PhotoidError, match="'ana' already exists"):
        add_user(catalog, "ana", "viewer", "12345678")


def test_token_is_stored_as_its_hash_and_can_be_revoked(catalog: Catalog) -> None:
    user = add_user(catalog, "ana", "viewer", "12345678")
    token = create_token(catalog, "ana", label="laptop")
    assert token.startswith("pid_") and len(token) == 4 + 43
    with catalog.session() as session:
        (row,) = session.scalars(select(ApiToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert (row.label, row.last_used_at) == ("laptop", None)
    owner = verify_token(catalog, token)
    assert owner is not None and owner.id == user.id
    assert verify_token(catalog, token + "x") is None
    assert revoke_token(catalog, token) is True
    assert revoke_token(catalog, token) is False
    assert verify_token(catalog, token) is None
    with pytest.raises(PhotoidError, match="no user named 'bob'"):
        create_token(catalog, "bob")


def test_a_token_s_last_use_is_written_at_most_once_a_minute(catalog: Catalog) -> None:
    add_user(catalog, "ana", "viewer", "12345678")
    token = create_token(catalog, "ana")

    def last_used() -> datetime | None:
        with catalog.session() as session:
            return session.scalars(select(ApiToken.last_used_at)).one()

    verify_token(catalog, token)
    first = last_used()
    assert first is not None
    verify_token(catalog, token)  # moments later: no write (the API's every call does this)
    assert last_used() == first
    with catalog.session() as session:  # a minute ago: the next use writes again
        session.scalars(select(ApiToken)).one().last_used_at = first - timedelta(minutes=1)
    verify_token(catalog, token)
    later = last_used()
    assert later is not None and later >= first


def test_an_inactive_user_is_refused(catalog: Catalog) -> None:
    add_user(catalog, "ana", "viewer", "12345678")
    token = create_token(catalog, "ana")
    with catalog.session() as session:
        session.scalars(select(User)).one().active = False
    assert verify_password(catalog, "ana", "12345678") is None
    assert verify_token(catalog, token) is None


def test_unknown_and_inactive_users_cost_a_password_check(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal takes as long whether the name exists or not: one argon2 check each time."""
    add_user(catalog, "ana", "viewer", "12345678")
    add_user(catalog, "bob", "viewer", "12345678")
    set_active(catalog, "bob", active=False)
    checked: list[str] = []
    original = users._matches

    def spy(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return original(password_hash, password)

    monkeypatch.setattr(users, "_matches", spy)
    for name in ("ana", "bob", "nobody"):
        assert verify_password(catalog, name, "wrong-one") is None
    assert len(checked) == 3
    assert all(h.startswith("$argon2id$") for h in checked)
    assert checked[1] == checked[2]  # the inactive and the unknown user: the dummy hash


def test_sessions_end_on_logout_expiry_password_change_and_deactivation(catalog: Catalog) -> None:
    ana = add_user(catalog, "ana", "reviewer", "12345678")
    now = datetime(2024, 5, 1, 12, 0)
    token = start_session(catalog, ana.id, now=now)
    with catalog.session() as session:
        (row,) = session.scalars(select(UserSession))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert (row.expires_at - row.created_at) == LIFETIME
    live = session_user(catalog, token, now=now + timedelta(hours=1))
    assert live is not None and live.user.name == "ana"
    assert session_user(catalog, token, now=now + LIFETIME) is None  # expired
    assert session_user(catalog, token + "x", now=now) is None
    assert end_session(catalog, token) is True
    assert end_session(catalog, token) is False
    assert session_user(catalog, token, now=now) is None
    first, second = start_session(catalog, ana.id), start_session(catalog, ana.id)
    kept = session_user(catalog, second)
    assert kept is not None
    assert set_password(catalog, "ana", "new password", keep_session=kept.session_id) == 1
    assert session_user(catalog, first) is None and session_user(catalog, second) is not None
    assert verify_password(catalog, "ana", "new password") is not None
    token = create_token(catalog, "ana")
    assert set_active(catalog, "ana", active=False) == Ended(sessions=1, tokens=1)
    assert session_user(catalog, second) is None and verify_token(catalog, token) is None
    assert set_active(catalog, "ana", active=True) == Ended(0, 0)
    assert verify_token(catalog, token) is None  # reactivation brings no old token back
    assert [u.name for u in list_users(catalog)] == ["ana"]


THROTTLE = Throttle(per_name=2, per_name_anywhere=3, per_address=3, window=timedelta(minutes=10))
START = datetime(2024, 5, 1, 12, 0)


def _attempt(catalog: Catalog, name: str, password: str, address: str, minutes: float) -> bool:
    at = START + timedelta(minutes=minutes)
    return log_in(catalog, name, password, address, THROTTLE, at) is not None


def test_login_throttle_stops_one_address_guessing_one_name(catalog: Catalog) -> None:
    add_user(catalog, "ana", "viewer", "12345678")
    assert not _attempt(catalog, "ana", "wrong-one", "10.0.0.1", 0)
    assert not _attempt(catalog, "ana", "wrong-one", "10.0.0.1", 1)
    with pytest.raises(LoginThrottled, match="try again in 9 minutes") as caught:
        _attempt(catalog, "ana", "12345678", "10.0.0.1", 1)  # the right password, still refused
    assert caught.value.retry_after == 9 * 60
    # ana herself, elsewhere, is not locked out by that guesser
    assert _attempt(catalog, "ana", "12345678", "10.0.0.2", 2)
    assert _attempt(catalog, "ana", "12345678", "10.0.0.1", 10.5)  # the first failure left
    assert retry_after(catalog, "ana", "10.0.0.1", THROTTLE, START + timedelta(minutes=11)) == 0


def test_login_throttle_stops_guessing_spread_over_addresses(catalog: Catalog) -> None:
    add_user(catalog, "ana", "viewer", "12345678")
    for minutes, address in ((0, "10.0.0.1"), (1, "10.0.0.2"), (2, "10.0.0.3")):
        assert not _attempt(catalog, "ana", "wrong-one", address, minutes)
    with pytest.raises(LoginThrottled):
        _attempt(catalog, "ana", "12345678", "10.0.0.4", 3)
    assert _attempt(catalog, "ana", "12345678", "10.0.0.4", 10.5)


def test_a_guessing_address_does_not_lock_out_its_neighbours(catalog: Catalog) -> None:
    add_user(catalog, "bob", "viewer", "12345678")
    for minutes, name in ((20, "x"), (21, "y"), (22, "z")):
        assert not _attempt(catalog, name, "wrong-one", "10.0.0.9", minutes)
    with pytest.raises(LoginThrottled):  # its next wrong password is answered "throttled"
        _attempt(catalog, "bob", "wrong-one", "10.0.0.9", 23)
    assert _attempt(catalog, "bob", "12345678", "10.0.0.9", 23)  # a right one still logs in


def test_parallel_guesses_count_against_each_other(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(catalog, "ana", "viewer", "12345678")
    throttle = Throttle(per_name=1, per_name_anywhere=5, per_address=5)
    real = logins.verify_password
    seen: list[str] = []

    def slow_verify(catalog: Catalog, name: str, password: str) -> User | None:
        if not seen:  # a second guess arrives while the first one's hash is computed
            seen.append("second guess")
            try:
                log_in(catalog, name, "second-guess", "10.0.0.1", throttle)
            except LoginThrottled:
                seen.append("throttled")
        return real(catalog, name, password)

    monkeypatch.setattr(logins, "verify_password", slow_verify)
    assert log_in(catalog, "ana", "first-guess", "10.0.0.1", throttle) is None
    assert seen == ["second guess", "throttled"]


def test_changing_a_password_needs_the_current_one(catalog: Catalog) -> None:
    ana = add_user(catalog, "ana", "viewer", "12345678")
    other = start_session(catalog, ana.id)
    with pytest.raises(WrongPassword, match="the current password is wrong"):
        change_password(catalog, "ana", "guessing", "new password", "10.0.0.1")
    with pytest.raises(PhotoidError, match="at least 8 characters"):
        change_password(catalog, "ana", "12345678", "short", "10.0.0.1")
    assert change_password(catalog, "ana", "12345678", "new password", "10.0.0.1") == 1
    assert session_user(catalog, other) is None
    assert verify_password(catalog, "ana", "new password") is not None


def test_tokens_are_listed_and_revoked_by_id(catalog: Catalog) -> None:
    add_user(catalog, "ana", "viewer", "12345678")
    add_user(catalog, "bob", "viewer", "12345678")
    first = create_token(catalog, "ana", label="laptop")
    create_token(catalog, "ana", label="script")
    listed = list_tokens(catalog, "ana")
    assert [t.label for t in listed] == ["script", "laptop"]
    assert revoke_token_id(catalog, listed[1].id, owner="bob") is False
    assert revoke_token_id(catalog, listed[1].id, owner="ana") is True
    assert revoke_token_id(catalog, listed[1].id) is False
    assert verify_token(catalog, first) is None
    assert list_tokens(catalog, "ana")[1].revoked_at is not None


def test_user_names_must_fit_their_column(catalog: Catalog) -> None:
    with pytest.raises(PhotoidError, match="at most 200 characters"):
        add_user(catalog, "a" * 201, "viewer", "12345678")
    with pytest.raises(PhotoidError, match="no user named 'nobody'"):
        set_password(catalog, "nobody", "12345678")
