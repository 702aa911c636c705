"""Equality monitoring on people (ethnic group, sexual orientation, trans history, disability)
and each area's report settings (adult female population, IDVA full-time equivalents)

Every person already recorded reads "not known" for each new field: nobody was asked.

Revision ID: 5c1e0a7d2b94
Revises: 62cf6d8c6e84
Create Date: 2026-11-24 21:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5c1e0a7d2b94"
down_revision = "62cf6d8c6e84"
branch_labels = None
depends_on = None

MONITORING = {
    "ethnic_group": (
        "ethnicgroup",
        (
            "white_british",
            "white_irish",
            "gypsy_traveller",
            "roma",
            "white_other",
            "mixed",
            "asian",
            "black",
            "arab",
            "other",
            "not_known",
            "prefers_not_to_say",
        ),
    ),
    "sexual_orientation": (
        "sexualorientation",
        ("straight", "gay_or_lesbian", "bisexual", "other", "not_known", "prefers_not_to_say"),
    ),
    "trans_history": ("transhistory", ("same", "trans", "not_known", "prefers_not_to_say")),
    "disability": ("disability", ("yes", "no", "not_known", "prefers_not_to_say")),
}


def upgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        for column, (name, values) in MONITORING.items():
            batch_op.add_column(
                sa.Column(
                    column,
                    sa.Enum(
                        *values, name=name, native_enum=False, create_constraint=True, length=40
                    ),
                    server_default="not_known",
                    nullable=False,
                )
            )

    op.create_table(
        "area_report_settings",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("adult_female_population", sa.Integer(), nullable=True),
        sa.Column("idva_fte", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "adult_female_population IS NULL OR adult_female_population > 0",
            name=op.f("ck_area_report_settings_population_positive"),
        ),
        sa.CheckConstraint(
            "idva_fte IS NULL OR idva_fte >= 0",
            name=op.f("ck_area_report_settings_idva_fte_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_area_report_settings_area_id_area")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_area_report_settings_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("area_id", name=op.f("pk_area_report_settings")),
    )


def downgrade():
    op.drop_table("area_report_settings")
    with op.batch_alter_table("person", schema=None) as batch_op:
        # The CHECK constraints first: SQLite's rebuilt table would still name the columns.
        for column, (name, _values) in reversed(MONITORING.items()):
            batch_op.drop_constraint(name, type_="check")
            batch_op.drop_column(column)
