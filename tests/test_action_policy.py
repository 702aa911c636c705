"""Actions in the disclosure policy: truth tables written by hand, and the query filters the
dashboards use forced to agree with the single decisions on a real database."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from marac import policy
from marac.domain import (
    ActionDashboard,
    ActionSubject,
    AgencyKind,
    AgencySide,
    CaseRole,
    CaseStatus,
    Role,
)
from marac.extensions import db
from marac.models import Action
from marac.policy import Level
from marac.viewer import Viewer, links_for_cases, viewer_for

from .test_policy import (
    AREA,
    ME,
    MY_AGENCY,
    OTHER_AGENCY,
    OTHER_AREA,
    PERP,
    PF,
    VF,
    links,
    viewer,
    world,  # noqa: F401 - the shared case world fixture
)

F, S, W = Level.FULL, Level.SUMMARY, Level.WITHHELD
CHILD_SUBJECT, VICTIM_SUBJECT = ActionSubject.CHILD, ActionSubject.VICTIM


def kind_viewer(role: Role, kind: AgencyKind, area: int = AREA) -> Viewer:
    return Viewer(ME, "me", "Me", role, MY_AGENCY, "My Agency", kind, AgencySide.NEUTRAL, area)


CP_REVIEWER = kind_viewer(Role.REVIEWER, AgencyKind.CHILDRENS_SOCIAL_CARE)
CSC_REP = kind_viewer(Role.AGENCY_REP, AgencyKind.CHILDRENS_SOCIAL_CARE)
POLICE_REVIEWER = kind_viewer(Role.REVIEWER, AgencyKind.POLICE)
PROGRAMME = viewer(Role.AGENCY_REP, PF)
PROG_LINKS = links(works_with=(PERP,))


def action(
    owner: int = OTHER_AGENCY,
    subject: ActionSubject = VICTIM_SUBJECT,
    shared: bool = False,
) -> policy.ActionFacts:
    return policy.ActionFacts(
        id=5,
        owner_agency_id=owner,
        owner_agency_name="Northmere Police",
        subject=subject,
        shared_in_detail=shared,
        due_on=date(2026, 5, 12),
    )


ACTIONS = [
    # viewer, links, action, expected, why
    (viewer(Role.AGENCY_REP), links(), action(owner=MY_AGENCY), F, "own agency"),
    (viewer(Role.AGENCY_REP), links(), action(), S, "another agency's"),
    (viewer(Role.AGENCY_REP), links(), action(shared=True), F, "shared in detail"),
    (
        viewer(Role.AGENCY_REP),
        links(status=CaseStatus.REFERRED),
        action(owner=MY_AGENCY),
        W,
        "nothing without access to the case, not even its own",
    ),
    (viewer(Role.CHAIR), links(), action(), F, "chair"),
    (viewer(Role.CHAIR, area=OTHER_AREA), links(), action(), W, "another area's chair"),
    (viewer(Role.COORDINATOR), links(), action(), S, "coordinator: summary"),
    (viewer(Role.COORDINATOR), links(), action(shared=True), F, "coordinator: shared"),
    (viewer(Role.ADMINISTRATOR), links(), action(shared=True), W, "administrator"),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(1,)), action(), S, "her worker"),
    (viewer(Role.SUPPORT_WORKER, VF), links(), action(owner=MY_AGENCY), W, "not her worker"),
    (CP_REVIEWER, links(), action(subject=CHILD_SUBJECT), F, "child-protection reviewer"),
    (CP_REVIEWER, links(), action(subject=VICTIM_SUBJECT), S, "not about a child"),
    (CP_REVIEWER, links(status=CaseStatus.ELIGIBLE), action(subject=CHILD_SUBJECT), W, "no case"),
    (CSC_REP, links(), action(subject=CHILD_SUBJECT), S, "a representative is not a reviewer"),
    (POLICE_REVIEWER, links(), action(subject=CHILD_SUBJECT), S, "police reviewer, a child"),
    (POLICE_REVIEWER, links(), action(owner=MY_AGENCY), F, "police reviewer, police action"),
    (PROGRAMME, PROG_LINKS, action(owner=MY_AGENCY), F, "programme: its own"),
    (PROGRAMME, PROG_LINKS, action(), W, "programme: not even a summary"),
    (PROGRAMME, PROG_LINKS, action(shared=True), W, "shared is not for the programme"),
    (PROGRAMME, PROG_LINKS, action(subject=ActionSubject.PERPETRATOR), W, "about him"),
    (PROGRAMME, links(), action(owner=MY_AGENCY), W, "programme not working with him"),
    (viewer(Role.CHAIR, PF), PROG_LINKS, action(), W, "a perpetrator-side chair is limited"),
]


@pytest.mark.parametrize(("who", "case", "thing", "expected", "why"), ACTIONS)
def test_action(
    who: Viewer, case: policy.CaseLinks, thing: policy.ActionFacts, expected: Level, why: str
) -> None:
    assert policy.action(who, case, thing).level is expected, why


def test_the_summary_names_only_the_agency_and_the_date() -> None:
    decision = policy.action(viewer(Role.COORDINATOR), links(), action())
    assert decision.summary == "Action for Northmere Police (due 12 May 2026)"


CREATE = [
    (viewer(Role.AGENCY_REP), links(), OTHER_AGENCY, F),
    (viewer(Role.REVIEWER), links(), OTHER_AGENCY, F),
    (viewer(Role.COORDINATOR), links(), OTHER_AGENCY, F),
    (viewer(Role.CHAIR), links(), OTHER_AGENCY, F),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(1,)), OTHER_AGENCY, F),
    (viewer(Role.SUPPORT_WORKER, VF), links(), MY_AGENCY, W),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.REFERRED), MY_AGENCY, W),
    (viewer(Role.ADMINISTRATOR), links(), MY_AGENCY, W),
    (PROGRAMME, PROG_LINKS, MY_AGENCY, F),
    (PROGRAMME, PROG_LINKS, OTHER_AGENCY, W),
    (PROGRAMME, links(), MY_AGENCY, W),
]


@pytest.mark.parametrize(("who", "case", "owner", "expected"), CREATE)
def test_may_create_action(
    who: Viewer, case: policy.CaseLinks, owner: int, expected: Level
) -> None:
    assert policy.may_create_action(who, case, owner).level is expected


UPDATE = [
    (viewer(Role.AGENCY_REP), links(), action(owner=MY_AGENCY), F),
    (viewer(Role.AGENCY_REP), links(), action(shared=True), W),
    (viewer(Role.CHAIR), links(), action(), F),
    (viewer(Role.COORDINATOR), links(), action(), W),
    (viewer(Role.COORDINATOR), links(), action(shared=True), W),
    (CP_REVIEWER, links(), action(subject=CHILD_SUBJECT), W),
    (PROGRAMME, PROG_LINKS, action(owner=MY_AGENCY), F),
    (PROGRAMME, links(), action(owner=MY_AGENCY), W),
]


@pytest.mark.parametrize(("who", "case", "thing", "expected"), UPDATE)
def test_may_update_action(
    who: Viewer, case: policy.CaseLinks, thing: policy.ActionFacts, expected: Level
) -> None:
    assert policy.may_update_action(who, case, thing).level is expected


A, D, C, CP, PL = (
    ActionDashboard.AGENCY,
    ActionDashboard.DUE,
    ActionDashboard.COORDINATOR,
    ActionDashboard.CHILD_PROTECTION,
    ActionDashboard.POLICE_LIAISON,
)
DASHBOARDS = [
    (viewer(Role.ADMINISTRATOR), set()),
    (viewer(Role.AGENCY_REP), {A, D}),
    (viewer(Role.SUPPORT_WORKER, VF), {A, D}),
    (viewer(Role.COORDINATOR), {A, D, C}),
    (viewer(Role.CHAIR), {A, D, C, CP, PL}),
    (CP_REVIEWER, {A, D, CP}),
    (CSC_REP, {A, D}),
    (POLICE_REVIEWER, {A, D, PL}),
    (kind_viewer(Role.REVIEWER, AgencyKind.HEALTH), {A, D}),
    (PROGRAMME, {A, D}),
    (viewer(Role.COORDINATOR, PF), {A, D}),
]


@pytest.mark.parametrize(("who", "expected"), DASHBOARDS)
def test_who_sees_which_dashboard(who: Viewer, expected: set[ActionDashboard]) -> None:
    allowed = {d for d in ActionDashboard if policy.may_see_dashboard(who, d).full}
    assert allowed == expected


# --- the query filters agree with the decisions --------------------------------------------------


@pytest.fixture
def action_world(world, make_agency, make_user):  # noqa: ANN001, F811
    """The case world of test_policy, a children's social care agency with a reviewer, and
    actions of every owner, subject and sharing in every case."""
    users, cases = world
    police = users[0].agency
    area = police.area
    csc = make_agency(area, AgencyKind.CHILDRENS_SOCIAL_CARE, AgencySide.NEUTRAL)
    users += [make_user(Role.REVIEWER, csc), make_user(Role.AGENCY_REP, csc)]
    agencies = {u.agency_id for u in users if u.agency.area_id == area.id}
    owners = sorted(agencies)
    n = 0
    for case in cases:
        members = {m.role: m.person_id for m in case.members}
        subjects = [
            (ActionSubject.VICTIM, members[CaseRole.VICTIM]),
            (ActionSubject.CHILD, members.get(CaseRole.CHILD)),
            (ActionSubject.PERPETRATOR, members.get(CaseRole.PERPETRATOR)),
            (ActionSubject.HOUSEHOLD, None),
        ]
        for subject, person in subjects:
            if subject is not ActionSubject.HOUSEHOLD and person is None:
                continue
            n += 1
            db.session.add(
                Action(
                    case_id=case.id,
                    area_id=case.area_id,
                    owner_agency_id=owners[n % len(owners)],
                    subject=subject,
                    subject_person_id=person,
                    text=f"Action {n}",
                    due_on=date(2026, 12, 1),
                    shared_in_detail=n % 3 == 0,
                )
            )
    db.session.commit()
    return users, cases


def test_action_filters_agree_with_the_decision(action_world) -> None:  # noqa: ANN001
    users, cases = action_world
    rows = db.session.execute(
        sa.select(
            Action.id,
            Action.case_id,
            Action.owner_agency_id,
            Action.subject,
            Action.shared_in_detail,
            Action.due_on,
        )
    ).all()
    seen = {F: 0, S: 0, W: 0}
    for user in users:
        who = viewer_for(user)
        case_links = links_for_cases(db.session, who, cases)
        decisions = {
            row.id: policy.action(
                who,
                case_links[row.case_id],
                policy.ActionFacts(
                    row.id,
                    row.owner_agency_id,
                    "Agency",
                    row.subject,
                    row.shared_in_detail,
                    row.due_on,
                ),
            ).level
            for row in rows
        }
        for level in decisions.values():
            seen[level] += 1
        visible = set(
            db.session.scalars(sa.select(Action.id).where(policy.visible_actions_clause(who)))
        )
        full = set(db.session.scalars(sa.select(Action.id).where(policy.full_actions_clause(who))))
        assert visible == {i for i, level in decisions.items() if level is not W}, user.role
        assert full == {i for i, level in decisions.items() if level is F}, user.role
    # Every answer must occur often, or the agreement would prove little.
    assert min(seen.values()) > 30, seen
