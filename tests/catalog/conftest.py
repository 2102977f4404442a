"""Catalog fixtures: every catalog test runs on SQLite and on a real PostgreSQL server that this
file starts (initdb in a temporary folder, a free port, a unix socket in that folder).

Without PostgreSQL installed the PostgreSQL cases skip with the reason; under
PHOTOID_REQUIRE_SHARED=1 (CI) they fail instead, as the shared-datasets fixture does.
"""

from __future__ import annotations

import glob
import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest
from PIL import Image as PILImage

from photoid.catalog import Catalog, open_catalog


@dataclass(frozen=True)
class PgServer:
    """A running server; every test gets the one database ``photoid_test``, emptied."""

    socket_dir: Path
    port: int

    def url(self, database: str = "photoid_test") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def empty_database(self) -> str:
        """The URL of ``photoid_test`` with every table emptied and its ids restarted at 1
        (much faster than a new database per test)."""
        import psycopg

        dsn = f"host={self.socket_dir} port={self.port} user=postgres dbname="
        with psycopg.connect(dsn + "postgres", autocommit=True) as connection:
            query = "SELECT 1 FROM pg_database WHERE datname = 'photoid_test'"
            if connection.execute(query).fetchone() is None:
                connection.execute("CREATE DATABASE photoid_test")
                return self.url()
        with psycopg.connect(dsn + "photoid_test", autocommit=True) as connection:
            rows = connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            ).fetchall()
            if rows:
                tables = ", ".join(f'"{name}"' for (name,) in rows)
                connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return self.url()


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("PHOTOID_REQUIRE_SHARED") == "1":
        pytest.fail(reason + " (PHOTOID_REQUIRE_SHARED=1 forbids skipping)")
    pytest.skip(reason)


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    installed = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(installed[-1]).parent if installed else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_as(user: dict[str, Any], *args: str | Path) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **user)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for the whole session (stopped and deleted at the end)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        _unavailable("PostgreSQL not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin)")
    user: dict[str, Any] = {}
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres user
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and no 'postgres' user to run the PostgreSQL server")
        user = {"user": account.pw_uid, "group": account.pw_gid}
    root = Path(tempfile.mkdtemp(prefix="photoid-pg-"))
    if user:
        os.chown(root, user["user"], user["group"])
    port = _free_port()
    data = root / "data"
    try:
        _run_as(
            user,
            bin_dir / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run_as(
            user, bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", root / "log", "-w", "start"
        )
        yield PgServer(root, port)
    finally:
        if (data / "postmaster.pid").exists():
            _run_as(user, bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


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
