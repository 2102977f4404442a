"""Jobs get leases, priorities and coalescing keys.

``lease_expires_at``: a running job whose lease has passed is taken by the next claim (its
worker stopped renewing it). ``priority``: claims take the lowest first (match jobs before
gallery syncs). ``dedupe_key``: at most one never-started queued job per key (a partial
unique index), so many decisions queue one gallery sync. Jobs running before this revision
get the lease the old age rule gave them (started 600 s ago).

Revision ID: 0003
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_STALE_AFTER = timedelta(seconds=600)
QUEUED_KEY = "status = 'queued' AND attempts = 0 AND dedupe_key IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("dedupe_key", sa.String(length=100), nullable=True))
        batch.drop_index("ix_jobs_status_id")
        batch.create_index("ix_jobs_status_priority_id", ["status", "priority", "id"])
    op.create_index(
        "uq_jobs_queued_dedupe_key",
        "jobs",
        ["dedupe_key"],
        unique=True,
        sqlite_where=sa.text(QUEUED_KEY),
        postgresql_where=sa.text(QUEUED_KEY),
    )
    jobs = sa.table(
        "jobs",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("started_at", sa.DateTime()),
        sa.column("lease_expires_at", sa.DateTime()),
    )
    connection = op.get_bind()
    running = connection.execute(
        sa.select(jobs.c.id, jobs.c.started_at).where(jobs.c.status == "running")
    ).all()
    for job_id, started_at in running:
        if started_at is not None:
            connection.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id)
                .values(lease_expires_at=started_at + OLD_STALE_AFTER)
            )


def downgrade() -> None:
    op.drop_index("uq_jobs_queued_dedupe_key", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_status_priority_id")
        batch.create_index("ix_jobs_status_id", ["status", "id"])
        batch.drop_column("dedupe_key")
        batch.drop_column("priority")
        batch.drop_column("lease_expires_at")
