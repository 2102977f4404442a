"""Decisions get the verdicts ``no_match`` and ``not_comparable``.

Until this revision the review page stored them as ``not_sure`` decisions whose notes start with
"no match" / "not comparable" (alone, or followed by ": " and the reviewer's notes); the
upgrade turns those into the new verdicts with the reviewer's notes alone, and the downgrade
turns the new verdicts back into that form, so nothing is lost either way. The verdict CHECK
constraint is replaced (SQLite: batch mode, which copies the table).

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_VERDICTS = ("same", "new", "not_sure")
NEW_VERDICTS = (*OLD_VERDICTS, "no_match", "not_comparable")
LABELS = {"no_match": "no match", "not_comparable": "not comparable"}
"""New verdict -> the label that began the notes of its ``not_sure`` decision before 0005."""

decisions = sa.table(
    "decisions",
    sa.column("id", sa.Integer()),
    sa.column("verdict", sa.String()),
    sa.column("notes", sa.Text()),
)


def _check(verdicts: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{v}'" for v in verdicts)
    return f"verdict IN ({listed})"


def _replace_check(verdicts: tuple[str, ...]) -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint(op.f("ck_decisions_verdict"), type_="check")
        batch.create_check_constraint(op.f("ck_decisions_verdict"), sa.text(_check(verdicts)))


def _label_of(notes: str) -> tuple[str, str] | None:
    """(verdict, the reviewer's own notes) for notes written the pre-0005 way, else None."""
    for verdict, label in LABELS.items():
        if notes == label:
            return verdict, ""
        if notes.startswith(f"{label}: "):
            return verdict, notes[len(label) + 2 :]
    return None


def upgrade() -> None:
    _replace_check(NEW_VERDICTS)
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(decisions.c.id, decisions.c.notes).where(decisions.c.verdict == "not_sure")
    ).all()
    for decision_id, notes in rows:
        found = _label_of(notes or "")
        if found is not None:
            connection.execute(
                sa.update(decisions)
                .where(decisions.c.id == decision_id)
                .values(verdict=found[0], notes=found[1])
            )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(decisions.c.id, decisions.c.verdict, decisions.c.notes).where(
            decisions.c.verdict.in_(tuple(LABELS))
        )
    ).all()
    for decision_id, verdict, notes in rows:
        label = LABELS[verdict]
        connection.execute(
            sa.update(decisions)
            .where(decisions.c.id == decision_id)
            .values(verdict="not_sure", notes=f"{label}: {notes}" if notes else label)
        )
    _replace_check(OLD_VERDICTS)
