"""The audit trail: every change to the catalog tables, with the rows before and after, so any
change can be undone while no later change depends on it.

``AuditEntry.before`` and ``.after`` map table name -> row id (as text) -> the row's columns
(JSON; times as ISO text), or null where the row did not exist (before) or was deleted (after).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, inspect, select
from sqlalchemy.orm import Session

from photoid.catalog.db import Catalog
from photoid.catalog.models import AuditEntry, Base
from photoid.errors import PhotoidError

RowKey = tuple[str, int]
_MODELS: dict[str, type[Base]] = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers}
_TABLE_ORDER: list[str] = [t.name for t in Base.metadata.sorted_tables]


def row_state(obj: Base) -> dict[str, Any]:
    """A row's columns as JSON-ready values (datetimes become ISO text)."""
    state: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        state[attr.key] = value.isoformat() if isinstance(value, datetime) else value
    return state


def _from_state(model: type[Base], state: dict[str, Any]) -> dict[str, Any]:
    values = dict(state)
    for column in model.__table__.columns:
        if isinstance(column.type, DateTime) and values.get(column.key) is not None:
            values[column.key] = datetime.fromisoformat(values[column.key])
    return values


class Changes:
    """Collects the rows one transaction touches, then writes them as one audit entry.

    Call :meth:`add` for a new row, :meth:`touch` before changing an existing one and
    :meth:`delete` to delete one; then :meth:`record` once, in the same session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._before: dict[RowKey, dict[str, Any] | None] = {}
        self._rows: dict[RowKey, Base | None] = {}

    def add(self, obj: Base) -> None:
        self.session.add(obj)
        self.session.flush()
        key = _key(obj)
        self._before.setdefault(key, None)
        self._rows[key] = obj

    def touch(self, obj: Base) -> None:
        key = _key(obj)
        if key not in self._before:
            self._before[key] = row_state(obj)
        self._rows[key] = obj

    def delete(self, obj: Base) -> None:
        self.touch(obj)
        self._rows[_key(obj)] = None
        self.session.delete(obj)
        self.session.flush()

    def record(self, actor: str, action: str, summary: str) -> AuditEntry:
        """Write the audit entry (``action`` e.g. ``"decide"``, ``summary`` for people)."""
        self.session.flush()
        before: dict[str, dict[str, Any]] = {}
        after: dict[str, dict[str, Any]] = {}
        for key, old in self._before.items():
            table, row_id = key
            obj = self._rows[key]
            before.setdefault(table, {})[str(row_id)] = old
            after.setdefault(table, {})[str(row_id)] = None if obj is None else row_state(obj)
        entry = AuditEntry(actor=actor, action=action, summary=summary, before=before, after=after)
        self.session.add(entry)
        self.session.flush()
        return entry


def _key(obj: Base) -> RowKey:
    identity = inspect(obj).identity
    assert identity is not None, "a row is flushed before it is recorded"
    return (str(obj.__tablename__), int(identity[0]))


def _keys(entry: AuditEntry) -> dict[RowKey, tuple[Any, Any]]:
    return {
        (table, int(row_id)): (entry.before[table][row_id], entry.after[table][row_id])
        for table in entry.before
        for row_id in entry.before[table]
    }


def _references(table: str, state: dict[str, Any]) -> set[RowKey]:
    """The rows that ``state`` points at through its foreign keys."""
    found: set[RowKey] = set()
    for column in _MODELS[table].__table__.columns:
        for fk in column.foreign_keys:
            value = state.get(column.key)
            if value is not None:
                found.add((fk.column.table.name, int(value)))
    return found


def _blocker(session: Session, entry: AuditEntry) -> AuditEntry | None:
    """The first later change still in effect that touches, or points at, a row of ``entry``."""
    rows = _keys(entry)
    created = {key for key, (old, _new) in rows.items() if old is None}
    later = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.id > entry.id, AuditEntry.undone_by_id.is_(None))
        .where(AuditEntry.undoes_id.is_(None))
        .order_by(AuditEntry.id)
    )
    for other in later:
        for key, (old, new) in _keys(other).items():
            if key in rows:
                return other
            for state in (old, new):
                if state is not None and _references(key[0], state) & created:
                    return other
    return None


def history(catalog: Catalog, limit: int = 50) -> list[AuditEntry]:
    """The latest ``limit`` audit entries, newest first."""
    with catalog.session() as session:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        return list(session.scalars(query))


def open_changes(catalog: Catalog, actor: str, action: str, within: int) -> list[AuditEntry]:
    """The entries of ``actor``'s ``action`` not undone yet among the latest ``within``
    entries, newest first (filtered by the database, not read and sifted)."""
    with catalog.session() as session:
        window = select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(within)
        query = (
            select(AuditEntry)
            .where(
                AuditEntry.id.in_(window.scalar_subquery()),
                AuditEntry.actor == actor,
                AuditEntry.action == action,
                AuditEntry.undone_by_id.is_(None),
            )
            .order_by(AuditEntry.id.desc())
        )
        return list(session.scalars(query))


def find_change(catalog: Catalog, audit_id: int) -> AuditEntry | None:
    """Audit entry ``audit_id``, or None."""
    with catalog.session() as session:
        return session.get(AuditEntry, audit_id)


def undo(catalog: Catalog, audit_id: int, actor: str = "system") -> AuditEntry:
    """Reverse change ``audit_id`` in one transaction and return the new ``undo`` entry.

    Refuses (PhotoidError) an unknown id, a change already undone, an undo entry (undo is
    final: make the change again instead), and a change that a later change still in effect
    depends on (it touches the same rows or points at a row this change created): the message
    names that later change, to be undone first.
    """
    with catalog.session() as session:
        entry = session.get(AuditEntry, audit_id)
        if entry is None:
            raise PhotoidError(f"no change #{audit_id} in the audit log")
        if entry.undone_by_id is not None:
            raise PhotoidError(f"change #{audit_id} was already undone by #{entry.undone_by_id}")
        if entry.undoes_id is not None:
            raise PhotoidError(
                f"change #{audit_id} is itself an undo (of #{entry.undoes_id}); an undo is "
                "final, make the change again instead"
            )
        blocker = _blocker(session, entry)
        if blocker is not None:
            raise PhotoidError(
                f"cannot undo change #{audit_id} ({entry.action}: {entry.summary}): later "
                f"change #{blocker.id} ({blocker.action}: {blocker.summary}) depends on it; "
                f"undo #{blocker.id} first"
            )
        changes = Changes(session)
        _restore(session, changes, _keys(entry))
        reverse = changes.record(actor, "undo", f"undo #{audit_id} ({entry.action})")
        reverse.undoes_id = entry.id
        entry.undone_by_id = reverse.id
        return reverse


def _restore(session: Session, changes: Changes, rows: dict[RowKey, tuple[Any, Any]]) -> None:
    """Put every row back to its ``before`` state: first the changed rows (dropping their
    references to created rows), then delete created rows (children first), then re-insert
    deleted ones (parents first), so foreign and unique keys hold at every flush."""
    order = sorted(rows, key=lambda key: (_TABLE_ORDER.index(key[0]), key[1]))
    for key in order:
        old, new = rows[key]
        if old is None or new is None:
            continue
        model = _MODELS[key[0]]
        obj = session.get(model, key[1])
        if obj is None:
            raise PhotoidError(f"row {key[1]} of {key[0]} is gone; the audit log cannot restore it")
        changes.touch(obj)
        for name, value in _from_state(model, old).items():
            setattr(obj, name, value)
    session.flush()
    for key in reversed(order):
        if rows[key][0] is None and (obj := session.get(_MODELS[key[0]], key[1])) is not None:
            changes.delete(obj)
    for key in order:
        old, new = rows[key]
        if new is None and old is not None:
            model = _MODELS[key[0]]
            changes.add(model(**_from_state(model, old)))
