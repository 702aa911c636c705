"""The queries behind the action dashboards, the due list and the reminders.

Each starts from ``policy.visible_actions_clause`` (or ``visible_cases_clause`` for case lists),
so nothing the policy withholds is ever counted or listed, and adds an ``area_id`` condition the
database can answer from an index. Every row they return still goes through ``policy.action``
in ``marac.present_actions`` before anyone sees it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from marac import clock, policy
from marac.domain import (
    OPEN_ACTION_STATUSES,
    ActionStatus,
    ActionSubject,
    AgencyKind,
    CaseRole,
    CaseStatus,
)
from marac.models import Action, ActionStatusChange, Agency, Case, CasePerson
from marac.present_actions import action_rows_statement
from marac.viewer import Viewer

OPEN = tuple(OPEN_ACTION_STATUSES)
# Counts of lists that only grow (everything done, every action ever about a child) stop here and
# say "more than 1,000": counting a decade of history on every page view would cost more than the
# page itself.
COUNT_CAP = 1000
# Cases whose plan is still being made or carried out.
CURRENT_CASE_STATUSES = (
    CaseStatus.REFERRED,
    CaseStatus.ELIGIBLE,
    CaseStatus.LISTED,
    CaseStatus.HEARD,
)


def _visible(viewer: Viewer, today: date) -> list[sa.ColumnElement[bool]]:
    return [Action.area_id == viewer.area_id, policy.visible_actions_clause(viewer, today)]


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in the service's time zone, as an aware datetime."""
    return datetime.combine(day, time(0, 0), tzinfo=clock.service_timezone())


# --- my agency's actions --------------------------------------------------------------------

AGENCY_VIEWS = ("due_soon", "overdue", "done", "open")


def agency_conditions(viewer: Viewer, today: date) -> list[sa.ColumnElement[bool]]:
    return [Action.owner_agency_id == viewer.agency_id, *_visible(viewer, today)]


def agency_view(viewer: Viewer, view: str, today: date, days: int) -> sa.Select:
    statement = action_rows_statement().where(*agency_conditions(viewer, today))
    until = clock.due_soon_until(today, days)
    if view == "due_soon":
        statement = statement.where(
            Action.status.in_(OPEN), Action.due_on >= today, Action.due_on <= until
        )
    elif view == "overdue":
        statement = statement.where(Action.status.in_(OPEN), Action.due_on < today)
    elif view == "done":
        return statement.where(Action.status == ActionStatus.DONE).order_by(
            Action.due_on.desc(), Action.id.desc()
        )
    else:
        statement = statement.where(Action.status.in_(OPEN))
    return statement.order_by(Action.due_on, Action.id)


def agency_counts(viewer: Viewer, today: date, days: int) -> tuple[sa.Select, sa.Select]:
    """How many actions of the viewer's agency are due soon, overdue and open (one statement,
    one row: each a filtered count over the agency's open actions), and how many are done.

    Done actions pile up over the years, so that count stops at ``COUNT_CAP``.
    """
    until = clock.due_soon_until(today, days)
    base = agency_conditions(viewer, today)
    open_counts = sa.select(
        sa.func.count(Action.id).filter(Action.due_on >= today, Action.due_on <= until),
        sa.func.count(Action.id).filter(Action.due_on < today),
        sa.func.count(Action.id),
    ).where(*base, Action.status.in_(OPEN))
    done = count_where([*base, Action.status == ActionStatus.DONE], cap=COUNT_CAP)
    return open_counts, done


# --- the due list and reminders -------------------------------------------------------------


def due_conditions(viewer: Viewer, today: date) -> list[sa.ColumnElement[bool]]:
    """The viewer's agency's open actions due within the due-soon window or already overdue."""
    return [
        *agency_conditions(viewer, today),
        Action.status.in_(OPEN),
        Action.due_on <= clock.due_soon_until(today),
    ]


def due_view(viewer: Viewer, today: date, mine_only: bool) -> sa.Select:
    statement = action_rows_statement().where(*due_conditions(viewer, today))
    if mine_only:
        statement = statement.where(Action.owner_user_id == viewer.user_id)
    return statement.order_by(Action.due_on, Action.id)


def due_count(viewer: Viewer, today: date) -> sa.Select:
    return count_where(due_conditions(viewer, today))


# --- the coordinator's view -----------------------------------------------------------------

COORDINATOR_VIEWS = ("overdue", "stale", "not_completed")


def overdue_conditions(viewer: Viewer, today: date) -> list[sa.ColumnElement[bool]]:
    return [*_visible(viewer, today), Action.status.in_(OPEN), Action.due_on < today]


def stale_conditions(viewer: Viewer, today: date, since: date) -> list[sa.ColumnElement[bool]]:
    return [
        *_visible(viewer, today),
        Action.status.in_(OPEN),
        Action.updated_at < start_of_day(since),
    ]


def not_completed_conditions(
    viewer: Viewer, today: date, period_from: date, period_to: date
) -> list[sa.ColumnElement[bool]]:
    """Actions marked "not completed by the agency" during the period (whatever they are now).

    Written as ``id IN (the area's status changes in the period)`` so that the database starts
    from the few changes in one range of an index on (area, status, time), not from every action
    of the area nor from every such change in the country.
    """
    marked = sa.select(ActionStatusChange.action_id).where(
        ActionStatusChange.area_id == viewer.area_id,
        ActionStatusChange.to_status == ActionStatus.NOT_DONE_BY_AGENCY,
        ActionStatusChange.changed_at >= start_of_day(period_from),
        ActionStatusChange.changed_at < start_of_day(period_to + timedelta(days=1)),
    )
    return [*_visible(viewer, today), Action.id.in_(marked)]


def by_agency(conditions: list[sa.ColumnElement[bool]], at_least: int = 1) -> sa.Select:
    """(agency id, agency name, count) for the actions matching ``conditions``.

    Counted per agency id first and named afterwards: joining the agency table into the count
    leads SQLite to walk every agency of the country instead of the area's index range.
    """
    count = sa.func.count(Action.id)
    counted = (
        sa.select(Action.owner_agency_id, count.label("count"))
        .where(*conditions)
        .group_by(Action.owner_agency_id)
        .having(count >= at_least)
        .subquery()
    )
    return (
        sa.select(Agency.id, Agency.name, counted.c.count)
        .join(counted, counted.c.owner_agency_id == Agency.id)
        .order_by(counted.c.count.desc(), Agency.name)
    )


def listed(conditions: list[sa.ColumnElement[bool]], agency_id: int | None) -> sa.Select:
    statement = action_rows_statement().where(*conditions)
    if agency_id:
        statement = statement.where(Action.owner_agency_id == agency_id)
    return statement


# --- the reviewers' views -------------------------------------------------------------------


def child_action_conditions(
    viewer: Viewer, today: date, open_only: bool
) -> list[sa.ColumnElement[bool]]:
    conditions = [*_visible(viewer, today), Action.subject == ActionSubject.CHILD]
    if open_only:
        conditions.append(Action.status.in_(OPEN))
    return conditions


def police_agency_ids(viewer: Viewer) -> sa.Select:
    return sa.select(Agency.id).where(
        Agency.area_id == viewer.area_id, Agency.kind == AgencyKind.POLICE
    )


def police_action_conditions(
    viewer: Viewer, today: date, open_only: bool
) -> list[sa.ColumnElement[bool]]:
    conditions = [*_visible(viewer, today), Action.owner_agency_id.in_(police_agency_ids(viewer))]
    if open_only:
        conditions.append(Action.status.in_(OPEN))
    return conditions


def uncovered_cases(
    viewer: Viewer, today: date, role: CaseRole, subject: ActionSubject
) -> sa.Select:
    """Current cases open to the viewer with someone in ``role`` and no live action about them.

    A cancelled action does not cover anyone; one that is done or could not be done does (the
    plan addressed them).
    """
    has_someone = sa.exists(
        sa.select(1).where(CasePerson.case_id == Case.id, CasePerson.role == role)
    )
    covered = sa.exists(
        sa.select(1).where(
            Action.case_id == Case.id,
            Action.subject == subject,
            Action.status != ActionStatus.CANCELLED,
        )
    )
    return sa.select(Case).where(
        Case.area_id == viewer.area_id,
        Case.status.in_(CURRENT_CASE_STATUSES),
        policy.visible_cases_clause(viewer, today),
        has_someone,
        ~covered,
    )


def count_where(conditions: list[sa.ColumnElement[bool]], cap: int | None = None) -> sa.Select:
    """How many actions match; with ``cap``, counting stops at cap + 1 ("more than cap")."""
    if cap is None:
        return sa.select(sa.func.count(Action.id)).where(*conditions)
    return count_of(sa.select(Action.id).where(*conditions), cap)


def count_of(statement: sa.Select, cap: int | None = None) -> sa.Select:
    statement = statement.order_by(None)
    if cap is not None:
        statement = statement.limit(cap + 1)
    return sa.select(sa.func.count()).select_from(statement.subquery())
