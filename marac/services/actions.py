"""Creating actions and changing their status. Flushes and audits; the request commits."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import audit, clock
from marac.domain import SUBJECT_FOR_ROLE, ActionStatus, ActionSubject
from marac.models import Action, ActionStatusChange, Agency, Case, CasePerson, User

# A status that says the action will not be done needs the reason written down.
STATUSES_NEEDING_A_NOTE = frozenset(
    {ActionStatus.NOT_DONE_CIRCUMSTANCES, ActionStatus.NOT_DONE_BY_AGENCY, ActionStatus.CANCELLED}
)


class ActionProblem(ValueError):
    """Input the service refuses, with the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleAction(Exception):
    """Someone changed the action after this user loaded it."""


def create_action(
    session: Session,
    *,
    case: Case,
    owner_agency: Agency,
    owner_user: User | None,
    subject: ActionSubject,
    subject_person_id: int | None,
    text: str,
    due_on: date,
    shared_in_detail: bool,
    created_by: User | None,
    agenda_item_id: int | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Action:
    today = today or clock.service_today()
    now = now or clock.utc_now()
    text = (text or "").strip()
    if not text:
        raise ActionProblem("text", "Say what will be done.")
    if owner_agency.area_id != case.area_id:
        raise ActionProblem("owner_agency_id", "Choose an agency of this case's area.")
    if owner_user is not None and owner_user.agency_id != owner_agency.id:
        raise ActionProblem("owner_user_id", "The named owner must work for the owner agency.")
    if due_on < today:
        raise ActionProblem("due_on", "The due date must be today or later.")
    _check_subject(session, case, subject, subject_person_id)
    action = opened_action(
        case=case,
        owner_agency_id=owner_agency.id,
        owner_user_id=owner_user.id if owner_user else None,
        subject=subject,
        subject_person_id=subject_person_id,
        text=text,
        due_on=due_on,
        shared_in_detail=shared_in_detail,
        created_by_id=created_by.id if created_by else None,
        at=now,
        agenda_item_id=agenda_item_id,
    )
    session.add(action)
    session.flush()
    audit.record(
        "action.create",
        user=created_by,
        object_type="action",
        object_id=action.id,
        detail=f"case {case.id}: owner agency {owner_agency.id}, subject {subject.value}, "
        f"due {due_on.isoformat()}, {'shared in detail' if shared_in_detail else 'not shared'}"
        + (f", agreed at agenda item {agenda_item_id}" if agenda_item_id else ""),
    )
    return action


def opened_action(
    *,
    case: Case,
    owner_agency_id: int,
    owner_user_id: int | None,
    subject: ActionSubject,
    subject_person_id: int | None,
    text: str,
    due_on: date,
    shared_in_detail: bool,
    created_by_id: int | None,
    at: datetime,
    agenda_item_id: int | None = None,
) -> Action:
    """A new open action, with the opening entry of its history. Checks nothing and adds
    nothing to the session: ``create_action`` checks, and the demo loader builds its own."""
    action = Action(
        case_id=case.id,
        area_id=case.area_id,
        owner_agency_id=owner_agency_id,
        owner_user_id=owner_user_id,
        subject=subject,
        subject_person_id=subject_person_id,
        text=text,
        due_on=due_on,
        shared_in_detail=shared_in_detail,
        status=ActionStatus.OPEN,
        created_by_id=created_by_id,
        created_at=at,
        updated_at=at,
        agenda_item_id=agenda_item_id,
    )
    action.history.append(
        ActionStatusChange(
            area_id=case.area_id,
            from_status=None,
            to_status=ActionStatus.OPEN,
            note=None,
            changed_by_id=created_by_id,
            changed_at=at,
        )
    )
    return action


def record_status(
    action: Action,
    to_status: ActionStatus,
    note: str | None,
    changed_by_id: int | None,
    at: datetime,
) -> ActionStatusChange:
    """Moves the action to ``to_status`` (or adds a note on the same one), kept in its history.
    Checks nothing: ``change_status`` checks."""
    change = ActionStatusChange(
        area_id=action.area_id,
        from_status=action.status,
        to_status=to_status,
        note=note,
        changed_by_id=changed_by_id,
        changed_at=at,
    )
    action.history.append(change)
    action.status = to_status
    action.updated_at = at
    return change


def _check_subject(
    session: Session, case: Case, subject: ActionSubject, person_id: int | None
) -> None:
    if subject is ActionSubject.HOUSEHOLD:
        if person_id is not None:
            raise ActionProblem("subject", "An action for the household names no one person.")
        return
    role = (
        session.scalar(
            sa.select(CasePerson.role).where(
                CasePerson.case_id == case.id, CasePerson.person_id == person_id
            )
        )
        if person_id is not None
        else None
    )
    if role is None or SUBJECT_FOR_ROLE.get(role) is not subject:
        raise ActionProblem("subject", "Choose someone in this case.")


def change_status(
    session: Session,
    action: Action,
    *,
    to_status: ActionStatus,
    note: str | None,
    user: User | None,
    expected_version: int,
    now: datetime | None = None,
) -> ActionStatusChange:
    """Record a new status (or a note on the same status). A stale version raises StaleAction."""
    if expected_version != action.version:
        raise StaleAction()
    note = (note or "").strip() or None
    if to_status in STATUSES_NEEDING_A_NOTE and not note:
        raise ActionProblem("note", "Say why in the note.")
    if to_status is action.status and not note:
        raise ActionProblem("note", "Choose a new status or write a note.")
    now = now or clock.utc_now()
    previous = action.status
    change = record_status(action, to_status, note, user.id if user else None, now)
    session.flush()
    audit.record(
        "action.status",
        user=user,
        object_type="action",
        object_id=action.id,
        detail=f"{previous.value} to {to_status.value}{', with a note' if note else ''}",
    )
    return change
