"""Audit chain: entries sealed by hash in order, a head row, and append-only triggers

Entries written before this migration are sealed now, in the order they were written (by id),
so that the chain covers the whole trail. The triggers are created after the batch step, which
on SQLite rebuilds the table (and would drop them).

Revision ID: fc32fea3f2f4
Revises: 03d359f59ea3
Create Date: 2026-11-24 19:16:51.226253

"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from marac import audit_chain
from marac.models.audit import create_append_only_triggers, drop_append_only_triggers

# revision identifiers, used by Alembic.
revision = "fc32fea3f2f4"
down_revision = "03d359f59ea3"
branch_labels = None
depends_on = None

FIELDS = (
    "id",
    "at",
    "user_id",
    "agency_id",
    "action",
    "object_type",
    "object_id",
    "detail",
    "remote_addr",
)


def upgrade():
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_audit_entry_seq"), ["seq"])

    bind = op.get_bind()
    entry = sa.table(
        "audit_entry",
        sa.column("id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("user_id", sa.Integer),
        sa.column("agency_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("object_type", sa.String),
        sa.column("object_id", sa.Integer),
        sa.column("detail", sa.Text),
        sa.column("remote_addr", sa.String),
        sa.column("seq", sa.BigInteger),
        sa.column("prev_hash", sa.String),
        sa.column("entry_hash", sa.String),
    )
    rows = bind.execute(sa.select(*(entry.c[name] for name in FIELDS)).order_by(entry.c.id)).all()
    prev = audit_chain.GENESIS
    for seq, row in enumerate(rows, start=1):
        sealed = SimpleNamespace(**row._mapping, seq=seq)
        digest = audit_chain.entry_hash(sealed, prev)
        bind.execute(
            entry.update()
            .where(entry.c.id == row.id)
            .values(seq=seq, prev_hash=prev, entry_hash=digest)
        )
        prev = digest
    op.bulk_insert(head, [{"id": 1, "length": len(rows), "last_hash": prev}])
    create_append_only_triggers(bind)


def downgrade():
    drop_append_only_triggers(op.get_bind())
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_entry_seq"), type_="unique")
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")

    op.drop_table("audit_chain_head")
