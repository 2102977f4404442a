"""Service test helpers: an app over a fresh catalog (SQLite, or PostgreSQL on the session's
``pg_server`` of tests/conftest.py), three users (named by their roles) and their API tokens;
``png_bytes`` from tests/catalog/conftest.py, loaded here under its own name."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from photoid.catalog import (
    Catalog,
    EncounterInfo,
    ImageUpload,
    add_encounter,
    add_individual,
    add_user,
    create_token,
)
from photoid.service.app import create_app
from photoid.service.settings import Settings

_spec = importlib.util.spec_from_file_location(
    "catalog_fixtures", Path(__file__).resolve().parents[1] / "catalog" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_catalog_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _catalog_fixtures
_spec.loader.exec_module(_catalog_fixtures)
png_bytes: Callable[..., bytes] = _catalog_fixtures.png_bytes

PASSWORD = "correct horse"
ROLES = ("viewer", "reviewer", "admin")


def csrf_of(html: str) -> str:
    """The CSRF token in the first form of a page."""
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@dataclass
class Service:
    """A test client over the app, its catalog, and a token per role (users named by role)."""

    client: TestClient
    catalog: Catalog
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def login(self, role: str) -> str:
        """Log the client in as ``role`` through the web form; returns the session's CSRF token."""
        token = csrf_of(self.client.get("/login").text)
        answer = self.client.post(
            "/login",
            data={"username": role, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return csrf_of(self.client.get("/review").text)


def seed_individual(catalog: Catalog, code: str, seed: int, **fields: str) -> int:
    """Add individual ``code`` with one photo (``png_bytes(seed)``); returns the image id."""
    add_individual(catalog, code, **fields)
    _, images = add_encounter(
        catalog,
        [ImageUpload(png_bytes(seed), f"{code}.png")],
        EncounterInfo(location="Bay"),
        individual=code,
    )
    return images[0].id


def make_service(tmp_path: Path, url: str | None, **settings: int) -> Iterator[Service]:
    app = create_app(
        Settings(data_dir=tmp_path / "data", database_url=url, start_worker=False, **settings)  # type: ignore[arg-type]
    )
    catalog: Catalog = app.state.catalog
    tokens = {}
    for role in ROLES:
        add_user(catalog, role, role, PASSWORD)
        tokens[role] = create_token(catalog, role)
    with TestClient(app) as client:
        yield Service(client, catalog, tokens)
