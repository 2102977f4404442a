"""Opening a catalog: default SQLite file with WAL and foreign keys, migrations == models."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from photoid.catalog import Catalog, add_individual, list_individuals, open_catalog
from photoid.catalog.db import MIGRATIONS, default_url, make_engine, upgrade
from photoid.catalog.models import Base, Decision
from photoid.errors import PhotoidError

TABLES = {
    "alembic_version",
    "api_tokens",
    "audit_log",
    "decisions",
    "encounters",
    "images",
    "individuals",
    "jobs",
    "match_candidates",
    "users",
}


def test_migrated_schema_equals_the_models(catalog: Catalog) -> None:
    with catalog.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(connection).get_table_names())
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert tables == {"alembic_version", *Base.metadata.tables} and tables >= TABLES
    assert revision == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_default_is_a_sqlite_file_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    catalog = open_catalog(tmp_path / "data")
    try:
        assert catalog.url == f"sqlite:///{(tmp_path / 'data' / 'catalog.sqlite').resolve()}"
        assert (tmp_path / "data" / "catalog.sqlite").is_file()
        with catalog.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        catalog.close()


def test_reopening_keeps_the_rows(tmp_path: Path, catalog_url: str | None) -> None:
    first = open_catalog(tmp_path / "data", catalog_url)
    add_individual(first, "A")
    first.close()
    again = open_catalog(tmp_path / "data", catalog_url)
    assert [i.code for i in list_individuals(again)] == ["A"]
    again.close()


def test_foreign_keys_are_enforced(catalog: Catalog) -> None:
    with pytest.raises(IntegrityError), catalog.session() as session:
        session.add(Decision(encounter_id=999, verdict="not_sure", decided_by="x"))


def test_a_bad_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PhotoidError, match="cannot use database URL 'nonsense'"):
        open_catalog(tmp_path, "nonsense")


def test_an_unreachable_server_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://ana:secret@/photoid?host={tmp_path}&port=1"
    with pytest.raises(PhotoidError, match="cannot open the catalog database") as caught:
        open_catalog(tmp_path, url)
    assert "secret" not in str(caught.value)
    assert "ana:***@" in str(caught.value)


def _downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_job_leases_migrate_up_and_down(tmp_path: Path, catalog_url: str | None) -> None:
    """0003 gives the jobs running before it the lease of the old age rule (600 s)."""
    engine = make_engine(catalog_url or default_url(tmp_path))
    try:
        _downgrade(engine, "base")  # the shared PostgreSQL database may be at the head
        upgrade(engine, "0002")
        started = datetime(2024, 5, 1, 10, 0)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO jobs (kind, payload, status, attempts, created_at, started_at) "
                    "VALUES ('match', '{}', 'running', 1, :at, :at), "
                    "('sync', '{}', 'queued', 0, :at, NULL)"
                ),
                {"at": started},
            )
        upgrade(engine, "0003")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT status, lease_expires_at, priority FROM jobs ORDER BY id")
            ).all()
        assert [(r[0], r[2]) for r in rows] == [("running", 0), ("queued", 0)]
        assert rows[0][1] in (datetime(2024, 5, 1, 10, 10), "2024-05-01 10:10:00.000000")
        assert rows[1][1] is None
        _downgrade(engine, "0002")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("jobs")}
            assert "lease_expires_at" not in columns and "dedupe_key" not in columns
            assert connection.execute(text("SELECT count(*) FROM jobs")).scalar() == 2
    finally:
        engine.dispose()


def _verdicts(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT verdict, notes FROM decisions ORDER BY id"))
        return [(verdict, notes) for verdict, notes in rows]


def _add_decision(engine: Engine, verdict: str, notes: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO decisions (encounter_id, verdict, decided_by, decided_at, notes) "
                "VALUES (1, :verdict, 'ana', :at, :notes)"
            ),
            {"verdict": verdict, "notes": notes, "at": datetime(2024, 5, 1, 10, 0)},
        )


def test_review_verdicts_migrate_up_and_down(tmp_path: Path, catalog_url: str | None) -> None:
    """0005 allows no_match and not_comparable and turns the review page's former encoding of
    them (not_sure, notes starting with their label) into them; the downgrade turns them back."""
    engine = make_engine(catalog_url or default_url(tmp_path))
    try:
        _downgrade(engine, "base")  # the shared PostgreSQL database may be at the head
        upgrade(engine, "0004")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO encounters (notes, created_at) VALUES ('', :at)"),
                {"at": datetime(2024, 5, 1, 9, 0)},
            )
        for notes in ("no match", "not comparable: blurred", "dark", "no matching photo yet"):
            _add_decision(engine, "not_sure", notes)
        with pytest.raises(IntegrityError):
            _add_decision(engine, "no_match", "")
        upgrade(engine, "0005")
        _add_decision(engine, "no_match", "left flank")
        assert _verdicts(engine) == [
            ("no_match", ""),
            ("not_comparable", "blurred"),
            ("not_sure", "dark"),
            ("not_sure", "no matching photo yet"),
            ("no_match", "left flank"),
        ]
        with pytest.raises(IntegrityError):
            _add_decision(engine, "maybe", "")
        _downgrade(engine, "0004")
        assert _verdicts(engine) == [
            ("not_sure", "no match"),
            ("not_sure", "not comparable: blurred"),
            ("not_sure", "dark"),
            ("not_sure", "no matching photo yet"),
            ("not_sure", "no match: left flank"),
        ]
        with pytest.raises(IntegrityError):
            _add_decision(engine, "not_comparable", "")
        with engine.connect() as connection:
            indexes = {i["name"] for i in inspect(connection).get_indexes("decisions")}
        assert "ix_decisions_encounter_id" in indexes
    finally:
        engine.dispose()
