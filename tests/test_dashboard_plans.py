"""The dashboards' queries read one area's range of an index, whatever the size of the country.

Timings live in bench/ (``bench/run.py``); these check the plan SQLite chooses, which is what
keeps a dashboard's cost to its own area's rows.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from marac import dashboards
from marac.domain import AgencyKind, Role
from marac.extensions import db
from marac.models import Action
from marac.viewer import viewer_for


def _plan(statement: sa.Select) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return "\n".join(row[-1] for row in rows)


def test_not_completed_starts_from_the_areas_status_changes(app, make_agency, make_user) -> None:  # noqa: ANN001
    if db.engine.dialect.name != "sqlite":
        pytest.skip(
            "EXPLAIN QUERY PLAN is SQLite's; PostgreSQL's plans are measured by bench/run.py"
        )
    coordinator = make_user(Role.COORDINATOR, make_agency(kind=AgencyKind.OTHER))
    viewer = viewer_for(coordinator)
    today = date(2026, 11, 24)
    conditions = dashboards.not_completed_conditions(viewer, today, date(2026, 8, 1), today)
    for statement in (
        dashboards.count_where(conditions),
        dashboards.by_agency(conditions, at_least=2),
        dashboards.listed(conditions, None).order_by(Action.due_on, Action.id).limit(25),
    ):
        plan = _plan(statement)
        assert "ix_action_status_change_area_to_at (area_id=? AND to_status=?" in plan, plan
        # Never the whole table of status changes.
        assert "SCAN action_status_change" not in plan, plan
