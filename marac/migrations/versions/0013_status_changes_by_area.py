"""Status changes carry their action's area: "not completed by the agency" reads one area's index

The coordinator's list of actions marked not completed in a period started from every such change
in the country and looked each action up to find its area; with the area on the change (actions
never move area), it reads one range of an index on (area, status, time).

Revision ID: 5d2b7e41a9c3
Revises: e8ad0286abd9
Create Date: 2026-11-24 22:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5d2b7e41a9c3"
down_revision = "e8ad0286abd9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("action_status_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE action_status_change SET area_id = "
        "(SELECT action.area_id FROM action WHERE action.id = action_status_change.action_id)"
    )
    with op.batch_alter_table("action_status_change", schema=None) as batch_op:
        batch_op.alter_column("area_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_action_status_change_area_id_area"), "area", ["area_id"], ["id"]
        )
        batch_op.drop_index(batch_op.f("ix_action_status_change_to_at"))
        batch_op.create_index(
            "ix_action_status_change_area_to_at",
            ["area_id", "to_status", "changed_at", "action_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("action_status_change", schema=None) as batch_op:
        batch_op.drop_index("ix_action_status_change_area_to_at")
        batch_op.create_index(
            batch_op.f("ix_action_status_change_to_at"), ["to_status", "changed_at"], unique=False
        )
        batch_op.drop_constraint(
            batch_op.f("fk_action_status_change_area_id_area"), type_="foreignkey"
        )
        batch_op.drop_column("area_id")
