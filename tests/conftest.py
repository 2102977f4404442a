"""Shared fixtures. Tests that need the real datasets beside the project use ``shared_datasets``;
tests that need PostgreSQL use ``pg_server`` (one server for the whole session, shared by
tests/catalog and tests/service). Without them they skip with the reason, and under
PHOTOID_REQUIRE_SHARED=1 (CI) they fail."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn

import pytest

from pg_support import PgServer, PgUnavailable, temporary_server

REPO = Path(__file__).resolve().parents[1]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("PHOTOID_REQUIRE_SHARED") == "1":
        pytest.fail(reason + " (PHOTOID_REQUIRE_SHARED=1 forbids skipping)")
    pytest.skip(reason)


def _shared_root() -> Path:
    configured = os.environ.get("PHOTOID_SHARED_DATASETS")
    return Path(configured) if configured else REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """Folder holding LionData, CTai_subset and KoiVideo (read-only; never copy into the repo)."""
    root = _shared_root()
    if not (root / "LionData" / "metadata.csv").is_file():
        reason = (
            f"real datasets not found at {root}; set PHOTOID_SHARED_DATASETS to a folder holding "
            "LionData, CTai_subset and KoiVideo"
        )
        _unavailable(reason)
    return root


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for the whole session (stopped and deleted at the end)."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(temporary_server())
        except PgUnavailable as exc:
            _unavailable(str(exc))
        yield server
