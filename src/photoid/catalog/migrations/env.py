"""Alembic environment: runs on the connection that :func:`photoid.catalog.db.upgrade` passes in,
or on ``sqlalchemy.url`` when run by the ``alembic`` command itself."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from photoid.catalog.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as fresh:
        _run(fresh)
    engine.dispose()


run()
