"""The quarterly MARAC data return, counted from what is recorded.

Nothing here is typed again: every figure is counted by the database from the meetings, their
agenda items, the cases heard, who referred them and the people in them. Each report costs a
fixed number of aggregate queries (GROUP BY with COUNT ... FILTER), whatever the size of the
area: no case is loaded into Python. The caller has already asked ``marac.policy``
(``may_see_reports``); this module returns counts only, never a name or a reference.

Which hearings count: a case heard at a meeting of the area that started in the quarter and
has closed (its minutes awaiting approval or approved). Each hearing counts: a case heard at
two meetings of the quarter counts at each, and twice in the total, so that the total is the
sum of the meetings (docs/reporting.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from marac import clock, suppression
from marac.domain import (
    LGB_ORIENTATIONS,
    MINORITISED_ETHNIC_GROUPS,
    OPEN_ACTION_STATUSES,
    ActionStatus,
    AgencyKind,
    AgendaStatus,
    CaseRole,
    Disability,
    Gender,
    InvolvementKind,
    MeetingStatus,
    TransHistory,
)
from marac.models import (
    Action,
    Agency,
    AgendaItem,
    AreaReportSettings,
    Case,
    CasePerson,
    Involvement,
    Meeting,
    Person,
    Referral,
)

# Meetings whose hearings are final: the meeting has closed.
COUNTED_MEETING_STATUSES = (MeetingStatus.CLOSED, MeetingStatus.APPROVED)

# The referring agency rows of the return, in its order; agencies of other kinds are "other".
REFERRER_ROWS: tuple[tuple[str, str, tuple[AgencyKind, ...]], ...] = (
    ("referred_police", "Referred by the police", (AgencyKind.POLICE,)),
    ("referred_idva", "Referred by an IDVA service", (AgencyKind.IDVA,)),
    (
        "referred_csc",
        "Referred by children's social care",
        (AgencyKind.CHILDRENS_SOCIAL_CARE,),
    ),
    ("referred_health", "Referred by health", (AgencyKind.HEALTH, AgencyKind.MENTAL_HEALTH)),
    ("referred_housing", "Referred by housing", (AgencyKind.HOUSING,)),
    ("referred_probation", "Referred by probation", (AgencyKind.PROBATION,)),
)
OTHER_REFERRER = ("referred_other", "Referred by another agency (or not recorded)")

MEASURES: tuple[tuple[str, str], ...] = (
    ("cases_heard", "Cases heard"),
    ("repeat_cases", "Repeat cases"),
    *((key, label) for key, label, _kinds in REFERRER_ROWS),
    OTHER_REFERRER,
    ("children", "Children in the households"),
    ("minoritised", "Victims from Black, Asian and minoritised communities"),
    ("lgbt", "LGBT+ victims"),
    ("disabled", "Disabled victims"),
    ("male", "Male victims"),
    ("aged_16_17", "Victims aged 16 or 17"),
    ("young_perpetrators", "Perpetrators aged 17 or under"),
)
MEASURE_KEYS = tuple(key for key, _label in MEASURES)
REFERRER_KEYS = (*(key for key, _l, _k in REFERRER_ROWS), OTHER_REFERRER[0])


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter: 1 is January to March."""

    year: int
    number: int

    PATTERN = re.compile(r"^(\d{4})-q([1-4])$")

    @classmethod
    def parse(cls, text: str | None) -> Quarter | None:
        match = cls.PATTERN.match((text or "").strip().lower())
        if not match:
            return None
        year = int(match.group(1))
        if not 2000 <= year <= 2100:
            return None
        return cls(year, int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def key(self) -> str:
        return f"{self.year}-q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """The first day after the quarter."""
        if self.number == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.number + 1, 1)

    @property
    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    @property
    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    @property
    def label(self) -> str:
        first = self.start.strftime("%B")
        last = date(self.year, 3 * self.number, 1).strftime("%B")
        return f"{first} to {last} {self.year}"


@dataclass(frozen=True)
class MeetingColumn:
    meeting_id: int
    held_on: date
    counts: dict[str, int]

    @property
    def label(self) -> str:
        return f"{self.held_on.day} {self.held_on.strftime('%b %Y')}"


@dataclass(frozen=True)
class DataReturn:
    area_name: str
    quarter: Quarter
    meetings: tuple[MeetingColumn, ...]
    total: dict[str, int] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str, list[int], int]]:
        """(key, label, one count per meeting, total) for each measure, in the return's order."""
        return [
            (key, label, [m.counts[key] for m in self.meetings], self.total[key])
            for key, label in MEASURES
        ]


def years_before(session: Session, moment: sa.ColumnElement, years: int) -> sa.ColumnElement:
    """The calendar date ``years`` years before a stored time, in the database's own terms."""
    if session.get_bind().dialect.name == "sqlite":
        return sa.func.date(moment, f"-{years} years")
    return sa.cast(moment - sa.text(f"interval '{int(years)} years'"), sa.Date)


def _counted_meetings(area_id: int, quarter: Quarter) -> sa.ColumnElement[bool]:
    return sa.and_(
        Meeting.area_id == area_id,
        Meeting.starts_at >= clock.local_start_of(quarter.start),
        Meeting.starts_at < clock.local_start_of(quarter.end),
        Meeting.status.in_(COUNTED_MEETING_STATUSES),
    )


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count(AgendaItem.id).filter(condition)


def count_return(session: Session, area_id: int, area_name: str, quarter: Quarter) -> DataReturn:
    """The return for one area and quarter: two aggregate queries, one row per meeting each."""
    victim_link = aliased(CasePerson)
    victim = aliased(Person)
    day_of_hearing = Meeting.starts_at
    kind = Agency.kind
    referrer_columns = [_count(kind.in_(kinds)).label(key) for key, _label, kinds in REFERRER_ROWS]
    known_kinds = [k for _key, _label, kinds in REFERRER_ROWS for k in kinds]
    lgbt = sa.or_(
        victim.sexual_orientation.in_(LGB_ORIENTATIONS),
        victim.trans_history == TransHistory.TRANS,
        victim.gender.in_((Gender.NON_BINARY, Gender.OTHER)),
    )
    hearings = (
        sa.select(
            Meeting.id,
            Meeting.starts_at,
            sa.func.count(AgendaItem.id).label("cases_heard"),
            _count(Referral.repeat_of_case_id.is_not(None)).label("repeat_cases"),
            *referrer_columns,
            _count(sa.or_(kind.is_(None), kind.not_in(known_kinds))).label(OTHER_REFERRER[0]),
            _count(victim.ethnic_group.in_(MINORITISED_ETHNIC_GROUPS)).label("minoritised"),
            _count(lgbt).label("lgbt"),
            _count(victim.disability == Disability.YES).label("disabled"),
            _count(victim.gender == Gender.MALE).label("male"),
            _count(
                sa.and_(
                    victim.date_of_birth <= years_before(session, day_of_hearing, 16),
                    victim.date_of_birth > years_before(session, day_of_hearing, 18),
                )
            ).label("aged_16_17"),
        )
        .select_from(Meeting)
        .outerjoin(
            AgendaItem,
            sa.and_(AgendaItem.meeting_id == Meeting.id, AgendaItem.status == AgendaStatus.HEARD),
        )
        .outerjoin(Case, Case.id == AgendaItem.case_id)
        .outerjoin(Agency, Agency.id == Case.referring_agency_id)
        .outerjoin(Referral, Referral.case_id == Case.id)
        .outerjoin(
            victim_link,
            sa.and_(victim_link.case_id == Case.id, victim_link.role == CaseRole.VICTIM),
        )
        .outerjoin(victim, victim.id == victim_link.person_id)
        .where(_counted_meetings(area_id, quarter))
        .group_by(Meeting.id, Meeting.starts_at)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    people = (
        sa.select(
            AgendaItem.meeting_id,
            sa.func.count(CasePerson.id)
            .filter(CasePerson.role == CaseRole.CHILD)
            .label("children"),
            sa.func.count(CasePerson.id)
            .filter(
                CasePerson.role == CaseRole.PERPETRATOR,
                Person.date_of_birth > years_before(session, day_of_hearing, 18),
            )
            .label("young_perpetrators"),
        )
        .select_from(AgendaItem)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(CasePerson, CasePerson.case_id == AgendaItem.case_id)
        .join(Person, Person.id == CasePerson.person_id)
        .where(_counted_meetings(area_id, quarter), AgendaItem.status == AgendaStatus.HEARD)
        .group_by(AgendaItem.meeting_id)
    )
    per_person = {row.meeting_id: row for row in session.execute(people)}
    columns = []
    for row in session.execute(hearings):
        counts = {key: int(getattr(row, key)) for key in MEASURE_KEYS if hasattr(row, key)}
        extra = per_person.get(row.id)
        counts["children"] = int(extra.children) if extra else 0
        counts["young_perpetrators"] = int(extra.young_perpetrators) if extra else 0
        columns.append(MeetingColumn(row.id, clock.local(row.starts_at).date(), counts))
    total = {key: sum(c.counts[key] for c in columns) for key in MEASURE_KEYS}
    return DataReturn(area_name, quarter, tuple(columns), total)


TOTAL = "total"


@dataclass(frozen=True)
class PublishedReturn:
    """The return as it leaves the service: every cell as text, small numbers suppressed."""

    area_name: str
    quarter: Quarter
    column_labels: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    suppressed: int


def return_sums(meeting_count: int) -> list[suppression.Sum]:
    """The sums a reader of the return knows: each row's total is the sum of its meetings, and
    in each column the referring agencies add up to the cases heard."""
    if meeting_count == 0:
        return []
    columns = [*range(meeting_count), TOTAL]
    sums = [
        suppression.Sum((key, TOTAL), tuple((key, i) for i in range(meeting_count)))
        for key in MEASURE_KEYS
    ]
    sums += [
        suppression.Sum(("cases_heard", c), tuple((key, c) for key in REFERRER_KEYS))
        for c in columns
    ]
    return sums


def publish(data: DataReturn) -> PublishedReturn:
    values: dict[tuple[str, object], int] = {}
    for key, _label, per_meeting, total in data.rows():
        for i, value in enumerate(per_meeting):
            values[(key, i)] = value
        values[(key, TOTAL)] = total
    shown = suppression.suppress(values, return_sums(len(data.meetings)))
    rows = tuple(
        (
            label,
            tuple(
                suppression.wording(values[(key, c)], shown[(key, c)])
                for c in [*range(len(data.meetings)), TOTAL]
            ),
        )
        for key, label in MEASURES
    )
    return PublishedReturn(
        area_name=data.area_name,
        quarter=data.quarter,
        column_labels=(*(m.label for m in data.meetings), "Total"),
        rows=rows,
        suppressed=sum(how is not suppression.Shown.EXACT for how in shown.values()),
    )


# ---------------------------------------------------------------------------------------------
# The area dashboard: the last twelve months against what is recommended.

RECOMMENDED_CASES_PER_10000_WOMEN = 40
NATIONAL_REPEAT_RANGE = (28, 40)
CASES_PER_IDVA_A_YEAR = 100


@dataclass(frozen=True)
class MeetingLoad:
    held_on: date
    cases_heard: int
    minutes_allowed: int
    # None when the meeting's times were not recorded (no case taken, or not closed).
    minutes_per_case: float | None


@dataclass(frozen=True)
class AgencyActions:
    agency_name: str
    due: int
    done: int
    overdue: int

    @property
    def completion_rate(self) -> float:
        return 100 * self.done / self.due if self.due else 0.0

    @property
    def overdue_rate(self) -> float:
        return 100 * self.overdue / self.due if self.due else 0.0


@dataclass(frozen=True)
class Dashboard:
    period_start: date
    period_end: date
    cases_heard: int
    repeat_cases: int
    police_cases: int
    adult_female_population: int | None
    idva_fte: float | None
    idva_supported: int
    meetings: tuple[MeetingLoad, ...]
    agencies: tuple[AgencyActions, ...]

    @property
    def cases_per_10000_women(self) -> float | None:
        if not self.adult_female_population:
            return None
        return 10_000 * self.cases_heard / self.adult_female_population

    @property
    def repeat_rate(self) -> float | None:
        return 100 * self.repeat_cases / self.cases_heard if self.cases_heard else None

    @property
    def non_police_share(self) -> float | None:
        if not self.cases_heard:
            return None
        return 100 * (self.cases_heard - self.police_cases) / self.cases_heard

    @property
    def cases_per_idva(self) -> float | None:
        return self.idva_supported / self.idva_fte if self.idva_fte else None


def a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def count_dashboard(session: Session, area_id: int, today: date) -> Dashboard:
    """The twelve months up to ``today``: five aggregate queries and one settings row."""
    start = a_year_before(today) + timedelta(days=1)
    in_period = sa.and_(
        Meeting.area_id == area_id,
        Meeting.starts_at >= clock.local_start_of(start),
        Meeting.starts_at < clock.local_start_of(today + timedelta(days=1)),
        Meeting.status.in_(COUNTED_MEETING_STATUSES),
    )
    heard = sa.and_(AgendaItem.meeting_id == Meeting.id, AgendaItem.status == AgendaStatus.HEARD)

    def distinct_cases(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.count(sa.distinct(sa.case((condition, Case.id))))

    volume = session.execute(
        sa.select(
            sa.func.count(sa.distinct(Case.id)),
            distinct_cases(Referral.repeat_of_case_id.is_not(None)),
            distinct_cases(Agency.kind == AgencyKind.POLICE),
        )
        .select_from(Meeting)
        .join(AgendaItem, heard)
        .join(Case, Case.id == AgendaItem.case_id)
        .outerjoin(Agency, Agency.id == Case.referring_agency_id)
        .outerjoin(Referral, Referral.case_id == Case.id)
        .where(in_period)
    ).one()

    meetings = tuple(
        MeetingLoad(
            held_on=clock.local(row.starts_at).date(),
            cases_heard=row.cases_heard,
            minutes_allowed=row.minutes_per_case,
            minutes_per_case=_minutes_per_case(row.first_case_at, row.closed_at, row.cases_heard),
        )
        for row in session.execute(
            sa.select(
                Meeting.starts_at,
                Meeting.minutes_per_case,
                Meeting.closed_at,
                sa.func.count(AgendaItem.id).label("cases_heard"),
                sa.func.min(AgendaItem.started_at).label("first_case_at"),
            )
            .select_from(Meeting)
            .outerjoin(AgendaItem, heard)
            .where(in_period)
            .group_by(Meeting.id, Meeting.starts_at, Meeting.minutes_per_case, Meeting.closed_at)
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )

    agencies = tuple(
        AgencyActions(row.name, row.due, row.done, row.overdue)
        for row in session.execute(
            sa.select(
                Agency.name,
                sa.func.count(Action.id).label("due"),
                sa.func.count(Action.id).filter(Action.status == ActionStatus.DONE).label("done"),
                sa.func.count(Action.id)
                .filter(Action.status.in_(OPEN_ACTION_STATUSES), Action.due_on < today)
                .label("overdue"),
            )
            .join(Agency, Agency.id == Action.owner_agency_id)
            .where(
                Action.area_id == area_id,
                Action.due_on >= start,
                Action.due_on <= today,
                Action.status != ActionStatus.CANCELLED,
            )
            .group_by(Agency.id, Agency.name)
            .order_by(Agency.name)
        )
    )

    idva_supported = session.scalar(
        sa.select(sa.func.count(sa.distinct(Involvement.person_id)))
        .join(Agency, Agency.id == Involvement.agency_id)
        .where(
            Agency.area_id == area_id,
            Involvement.kind == InvolvementKind.IDVA_SUPPORT,
            Involvement.started_on <= today,
            sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on >= start),
        )
    )
    settings = session.get(AreaReportSettings, area_id)
    return Dashboard(
        period_start=start,
        period_end=today,
        cases_heard=volume[0],
        repeat_cases=volume[1],
        police_cases=volume[2],
        adult_female_population=settings.adult_female_population if settings else None,
        idva_fte=settings.idva_fte if settings else None,
        idva_supported=idva_supported or 0,
        meetings=meetings,
        agencies=agencies,
    )


def _minutes_per_case(
    first_case_at: datetime | None, closed_at: datetime | None, cases: int
) -> float | None:
    """From the chair taking the first case to the close, shared by the cases heard."""
    if first_case_at is None or closed_at is None or cases == 0:
        return None
    minutes = (clock.as_utc(closed_at) - clock.as_utc(first_case_at)).total_seconds() / 60
    return max(minutes, 0) / cases
