"""Actions turned into what one viewer may see: in full, as a summary, or not at all.

Lists (the case page, the dashboards, the due list) first load each action's facts without its
text, ask ``policy.action`` about each, and only then read the text, the named owner and the
subject's name for the actions the policy opened. The number of queries does not depend on the
number of actions listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import clock, policy
from marac.domain import OPEN_ACTION_STATUSES, ActionStatus, ActionSubject
from marac.models import Action, ActionStatusChange, Agency, Case, Person, User
from marac.viewer import CaseLinks, Viewer, links_for_cases

SOMEONE_IN_THE_CASE = "Someone in the case"


@dataclass(frozen=True)
class PresentedChange:
    from_label: str | None
    to_label: str
    note: str | None
    by: str | None
    at: datetime


@dataclass(frozen=True)
class PresentedAction:
    action_id: int
    case_id: int
    case_reference: str
    full: bool
    owner_agency: str
    due_on: date
    status: ActionStatus
    status_label: str
    still_open: bool
    overdue: bool
    due_soon: bool
    updated_on: date
    version: int
    # The safe wording, "Action for <agency> (due <date>)", for a summary.
    summary: str | None = None
    # In full only.
    text: str | None = None
    owner_user: str | None = None
    subject_label: str | None = None
    shared_in_detail: bool | None = None
    may_update: bool = False


def action_rows_statement() -> sa.Select:
    """The facts of actions (no text), with the owner agency's name and the case.

    Callers add the policy's filter, their own conditions, order and page.
    """
    return (
        sa.select(
            Action.id,
            Action.case_id,
            Action.owner_agency_id,
            Action.subject,
            Action.subject_person_id,
            Action.shared_in_detail,
            Action.due_on,
            Action.status,
            Action.updated_at,
            Action.version,
            Agency.name.label("owner_agency_name"),
            Case,
        )
        .join(Agency, Agency.id == Action.owner_agency_id)
        .join(Case, Case.id == Action.case_id)
    )


# Built once: the case page, the meeting and the action's own page run them on every view.
_CASE_ACTION_ROWS = action_rows_statement().where(Action.case_id == sa.bindparam("case_id"))
_OPEN_CASE_ACTION_ROWS = _CASE_ACTION_ROWS.where(Action.status.in_(OPEN_ACTION_STATUSES)).order_by(
    Action.due_on, Action.id
)
_FULL_DETAILS = (
    sa.select(
        Action.id,
        Action.text,
        User.display_name,
        (Person.given_name + " " + Person.family_name).label("subject_name"),
    )
    .outerjoin(User, User.id == Action.owner_user_id)
    .outerjoin(Person, Person.id == Action.subject_person_id)
    .where(Action.id.in_(sa.bindparam("action_ids", expanding=True)))
)


def facts_of(row: sa.Row) -> policy.ActionFacts:
    return policy.ActionFacts(
        id=row.id,
        owner_agency_id=row.owner_agency_id,
        owner_agency_name=row.owner_agency_name,
        subject=row.subject,
        shared_in_detail=row.shared_in_detail,
        due_on=row.due_on,
    )


def present_action_rows(
    session: Session,
    viewer: Viewer,
    rows: Sequence[sa.Row],
    today: date,
    links: Mapping[int, CaseLinks] | None = None,
) -> list[PresentedAction]:
    """Rows from ``action_rows_statement`` as the viewer may see them, in the same order."""
    if not rows:
        return []
    if links is None:
        cases = {row.Case.id: row.Case for row in rows}
        links = links_for_cases(session, viewer, cases.values(), today)
    decisions = {row.id: policy.action(viewer, links[row.case_id], facts_of(row)) for row in rows}
    details = _full_details(session, [row.id for row in rows if decisions[row.id].full])
    zone = clock.service_timezone()

    presented = []
    for row in rows:
        decision = decisions[row.id]
        if decision.withheld:
            continue
        case_links = links[row.case_id]
        still_open = row.status in OPEN_ACTION_STATUSES
        common = {
            "action_id": row.id,
            "case_id": row.case_id,
            "case_reference": row.Case.reference,
            "full": decision.full,
            "owner_agency": row.owner_agency_name,
            "due_on": row.due_on,
            "status": row.status,
            "status_label": row.status.label,
            "still_open": still_open,
            "overdue": clock.is_overdue(row.due_on, still_open, today),
            "due_soon": clock.is_due_soon(row.due_on, still_open, today),
            "updated_on": clock.as_utc(row.updated_at).astimezone(zone).date(),
            "version": row.version,
        }
        if not decision.full:
            presented.append(PresentedAction(summary=decision.summary, **common))
            continue
        text, owner_user, subject_name = details[row.id]
        presented.append(
            PresentedAction(
                text=text,
                owner_user=owner_user,
                subject_label=subject_label(
                    viewer, case_links, row.subject, row.subject_person_id, subject_name
                ),
                shared_in_detail=row.shared_in_detail,
                may_update=policy.may_update_action(viewer, case_links, facts_of(row)).full,
                **common,
            )
        )
    return presented


def subject_label(
    viewer: Viewer,
    links: CaseLinks,
    subject: ActionSubject,
    person_id: int | None,
    name: str | None,
) -> str:
    """Whom the action is about, as ``person_identity`` lets this viewer see them."""
    if subject is ActionSubject.HOUSEHOLD or person_id is None:
        return ActionSubject.HOUSEHOLD.label
    decision = policy.person_identity(viewer, links, person_id)
    if decision.full and name:
        return name
    if decision.level is policy.Level.SUMMARY and decision.summary:
        return decision.summary
    return SOMEONE_IN_THE_CASE


def _full_details(
    session: Session, action_ids: Iterable[int]
) -> dict[int, tuple[str, str | None, str | None]]:
    """Text, named owner and subject's name: read only for actions the policy opened."""
    ids = list(action_ids)
    if not ids:
        return {}
    rows = session.execute(_FULL_DETAILS, {"action_ids": ids})
    return {row.id: (row.text, row.display_name, row.subject_name) for row in rows}


def _open_first(actions: list[PresentedAction]) -> list[PresentedAction]:
    still_open = sorted((a for a in actions if a.still_open), key=lambda a: (a.due_on, a.action_id))
    rest = sorted((a for a in actions if not a.still_open), key=lambda a: (a.due_on, a.action_id))
    rest.reverse()
    return still_open + rest


def case_actions(
    session: Session, viewer: Viewer, links: CaseLinks, case: Case, today: date
) -> list[PresentedAction]:
    """Every action of the case the viewer may know of: open ones first, oldest due first, then
    the rest, most recently due first."""
    rows = session.execute(_CASE_ACTION_ROWS, {"case_id": case.id}).all()
    return _open_first(present_action_rows(session, viewer, rows, today, {case.id: links}))


def open_actions_for_case(
    session: Session, viewer: Viewer, links: CaseLinks, case: Case, today: date | None = None
) -> list[PresentedAction]:
    """The case's open actions, oldest due first: what the next meeting reviews first."""
    today = today or clock.service_today()
    rows = session.execute(_OPEN_CASE_ACTION_ROWS, {"case_id": case.id}).all()
    return present_action_rows(session, viewer, rows, today, {case.id: links})


def action_history(session: Session, action_id: int) -> list[PresentedChange]:
    """The history of an action the caller has already been told it may read in full."""
    rows = session.execute(
        sa.select(ActionStatusChange, User.display_name)
        .outerjoin(User, User.id == ActionStatusChange.changed_by_id)
        .where(ActionStatusChange.action_id == action_id)
        .order_by(ActionStatusChange.changed_at, ActionStatusChange.id)
    )
    return [
        PresentedChange(
            from_label=change.from_status.label if change.from_status else None,
            to_label=change.to_status.label,
            note=change.note,
            by=name,
            at=clock.as_utc(change.changed_at).astimezone(clock.service_timezone()),
        )
        for change, name in rows
    ]
