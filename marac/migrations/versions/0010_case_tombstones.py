"""Case tombstones: what is left of a case deleted at the end of its retention period

A reference, dates and counts of the rows deleted; no personal data.

Revision ID: 62cf6d8c6e84
Revises: fc32fea3f2f4
Create Date: 2026-11-24 21:30:22.756102

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "62cf6d8c6e84"
down_revision = "fc32fea3f2f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_tombstone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retention_years", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_case_tombstone_area_id_area")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_tombstone")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_tombstone_case_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_case_tombstone_reference")),
    )
    with op.batch_alter_table("case_tombstone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_tombstone_area_id"), ["area_id"], unique=False)


def downgrade():
    with op.batch_alter_table("case_tombstone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_tombstone_area_id"))

    op.drop_table("case_tombstone")
