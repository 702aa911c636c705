"""A man's programme record, and the partner-notification fan-out.

Every event that raises risk (his assessment completed, a suspension, a drop-out, a breach of an
order, a disclosure of violence or abuse, a facilitator's concern) creates one task for the
partner-contact worker of each person the programme must inform: every current partner, every
ex-partner separated within the last two years (or with no date on record) and every co-parent,
as ``marac.graph.partners_to_offer_contact`` finds them through the network. A partner nobody
works with yet gets a record at the area's partner-contact service and a task for no named
worker, which the coordinator sees and allocates. A drop-out or a suspension also steps up her
worker's planned contact to weekly for ``MARAC_PC_STEP_UP_WEEKS`` weeks.

A task is "tell her" while contact is open to her; once she has declined or withdrawn consent, or
her record is closed, it is "review the risk" and never a prompt to contact her.

Flushes and audits; the request commits. Audit entries never carry his words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from marac import audit, graph
from marac.domain import (
    RISK_RAISING_STATUSES,
    STATUSES_WITH_A_REASON,
    STEP_UP_STATUSES,
    InvolvementKind,
    PcTaskKind,
    ProgrammeEventKind,
    ProgrammeStatus,
    StatusReason,
)
from marac.models import (
    Agency,
    Involvement,
    PcTask,
    Person,
    ProgrammeEvent,
    ProgrammeRecord,
    User,
)
from marac.services import partner_contact as pc

DEFAULT_STEP_UP_WEEKS = 12
# How soon her worker should act: straight away after a change that raises risk; within a week
# after his assessment.
TASK_DUE_DAYS = {ProgrammeStatus.ASSESSED: 7}
URGENT_DUE_DAYS = 1


class ProgrammeProblem(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleProgramme(Exception):
    """Someone changed the record after this user loaded it."""


def works_with_him(session: Session, agency_id: int, man_id: int, today: date) -> bool:
    return (
        session.scalar(
            sa.select(Involvement.id).where(
                Involvement.agency_id == agency_id,
                Involvement.person_id == man_id,
                Involvement.kind == InvolvementKind.PERPETRATOR_PROGRAMME,
                sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > today),
            )
        )
        is not None
    )


def start_record(
    session: Session, *, agency: Agency, man_id: int, by: User | None, today: date
) -> ProgrammeRecord:
    """His record at the programme, from a referral the programme has accepted."""
    if not works_with_him(session, agency.id, man_id, today):
        raise ProgrammeProblem("person_id", "Your programme does not work with him.")
    exists = session.scalar(
        sa.select(ProgrammeRecord.id).where(
            ProgrammeRecord.person_id == man_id, ProgrammeRecord.agency_id == agency.id
        )
    )
    if exists is not None:
        raise ProgrammeProblem("person_id", "His programme record already exists.")
    area_id = session.scalar(sa.select(Person.area_id).where(Person.id == man_id))
    record = ProgrammeRecord(
        area_id=area_id,
        person_id=man_id,
        agency_id=agency.id,
        status=ProgrammeStatus.REFERRED,
        status_on=today,
    )
    session.add(record)
    session.flush()
    session.add(
        ProgrammeEvent(
            record_id=record.id,
            kind=ProgrammeEventKind.STATUS,
            occurred_on=today,
            status=ProgrammeStatus.REFERRED,
            recorded_by_id=by.id if by else None,
        )
    )
    session.flush()
    audit.record(
        "programme.start",
        user=by,
        object_type="programme_record",
        object_id=record.id,
        detail=f"person {man_id}, agency {agency.id}",
        session=session,
    )
    return record


@dataclass(frozen=True)
class EventInput:
    kind: ProgrammeEventKind
    occurred_on: date
    status: ProgrammeStatus | None = None
    reason: StatusReason | None = None
    attended: bool | None = None
    detail: str | None = None
    may_cite: bool = False


def raises_risk(event: EventInput | ProgrammeEvent) -> bool:
    if event.kind is ProgrammeEventKind.STATUS:
        return event.status in RISK_RAISING_STATUSES
    return event.kind in (ProgrammeEventKind.DISCLOSURE, ProgrammeEventKind.CONCERN)


def _check(record: ProgrammeRecord, wanted: EventInput, today: date) -> EventInput:
    if wanted.occurred_on > today:
        raise ProgrammeProblem("occurred_on", "The date cannot be in the future.")
    if wanted.occurred_on < record.status_on - timedelta(days=3650):
        raise ProgrammeProblem("occurred_on", "Check the year of the date.")
    detail = (wanted.detail or "").strip() or None
    if wanted.kind is ProgrammeEventKind.STATUS:
        if wanted.status is None:
            raise ProgrammeProblem("status", "Choose his new status.")
        if wanted.status is record.status:
            raise ProgrammeProblem("status", f"He is already recorded as {record.status.label}.")
        if wanted.occurred_on < record.status_on:
            raise ProgrammeProblem(
                "occurred_on", "A change of status cannot be dated before his current status."
            )
        reason = wanted.reason if wanted.status in STATUSES_WITH_A_REASON else None
        if wanted.status in STATUSES_WITH_A_REASON and reason is None:
            reason = StatusReason.NOT_KNOWN
        return EventInput(wanted.kind, wanted.occurred_on, wanted.status, reason, None, detail)
    if wanted.kind is ProgrammeEventKind.ATTENDANCE:
        if wanted.attended is None:
            raise ProgrammeProblem("attended", "Say whether he attended.")
        return EventInput(wanted.kind, wanted.occurred_on, attended=wanted.attended, detail=detail)
    if wanted.kind in (ProgrammeEventKind.DISCLOSURE, ProgrammeEventKind.CONCERN):
        if detail is None:
            raise ProgrammeProblem(
                "detail", "Write down what was disclosed or what the concern is."
            )
        may_cite = wanted.may_cite and wanted.kind is ProgrammeEventKind.DISCLOSURE
        return EventInput(wanted.kind, wanted.occurred_on, detail=detail, may_cite=may_cite)
    raise ProgrammeProblem("kind", "Choose what to record.")


def record_event(
    session: Session,
    record: ProgrammeRecord,
    wanted: EventInput,
    *,
    by: User | None,
    today: date,
    expected_version: int | None = None,
    step_up_weeks: int = DEFAULT_STEP_UP_WEEKS,
) -> tuple[ProgrammeEvent, list[PcTask]]:
    """Record an event on his record and, when it raises risk, tell every partner's worker."""
    if expected_version is not None and expected_version != record.version:
        raise StaleProgramme()
    wanted = _check(record, wanted, today)
    event = ProgrammeEvent(
        record_id=record.id,
        kind=wanted.kind,
        occurred_on=wanted.occurred_on,
        status=wanted.status,
        reason=wanted.reason,
        attended=wanted.attended,
        detail=wanted.detail,
        may_cite=wanted.may_cite,
        recorded_by_id=by.id if by else None,
    )
    session.add(event)
    if wanted.kind is ProgrammeEventKind.STATUS and wanted.status is not None:
        record.status = wanted.status
        record.status_on = wanted.occurred_on
    else:
        # Any new event changes what the record says: a stale page must not overwrite it.
        flag_modified(record, "status")
    session.flush()
    audit.record(
        "programme.event",
        user=by,
        object_type="programme_record",
        object_id=record.id,
        detail=f"event {event.id}: {wanted.kind.value}"
        + (f" {wanted.status.value}" if wanted.status else "")
        + (f" ({wanted.reason.value})" if wanted.reason else ""),
        session=session,
    )
    tasks = fan_out(session, record, event, today, step_up_weeks) if raises_risk(event) else []
    return event, tasks


def fan_out(
    session: Session,
    record: ProgrammeRecord,
    event: ProgrammeEvent,
    today: date,
    step_up_weeks: int = DEFAULT_STEP_UP_WEEKS,
) -> list[PcTask]:
    """One task for the PC worker of each person the programme must inform (module docstring)."""
    offers = graph.partners_to_offer_contact(
        graph.build_neighbourhood(session, today=today, person_ids=[record.person_id]),
        record.person_id,
    )
    people = [offer.person_id for offer in offers]
    workers = pc.current_workers(session, people, today)
    areas = dict(
        session.execute(sa.select(Person.id, Person.area_id).where(Person.id.in_(people))).all()
    )
    due_on = today + timedelta(days=TASK_DUE_DAYS.get(event.status, URGENT_DUE_DAYS))
    step = event.kind is ProgrammeEventKind.STATUS and event.status in STEP_UP_STATUSES
    tasks: list[PcTask] = []
    for person_id in people:
        hers = {agency: named for (pid, agency), named in workers.items() if pid == person_id}
        if not hers:
            service = pc.area_partner_contact_agency(session, areas[person_id])
            if service is None:
                audit.record(
                    "pc_task.no_service",
                    object_type="programme_event",
                    object_id=event.id,
                    detail=f"person {person_id}: no partner-contact service in the area",
                    session=session,
                )
                continue
            hers = {service.id: [None]}
        for agency_id, named in sorted(hers.items()):
            her_record = pc.ensure_record(session, person_id, agency_id, today)
            if step:
                pc.step_up(her_record, event.occurred_on, step_up_weeks)
            worker_id = min((w for w in named if w is not None), default=None)
            task = PcTask(
                area_id=her_record.area_id,
                record_id=her_record.id,
                event_id=event.id,
                worker_id=worker_id,
                kind=PcTaskKind.INFORM if pc.prompting(her_record) else PcTaskKind.REVIEW_RISK,
                due_on=due_on,
            )
            session.add(task)
            tasks.append(task)
    session.flush()
    for task in tasks:
        audit.record(
            "pc_task.create",
            object_type="pc_task",
            object_id=task.id,
            detail=f"programme event {event.id}: record {task.record_id}, "
            f"{task.kind.value}, worker {task.worker_id or 'none named'}",
            session=session,
        )
    return tasks
