"""Programme records and partner-contact records as one viewer may see them.

Every event goes through ``policy.programme_event`` and every task through ``policy.pc_task``;
what the viewer may not see is simply absent from the presented data (his words, her details).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import graph, policy
from marac.domain import ContactConsent, PcTaskStatus
from marac.models import (
    Agency,
    PartnerContactRecord,
    PcTask,
    ProgrammeEvent,
    ProgrammeRecord,
    Relationship,
    User,
)
from marac.policy import Decision, PartnerContactFacts
from marac.present import person_names
from marac.services import allocation
from marac.viewer import Viewer, programme_facts


@dataclass(frozen=True)
class PresentedEvent:
    event_id: int
    occurred_on: date
    kind_label: str
    # The whole of it for those who may read it in full; else the crossing wording only.
    wording: str
    full: bool
    detail: str | None = None
    may_cite: bool = False
    recorded_by: str | None = None


def event_facts(event: ProgrammeEvent) -> policy.ProgrammeEventFacts:
    return policy.ProgrammeEventFacts(
        kind=event.kind,
        occurred_on=event.occurred_on,
        status=event.status,
        reason=event.reason,
        attended=event.attended,
        may_cite=event.may_cite,
    )


def present_event(
    viewer: Viewer, record_decision: Decision, event: ProgrammeEvent, recorded_by: str | None
) -> PresentedEvent | None:
    facts = event_facts(event)
    decision = policy.programme_event(viewer, record_decision, facts)
    if decision.withheld:
        return None
    wording = policy.crossing_wording(facts)
    if not decision.full:
        return PresentedEvent(
            event.id, event.occurred_on, event.kind.label, decision.summary or wording, False
        )
    return PresentedEvent(
        event.id,
        event.occurred_on,
        event.kind.label,
        wording,
        True,
        detail=event.detail,
        may_cite=event.may_cite,
        recorded_by=recorded_by,
    )


def _events(session: Session, record_ids: list[int]) -> dict[int, list[tuple[ProgrammeEvent, str]]]:
    found: dict[int, list[tuple[ProgrammeEvent, str]]] = defaultdict(list)
    if not record_ids:
        return found
    rows = session.execute(
        sa.select(ProgrammeEvent, User.display_name)
        .outerjoin(User, User.id == ProgrammeEvent.recorded_by_id)
        .where(ProgrammeEvent.record_id.in_(record_ids))
        .order_by(ProgrammeEvent.occurred_on.desc(), ProgrammeEvent.id.desc())
    )
    for event, name in rows:
        found[event.record_id].append((event, name))
    return found


@dataclass(frozen=True)
class PresentedProgramme:
    record_id: int
    version: int
    man_name: str
    agency_name: str
    status_label: str
    status_on: date
    full: bool
    note: str | None
    events: list[PresentedEvent]


def present_programme(
    session: Session, viewer: Viewer, record: ProgrammeRecord
) -> PresentedProgramme | None:
    decision = policy.programme_record(viewer, programme_facts(record))
    if decision.withheld:
        return None
    events = [
        presented
        for event, name in _events(session, [record.id])[record.id]
        if (presented := present_event(viewer, decision, event, name)) is not None
    ]
    return PresentedProgramme(
        record_id=record.id,
        version=record.version,
        man_name=person_names(session, [record.person_id])[record.person_id],
        agency_name=session.scalar(sa.select(Agency.name).where(Agency.id == record.agency_id)),
        status_label=record.status.label,
        status_on=record.status_on,
        full=decision.full,
        note=None if decision.full else decision.summary,
        events=events,
    )


# --- what reaches her record from his programme ------------------------------------------------


def programmes_owing(session: Session, person_id: int, today: date) -> list[ProgrammeRecord]:
    """The programme records of every man whose programme must inform her (a current partner, an
    ex-partner within two years, a co-parent: ``graph.partners_to_offer_contact``)."""
    candidates = allocation.partners_of(session, person_id)
    her_children = sa.select(Relationship.other_person_id).where(
        Relationship.person_id == person_id, Relationship.kind.in_(graph.PARENT_KINDS)
    )
    candidates |= set(
        session.scalars(
            sa.select(Relationship.person_id).where(
                Relationship.other_person_id.in_(her_children),
                Relationship.kind.in_(graph.PARENT_KINDS),
                Relationship.person_id != person_id,
            )
        )
    )
    if not candidates:
        return []
    records = list(
        session.scalars(
            sa.select(ProgrammeRecord)
            .where(ProgrammeRecord.person_id.in_(candidates))
            .order_by(ProgrammeRecord.id)
        )
    )
    owing = []
    for man_id in sorted({r.person_id for r in records}):
        nb = graph.build_neighbourhood(session, today=today, person_ids=[man_id])
        if any(o.person_id == person_id for o in graph.partners_to_offer_contact(nb, man_id)):
            owing += [r for r in records if r.person_id == man_id]
    return owing


@dataclass(frozen=True)
class PresentedNews:
    agency_name: str
    status_label: str
    status_on: date
    events: list[PresentedEvent]


def programme_news(
    session: Session, viewer: Viewer, her_record: Decision, person_id: int, today: date
) -> list[PresentedNews]:
    crossing = policy.programme_crossing(viewer, her_record)
    if crossing.withheld:
        return []
    records = programmes_owing(session, person_id, today)
    events = _events(session, [r.id for r in records])
    names = dict(
        session.execute(
            sa.select(Agency.id, Agency.name).where(Agency.id.in_({r.agency_id for r in records}))
        ).all()
    )
    news = []
    for record in records:
        presented = [
            p for e, _ in events[record.id] if (p := present_event(viewer, crossing, e, None))
        ]
        news.append(
            PresentedNews(
                names[record.agency_id],
                record.status.label,
                record.status_on,
                presented,
            )
        )
    return news


# --- tasks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresentedTask:
    task_id: int
    record_id: int
    version: int
    person_name: str
    due_on: date
    overdue: bool
    done: bool
    full: bool
    # Full: what to do and why (the crossing wording of the event); summary: who and when.
    wording: str
    kind_label: str | None = None
    worker_name: str | None = None
    done_on: date | None = None
    note: str | None = None


TASK_QUERY_COLUMNS = (PcTask, ProgrammeEvent, PartnerContactRecord)


def present_tasks(
    session: Session,
    viewer: Viewer,
    rows: list[tuple[PcTask, ProgrammeEvent, PartnerContactRecord]],
    facts: dict[int, PartnerContactFacts],
    today: date,
) -> list[PresentedTask]:
    if not rows:
        return []
    names = person_names(session, {record.person_id for _, _, record in rows})
    workers = dict(
        session.execute(
            sa.select(User.id, User.display_name).where(
                User.id.in_({t.worker_id for t, _, _ in rows if t.worker_id})
            )
        ).all()
    )
    presented = []
    for task, event, record in rows:
        record_decision = policy.partner_contact_record(viewer, facts[record.id])
        worker = workers.get(task.worker_id) if task.worker_id else None
        decision = policy.pc_task(viewer, record_decision, worker, task.due_on)
        if decision.withheld:
            continue
        common = {
            "task_id": task.id,
            "record_id": record.id,
            "version": task.version,
            "person_name": names[record.person_id],
            "due_on": task.due_on,
            "overdue": task.status is PcTaskStatus.OPEN and task.due_on < today,
            "done": task.status is PcTaskStatus.DONE,
        }
        if decision.full:
            presented.append(
                PresentedTask(
                    **common,
                    full=True,
                    wording=policy.crossing_wording(event_facts(event)),
                    kind_label=task.kind.label,
                    worker_name=worker,
                    done_on=task.done_on,
                    note=task.note,
                )
            )
        else:
            presented.append(
                PresentedTask(
                    **common, full=False, wording=decision.summary or "", worker_name=worker
                )
            )
    return presented


def task_rows_statement() -> sa.Select:
    return (
        sa.select(*TASK_QUERY_COLUMNS)
        .join(ProgrammeEvent, ProgrammeEvent.id == PcTask.event_id)
        .join(PartnerContactRecord, PartnerContactRecord.id == PcTask.record_id)
    )


# --- her record --------------------------------------------------------------------------------


@dataclass
class PresentedPartnerContact:
    record_id: int
    version: int
    person_name: str
    agency_name: str
    worker_names: list[str]
    full: bool
    note: str | None
    tasks: list[PresentedTask]
    # Only when full:
    consent_label: str | None = None
    consent: ContactConsent | None = None
    consent_on: date | None = None
    started_on: date | None = None
    details: dict[str, object] = field(default_factory=dict)
    contacts: list = field(default_factory=list)
    children: list = field(default_factory=list)
    news: list[PresentedNews] = field(default_factory=list)
    next_contact_on: date | None = None
    stepped_up_until: date | None = None
    closed_on: date | None = None
    closed_reason: str | None = None


def present_partner_contact(
    session: Session,
    viewer: Viewer,
    record: PartnerContactRecord,
    facts: PartnerContactFacts,
    today: date,
) -> PresentedPartnerContact | None:
    decision = policy.partner_contact_record(viewer, facts)
    if decision.withheld:
        return None
    workers = list(
        session.scalars(
            sa.select(User.display_name)
            .where(User.id.in_(facts.worker_ids))
            .order_by(User.display_name)
        )
    )
    task_rows = session.execute(
        task_rows_statement()
        .where(PcTask.record_id == record.id)
        .order_by(PcTask.status, PcTask.due_on, PcTask.id)
    ).all()
    presented = PresentedPartnerContact(
        record_id=record.id,
        version=record.version,
        person_name=person_names(session, [record.person_id])[record.person_id],
        agency_name=session.scalar(sa.select(Agency.name).where(Agency.id == record.agency_id)),
        worker_names=workers,
        full=decision.full,
        note=None if decision.full else decision.summary,
        tasks=present_tasks(session, viewer, list(task_rows), {record.id: facts}, today),
    )
    if not decision.full:
        return presented
    presented.consent = record.consent
    presented.consent_label = record.consent.label
    presented.consent_on = record.consent_on
    presented.started_on = record.started_on
    presented.details = {
        "sharing_agreed": record.sharing_agreed,
        "safe_phone": record.safe_phone,
        "safe_email": record.safe_email,
        "safe_times": record.safe_times,
        "may_leave_message": record.may_leave_message,
        "risk_account": record.risk_account,
        "hopes_fears": record.hopes_fears,
        "safety_plan": record.safety_plan,
        "safety_plan_on": record.safety_plan_on,
        "contact_every_days": record.contact_every_days,
    }
    presented.contacts = list(record.contacts)
    presented.children = list(record.children)
    presented.news = programme_news(session, viewer, decision, record.person_id, today)
    presented.next_contact_on = record.next_contact_on
    presented.stepped_up_until = record.stepped_up_until
    presented.closed_on = record.closed_on
    presented.closed_reason = record.closed_reason
    return presented
