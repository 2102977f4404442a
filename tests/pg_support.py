"""A throwaway PostgreSQL server (initdb in a temporary folder, a free port, a unix socket in
that folder), for the tests (the session fixture ``pg_server`` in tests/conftest.py) and the
catalog load benchmark.

    with temporary_server() as server:
        url = server.empty_database()
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class PgUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why."""


@dataclass(frozen=True)
class PgServer:
    """A running server; users get the one database ``photoid_test``, emptied."""

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


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    installed = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(installed[-1]).parent if installed else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_as(user: dict[str, Any], *args: str | Path) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **user)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")


@contextmanager
def temporary_server(max_connections: int = 100) -> Iterator[PgServer]:
    """Start a server (stopped and its folder deleted on exit).

    Raises PgUnavailable when PostgreSQL is not installed, or when running as root without a
    ``postgres`` user to run it as (the server refuses to run as root).
    """
    bin_dir = _pg_bin()
    if bin_dir is None:
        raise PgUnavailable(
            "PostgreSQL not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin)"
        )
    user: dict[str, Any] = {}
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PgUnavailable(
                "running as root and no 'postgres' user to run the PostgreSQL server"
            ) from exc
        user = {"user": account.pw_uid, "group": account.pw_gid}
    root = Path(tempfile.mkdtemp(prefix="photoid-pg-"))
    if user:
        os.chown(root, user["user"], user["group"])
    port = free_port()
    data = root / "data"
    initdb: list[str | Path] = [bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust"]
    try:
        _run_as(user, *initdb, "-E", "UTF8", "--locale=C", "--no-sync")
        options = (
            f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c max_connections={max_connections}"
        )
        _run_as(
            user, bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", root / "log", "-w", "start"
        )
        yield PgServer(root, port)
    finally:
        if (data / "postmaster.pid").exists():
            _run_as(user, bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
