"""Catalog fixtures: every catalog test runs on SQLite and on the real PostgreSQL server of the
session fixture ``pg_server`` (tests/conftest.py, shared with tests/service).

Without PostgreSQL installed the PostgreSQL cases skip with the reason; under
PHOTOID_REQUIRE_SHARED=1 (CI) they fail instead, as the shared-datasets fixture does.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from pg_support import PgServer
from photoid.catalog import Catalog, open_catalog


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest) -> str | None:
    """None (the default SQLite file in the data folder) or an empty PostgreSQL database URL."""
    if request.param == "sqlite":
        return None
    server: PgServer = request.getfixturevalue("pg_server")
    return server.empty_database()


@pytest.fixture
def catalog(tmp_path: Path, catalog_url: str | None) -> Iterator[Catalog]:
    """An empty, open catalog in ``tmp_path/data`` on each database."""
    opened = open_catalog(tmp_path / "data", catalog_url)
    yield opened
    opened.close()


def png_bytes(seed: int, size: tuple[int, int] = (12, 8)) -> bytes:
    """A small random RGB PNG (width, height = ``size``); different seeds give different bytes."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def make_png() -> Callable[..., bytes]:
    """:func:`png_bytes`, for tests: ``make_png(seed, size=(w, h))``."""
    return png_bytes
