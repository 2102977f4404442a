"""Opening a catalog: default SQLite file with WAL and foreign keys, migrations == models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from photoid.catalog import Catalog, add_individual, list_individuals, open_catalog
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
        assert set(inspect(connection).get_table_names()) == TABLES
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision == "0002"


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
