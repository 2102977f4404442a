"""Opening a catalog: the database engine (SQLite file by default, PostgreSQL by URL) and the
image store, with the schema brought up to date by the packaged Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, Update, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from photoid.catalog.storage import ImageStore
from photoid.errors import PhotoidError

DB_FILE = "catalog.sqlite"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Catalog:
    """An open catalog: pass it to the service functions of :mod:`photoid.catalog`.

    ``data_dir`` holds the image store (and, by default, the SQLite file ``catalog.sqlite``).
    """

    data_dir: Path
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    store: ImageStore

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose changes commit together on leaving the block, or not at all."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def rows_changed(session: Session, statement: Update) -> int:
    """Run an UPDATE in ``session``; how many rows it changed."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def default_url(data_dir: Path) -> str:
    """The SQLite URL of ``data_dir/catalog.sqlite``."""
    return f"sqlite:///{(Path(data_dir) / DB_FILE).resolve()}"


def shown_url(url: str) -> str:
    """``url`` with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full fsync and foreign keys on every connection.

    Raises PhotoidError for a URL that is not a database URL or names a missing driver.
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed)
    except (ArgumentError, ImportError) as exc:
        raise PhotoidError(
            f"cannot use database URL {shown_url(url)!r} ({exc}); use sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST/DB"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` with the migrations shipped in photoid."""
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    if isinstance(url_or_engine, str):
        engine.dispose()


def open_catalog(data_dir: Path | str, url: str | None = None) -> Catalog:
    """Open (creating if needed) the catalog in ``data_dir``, migrating its schema to the latest.

    ``url`` picks the database (e.g. ``postgresql://user@host/photoid``); by default it is the
    SQLite file ``data_dir/catalog.sqlite``. Images always live under ``data_dir/images``.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    url = url or default_url(data_dir)
    engine = make_engine(url)
    try:
        upgrade(engine)
    except Exception as exc:
        engine.dispose()
        if isinstance(exc, PhotoidError):
            raise
        raise PhotoidError(f"cannot open the catalog database {shown_url(url)!r}: {exc}") from exc
    sessions = sessionmaker(engine, expire_on_commit=False)
    return Catalog(data_dir, url, engine, sessions, ImageStore(data_dir))
