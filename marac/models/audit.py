"""The audit trail. Only ``marac.audit`` writes it; nothing updates or deletes it.

Entries are chained: each stores the hash of the one before it (``prev_hash``) and its own hash
over a canonical form of its fields (``marac.audit_chain``), in the order of ``seq``. The chain's
head (length and last hash) is one row of ``audit_chain_head``, which is also the lock that puts
concurrent writers in one order. Database triggers refuse any change to a sealed entry and any
delete; ``marac audit-verify`` finds an entry edited or deleted by someone who got round them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marac.extensions import db
from marac.models.base import utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    # e.g. "case.view", "login.failed", "user.update"
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[int | None] = mapped_column()
    # What changed, in words and field names; never the sensitive values themselves.
    detail: Mapped[str | None] = mapped_column(sa.Text)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    # Position in the chain, given at commit (so empty only inside the writing transaction).
    seq: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    entry_hash: Mapped[str | None] = mapped_column(sa.String(64))


class AuditChainHead(db.Model):
    """One row (id 1): how long the chain is and the hash of its last entry."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    length: Mapped[int] = mapped_column(sa.BigInteger)
    last_hash: Mapped[str] = mapped_column(sa.String(64))


# Sealed entries cannot be changed and no entry can be deleted, whoever connects as the
# service's database user. Created by the migration and, for tests, with the table.
TRIGGER_NAME = "audit_entry_append_only"
APPEND_ONLY_MESSAGE = "audit entries are append-only"

SQLITE_TRIGGERS = {
    f"{TRIGGER_NAME}_update": (
        f"CREATE TRIGGER {TRIGGER_NAME}_update BEFORE UPDATE ON audit_entry "
        "WHEN OLD.entry_hash IS NOT NULL "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
    ),
    f"{TRIGGER_NAME}_delete": (
        f"CREATE TRIGGER {TRIGGER_NAME}_delete BEFORE DELETE ON audit_entry "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
    ),
}
POSTGRESQL_FUNCTION = (
    f"CREATE OR REPLACE FUNCTION {TRIGGER_NAME}() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "IF TG_OP = 'UPDATE' AND OLD.entry_hash IS NULL THEN RETURN NEW; END IF; "
    f"RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; "
    "END $$"
)
POSTGRESQL_TRIGGER = (
    f"CREATE TRIGGER {TRIGGER_NAME} BEFORE UPDATE OR DELETE ON audit_entry "
    f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER_NAME}()"
)


def create_append_only_triggers(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(POSTGRESQL_FUNCTION)
        connection.exec_driver_sql(POSTGRESQL_TRIGGER)
    elif connection.dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS.values():
            connection.exec_driver_sql(statement)


def drop_append_only_triggers(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TRIGGER_NAME} ON audit_entry")
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {TRIGGER_NAME}()")
    elif connection.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


@sa.event.listens_for(AuditEntry.__table__, "after_create")
def _after_create(_table: sa.Table, connection: sa.Connection, **_: object) -> None:
    create_append_only_triggers(connection)
