"""Overrides are revoked with a reason and by someone named; one standing override per item and agency

Revoking an override is recorded on the row (who, why) as well as in the audit trail, and the
case page lists it. A partial unique index keeps two people who record the same override at the
same moment from making two standing rows.

Revision ID: 7c41e9a2b6d8
Revises: 3e8f6b2a7c41
Create Date: 2026-11-25 00:55:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "7c41e9a2b6d8"
down_revision = "3e8f6b2a7c41"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("disclosure_override", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revoke_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_disclosure_override_revoked_by_id_user_account"),
            "user_account",
            ["revoked_by_id"],
            ["id"],
        )
    op.create_index(
        "uq_disclosure_override_standing",
        "disclosure_override",
        ["item_id", "agency_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade():
    op.drop_index("uq_disclosure_override_standing", table_name="disclosure_override")
    with op.batch_alter_table("disclosure_override", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_disclosure_override_revoked_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("revoke_reason")
        batch_op.drop_column("revoked_by_id")
