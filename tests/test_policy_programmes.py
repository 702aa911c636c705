"""The programme and partner-contact rules as truth tables, written by hand from the docstring
of marac/policy.py ("Perpetrator programmes", "Partner contact"); then the list filters checked
against the single decisions on a real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from marac import policy
from marac.domain import (
    AgencyKind,
    AgencySide,
    InvolvementKind,
    ProgrammeEventKind,
    ProgrammeStatus,
    Role,
    StatusReason,
)
from marac.extensions import db
from marac.models import PartnerContactRecord, ProgrammeRecord
from marac.policy import Level, PartnerContactFacts, ProgrammeEventFacts, ProgrammeFacts
from marac.viewer import Viewer, partner_contact_facts, viewer_for

F, S, W = Level.FULL, Level.SUMMARY, Level.WITHHELD
N, VF, PF = AgencySide.NEUTRAL, AgencySide.VICTIM_FACING, AgencySide.PERPETRATOR_FACING
AREA, OTHER_AREA = 1, 2
PROGRAMME, OTHER_PROGRAMME, PC_SERVICE, POLICE = 10, 11, 12, 13
ME, HER_WORKER, OTHER_WORKER = 100, 101, 102


def viewer(role: Role, agency: int, side: AgencySide = N, user: int = ME, area: int = AREA):
    return Viewer(user, "me", "Me", role, agency, "Agency", AgencyKind.OTHER, side, area)


RECORD = ProgrammeFacts(record_id=1, area_id=AREA, man_id=5, agency_id=PROGRAMME)

PROGRAMME_RECORD = [
    (viewer(Role.AGENCY_REP, PROGRAMME, PF), F, "the programme's own record"),
    (viewer(Role.SUPPORT_WORKER, PROGRAMME, PF), F, "any of its users"),
    (viewer(Role.AGENCY_REP, PROGRAMME, PF, area=OTHER_AREA), W, "another area"),
    (viewer(Role.AGENCY_REP, OTHER_PROGRAMME, PF), W, "another programme"),
    (viewer(Role.COORDINATOR, OTHER_PROGRAMME, PF), W, "another programme, even a coordinator"),
    (viewer(Role.CHAIR, POLICE), F, "the chair"),
    (viewer(Role.COORDINATOR, POLICE), S, "the coordinator: the minimum"),
    (viewer(Role.AGENCY_REP, POLICE), W, "an agency"),
    (viewer(Role.REVIEWER, POLICE), W, "a reviewer"),
    (viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF, user=HER_WORKER), W, "not the record itself"),
    (viewer(Role.ADMINISTRATOR, PROGRAMME, PF), W, "administrators"),
]


@pytest.mark.parametrize(("who", "expected", "why"), PROGRAMME_RECORD)
def test_programme_record(who: Viewer, expected: Level, why: str) -> None:
    assert policy.programme_record(who, RECORD).level is expected, why


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (viewer(Role.AGENCY_REP, PROGRAMME, PF), F),
        (viewer(Role.CHAIR, POLICE), W),
        (viewer(Role.COORDINATOR, POLICE), W),
        (viewer(Role.AGENCY_REP, OTHER_PROGRAMME, PF), W),
    ],
)
def test_only_the_programme_records_on_its_record(who: Viewer, expected: Level) -> None:
    assert policy.may_record_programme(who, RECORD).level is expected


HERS = PartnerContactFacts(
    record_id=1, area_id=AREA, person_id=7, agency_id=PC_SERVICE, worker_ids=frozenset({HER_WORKER})
)

PARTNER_CONTACT = [
    (viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF, user=HER_WORKER), F, "her own worker"),
    (viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF, user=OTHER_WORKER), W, "another partner's worker"),
    (viewer(Role.AGENCY_REP, PC_SERVICE, VF), W, "her service's other users"),
    (viewer(Role.CHAIR, POLICE), F, "the chair"),
    (viewer(Role.COORDINATOR, POLICE), S, "the coordinator: who and what is due"),
    (viewer(Role.AGENCY_REP, POLICE), W, "an agency"),
    (viewer(Role.REVIEWER, POLICE), W, "a reviewer"),
    (viewer(Role.AGENCY_REP, PROGRAMME, PF), W, "his programme: never"),
    (viewer(Role.CHAIR, PROGRAMME, PF), W, "a perpetrator-side chair: never"),
    (viewer(Role.COORDINATOR, PROGRAMME, PF), W, "a perpetrator-side coordinator: never"),
    (
        viewer(Role.SUPPORT_WORKER, PROGRAMME, PF, user=HER_WORKER),
        W,
        "named, but perpetrator-facing: never",
    ),
    (viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF, user=HER_WORKER, area=OTHER_AREA), W, "area"),
    (viewer(Role.ADMINISTRATOR, PC_SERVICE, VF, user=HER_WORKER), W, "administrators"),
]


@pytest.mark.parametrize(("who", "expected", "why"), PARTNER_CONTACT)
def test_partner_contact_record(who: Viewer, expected: Level, why: str) -> None:
    assert policy.partner_contact_record(who, HERS).level is expected, why


@pytest.mark.parametrize(
    ("who", "work", "hand_over"),
    [
        (viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF, user=HER_WORKER), F, F),
        (viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF, user=OTHER_WORKER), W, W),
        (viewer(Role.CHAIR, POLICE), W, W),
        (viewer(Role.COORDINATOR, POLICE), W, F),
        (viewer(Role.COORDINATOR, PROGRAMME, PF), W, W),
        (viewer(Role.AGENCY_REP, POLICE), W, W),
    ],
)
def test_who_works_on_her_record_and_hands_her_over(
    who: Viewer, work: Level, hand_over: Level
) -> None:
    assert policy.may_work_on_partner_contact(who, HERS).level is work
    assert policy.may_hand_over(who, HERS).level is hand_over


DROP_OUT = ProgrammeEventFacts(
    ProgrammeEventKind.STATUS,
    date(2026, 11, 3),
    status=ProgrammeStatus.DROPPED_OUT,
    reason=StatusReason.NON_ATTENDANCE,
)
WORDING = [
    (DROP_OUT, "Programme status: dropped out on 3 November 2026. Reason: did not attend."),
    (
        ProgrammeEventFacts(
            ProgrammeEventKind.STATUS,
            date(2026, 11, 3),
            status=ProgrammeStatus.SUSPENDED,
            reason=StatusReason.NOT_KNOWN,
        ),
        "Programme status: suspended on 3 November 2026.",
    ),
    (
        ProgrammeEventFacts(ProgrammeEventKind.ATTENDANCE, date(2026, 5, 3), attended=False),
        "Did not attend a session on 3 May 2026.",
    ),
    (
        ProgrammeEventFacts(ProgrammeEventKind.ATTENDANCE, date(2026, 5, 3), attended=True),
        "Attended a session on 3 May 2026.",
    ),
    (
        ProgrammeEventFacts(ProgrammeEventKind.DISCLOSURE, date(2026, 5, 3), may_cite=True),
        "He disclosed violence or abuse in the programme on 3 May 2026. "
        "His disclosure may be cited as the source when risk is passed on.",
    ),
    (
        ProgrammeEventFacts(ProgrammeEventKind.DISCLOSURE, date(2026, 5, 3)),
        "He disclosed violence or abuse in the programme on 3 May 2026. "
        "Do not cite his disclosure as the source.",
    ),
    (
        ProgrammeEventFacts(ProgrammeEventKind.CONCERN, date(2026, 5, 3)),
        "The programme raised a concern about safety on 3 May 2026.",
    ),
]


@pytest.mark.parametrize(("event", "wording"), WORDING)
def test_what_crosses_is_the_minimum(event: ProgrammeEventFacts, wording: str) -> None:
    her_worker = viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF, user=HER_WORKER)
    crossing = policy.programme_crossing(
        her_worker, policy.partner_contact_record(her_worker, HERS)
    )
    decision = policy.programme_event(her_worker, crossing, event)
    assert decision.level is S and decision.summary == wording


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF, user=HER_WORKER), S),
        (viewer(Role.CHAIR, POLICE), S),  # on her record, the chair too reads the minimum
        (viewer(Role.COORDINATOR, POLICE), W),  # the coordinator reads it on his record
        (viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF, user=OTHER_WORKER), W),
        (viewer(Role.AGENCY_REP, PROGRAMME, PF), W),
    ],
)
def test_what_crosses_reaches_only_those_who_read_her_record(who: Viewer, expected: Level) -> None:
    crossing = policy.programme_crossing(who, policy.partner_contact_record(who, HERS))
    assert policy.programme_event(who, crossing, DROP_OUT).level is expected


@pytest.mark.parametrize(("who", "expected", "why"), PROGRAMME_RECORD)
def test_events_follow_the_record(who: Viewer, expected: Level, why: str) -> None:
    decision = policy.programme_event(who, policy.programme_record(who, RECORD), DROP_OUT)
    assert decision.level is expected, why
    if expected is S:
        assert decision.summary == WORDING[0][1]


@pytest.mark.parametrize(("who", "expected", "why"), PARTNER_CONTACT)
def test_tasks_follow_her_record(who: Viewer, expected: Level, why: str) -> None:
    decision = policy.pc_task(
        who, policy.partner_contact_record(who, HERS), "Nell Averill", date(2026, 12, 1)
    )
    assert decision.level is expected, why
    if expected is S:
        assert decision.summary == "Task for Nell Averill (due 1 December 2026)"


@pytest.mark.parametrize(
    ("who", "programmes", "overview"),
    [
        (viewer(Role.AGENCY_REP, PROGRAMME, PF), F, W),
        (viewer(Role.COORDINATOR, POLICE), F, F),
        (viewer(Role.CHAIR, POLICE), F, F),
        (viewer(Role.AGENCY_REP, POLICE), W, W),
        (viewer(Role.SUPPORT_WORKER, PC_SERVICE, VF), W, W),
        (viewer(Role.COORDINATOR, PROGRAMME, PF), F, W),
        (viewer(Role.ADMINISTRATOR, POLICE), W, W),
    ],
)
def test_lists(who: Viewer, programmes: Level, overview: Level) -> None:
    assert policy.may_list_programmes(who).level is programmes
    assert policy.may_see_partner_contact_overview(who).level is overview


# --- the list filters agree with the decisions ----------------------------------------------


def test_list_filters_agree_with_the_decisions(
    make_area: Callable[..., Any],
    make_agency: Callable[..., Any],
    make_user: Callable[..., Any],
    make_person: Callable[..., Any],
    involve: Callable[..., Any],
) -> None:
    area, other_area = make_area(), make_area()
    programme = make_agency(area, AgencyKind.PERPETRATOR_PROGRAMME, PF)
    other_programme = make_agency(area, AgencyKind.PERPETRATOR_PROGRAMME, PF)
    service = make_agency(area, AgencyKind.PARTNER_CONTACT, VF)
    police = make_agency(area, AgencyKind.POLICE, N)
    far = make_agency(other_area, AgencyKind.PARTNER_CONTACT, VF)
    users = [
        make_user(role, agency)
        for role, agency in (
            (Role.AGENCY_REP, programme),
            (Role.AGENCY_REP, other_programme),
            (Role.SUPPORT_WORKER, service),
            (Role.SUPPORT_WORKER, service),
            (Role.AGENCY_REP, service),
            (Role.COORDINATOR, police),
            (Role.CHAIR, police),
            (Role.AGENCY_REP, police),
            (Role.ADMINISTRATOR, police),
            (Role.SUPPORT_WORKER, far),
        )
    ]
    today = date(2026, 11, 24)
    men = [make_person(area, "Man") for _ in range(2)]
    women = [make_person(area, "Woman") for _ in range(3)]
    far_woman = make_person(other_area, "Far")
    involve(service, women[0], InvolvementKind.PARTNER_CONTACT, users[2])
    involve(service, women[1], InvolvementKind.PARTNER_CONTACT, users[3])
    involve(service, women[2], InvolvementKind.PARTNER_CONTACT, users[2], ended_on=today)
    involve(far, far_woman, InvolvementKind.PARTNER_CONTACT, users[9])
    for man, agency in ((men[0], programme), (men[1], other_programme)):
        db.session.add(
            ProgrammeRecord(area_id=area.id, person_id=man.id, agency_id=agency.id, status_on=today)
        )
    for woman, agency, area_id in [(w, service, area.id) for w in women] + [
        (far_woman, far, other_area.id)
    ]:
        db.session.add(
            PartnerContactRecord(
                area_id=area_id, person_id=woman.id, agency_id=agency.id, started_on=today
            )
        )
    db.session.commit()
    programme_rows = db.session.scalars(sa.select(ProgrammeRecord)).all()
    pc_rows = db.session.scalars(sa.select(PartnerContactRecord)).all()
    pc_facts = partner_contact_facts(db.session, pc_rows, today)
    for user in users:
        who = viewer_for(user)
        listed = set(
            db.session.scalars(
                sa.select(ProgrammeRecord.id).where(policy.visible_programmes_clause(who))
            )
        )
        decided = {
            r.id
            for r in programme_rows
            if not policy.programme_record(
                who, ProgrammeFacts(r.id, r.area_id, r.person_id, r.agency_id)
            ).withheld
        }
        assert listed == decided, user.username
        listed = set(
            db.session.scalars(
                sa.select(PartnerContactRecord.id).where(
                    policy.visible_partner_contact_clause(who, today)
                )
            )
        )
        decided = {
            r.id for r in pc_rows if not policy.partner_contact_record(who, pc_facts[r.id]).withheld
        }
        assert listed == decided, user.username
    # The filters were not trivially empty or full.
    worker = viewer_for(users[2])
    assert (
        len(
            db.session.scalars(
                sa.select(PartnerContactRecord.id).where(
                    policy.visible_partner_contact_clause(worker, today)
                )
            ).all()
        )
        == 1
    )
