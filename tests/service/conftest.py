"""Service fixtures: the app over a fresh catalog on SQLite, or on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_support import Service, make_service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """The service on SQLite, with users viewer, reviewer and admin."""
    yield from make_service(tmp_path, None, max_file_bytes=4096, max_files=3)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """The service on SQLite and on PostgreSQL."""
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_server").empty_database()
    yield from make_service(tmp_path, url, max_file_bytes=4096, max_files=3)
