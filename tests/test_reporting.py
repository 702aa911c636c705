"""The quarterly data return, against an area counted by hand.

The fixture below builds a small area; the expected figures in ``EXPECTED`` were counted by hand
from it (the comments on each case say what it adds), not computed by the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from marac import reporting
from marac.domain import (
    AgencyKind,
    AgendaStatus,
    CaseStatus,
    Disability,
    EthnicGroup,
    Gender,
    MeetingStatus,
    SexualOrientation,
    TransHistory,
)
from marac.extensions import db
from marac.models import AgendaItem, Case, Meeting, Referral
from marac.reporting import Quarter

from .conftest import count_queries

Q3 = Quarter(2026, 3)


def _meeting(area: Any, starts_at: datetime, status: MeetingStatus) -> Meeting:
    meeting = Meeting(
        area_id=area.id, starts_at=starts_at, referral_cutoff_on=starts_at.date(), status=status
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting


def _hear(meeting: Meeting, *cases: Case, status: AgendaStatus = AgendaStatus.HEARD) -> None:
    for position, case in enumerate(cases, start=1):
        db.session.add(
            AgendaItem(meeting_id=meeting.id, case_id=case.id, position=position, status=status)
        )
    db.session.flush()


def _referral(case: Case, agency_id: int, repeat_of: Case | None = None) -> None:
    db.session.add(
        Referral(
            case_id=case.id,
            referring_agency_id=agency_id,
            officer_name="Officer",
            incident_on=date(2026, 6, 1),
            checklist_key="default",
            score=14,
            threshold=14,
            police_callouts=0,
            eligible=True,
            repeat_of_case_id=repeat_of.id if repeat_of else None,
        )
    )


@pytest.fixture
def counted_area(
    make_area: Callable[..., Any],
    make_agency: Callable[..., Any],
    make_person: Callable[..., Any],
    make_case: Callable[..., Any],
) -> Any:
    area = make_area(code="HC", name="Handcount")
    kinds = {
        kind: make_agency(area, kind, name=f"HC {kind.value}")
        for kind in (
            AgencyKind.POLICE,
            AgencyKind.IDVA,
            AgencyKind.MENTAL_HEALTH,
            AgencyKind.PROBATION,
            AgencyKind.EDUCATION,
        )
    }

    def person(given: str, dob: date, gender: Gender = Gender.FEMALE, **answers: Any) -> Any:
        p = make_person(area, given, dob=dob, gender=gender)
        for name, value in answers.items():
            setattr(p, name, value)
        return p

    def adult_man(given: str) -> Any:
        return person(given, date(1985, 5, 5), Gender.MALE)

    def child(given: str) -> Any:
        return person(given, date(2018, 1, 1))

    # Case 1: police; white British, straight; two children; an adult perpetrator. Heard twice.
    case1 = make_case(
        area,
        person(
            "One",
            date(1990, 1, 1),
            ethnic_group=EthnicGroup.WHITE_BRITISH,
            sexual_orientation=SexualOrientation.STRAIGHT,
        ),
        (adult_man("P1"),),
        (child("C1a"), child("C1b")),
        status=CaseStatus.HEARD,
        referring_agency=kinds[AgencyKind.POLICE],
    )
    # Case 2: IDVA; a repeat; a disabled Asian man; no children; his perpetrator is 17.
    case2 = make_case(
        area,
        person(
            "Two",
            date(1980, 2, 2),
            Gender.MALE,
            ethnic_group=EthnicGroup.ASIAN,
            disability=Disability.YES,
        ),
        (person("P2", date(2009, 1, 1), Gender.MALE),),
        status=CaseStatus.HEARD,
        referring_agency=kinds[AgencyKind.IDVA],
    )
    # Case 3: mental health (counted as health); she is 16 and bisexual; one child; two
    # perpetrators, one 17 on the day (18 the day after), one adult.
    case3 = make_case(
        area,
        person("Three", date(2010, 3, 1), sexual_orientation=SexualOrientation.BISEXUAL),
        (person("P3a", date(2009, 7, 16), Gender.MALE), adult_man("P3b")),
        (child("C3"),),
        status=CaseStatus.HEARD,
        referring_agency=kinds[AgencyKind.MENTAL_HEALTH],
    )
    # Case 4: listed at July's meeting but moved: not heard there.
    case4 = make_case(
        area, person("Four", date(1970, 1, 1), Gender.MALE), (adult_man("P4"),), (child("C4"),)
    )
    # Case 5: education (other); trans; 17 on the day (18 the day after); ethnic group and
    # disability "prefers not to say"; three children.
    case5 = make_case(
        area,
        person(
            "Five",
            date(2008, 9, 3),
            trans_history=TransHistory.TRANS,
            ethnic_group=EthnicGroup.PREFERS_NOT_TO_SAY,
            disability=Disability.PREFERS_NOT_TO_SAY,
        ),
        (adult_man("P5"),),
        (child("C5a"), child("C5b"), child("C5c")),
        status=CaseStatus.HEARD,
        referring_agency=kinds[AgencyKind.EDUCATION],
    )
    # Case 6: no referring agency recorded (other); Roma; non-binary; 18 on the day itself.
    case6 = make_case(
        area,
        person("Six", date(2008, 9, 2), Gender.NON_BINARY, ethnic_group=EthnicGroup.ROMA),
        (adult_man("P6"),),
        status=CaseStatus.HEARD,
    )
    # Case 7: probation; White Irish, not disabled.
    case7 = make_case(
        area,
        person(
            "Seven",
            date(1975, 1, 1),
            ethnic_group=EthnicGroup.WHITE_IRISH,
            disability=Disability.NO,
        ),
        (adult_man("P7"),),
        status=CaseStatus.HEARD,
        referring_agency=kinds[AgencyKind.PROBATION],
    )
    _referral(case1, kinds[AgencyKind.POLICE].id)
    _referral(case2, kinds[AgencyKind.IDVA].id, repeat_of=case7)
    _referral(case3, kinds[AgencyKind.MENTAL_HEALTH].id)

    # 23:30 UTC on 30 June is 00:30 on 1 July in Northmere: in the third quarter.
    first = _meeting(area, datetime(2026, 6, 30, 23, 30, tzinfo=UTC), MeetingStatus.CLOSED)
    _hear(first, case7)
    july = _meeting(area, datetime(2026, 7, 15, 9, tzinfo=UTC), MeetingStatus.APPROVED)
    _hear(july, case1, case2, case3)
    _hear(july, case4, status=AgendaStatus.MOVED)
    august = _meeting(area, datetime(2026, 8, 10, 9, tzinfo=UTC), MeetingStatus.CLOSED)
    september = _meeting(area, datetime(2026, 9, 2, 9, tzinfo=UTC), MeetingStatus.APPROVED)
    _hear(september, case1, case5, case6)

    # Not counted: a meeting still in progress, one of the second quarter, another area's.
    running = _meeting(area, datetime(2026, 9, 20, 9, tzinfo=UTC), MeetingStatus.IN_PROGRESS)
    _hear(running, case4, status=AgendaStatus.LISTED)
    june = _meeting(area, datetime(2026, 6, 30, 22, 30, tzinfo=UTC), MeetingStatus.APPROVED)
    _hear(june, case2, case3)
    elsewhere = make_area(code="EW")
    other = make_case(elsewhere, make_person(elsewhere, "Away"), status=CaseStatus.HEARD)
    _hear(_meeting(elsewhere, datetime(2026, 8, 1, 9, tzinfo=UTC), MeetingStatus.CLOSED), other)
    db.session.commit()
    return area, (first, july, august, september)


MEASURE_ORDER = (
    "cases_heard repeat_cases referred_police referred_idva referred_csc referred_health "
    "referred_housing referred_probation referred_other children minoritised lgbt disabled "
    "male aged_16_17 young_perpetrators"
).split()

# Counted by hand from the fixture: one column per counted meeting, then the total.
# fmt: off
EXPECTED = {
    #                     1 Jul  15 Jul  10 Aug  2 Sep  total
    "cases_heard":        (1,     3,      0,      3,     7),
    "repeat_cases":       (0,     1,      0,      0,     1),
    "referred_police":    (0,     1,      0,      1,     2),
    "referred_idva":      (0,     1,      0,      0,     1),
    "referred_csc":       (0,     0,      0,      0,     0),
    "referred_health":    (0,     1,      0,      0,     1),
    "referred_housing":   (0,     0,      0,      0,     0),
    "referred_probation": (1,     0,      0,      0,     1),
    "referred_other":     (0,     0,      0,      2,     2),
    "children":           (0,     3,      0,      5,     8),
    "minoritised":        (1,     1,      0,      1,     3),
    "lgbt":               (0,     1,      0,      2,     3),
    "disabled":           (0,     1,      0,      0,     1),
    "male":               (0,     1,      0,      0,     1),
    "aged_16_17":         (0,     1,      0,      1,     2),
    "young_perpetrators": (0,     2,      0,      0,     2),
}
# fmt: on


def test_each_figure_of_the_return_matches_the_hand_count(counted_area: Any) -> None:
    area, meetings = counted_area
    result = reporting.count_return(db.session, area.id, area.name, Q3)
    assert [m.meeting_id for m in result.meetings] == [m.id for m in meetings]
    assert [m.label for m in result.meetings] == [
        "1 Jul 2026",
        "15 Jul 2026",
        "10 Aug 2026",
        "2 Sep 2026",
    ]
    assert list(reporting.MEASURE_KEYS) == MEASURE_ORDER
    for key, expected in EXPECTED.items():
        got = (*(m.counts[key] for m in result.meetings), result.total[key])
        assert got == expected, key


def test_the_return_costs_the_same_few_queries_however_many_meetings(counted_area: Any) -> None:
    area, _meetings = counted_area
    area_id, name = area.id, area.name
    with count_queries() as counted:
        reporting.count_return(db.session, area_id, name, Q3)
    assert counted.count == 2, counted


def test_a_quarter_with_no_meetings_is_all_zero(counted_area: Any) -> None:
    area, _meetings = counted_area
    result = reporting.count_return(db.session, area.id, area.name, Quarter(2027, 1))
    assert result.meetings == ()
    assert set(result.total.values()) == {0}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-q3", Quarter(2026, 3)),
        (" 2026-Q1 ", Quarter(2026, 1)),
        ("2026-q5", None),
        ("2026-3", None),
        ("", None),
        (None, None),
        ("1066-q1", None),
        ("2026-q1' OR 1=1", None),
    ],
)
def test_a_quarter_is_read_from_what_is_typed_or_refused(text: Any, expected: Any) -> None:
    assert Quarter.parse(text) == expected


def test_quarters_have_their_months() -> None:
    assert (Q3.start, Q3.end, Q3.label) == (
        date(2026, 7, 1),
        date(2026, 10, 1),
        "July to September 2026",
    )
    assert Quarter(2026, 4).end == date(2027, 1, 1)
    assert (Quarter(2026, 1).previous, Quarter(2026, 4).next) == (
        Quarter(2025, 4),
        Quarter(2027, 1),
    )
    assert Quarter.containing(date(2026, 11, 24)) == Quarter(2026, 4)
