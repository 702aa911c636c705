"""Partner contact: her record, consent, the contact log, tasks, closing and handing over.

Flushes and audits; the request commits. Audit entries name records, tasks and usernames, never
what she said or where she is.

Planned contact: ``next_contact_on`` is the day the next contact is due, kept up to date by every
change that moves it, so that "contacts due" is one indexed range. It is the last contact (or
the start of the record) plus ``contact_every_days``, or plus seven days while contact is
stepped up after he drops out or is suspended. While she has declined or withdrawn consent, or
the record is closed, there is no next contact: the service stops prompting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from marac import audit
from marac.domain import (
    PROMPTING_CONSENTS,
    AgencyKind,
    AgencySide,
    Classification,
    ContactConsent,
    ContactMethod,
    ContactOutcome,
    InvolvementKind,
    ItemNature,
    ItemSource,
    PcTaskKind,
    PcTaskStatus,
)
from marac.models import (
    Agency,
    ChildImpact,
    InformationItem,
    Involvement,
    PartnerContactEntry,
    PartnerContactRecord,
    PcTask,
    Person,
    User,
)
from marac.models.partner_contact import DEFAULT_CONTACT_EVERY_DAYS
from marac.services.allocation import AllocationRefused, Refusal, check_partner_contact_worker

STEPPED_UP_EVERY_DAYS = 7


class PartnerContactProblem(ValueError):
    """Input the service refuses, with the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleRecord(Exception):
    """Someone changed the record (or task) after this user loaded it."""


def _check_version(expected: int | None, actual: int) -> None:
    if expected is not None and expected != actual:
        raise StaleRecord()


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


# --- who works with her ------------------------------------------------------------------------


def current_workers(
    session: Session, people: Iterable[int], today: date
) -> dict[tuple[int, int], list[int | None]]:
    """(person, agency) -> her current partner-contact workers (None: no one named), one query."""
    found: dict[tuple[int, int], list[int | None]] = defaultdict(list)
    people = list(people)
    if not people:
        return found
    for person_id, agency_id, worker_id in session.execute(
        sa.select(Involvement.person_id, Involvement.agency_id, Involvement.worker_id)
        .where(
            Involvement.person_id.in_(people),
            Involvement.kind == InvolvementKind.PARTNER_CONTACT,
            sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > today),
        )
        .order_by(Involvement.id)
    ):
        found[(person_id, agency_id)].append(worker_id)
    return found


def area_partner_contact_agency(session: Session, area_id: int) -> Agency | None:
    """The area's partner-contact service, for a partner nobody works with yet."""
    return session.scalars(
        sa.select(Agency)
        .where(
            Agency.area_id == area_id,
            Agency.kind == AgencyKind.PARTNER_CONTACT,
            Agency.side == AgencySide.VICTIM_FACING,
            Agency.is_active.is_(True),
        )
        .order_by(Agency.id)
        .limit(1)
    ).first()


def ensure_record(
    session: Session, person_id: int, agency_id: int, today: date
) -> PartnerContactRecord:
    """Her record at this agency, started today if she has none."""
    record = session.scalars(
        sa.select(PartnerContactRecord).where(
            PartnerContactRecord.person_id == person_id,
            PartnerContactRecord.agency_id == agency_id,
        )
    ).first()
    if record is not None:
        return record
    area_id = session.scalar(sa.select(Person.area_id).where(Person.id == person_id))
    record = PartnerContactRecord(
        area_id=area_id,
        person_id=person_id,
        agency_id=agency_id,
        started_on=today,
        consent=ContactConsent.NOT_ASKED,
        contact_every_days=DEFAULT_CONTACT_EVERY_DAYS,
        next_contact_on=today,
    )
    session.add(record)
    session.flush()
    audit.record(
        "partner_contact.start",
        object_type="partner_contact_record",
        object_id=record.id,
        detail=f"person {person_id}, agency {agency_id}",
        session=session,
    )
    return record


# --- planned contact ---------------------------------------------------------------------------


def prompting(record: PartnerContactRecord) -> bool:
    return record.closed_on is None and record.consent in PROMPTING_CONSENTS


def interval_on(record: PartnerContactRecord, day: date) -> int:
    if record.stepped_up_until is not None and day < record.stepped_up_until:
        return STEPPED_UP_EVERY_DAYS
    return record.contact_every_days


def plan_next_contact(record: PartnerContactRecord) -> None:
    if not prompting(record):
        record.next_contact_on = None
        return
    last = record.last_contact_on or record.started_on
    record.next_contact_on = last + timedelta(days=interval_on(record, last))


def step_up(record: PartnerContactRecord, from_day: date, weeks: int) -> None:
    """Weekly contact for ``weeks`` from ``from_day``: the next contact within the week."""
    until = from_day + timedelta(weeks=weeks)
    if record.stepped_up_until is None or record.stepped_up_until < until:
        record.stepped_up_until = until
    if prompting(record):
        soon = from_day + timedelta(days=STEPPED_UP_EVERY_DAYS)
        record.next_contact_on = min(record.next_contact_on or soon, soon)


# --- her record --------------------------------------------------------------------------------


def set_consent(
    session: Session,
    record: PartnerContactRecord,
    *,
    consent: ContactConsent,
    on: date,
    by: User | None,
    today: date,
    expected_version: int | None = None,
) -> None:
    _check_version(expected_version, record.version)
    if on > today:
        raise PartnerContactProblem("consent_on", "The date cannot be in the future.")
    if consent is record.consent:
        raise PartnerContactProblem("consent", "That is already recorded.")
    before = record.consent
    record.consent = consent
    record.consent_on = on
    plan_next_contact(record)
    moved = 0
    if consent not in PROMPTING_CONSENTS:
        # She has said no: open "tell her" tasks become "review the risk", never a contact prompt.
        for task in _open_tasks(session, record.id):
            if task.kind is PcTaskKind.INFORM:
                task.kind = PcTaskKind.REVIEW_RISK
                moved += 1
    session.flush()
    audit.record(
        "partner_contact.consent",
        user=by,
        object_type="partner_contact_record",
        object_id=record.id,
        detail=f"{before.value} to {consent.value}"
        + (f"; {moved} open tasks now review the risk without contact" if moved else ""),
        session=session,
    )


DETAIL_FIELDS = (
    "sharing_agreed",
    "safe_phone",
    "safe_email",
    "safe_times",
    "may_leave_message",
    "risk_account",
    "hopes_fears",
    "safety_plan",
    "safety_plan_on",
    "contact_every_days",
)


def update_details(
    session: Session,
    record: PartnerContactRecord,
    values: dict[str, object],
    *,
    by: User | None,
    today: date,
    expected_version: int | None = None,
) -> None:
    """Her safe contact details, what she agrees may be shared, her account, the safety plan."""
    _check_version(expected_version, record.version)
    every = values.get("contact_every_days", record.contact_every_days)
    if not isinstance(every, int) or not 1 <= every <= 365:
        raise PartnerContactProblem("contact_every_days", "Choose between 1 and 365 days.")
    plan_on = values.get("safety_plan_on")
    if isinstance(plan_on, date) and plan_on > today:
        raise PartnerContactProblem("safety_plan_on", "The date cannot be in the future.")
    before = {name: getattr(record, name) for name in DETAIL_FIELDS}
    for name in DETAIL_FIELDS:
        if name in values:
            value = values[name]
            setattr(record, name, _clean(value) if isinstance(value, str) else value)
    plan_next_contact(record)
    changed = audit.describe_changes(before, {name: getattr(record, name) for name in before})
    if changed is None:
        return
    session.flush()
    audit.record(
        "partner_contact.update",
        user=by,
        object_type="partner_contact_record",
        object_id=record.id,
        detail=changed,
        session=session,
    )


def log_contact(
    session: Session,
    record: PartnerContactRecord,
    *,
    occurred_on: date,
    method: ContactMethod,
    outcome: ContactOutcome,
    note: str | None,
    by: User | None,
    today: date,
) -> PartnerContactEntry:
    if occurred_on > today:
        raise PartnerContactProblem("occurred_on", "The date cannot be in the future.")
    if occurred_on < record.started_on - timedelta(days=3650):
        raise PartnerContactProblem("occurred_on", "Check the year of the date.")
    entry = PartnerContactEntry(
        record_id=record.id,
        occurred_on=occurred_on,
        method=method,
        outcome=outcome,
        note=_clean(note),
        recorded_by_id=by.id if by else None,
    )
    session.add(entry)
    if record.last_contact_on is None or occurred_on >= record.last_contact_on:
        record.last_contact_on = occurred_on
    plan_next_contact(record)
    session.flush()
    audit.record(
        "partner_contact.contact",
        user=by,
        object_type="partner_contact_record",
        object_id=record.id,
        detail=f"contact {entry.id}: {method.value}, {outcome.value}",
        session=session,
    )
    return entry


def add_child_impact(
    session: Session,
    record: PartnerContactRecord,
    *,
    child_name: str,
    impact: str,
    plan: str | None,
    assessed_on: date,
    by: User | None,
    today: date,
) -> ChildImpact:
    name, impact_text = _clean(child_name), _clean(impact)
    if not name:
        raise PartnerContactProblem("child_name", "Enter the child's name as she gives it.")
    if not impact_text:
        raise PartnerContactProblem("impact", "Describe the impact on this child.")
    if assessed_on > today:
        raise PartnerContactProblem("assessed_on", "The date cannot be in the future.")
    child = ChildImpact(
        record_id=record.id,
        child_name=name,
        impact=impact_text,
        plan=_clean(plan),
        assessed_on=assessed_on,
    )
    session.add(child)
    session.flush()
    audit.record(
        "partner_contact.child",
        user=by,
        object_type="partner_contact_record",
        object_id=record.id,
        detail=f"child assessment {child.id}",
        session=session,
    )
    return child


def close_record(
    session: Session,
    record: PartnerContactRecord,
    *,
    reason: str,
    by: User | None,
    today: date,
    expected_version: int | None = None,
) -> None:
    """Closing is her worker's decision, with a reason; never automatic."""
    _check_version(expected_version, record.version)
    if record.closed_on is not None:
        raise PartnerContactProblem("reason", "The record is already closed.")
    reason = _clean(reason) or ""
    if len(reason) < 10:
        raise PartnerContactProblem("reason", "Say why partner contact is closing.")
    record.closed_on = today
    record.closed_reason = reason
    plan_next_contact(record)
    session.flush()
    audit.record(
        "partner_contact.close",
        user=by,
        object_type="partner_contact_record",
        object_id=record.id,
        detail="closed with a reason",
        session=session,
    )


def reopen_record(
    session: Session,
    record: PartnerContactRecord,
    *,
    by: User | None,
    today: date,
    expected_version: int | None = None,
) -> None:
    _check_version(expected_version, record.version)
    if record.closed_on is None:
        raise PartnerContactProblem("reason", "The record is open.")
    record.closed_on = None
    record.last_contact_on = record.last_contact_on or today
    plan_next_contact(record)
    session.flush()
    audit.record(
        "partner_contact.reopen",
        user=by,
        object_type="partner_contact_record",
        object_id=record.id,
        session=session,
    )


# --- tasks -------------------------------------------------------------------------------------


def _open_tasks(session: Session, record_id: int) -> list[PcTask]:
    return list(
        session.scalars(
            sa.select(PcTask)
            .where(PcTask.record_id == record_id, PcTask.status == PcTaskStatus.OPEN)
            .order_by(PcTask.id)
        )
    )


def complete_task(
    session: Session,
    task: PcTask,
    *,
    note: str | None,
    by: User | None,
    today: date,
    expected_version: int | None = None,
) -> None:
    _check_version(expected_version, task.version)
    if task.status is PcTaskStatus.DONE:
        raise PartnerContactProblem("note", "This task is already done.")
    task.status = PcTaskStatus.DONE
    task.done_on = today
    task.done_by_id = by.id if by else None
    task.note = _clean(note)
    session.flush()
    audit.record(
        "pc_task.done",
        user=by,
        object_type="pc_task",
        object_id=task.id,
        detail=f"record {task.record_id}" + (", with a note" if task.note else ""),
        session=session,
    )


# --- handing her over --------------------------------------------------------------------------


def hand_over(
    session: Session,
    record: PartnerContactRecord,
    *,
    new_worker_id: int | None,
    by: User | None,
    today: date,
    expected_version: int | None = None,
) -> int:
    """Make ``new_worker_id`` her partner-contact worker at the record's agency: the current
    workers' involvements end today (they stay on record), the new one starts, and her open
    tasks move to the new worker. Returns how many tasks moved. Refuses as allocation does."""
    _check_version(expected_version, record.version)
    refusals = check_partner_contact_worker(
        record.person_id, record.agency_id, new_worker_id, today, session
    )
    current = list(
        session.scalars(
            sa.select(Involvement).where(
                Involvement.person_id == record.person_id,
                Involvement.agency_id == record.agency_id,
                Involvement.kind == InvolvementKind.PARTNER_CONTACT,
                sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > today),
            )
        )
    )
    if any(inv.worker_id == new_worker_id for inv in current):
        refusals = [
            *refusals,
            Refusal("worker_id", "That worker is already her partner-contact worker."),
        ]
    if refusals:
        audit.record(
            "partner_contact.handover_refused",
            user=by,
            object_type="partner_contact_record",
            object_id=record.id,
            detail=f"to user {new_worker_id}; refused: " + " ".join(r.message for r in refusals),
            session=session,
        )
        raise AllocationRefused(refusals)
    for involvement in current:
        involvement.ended_on = today
    session.add(
        Involvement(
            agency_id=record.agency_id,
            person_id=record.person_id,
            worker_id=new_worker_id,
            kind=InvolvementKind.PARTNER_CONTACT,
            started_on=today,
        )
    )
    tasks = _open_tasks(session, record.id)
    for task in tasks:
        task.worker_id = new_worker_id
    # The record changes hands: its version moves, so a second handover from a stale page
    # is refused rather than silently applied on top.
    flag_modified(record, "agency_id")
    session.flush()
    new_worker = session.get(User, new_worker_id)
    old = sorted({inv.worker_id for inv in current if inv.worker_id is not None})
    old_names = [u.username for u in session.scalars(sa.select(User).where(User.id.in_(old)))]
    audit.record(
        "partner_contact.handover",
        user=by,
        object_type="partner_contact_record",
        object_id=record.id,
        detail=f"from {', '.join(old_names) or 'no named worker'} to "
        f"{new_worker.username if new_worker else 'no named worker'}; "
        f"{len(tasks)} open tasks moved",
        session=session,
    )
    return len(tasks)


# --- tabling survivor-informed risk at the MARAC -------------------------------------------

TABLEABLE = {
    "risk_account": "Her own account of risk",
    "hopes_fears": "Her hopes and fears about his programme",
    "safety_plan": "Safety planning done with her",
}
TABLE_CLASSIFICATIONS = (Classification.SURVIVOR_CONFIDENTIAL, Classification.MARAC)


def table_at_marac(
    session: Session,
    record: PartnerContactRecord,
    *,
    case_id: int,
    chosen: dict[str, Classification],
    by: User,
) -> list[InformationItem]:
    """Her chosen items, each as an information item of her case at the chosen classification,
    recorded by her PC agency as her own account. One step: all or nothing."""
    if not chosen:
        raise PartnerContactProblem("items", "Choose at least one item to table.")
    items = []
    for field_name, classification in chosen.items():
        if field_name not in TABLEABLE or classification not in TABLE_CLASSIFICATIONS:
            raise PartnerContactProblem("items", "Choose from the items listed.")
        text = getattr(record, field_name)
        if not text:
            raise PartnerContactProblem("items", f"{TABLEABLE[field_name]}: nothing recorded yet.")
        item = InformationItem(
            case_id=case_id,
            about_person_id=record.person_id,
            text=f"{TABLEABLE[field_name]}: {text}",
            source=ItemSource.VICTIM_DISCLOSURE,
            nature=ItemNature.OPINION,
            classification=classification,
            recorded_by_agency_id=record.agency_id,
            recorded_by_id=by.id,
        )
        session.add(item)
        items.append(item)
    session.flush()
    audit.record(
        "partner_contact.table",
        user=by,
        object_type="partner_contact_record",
        object_id=record.id,
        detail=f"case {case_id}: "
        + ", ".join(f"item {i.id} ({i.classification.value})" for i in items),
        session=session,
    )
    return items
