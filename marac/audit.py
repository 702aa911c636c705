"""The only writer of audit entries, and the keeper of their chain.

Each entry says who (user and agency), when, what (an action name and the object), and from where.
Entries describe what happened in words and field names, never the sensitive values: the audit
trail must be safe to show to an administrator who may not see case detail.

Entries join the chain when their transaction commits (``seal``): the chain's head row is
updated first, which makes every other writer wait for this commit (a row lock on PostgreSQL,
the database's single write lock on SQLite), so two transactions can never both extend the
same entry. Holding it only for the commit keeps requests that audit from queueing behind each
other while they work.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marac import audit_chain, clock
from marac.extensions import db
from marac.models import AuditChainHead, AuditEntry, User

_UNSEALED = "marac_unsealed_audit"
HEAD_ID = 1


def record(
    action: str,
    *,
    user: User | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    detail: str | None = None,
    session: Session | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction; it commits (or rolls back) with the change."""
    if user is None and has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            user = current_user
    entry = AuditEntry(
        # Set here, not by a column default: the chain hashes exactly the stored value.
        at=clock.utc_now(),
        action=action,
        user_id=user.id if user is not None else None,
        agency_id=user.agency_id if user is not None else None,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
        remote_addr=request.remote_addr if has_request_context() else "cli",
    )
    (session or db.session).add(entry)
    return entry


def record_view(
    action: str, *, object_type: str, object_id: int, detail: str | None = None
) -> None:
    """A look at a record: kept even when the answer is an error and the request rolls back.

    A page answered with 400 (a form with a mistake) still showed what it showed.
    """
    entry = record(action, object_type=object_type, object_id=object_id, detail=detail)
    if has_request_context():
        g.setdefault("audit_views", []).append(entry)


def keep_views_after_rollback(session: Session) -> None:
    """Called by the request's rollback: the views it recorded are written on their own."""
    views = g.pop("audit_views", []) if has_request_context() else []
    if not views:
        return
    session.add_all(
        AuditEntry(
            at=v.at,
            action=v.action,
            user_id=v.user_id,
            agency_id=v.agency_id,
            object_type=v.object_type,
            object_id=v.object_id,
            detail=v.detail,
            remote_addr=v.remote_addr,
        )
        for v in views
    )
    session.commit()


def describe_changes(before: dict[str, object], after: dict[str, object]) -> str | None:
    """Names the fields that changed, e.g. "role, is_enabled". Values are left out on purpose."""
    changed = sorted(key for key in after if before.get(key) != after.get(key))
    return ", ".join(changed) if changed else None


# --- the chain -------------------------------------------------------------------------------


def _unsealed(session: Session) -> list[AuditEntry]:
    return session.info.setdefault(_UNSEALED, [])


@sa.event.listens_for(Session, "before_flush")
def _track_new_entries(session: Session, _context: object, _instances: object) -> None:
    tracked = _unsealed(session)
    tracked.extend(
        obj
        for obj in session.new
        if isinstance(obj, AuditEntry) and obj.entry_hash is None and obj not in tracked
    )


@sa.event.listens_for(Session, "before_commit")
def seal(session: Session) -> None:
    """Give this transaction's new entries their places and hashes, under the chain's lock."""
    tracked = _unsealed(session)
    tracked.extend(obj for obj in session.new if isinstance(obj, AuditEntry) and obj not in tracked)
    entries = [e for e in tracked if e.entry_hash is None and e in session]
    tracked.clear()
    if not entries:
        return
    connection = session.connection()
    length, prev = _claim(connection, len(entries))
    for offset, entry in enumerate(entries):
        if entry.at is None:
            entry.at = clock.utc_now()
        entry.seq = length - len(entries) + offset + 1
        entry.prev_hash = prev
        entry.entry_hash = audit_chain.entry_hash(entry, prev)
        prev = entry.entry_hash
    connection.execute(_SET_LAST_HASH, {"last_hash": prev})


@sa.event.listens_for(Session, "after_rollback")
def _forget_unsealed(session: Session) -> None:
    session.info.pop(_UNSEALED, None)


_HEAD = AuditChainHead.__table__
# Built once: every audited request runs both.
_CLAIM = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID)
    .values(length=_HEAD.c.length + sa.bindparam("count"))
    .returning(_HEAD.c.length, _HEAD.c.last_hash)
)
_SET_LAST_HASH = (
    sa.update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(last_hash=sa.bindparam("last_hash"))
)


def _claim(connection: sa.Connection, count: int) -> tuple[int, str]:
    """Lengthen the chain by ``count`` and lock its head until commit; (new length, last hash)."""
    row = connection.execute(_CLAIM, {"count": count}).first()
    if row is None:
        # A new database: make the head once, whoever gets there first.
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(
            insert(_HEAD)
            .values(id=HEAD_ID, length=0, last_hash=audit_chain.GENESIS)
            .on_conflict_do_nothing(index_elements=[_HEAD.c.id])
        )
        row = connection.execute(_CLAIM, {"count": count}).one()
    return row.length, row.last_hash


def _entries_in_order(session: Session) -> Iterator[AuditEntry]:
    statement = sa.select(AuditEntry).order_by(
        AuditEntry.seq.is_(None), AuditEntry.seq, AuditEntry.id
    )
    yield from session.scalars(statement.execution_options(yield_per=2000))


def verify_chain(session: Session) -> audit_chain.Verification:
    head = session.get(AuditChainHead, HEAD_ID)
    return audit_chain.verify(
        _entries_in_order(session),
        head.length if head else None,
        head.last_hash if head else None,
    )


def entries_about(
    session: Session, object_type: str, object_ids: list[int], since: datetime | None = None
) -> sa.Select:
    """Entries naming any of these objects, newest first."""
    statement = sa.select(AuditEntry).where(
        AuditEntry.object_type == object_type, AuditEntry.object_id.in_(object_ids)
    )
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    return statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
