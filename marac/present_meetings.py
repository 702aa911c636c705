"""Meetings as one viewer may see them: the agenda, the case under discussion, the minutes.

Every case on an agenda is put through ``policy.case_access`` first: a case the viewer may not
open is left out (its identifiers, its reference, everything). What is shown of each case asks
the same rules as the case page, through ``marac.present``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import clock, policy
from marac.domain import (
    AgendaStatus,
    AttendanceKind,
    CaseRole,
    CaseStatus,
    MeetingKind,
    MeetingStatus,
)
from marac.models import (
    Action,
    Agency,
    AgendaItem,
    Apology,
    Area,
    Attendance,
    Case,
    CasePerson,
    CrimeDisclosure,
    InformationItem,
    Meeting,
    Person,
    User,
    VictimVoice,
)
from marac.present import (
    ITEM_FACTS,
    ITEM_TEXTS,
    ROLE_ORDER,
    PresentedItem,
    _people_labels,
    item_facts,
    items_as_decided,
    people_labels,
    present_items,
)
from marac.present_actions import PresentedAction, action_rows_statement, present_action_rows
from marac.present_referrals import (
    PresentedReferral,
    present_referral,
    present_referrals,
    referral_note,
)
from marac.services.meetings import meeting_title
from marac.viewer import CaseLinks, Viewer, links_for_cases


@dataclass(frozen=True)
class MeetingSummary:
    meeting_id: int
    title: str
    starts_at: datetime
    kind_label: str
    status: MeetingStatus
    status_label: str
    referral_cutoff_on: date
    capacity: int
    minutes_per_case: int
    listed: int
    version: int
    revision: int
    current_item_id: int | None


def summarise(session: Session, meeting: Meeting, listed: int | None = None) -> MeetingSummary:
    from marac.services.meetings import listed_count

    area_name = session.scalar(sa.select(Area.name).where(Area.id == meeting.area_id))
    return MeetingSummary(
        meeting_id=meeting.id,
        title=meeting_title(meeting, area_name or ""),
        starts_at=clock.local(meeting.starts_at),
        kind_label=meeting.kind.label,
        status=meeting.status,
        status_label=meeting.status.label,
        referral_cutoff_on=meeting.referral_cutoff_on,
        capacity=meeting.capacity,
        minutes_per_case=meeting.minutes_per_case,
        listed=listed if listed is not None else listed_count(session, meeting.id),
        version=meeting.version,
        revision=meeting.revision,
        current_item_id=meeting.current_item_id,
    )


def meeting_list(session: Session, viewer: Viewer, meetings: Sequence[Meeting]) -> list:
    if not meetings:
        return []
    counts = dict(
        session.execute(
            sa.select(AgendaItem.meeting_id, sa.func.count())
            .where(
                AgendaItem.meeting_id.in_([m.id for m in meetings]),
                AgendaItem.status != AgendaStatus.MOVED,
            )
            .group_by(AgendaItem.meeting_id)
        ).all()
    )
    return [summarise(session, m, counts.get(m.id, 0)) for m in meetings]


# --- identifiers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identifier:
    """A person as the agenda names them: name (or the safe label), role and date of birth."""

    label: str
    role_label: str
    date_of_birth: date | None


def _identifiers(
    viewer: Viewer,
    links: CaseLinks,
    people: dict[int, tuple[str, date | None]],
) -> tuple[Identifier, ...]:
    shown = []
    for person_id, role in links.roles.items():
        decision = policy.person_identity(viewer, links, person_id)
        if decision.full:
            name, dob = people[person_id]
            shown.append((ROLE_ORDER[role], name, Identifier(name, role.label, dob)))
        elif decision.level is policy.Level.SUMMARY and decision.summary:
            shown.append(
                (ROLE_ORDER[role], decision.summary, Identifier(decision.summary, role.label, None))
            )
    return tuple(entry for _order, _name, entry in sorted(shown, key=lambda e: (e[0], e[1])))


def _people(session: Session, person_ids: Iterable[int]) -> dict[int, tuple[str, date | None]]:
    ids = set(person_ids)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(Person.id, Person.given_name, Person.family_name, Person.date_of_birth).where(
            Person.id.in_(ids)
        )
    )
    return {r.id: (f"{r.given_name} {r.family_name}", r.date_of_birth) for r in rows}


# --- the agenda -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaRow:
    item_id: int
    position: int
    case_id: int
    reference: str
    status: AgendaStatus
    status_label: str
    people: tuple[Identifier, ...]
    version: int
    # None when not for this viewer (perpetrator-facing agencies learn nothing of her voice).
    voice_recorded: bool | None = None
    # The coordinator and the chair: which agencies have recorded research, and why it moved.
    researched_by: tuple[str, ...] | None = None
    moved_to: str | None = None
    move_reason: str | None = None
    review_next: bool = False
    started: bool = False


@dataclass
class PresentedAgenda:
    rows: list[AgendaRow]
    # How many listed cases the viewer may not open (None: not told).
    not_open: int | None = None
    own_items: dict[int, int] = field(default_factory=dict)


def agenda_items(session: Session, meeting_id: int, include_moved: bool = True) -> list:
    statement = sa.select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)
    if not include_moved:
        statement = statement.where(AgendaItem.status != AgendaStatus.MOVED)
    return list(session.scalars(statement.order_by(AgendaItem.position, AgendaItem.id)))


def present_agenda(
    session: Session,
    viewer: Viewer,
    meeting: Meeting,
    items: Sequence[AgendaItem] | None = None,
    cases: Mapping[int, Case] | None = None,
    links: Mapping[int, CaseLinks] | None = None,
) -> PresentedAgenda:
    """``cases`` and ``links``: the agenda's, when the caller has them already."""
    items = list(items) if items is not None else agenda_items(session, meeting.id)
    if cases is None:
        cases = {
            c.id: c
            for c in session.scalars(sa.select(Case).where(Case.id.in_({i.case_id for i in items})))
        }
    if links is None:
        links = links_for_cases(session, viewer, cases.values())
    openable = [i for i in items if policy.case_access(viewer, links[i.case_id]).full]
    hidden = len([i for i in items if i.status is not AgendaStatus.MOVED]) - len(
        [i for i in openable if i.status is not AgendaStatus.MOVED]
    )
    people = _people(session, {pid for i in openable for pid in links[i.case_id].roles})
    ids = [i.id for i in openable]
    voiced = (
        set(
            session.scalars(
                sa.select(VictimVoice.agenda_item_id).where(VictimVoice.agenda_item_id.in_(ids))
            )
        )
        if ids
        else set()
    )
    runner = policy.may_run_meeting(viewer, meeting.area_id).full
    researched: dict[int, list[str]] = defaultdict(list)
    own_items: dict[int, int] = defaultdict(int)
    if ids:
        for item_id, agency_id, agency_name, count in session.execute(
            sa.select(
                InformationItem.agenda_item_id,
                Agency.id,
                Agency.name,
                sa.func.count(),
            )
            .join(Agency, Agency.id == InformationItem.recorded_by_agency_id)
            .where(InformationItem.agenda_item_id.in_(ids))
            .group_by(InformationItem.agenda_item_id, Agency.id, Agency.name)
            .order_by(Agency.name)
        ):
            researched[item_id].append(agency_name)
            if agency_id == viewer.agency_id:
                own_items[item_id] = count
    moved_titles = _meeting_titles(
        session, {i.moved_to_meeting_id for i in openable if i.moved_to_meeting_id}
    )
    rows = []
    for item in openable:
        case_links = links[item.case_id]
        rows.append(
            AgendaRow(
                item_id=item.id,
                position=item.position,
                case_id=item.case_id,
                reference=cases[item.case_id].reference,
                status=item.status,
                status_label=item.status.label,
                people=_identifiers(viewer, case_links, people),
                version=item.version,
                voice_recorded=(item.id in voiced)
                if policy.victim_voice_shared(viewer, case_links).full
                else None,
                researched_by=tuple(researched.get(item.id, ())) if runner else None,
                moved_to=moved_titles.get(item.moved_to_meeting_id or 0),
                move_reason=item.move_reason if runner else None,
                review_next=item.review_next,
                started=item.started_at is not None,
            )
        )
    return PresentedAgenda(
        rows=rows,
        not_open=None if viewer.perpetrator_facing else hidden,
        own_items=dict(own_items),
    )


def _meeting_titles(session: Session, meeting_ids: Iterable[int]) -> dict[int, str]:
    ids = set(meeting_ids)
    if not ids:
        return {}
    return {
        m.id: meeting_title(m, area)
        for m, area in session.execute(
            sa.select(Meeting, Area.name)
            .join(Area, Area.id == Meeting.area_id)
            .where(Meeting.id.in_(ids))
        )
    }


# --- one case at the meeting ------------------------------------------------------------------


@dataclass(frozen=True)
class PresentedVoice:
    recorded: bool
    views: str | None = None
    wishes: str | None = None
    may_share: str | None = None
    note: str | None = None
    recorded_by: str | None = None
    recorded_on: date | None = None
    version: int = 0


@dataclass(frozen=True)
class PresentedCrime:
    description: str
    agency: str
    recorded_at: datetime


@dataclass
class PresentedAgendaCase:
    item_id: int
    position: int
    total: int
    case_id: int
    reference: str
    people: tuple[Identifier, ...]
    referral: PresentedReferral | None
    # Said instead when there is no referral to show: withheld, or none recorded.
    referral_note: str | None
    voice: PresentedVoice | None
    items_by_agency: list[tuple[str, list[PresentedItem]]]
    summaries: list[str]
    risk_summary: str | None
    risk_summary_note: str | None
    review_next: bool
    actions: list[PresentedAction]
    crimes: list[PresentedCrime] | None
    crime_count: int | None
    started_at: datetime | None
    minutes_allowed: int
    version: int


def present_voice(
    session: Session, viewer: Viewer, links: CaseLinks, item_id: int
) -> PresentedVoice | None:
    if not policy.victim_voice_shared(viewer, links).full:
        return None
    voice = session.scalar(sa.select(VictimVoice).where(VictimVoice.agenda_item_id == item_id))
    if voice is None:
        return PresentedVoice(recorded=False)
    by = session.scalar(sa.select(Agency.name).where(Agency.id == voice.recorded_by_agency_id))
    return _voice(viewer, links, (voice, by))


def present_agenda_case(
    session: Session,
    viewer: Viewer,
    meeting: Meeting,
    item: AgendaItem,
    case: Case,
    links: CaseLinks,
    total: int,
    only_this_meeting: bool = False,
) -> PresentedAgendaCase:
    """Everything the meeting shows about one case, for one viewer who may open it."""
    if not policy.case_access(viewer, links).full:
        raise PermissionError("present_agenda_case called for a case the viewer may not open")
    labels = people_labels(session, viewer, links)
    people = _people(session, [pid for pid, (d, _l) in labels.items() if d.full])
    items, summaries = present_items(
        session,
        viewer,
        links,
        case.id,
        labels,
        agenda_item_id=item.id if only_this_meeting else None,
    )
    by_agency: dict[str, list[PresentedItem]] = defaultdict(list)
    for presented in items:
        by_agency[presented.agency_name].append(presented)
    risk = policy.meeting_risk_summary(viewer, links)
    today = clock.service_today()
    action_statement = action_rows_statement().where(Action.case_id == case.id)
    if only_this_meeting:
        action_statement = action_statement.where(Action.agenda_item_id == item.id)
    actions = present_action_rows(
        session,
        viewer,
        session.execute(action_statement.order_by(Action.due_on, Action.id)).all(),
        today,
        {case.id: links},
    )
    crimes_decision = policy.crimes_disclosed(viewer, links)
    crimes: list[PresentedCrime] | None = None
    crime_count: int | None = None
    if crimes_decision.full:
        crimes = [
            PresentedCrime(c.description, name, clock.local(c.recorded_at))
            for c, name in session.execute(
                sa.select(CrimeDisclosure, Agency.name)
                .join(Agency, Agency.id == CrimeDisclosure.disclosed_by_agency_id)
                .where(CrimeDisclosure.agenda_item_id == item.id)
                .order_by(CrimeDisclosure.recorded_at, CrimeDisclosure.id)
            )
        ]
    elif not crimes_decision.withheld:
        crime_count = session.scalar(
            sa.select(sa.func.count())
            .select_from(CrimeDisclosure)
            .where(CrimeDisclosure.agenda_item_id == item.id)
        )
    referral = present_referral(session, viewer, case, links)
    return PresentedAgendaCase(
        item_id=item.id,
        position=item.position,
        total=total,
        case_id=case.id,
        reference=case.reference,
        people=_identifiers(viewer, links, people),
        referral=referral,
        referral_note=referral_note(viewer, links, referral),
        voice=present_voice(session, viewer, links, item.id),
        items_by_agency=sorted(by_agency.items()),
        summaries=summaries,
        risk_summary=item.risk_summary if risk.full else None,
        risk_summary_note=risk.summary,
        review_next=item.review_next,
        actions=actions,
        crimes=crimes,
        crime_count=crime_count,
        started_at=clock.local(item.started_at) if item.started_at else None,
        minutes_allowed=meeting.minutes_per_case,
        version=item.version,
    )


# --- attendance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresentedAttendee:
    name: str
    agency: str
    kind: AttendanceKind
    accepted_at: datetime


def attendance(session: Session, meeting_id: int) -> tuple[list[PresentedAttendee], list[str]]:
    """Who came (with the time each accepted the confidentiality statement), and apologies."""
    attendees = [
        PresentedAttendee(name, agency, kind, clock.local(accepted_at))
        for kind, accepted_at, name, agency in session.execute(
            sa.select(Attendance.kind, Attendance.accepted_at, User.display_name, Agency.name)
            .join(User, User.id == Attendance.user_id)
            .join(Agency, Agency.id == Attendance.agency_id)
            .where(Attendance.meeting_id == meeting_id)
            .order_by(Attendance.accepted_at, Attendance.id)
        )
    ]
    apologies = list(
        session.scalars(
            sa.select(Agency.name)
            .join(Apology, Apology.agency_id == Agency.id)
            .where(Apology.meeting_id == meeting_id)
            .order_by(Agency.name)
        )
    )
    return attendees, apologies


# --- the minutes ------------------------------------------------------------------------------


@dataclass
class PresentedMinutes:
    meeting: MeetingSummary
    attendees: list[PresentedAttendee]
    apologies: list[str]
    cases: list[PresentedAgendaCase]
    moved: list[AgendaRow]
    to_review: list[str]
    not_open: int | None
    approved_by: str | None
    approved_at: datetime | None


@dataclass
class MeetingRows:
    """A meeting's rows for its minutes, read once whatever the reader: the agenda, the cases, the
    people's names, her voice, and the facts of every item, action and crime (not their text).
    Each reader's minutes are decided from these by the policy, and item, action and crime text
    is read only for the rows the policy opens to a reader (item text once for all the readers
    of these rows). The papers, written for many readers, read the meeting once. Nothing here
    is shown to a reader until the policy has decided for that reader."""

    meeting: Meeting
    items: list[AgendaItem]
    cases: dict[int, Case]
    people: dict[int, tuple[str, date | None]]
    item_rows: dict[int, list[sa.Row]]
    item_facts: dict[int, policy.ItemFacts]
    voices: dict[int, tuple[VictimVoice, str]]
    action_rows: list[sa.Row]
    crime_counts: dict[int, int]
    attendees: list[PresentedAttendee]
    apologies: list[str]
    approver: str | None
    summary: MeetingSummary
    # Item text, filled as the policy opens items to the readers of these rows.
    item_text: dict[int, sa.Row] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, meeting: Meeting) -> MeetingRows:
        items = agenda_items(session, meeting.id)
        heard = [i for i in items if i.status is not AgendaStatus.MOVED]
        ids = [i.id for i in heard]
        cases = {
            c.id: c
            for c in session.scalars(sa.select(Case).where(Case.id.in_({i.case_id for i in items})))
        }
        people: dict[int, tuple[str, date | None]] = {}
        item_rows: dict[int, list[sa.Row]] = defaultdict(list)
        voices: dict[int, tuple[VictimVoice, str]] = {}
        action_rows: list[sa.Row] = []
        crime_counts: dict[int, int] = {}
        if ids:
            people = {
                r.id: (f"{r.given_name} {r.family_name}", r.date_of_birth)
                for r in session.execute(
                    sa.select(
                        Person.id, Person.given_name, Person.family_name, Person.date_of_birth
                    )
                    .join(CasePerson, CasePerson.person_id == Person.id)
                    .where(CasePerson.case_id.in_({i.case_id for i in heard}))
                )
            }
            for row in session.execute(ITEM_FACTS.where(InformationItem.agenda_item_id.in_(ids))):
                item_rows[row.agenda_item_id].append(row)
            voices = {
                voice.agenda_item_id: (voice, agency)
                for voice, agency in session.execute(
                    sa.select(VictimVoice, Agency.name)
                    .join(Agency, Agency.id == VictimVoice.recorded_by_agency_id)
                    .where(VictimVoice.agenda_item_id.in_(ids))
                )
            }
            heard_item_of = {i.case_id: i.id for i in heard}
            action_rows = [
                row
                for row in session.execute(
                    action_rows_statement()
                    .add_columns(Action.agenda_item_id)
                    .where(Action.agenda_item_id.in_(ids))
                    .order_by(Action.due_on, Action.id)
                )
                if heard_item_of.get(row.case_id) == row.agenda_item_id
            ]
            crime_counts = dict(
                session.execute(
                    sa.select(CrimeDisclosure.agenda_item_id, sa.func.count())
                    .where(CrimeDisclosure.agenda_item_id.in_(ids))
                    .group_by(CrimeDisclosure.agenda_item_id)
                ).all()
            )
        attendees, apologies = attendance(session, meeting.id)
        approver_id = meeting.minutes_approved_by_id
        approver = (
            session.scalar(sa.select(User.display_name).where(User.id == approver_id))
            if approver_id
            else None
        )
        return cls(
            meeting=meeting,
            items=items,
            cases=cases,
            people=people,
            item_rows=item_rows,
            item_facts={
                row.id: item_facts(row)
                for item_rows_of in item_rows.values()
                for row in item_rows_of
            },
            voices=voices,
            action_rows=action_rows,
            crime_counts=crime_counts,
            attendees=attendees,
            apologies=apologies,
            approver=approver,
            summary=summarise(session, meeting, len(heard)),
        )


class _Named:
    """What ``present._people_labels`` reads of a person."""

    __slots__ = ("full_name",)

    def __init__(self, full_name: str) -> None:
        self.full_name = full_name


def present_minutes(
    session: Session, viewer: Viewer, meeting: Meeting, rows: MeetingRows | None = None
) -> PresentedMinutes:
    """The minutes compiled from what was recorded, as this viewer may read them.

    The number of queries does not depend on the number of cases: each kind of row is read for
    the whole meeting (``MeetingRows``, which the papers share between their readers), and the
    text of items and actions once for all the rows the policy opens to this viewer.
    """
    rows = rows or MeetingRows.load(session, meeting)
    links = links_for_cases(session, viewer, rows.cases.values())
    agenda = present_agenda(session, viewer, meeting, rows.items, rows.cases, links)
    by_id = {i.id: i for i in rows.items}
    heard = [by_id[row.item_id] for row in agenda.rows if row.status is not AgendaStatus.MOVED]
    total = rows.summary.listed

    labels = {
        item.case_id: _people_labels(
            viewer,
            links[item.case_id],
            {pid: _Named(rows.people[pid][0]) for pid in links[item.case_id].roles},
        )
        for item in heard
    }
    items = _present_meeting_items(session, viewer, links, heard, rows, labels)
    referrals = present_referrals(session, viewer, {i.case_id: links[i.case_id] for i in heard})
    wanted = {i.case_id for i in heard}
    actions: dict[int, list[PresentedAction]] = defaultdict(list)
    for action in present_action_rows(
        session,
        viewer,
        [row for row in rows.action_rows if row.case_id in wanted],
        clock.service_today(),
        links,
    ):
        actions[action.case_id].append(action)
    crime_decisions = {i.id: policy.crimes_disclosed(viewer, links[i.case_id]) for i in heard}
    crimes = _crimes(session, [i.id for i in heard if crime_decisions[i.id].full])

    presented = []
    for item in heard:
        case_links = links[item.case_id]
        item_list, summaries = items[item.id]
        by_agency: dict[str, list[PresentedItem]] = defaultdict(list)
        for one in item_list:
            by_agency[one.agency_name].append(one)
        risk = policy.meeting_risk_summary(viewer, case_links)
        crime_decision = crime_decisions[item.id]
        referral = referrals.get(item.case_id)
        presented.append(
            PresentedAgendaCase(
                item_id=item.id,
                position=item.position,
                total=total,
                case_id=item.case_id,
                reference=rows.cases[item.case_id].reference,
                people=_identifiers(
                    viewer,
                    case_links,
                    {
                        pid: rows.people[pid]
                        for pid, (d, _l) in labels[item.case_id].items()
                        if d.full
                    },
                ),
                referral=referral,
                referral_note=referral_note(viewer, case_links, referral),
                voice=_voice(viewer, case_links, rows.voices.get(item.id)),
                items_by_agency=sorted(by_agency.items()),
                summaries=summaries,
                risk_summary=item.risk_summary if risk.full else None,
                risk_summary_note=risk.summary,
                review_next=item.review_next,
                actions=actions.get(item.case_id, []),
                crimes=crimes.get(item.id, []) if crime_decision.full else None,
                crime_count=None
                if crime_decision.full or crime_decision.withheld
                else rows.crime_counts.get(item.id, 0),
                started_at=clock.local(item.started_at) if item.started_at else None,
                minutes_allowed=meeting.minutes_per_case,
                version=item.version,
            )
        )
    return PresentedMinutes(
        meeting=rows.summary,
        attendees=rows.attendees,
        apologies=rows.apologies,
        cases=presented,
        moved=[row for row in agenda.rows if row.status is AgendaStatus.MOVED],
        to_review=[c.reference for c in presented if c.review_next],
        not_open=agenda.not_open,
        approved_by=rows.approver,
        approved_at=clock.local(meeting.minutes_approved_at)
        if meeting.minutes_approved_at
        else None,
    )


def _voice(
    viewer: Viewer, links: CaseLinks, found: tuple[VictimVoice, str] | None
) -> PresentedVoice | None:
    if not policy.victim_voice_shared(viewer, links).full:
        return None
    if found is None:
        return PresentedVoice(recorded=False)
    voice, by = found
    account = policy.victim_voice_account(
        viewer, links, policy.VoiceFacts(recorded_by_id=voice.recorded_by_id)
    )
    return PresentedVoice(
        recorded=True,
        views=voice.views if account.full else None,
        wishes=voice.wishes if account.full else None,
        may_share=voice.may_share,
        note=account.summary,
        recorded_by=by,
        recorded_on=clock.local(voice.recorded_at).date(),
        version=voice.version,
    )


def _crimes(session: Session, item_ids: list[int]) -> dict[int, list[PresentedCrime]]:
    """The crimes disclosed for these agenda items: read only for those the policy opened."""
    crimes: dict[int, list[PresentedCrime]] = defaultdict(list)
    if not item_ids:
        return crimes
    for c, name in session.execute(
        sa.select(CrimeDisclosure, Agency.name)
        .join(Agency, Agency.id == CrimeDisclosure.disclosed_by_agency_id)
        .where(CrimeDisclosure.agenda_item_id.in_(item_ids))
        .order_by(CrimeDisclosure.recorded_at, CrimeDisclosure.id)
    ):
        crimes[c.agenda_item_id].append(
            PresentedCrime(c.description, name, clock.local(c.recorded_at))
        )
    return crimes


def _present_meeting_items(
    session: Session,
    viewer: Viewer,
    links: dict[int, CaseLinks],
    heard: list[AgendaItem],
    rows: MeetingRows,
    labels: dict[int, dict[int, tuple[policy.Decision, str]]],
) -> dict[int, tuple[list[PresentedItem], list[str]]]:
    """Each heard case's items recorded at this meeting, as ``marac.present.present_items``
    shows them (``tests/test_meetings.py`` holds the two to the same answer), for all the cases
    at once: the text is read in one query, for the items the policy opens."""
    decisions: dict[int, policy.Decision] = {}
    for item in heard:
        case_links = links[item.case_id]
        for row in rows.item_rows.get(item.id, ()):
            decisions[row.id] = policy.information_item(viewer, case_links, rows.item_facts[row.id])
    # Text read for an earlier reader of the same rows (the papers) is not read again.
    details = rows.item_text
    missing = [item_id for item_id, d in decisions.items() if d.full and item_id not in details]
    if missing:
        details.update(
            (detail.id, detail) for detail in session.execute(ITEM_TEXTS, {"item_ids": missing})
        )
    return {
        item.id: items_as_decided(
            rows.item_rows.get(item.id, ()), decisions, details, labels[item.case_id]
        )
        for item in heard
    }


# --- eligible referrals offered for a meeting -------------------------------------------------


@dataclass(frozen=True)
class Offer:
    case_id: int
    reference: str
    referred_on: date
    victim: str | None
    meeting_id: int | None
    meeting_title: str | None


def offers(session: Session, viewer: Viewer, area_id: int, today: date) -> list[Offer]:
    """Eligible referrals not yet listed, each offered the first regular meeting still to come
    whose cut-off it met and which still has room (counting the offers made before it)."""
    if not policy.may_run_meeting(viewer, area_id).full:
        return []
    eligible = session.execute(
        sa.select(Case.id, Case.reference, Case.referred_on, Person.given_name, Person.family_name)
        .outerjoin(
            CasePerson,
            sa.and_(CasePerson.case_id == Case.id, CasePerson.role == CaseRole.VICTIM),
        )
        .outerjoin(Person, Person.id == CasePerson.person_id)
        .where(Case.area_id == area_id, Case.status == CaseStatus.ELIGIBLE)
        .order_by(Case.referred_on, Case.id)
    ).all()
    if not eligible:
        return []
    upcoming = session.scalars(
        sa.select(Meeting)
        .where(
            Meeting.area_id == area_id,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.kind == MeetingKind.REGULAR,
            Meeting.starts_at >= clock.local_start_of(today),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    summaries = meeting_list(session, viewer, upcoming)
    room = {s.meeting_id: s.capacity - s.listed for s in summaries}
    result = []
    for row in eligible:
        chosen = next(
            (
                s
                for s in summaries
                if s.referral_cutoff_on >= row.referred_on and room[s.meeting_id] > 0
            ),
            None,
        )
        if chosen is not None:
            room[chosen.meeting_id] -= 1
        result.append(
            Offer(
                case_id=row.id,
                reference=row.reference,
                referred_on=row.referred_on,
                victim=f"{row.given_name} {row.family_name}" if row.given_name else None,
                meeting_id=chosen.meeting_id if chosen else None,
                meeting_title=chosen.title if chosen else None,
            )
        )
    return result
