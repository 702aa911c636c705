"""Second-factor secrets sealed with the instance's data key, not kept in the clear

Each existing secret is sealed with the key of the app running the migration (MARAC_DATA_KEY or
the instance's data_key file), then the clear column is dropped. Downgrading opens them again.

Revision ID: 3e8f6b2a7c41
Revises: 7a4c2e9b1d05
Create Date: 2026-11-25 01:20:00.000000

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from marac.sealing import seal_with, unseal_with

# revision identifiers, used by Alembic.
revision = "3e8f6b2a7c41"
down_revision = "7a4c2e9b1d05"
branch_labels = None
depends_on = None


def _rewrite(source: str, target: str, change) -> None:
    key = current_app.config["MARAC_DATA_KEY"]
    table = sa.table("sign_in_state", sa.column("user_id"), sa.column(source), sa.column(target))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(table.c.user_id, table.c[source]).where(table.c[source].is_not(None))
    ).all()
    for user_id, value in rows:
        connection.execute(
            sa.update(table).where(table.c.user_id == user_id).values({target: change(key, value)})
        )


def upgrade():
    with op.batch_alter_table("sign_in_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret_sealed", sa.Text(), nullable=True))
    _rewrite("totp_secret", "totp_secret_sealed", seal_with)
    with op.batch_alter_table("sign_in_state", schema=None) as batch_op:
        batch_op.drop_column("totp_secret")


def downgrade():
    with op.batch_alter_table("sign_in_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
    _rewrite("totp_secret_sealed", "totp_secret", unseal_with)
    with op.batch_alter_table("sign_in_state", schema=None) as batch_op:
        batch_op.drop_column("totp_secret_sealed")
