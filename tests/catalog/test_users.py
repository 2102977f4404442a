"""Users, passwords (argon2id) and API tokens (only hashes stored)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from photoid.catalog import (
    Catalog,
    add_user,
    create_token,
    revoke_token,
    verify_password,
    verify_token,
)
from photoid.catalog.models import ApiToken, User
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


def test_an_inactive_user_is_refused(catalog: Catalog) -> None:
    add_user(catalog, "ana", "viewer", "12345678")
    token = create_token(catalog, "ana")
    with catalog.session() as session:
        session.scalars(select(User)).one().active = False
    assert verify_password(catalog, "ana", "12345678") is None
    assert verify_token(catalog, token) is None
