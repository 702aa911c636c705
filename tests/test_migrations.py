"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from marac import MIGRATIONS_DIR
from marac.extensions import db

from .conftest import DatabaseFactory, make_test_app


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, db.metadata)


def test_migrations_produce_the_models_schema(databases: DatabaseFactory) -> None:
    app = make_test_app(databases.new("migrations"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        assert _differences() == []
        tables = set(sa.inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables

        downgrade(directory=MIGRATIONS_DIR, revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}

        upgrade(directory=MIGRATIONS_DIR)
        assert _differences() == []
        db.engine.dispose()
