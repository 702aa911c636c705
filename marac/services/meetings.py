"""Scheduling meetings, building the agenda, research, the live meeting and its minutes.

Each function checks its input, changes rows, writes the audit entry and flushes; the request
commits. Who may call which is ``marac.policy``'s question, asked by the routes before they call.
Anything a live screen must show raises the meeting's revision (``touch``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import audit, clock
from marac.domain import (
    OPEN_MEETING_STATUSES,
    AgendaStatus,
    AttendanceKind,
    CaseStatus,
    Classification,
    ItemNature,
    ItemSource,
    MeetingFrequency,
    MeetingKind,
    MeetingStatus,
)
from marac.models import (
    Agency,
    AgendaItem,
    Apology,
    Attendance,
    Case,
    CasePerson,
    CrimeDisclosure,
    InformationItem,
    Meeting,
    User,
    VictimVoice,
)
from marac.models.meetings import DEFAULT_CAPACITY, DEFAULT_MINUTES_PER_CASE

MAX_SERIES = 24
# Cases that may be listed: eligible referrals, and cases heard before, listed again for review.
LISTABLE_STATUSES = frozenset({CaseStatus.ELIGIBLE, CaseStatus.LISTED, CaseStatus.HEARD})


class MeetingProblem(ValueError):
    """Input the service refuses, with the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleRecord(Exception):
    """Someone changed the record after this user loaded it."""


def touch(session: Session, meeting_id: int) -> None:
    """Tell every live screen of the meeting that something changed."""
    session.execute(
        sa.update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(revision=Meeting.revision + 1)
        .execution_options(synchronize_session=False)
    )


def meeting_title(meeting: Meeting, area_name: str) -> str:
    local = clock.local(meeting.starts_at)
    kind = " (emergency)" if meeting.kind is MeetingKind.EMERGENCY else ""
    return f"{area_name} MARAC, {local.day} {local:%B %Y}{kind}"


# --- scheduling -------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def series_dates(first: date, frequency: MeetingFrequency, count: int) -> list[date]:
    if frequency is MeetingFrequency.EMERGENCY:
        return [first]
    if frequency is MeetingFrequency.MONTHLY:
        return [_add_months(first, n) for n in range(count)]
    step = 14 if frequency is MeetingFrequency.FORTNIGHTLY else 7
    return [first + timedelta(days=step * n) for n in range(count)]


def schedule_meetings(
    session: Session,
    *,
    area_id: int,
    first_on: date,
    at: time,
    frequency: MeetingFrequency,
    count: int,
    cutoff_days: int,
    capacity: int = DEFAULT_CAPACITY,
    minutes_per_case: int = DEFAULT_MINUTES_PER_CASE,
    chair: User | None = None,
    created_by: User | None = None,
    today: date | None = None,
) -> list[Meeting]:
    today = today or clock.service_today()
    if first_on < today:
        raise MeetingProblem("first_on", "The first meeting must be today or later.")
    if not 1 <= count <= MAX_SERIES:
        raise MeetingProblem("count", f"Schedule between 1 and {MAX_SERIES} meetings at once.")
    if capacity < 1:
        raise MeetingProblem("capacity", "A meeting must have room for at least one case.")
    if minutes_per_case < 1:
        raise MeetingProblem("minutes_per_case", "Allow at least one minute per case.")
    if cutoff_days < 0:
        raise MeetingProblem("cutoff_days", "The cut-off cannot be after the meeting.")
    emergency = frequency is MeetingFrequency.EMERGENCY
    zone = clock.service_timezone()
    meetings = []
    for day in series_dates(first_on, frequency, count):
        meeting = Meeting(
            area_id=area_id,
            kind=MeetingKind.EMERGENCY if emergency else MeetingKind.REGULAR,
            starts_at=datetime.combine(day, at, tzinfo=zone).astimezone(UTC),
            referral_cutoff_on=day - timedelta(days=0 if emergency else cutoff_days),
            capacity=capacity,
            minutes_per_case=minutes_per_case,
            chair_id=chair.id if chair else None,
            created_by_id=created_by.id if created_by else None,
        )
        session.add(meeting)
        meetings.append(meeting)
    session.flush()
    for meeting in meetings:
        audit.record(
            "meeting.schedule",
            user=created_by,
            object_type="meeting",
            object_id=meeting.id,
            detail=f"{meeting.kind.value} on {clock.local(meeting.starts_at).date().isoformat()}, "
            f"cut-off {meeting.referral_cutoff_on.isoformat()}, capacity {capacity}, "
            f"{minutes_per_case} minutes per case",
        )
    return meetings


# --- the agenda -------------------------------------------------------------------------------


def listed_count(session: Session, meeting_id: int) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id, AgendaItem.status != AgendaStatus.MOVED)
    )


def listed_elsewhere(session: Session, case_id: int, meeting_id: int | None) -> Meeting | None:
    """An open meeting (other than ``meeting_id``) the case is listed for, if any."""
    statement = (
        sa.select(Meeting)
        .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(
            AgendaItem.case_id == case_id,
            AgendaItem.status == AgendaStatus.LISTED,
            Meeting.status.in_(OPEN_MEETING_STATUSES),
        )
    )
    if meeting_id is not None:
        statement = statement.where(Meeting.id != meeting_id)
    return session.scalars(statement.limit(1)).first()


def _check_room(session: Session, meeting: Meeting, case: Case) -> None:
    if meeting.status is not MeetingStatus.SCHEDULED:
        raise MeetingProblem("meeting_id", "Cases are listed only for meetings still to come.")
    if case.area_id != meeting.area_id:
        raise MeetingProblem("case_id", "The case belongs to another area.")
    already = session.scalar(
        sa.select(AgendaItem.status).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.case_id == case.id
        )
    )
    if already is not None:
        raise MeetingProblem(
            "case_id", f"{case.reference} is already on this meeting's agenda; it is listed once."
        )
    count = listed_count(session, meeting.id)
    if count >= meeting.capacity:
        raise MeetingProblem(
            "meeting_id",
            f"This meeting is full ({count} of {meeting.capacity} cases). "
            "Choose a later meeting, or raise its capacity.",
        )


def add_to_agenda(
    session: Session, meeting: Meeting, case: Case, *, user: User | None
) -> AgendaItem:
    if case.status not in LISTABLE_STATUSES:
        raise MeetingProblem(
            "case_id", f"{case.reference} is {case.status.label.lower()}: it cannot be listed."
        )
    if (
        meeting.kind is MeetingKind.REGULAR
        and case.status is CaseStatus.ELIGIBLE
        and case.referred_on > meeting.referral_cutoff_on
    ):
        raise MeetingProblem(
            "case_id",
            f"{case.reference} was referred after this meeting's cut-off "
            f"({meeting.referral_cutoff_on:%d %B %Y}): list it for a later meeting, or an "
            "emergency meeting.",
        )
    _check_room(session, meeting, case)
    other = listed_elsewhere(session, case.id, meeting.id)
    if other is not None:
        raise MeetingProblem(
            "case_id",
            f"{case.reference} is already listed for the meeting on "
            f"{clock.local(other.starts_at):%d %B %Y}: move it from there instead.",
        )
    item = _new_item(session, meeting, case, user)
    audit.record(
        "agenda.add",
        user=user,
        object_type="agenda_item",
        object_id=item.id,
        detail=f"case {case.id} listed for meeting {meeting.id} at position {item.position}",
    )
    return item


def _new_item(session: Session, meeting: Meeting, case: Case, user: User | None) -> AgendaItem:
    last = session.scalar(
        sa.select(sa.func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    )
    item = AgendaItem(
        meeting_id=meeting.id,
        case_id=case.id,
        position=(last or 0) + 1,
        status=AgendaStatus.LISTED,
        added_by_id=user.id if user else None,
    )
    session.add(item)
    if case.status is CaseStatus.ELIGIBLE:
        case.status = CaseStatus.LISTED
    session.flush()
    return item


def move_item(
    session: Session,
    item: AgendaItem,
    to_meeting: Meeting,
    *,
    reason: str,
    user: User | None,
) -> AgendaItem:
    """Moves a listed case to a later meeting of the area, with the reason recorded."""
    reason = (reason or "").strip()
    if not reason:
        raise MeetingProblem("reason", "Say why the case is moved.")
    if item.status is not AgendaStatus.LISTED:
        raise MeetingProblem("meeting_id", "Only a case still listed can be moved.")
    source = item.meeting
    if source.status is not MeetingStatus.SCHEDULED:
        raise MeetingProblem("meeting_id", "The meeting has started: the case cannot be moved.")
    if to_meeting.id == source.id or clock.as_utc(to_meeting.starts_at) <= clock.as_utc(
        source.starts_at
    ):
        raise MeetingProblem("meeting_id", "Choose a later meeting.")
    case = item.case
    _check_room(session, to_meeting, case)
    item.status = AgendaStatus.MOVED
    item.moved_to_meeting_id = to_meeting.id
    item.move_reason = reason
    moved = _new_item(session, to_meeting, case, user)
    audit.record(
        "agenda.move",
        user=user,
        object_type="agenda_item",
        object_id=item.id,
        detail=f"case {case.id} moved from meeting {source.id} to meeting {to_meeting.id}, "
        "with a reason",
    )
    return moved


def shift_item(session: Session, item: AgendaItem, step: int, *, user: User | None) -> None:
    """Moves a case one place up (-1) or down (+1) the agenda."""
    if item.meeting.status is not MeetingStatus.SCHEDULED:
        raise MeetingProblem("position", "The meeting has started: the order is fixed.")
    neighbours = session.scalars(
        sa.select(AgendaItem)
        .where(AgendaItem.meeting_id == item.meeting_id, AgendaItem.status != AgendaStatus.MOVED)
        .order_by(AgendaItem.position, AgendaItem.id)
    ).all()
    index = neighbours.index(item)
    other_index = index + step
    if not 0 <= other_index < len(neighbours):
        return
    other = neighbours[other_index]
    item.position, other.position = other.position, item.position
    session.flush()
    audit.record(
        "agenda.order",
        user=user,
        object_type="agenda_item",
        object_id=item.id,
        detail=f"{'up' if step < 0 else 'down'} one place in meeting {item.meeting_id}",
    )


def next_meeting_with_space(
    session: Session, area_id: int, referred_on: date, today: date
) -> Meeting | None:
    """The first regular meeting still to come whose cut-off the referral met, with room."""
    listed = (
        sa.select(sa.func.count())
        .select_from(AgendaItem)
        .where(AgendaItem.meeting_id == Meeting.id, AgendaItem.status != AgendaStatus.MOVED)
        .scalar_subquery()
    )
    return session.scalars(
        sa.select(Meeting)
        .where(
            Meeting.area_id == area_id,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.kind == MeetingKind.REGULAR,
            Meeting.referral_cutoff_on >= referred_on,
            Meeting.starts_at >= clock.local_start_of(today),
            listed < Meeting.capacity,
        )
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(1)
    ).first()


# --- research ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemInput:
    about_person_id: int | None
    text: str
    source: ItemSource
    nature: ItemNature
    classification: Classification
    withheld_reason: str | None


def record_information(
    session: Session,
    item: AgendaItem,
    entry: ItemInput,
    *,
    user: User,
    now: datetime | None = None,
) -> InformationItem:
    """An information item for an agenda case: research before the meeting or said at it."""
    if item.meeting.status not in OPEN_MEETING_STATUSES:
        raise MeetingProblem("text", "The meeting is closed: its record cannot change.")
    text = (entry.text or "").strip()
    if not text:
        raise MeetingProblem("text", "Write what your agency holds.")
    reason = (entry.withheld_reason or "").strip() or None
    if entry.classification is Classification.AGENCY_ONLY and not reason:
        raise MeetingProblem(
            "withheld_reason", "Say why your agency will not share it: the meeting sees the reason."
        )
    if entry.about_person_id is not None:
        in_case = session.scalar(
            sa.select(CasePerson.id).where(
                CasePerson.case_id == item.case_id,
                CasePerson.person_id == entry.about_person_id,
            )
        )
        if in_case is None:
            raise MeetingProblem("about", "Choose someone in this case.")
    row = InformationItem(
        case_id=item.case_id,
        agenda_item_id=item.id,
        about_person_id=entry.about_person_id,
        text=text,
        source=entry.source,
        nature=entry.nature,
        classification=entry.classification,
        withheld_reason=reason if entry.classification is Classification.AGENCY_ONLY else None,
        recorded_by_agency_id=user.agency_id,
        recorded_by_id=user.id,
        recorded_at=now or clock.utc_now(),
    )
    session.add(row)
    session.flush()
    touch(session, item.meeting_id)
    audit.record(
        "item.create",
        user=user,
        object_type="information_item",
        object_id=row.id,
        detail=f"case {item.case_id}, agenda item {item.id}: {entry.source.value}, "
        f"{entry.nature.value}, {entry.classification.value}",
    )
    return row


def record_victim_voice(
    session: Session,
    item: AgendaItem,
    *,
    views: str,
    wishes: str | None,
    may_share: str | None,
    user: User,
    expected_version: int | None,
    now: datetime | None = None,
) -> VictimVoice:
    """Records (or replaces) her voice for the agenda item. A stale version raises StaleRecord."""
    if item.meeting.status not in OPEN_MEETING_STATUSES:
        raise MeetingProblem("views", "The meeting is closed: its record cannot change.")
    views = (views or "").strip()
    if not views:
        raise MeetingProblem("views", "Write her views, in her words where you can.")
    voice = session.scalar(sa.select(VictimVoice).where(VictimVoice.agenda_item_id == item.id))
    if voice is None:
        if expected_version not in (None, 0):
            raise StaleRecord()
        voice = VictimVoice(agenda_item_id=item.id, recorded_by_agency_id=user.agency_id)
        session.add(voice)
        verb = "recorded"
    else:
        if expected_version != voice.version:
            raise StaleRecord()
        verb = "updated"
    voice.views = views
    voice.wishes = (wishes or "").strip() or None
    voice.may_share = (may_share or "").strip() or None
    voice.recorded_by_id = user.id
    voice.recorded_by_agency_id = user.agency_id
    voice.recorded_at = now or clock.utc_now()
    session.flush()
    touch(session, item.meeting_id)
    audit.record(
        f"victim_voice.{verb}",
        user=user,
        object_type="agenda_item",
        object_id=item.id,
        detail=f"case {item.case_id}",
    )
    return voice


# --- the live meeting -------------------------------------------------------------------------


def accept_confidentiality(
    session: Session,
    meeting: Meeting,
    *,
    user: User,
    kind: AttendanceKind,
    now: datetime | None = None,
) -> Attendance:
    if meeting.status not in OPEN_MEETING_STATUSES:
        raise MeetingProblem("kind", "The meeting is closed.")
    attendance = session.scalar(
        sa.select(Attendance).where(
            Attendance.meeting_id == meeting.id, Attendance.user_id == user.id
        )
    )
    if attendance is not None:
        return attendance
    attendance = Attendance(
        meeting_id=meeting.id,
        user_id=user.id,
        agency_id=user.agency_id,
        kind=kind,
        accepted_at=now or clock.utc_now(),
    )
    session.add(attendance)
    session.flush()
    touch(session, meeting.id)
    audit.record(
        "meeting.attend",
        user=user,
        object_type="meeting",
        object_id=meeting.id,
        detail=f"accepted the confidentiality statement as {kind.value}",
    )
    return attendance


def has_accepted(session: Session, meeting_id: int, user_id: int) -> bool:
    return (
        session.scalar(
            sa.select(Attendance.id).where(
                Attendance.meeting_id == meeting_id, Attendance.user_id == user_id
            )
        )
        is not None
    )


def record_apology(
    session: Session, meeting: Meeting, agency: Agency, *, user: User | None
) -> Apology:
    if agency.area_id != meeting.area_id:
        raise MeetingProblem("agency_id", "Choose an agency of this area.")
    existing = session.scalar(
        sa.select(Apology).where(Apology.meeting_id == meeting.id, Apology.agency_id == agency.id)
    )
    if existing is not None:
        return existing
    apology = Apology(
        meeting_id=meeting.id,
        agency_id=agency.id,
        recorded_by_id=user.id if user else None,
        recorded_at=clock.utc_now(),
    )
    session.add(apology)
    session.flush()
    touch(session, meeting.id)
    audit.record(
        "meeting.apology",
        user=user,
        object_type="meeting",
        object_id=meeting.id,
        detail=f"apologies from agency {agency.id}",
    )
    return apology


def open_item(
    session: Session,
    meeting: Meeting,
    item: AgendaItem,
    *,
    user: User | None,
    expected_version: int,
    now: datetime | None = None,
) -> None:
    """The chair takes this case now. Opening the meeting is taking its first case."""
    if meeting.version != expected_version:
        raise StaleRecord()
    if meeting.status not in OPEN_MEETING_STATUSES:
        raise MeetingProblem("item_id", "The meeting is closed.")
    if item.meeting_id != meeting.id or item.status is AgendaStatus.MOVED:
        raise MeetingProblem("item_id", "That case is not on this meeting's agenda.")
    now = now or clock.utc_now()
    if meeting.status is MeetingStatus.SCHEDULED:
        meeting.status = MeetingStatus.IN_PROGRESS
        meeting.opened_at = now
    meeting.current_item_id = item.id
    if item.started_at is None:
        item.started_at = now
    session.flush()
    touch(session, meeting.id)
    audit.record(
        "meeting.case",
        user=user,
        object_type="meeting",
        object_id=meeting.id,
        detail=f"now discussing agenda item {item.id}",
    )


def save_risk_summary(
    session: Session,
    item: AgendaItem,
    *,
    text: str,
    review_next: bool,
    user: User | None,
    expected_version: int,
) -> None:
    if expected_version != item.version:
        raise StaleRecord()
    if item.meeting.status not in OPEN_MEETING_STATUSES:
        raise MeetingProblem("risk_summary", "The meeting is closed: its record cannot change.")
    item.risk_summary = (text or "").strip() or None
    item.review_next = review_next
    session.flush()
    touch(session, item.meeting_id)
    audit.record(
        "agenda.summary",
        user=user,
        object_type="agenda_item",
        object_id=item.id,
        detail=f"summary of risks saved; {'review' if review_next else 'no review'} "
        "at the next meeting",
    )


def record_crime(
    session: Session, item: AgendaItem, *, description: str, user: User
) -> CrimeDisclosure:
    if item.meeting.status not in OPEN_MEETING_STATUSES:
        raise MeetingProblem("description", "The meeting is closed: its record cannot change.")
    description = (description or "").strip()
    if not description:
        raise MeetingProblem("description", "Describe the crime disclosed.")
    crime = CrimeDisclosure(
        agenda_item_id=item.id,
        description=description,
        disclosed_by_agency_id=user.agency_id,
        recorded_by_id=user.id,
        recorded_at=clock.utc_now(),
    )
    session.add(crime)
    session.flush()
    touch(session, item.meeting_id)
    audit.record(
        "crime.create",
        user=user,
        object_type="crime_disclosure",
        object_id=crime.id,
        detail=f"case {item.case_id}, agenda item {item.id}",
    )
    return crime


def close_meeting(
    session: Session,
    meeting: Meeting,
    *,
    title: str,
    user: User | None,
    expected_version: int,
    now: datetime | None = None,
) -> list[AgendaItem]:
    """Closes the meeting: every case still listed is heard, and the minutes await approval."""
    if meeting.version != expected_version:
        raise StaleRecord()
    if meeting.status is not MeetingStatus.IN_PROGRESS:
        raise MeetingProblem("meeting_id", "Only a meeting in progress can be closed.")
    now = now or clock.utc_now()
    heard_on = clock.local(meeting.starts_at).date()
    items = session.scalars(
        sa.select(AgendaItem).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.status == AgendaStatus.LISTED
        )
    ).all()
    for item in items:
        item.status = AgendaStatus.HEARD
        case = item.case
        if case.status in (CaseStatus.LISTED, CaseStatus.ELIGIBLE):
            case.status = CaseStatus.HEARD
        # Kept on the case for lists and for hearings from before meetings were recorded here.
        case.heard_on = heard_on
        case.heard_at = title
    meeting.status = MeetingStatus.CLOSED
    meeting.closed_at = now
    meeting.current_item_id = None
    session.flush()
    touch(session, meeting.id)
    audit.record(
        "meeting.close",
        user=user,
        object_type="meeting",
        object_id=meeting.id,
        detail=f"{len(items)} cases heard",
    )
    return list(items)


def approve_minutes(
    session: Session,
    meeting: Meeting,
    *,
    user: User,
    expected_version: int,
    now: datetime | None = None,
) -> None:
    if meeting.version != expected_version:
        raise StaleRecord()
    if meeting.status is not MeetingStatus.CLOSED:
        raise MeetingProblem("meeting_id", "Minutes are approved once the meeting has closed.")
    meeting.status = MeetingStatus.APPROVED
    meeting.minutes_approved_at = now or clock.utc_now()
    meeting.minutes_approved_by_id = user.id
    session.flush()
    audit.record(
        "meeting.approve",
        user=user,
        object_type="meeting",
        object_id=meeting.id,
        detail="minutes approved",
    )
