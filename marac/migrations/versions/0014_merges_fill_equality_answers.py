"""A merge fills the kept record's unanswered equality questions from the duplicate

Which questions it filled is kept on the merge, so that undoing the merge empties exactly those.

Revision ID: 7a4c2e9b1d05
Revises: 5d2b7e41a9c3
Create Date: 2026-11-25 01:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7a4c2e9b1d05"
down_revision = "5d2b7e41a9c3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person_merge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filled_answers", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("person_merge", schema=None) as batch_op:
        batch_op.drop_column("filled_answers")
