"""The network's disclosure rules as truth tables: viewer x person x situation -> decision.

Expected answers are written by hand from the "network" rules in marac/policy.py's docstring.
The opened case has a victim, a perpetrator and a child; his other case has another victim (his
ex-partner) and another child; some people are in no case at all.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marac import policy
from marac.domain import AgencyKind, AgencySide, CaseRole, CaseStatus, Role
from marac.policy import Level
from marac.viewer import CaseLinks, Viewer

F, S, W = Level.FULL, Level.SUMMARY, Level.WITHHELD
N, VF, PF = AgencySide.NEUTRAL, AgencySide.VICTIM_FACING, AgencySide.PERPETRATOR_FACING
AREA, OTHER_AREA = 1, 2
MY_AGENCY, OTHER_AGENCY = 10, 11
OPENED, OTHER_CASE = 1, 2
VICTIM, HIM, CHILD, OTHER_VICTIM, OTHER_CHILD, NEW_PARTNER, BROTHER, SOMEONE = range(1, 9)


def viewer(role: Role, side: AgencySide = N) -> Viewer:
    kind = AgencyKind.PERPETRATOR_PROGRAMME if side is PF else AgencyKind.POLICE
    return Viewer(100, "me", "Me", role, MY_AGENCY, "My Agency", kind, side, AREA)


def case_links(
    case_id: int,
    roles: dict[int, CaseRole],
    status: CaseStatus = CaseStatus.LISTED,
    allocated: tuple[int, ...] = (),
    works_with: tuple[int, ...] = (),
) -> CaseLinks:
    return CaseLinks(
        case_id=case_id,
        area_id=AREA,
        status=status,
        referring_agency_id=OTHER_AGENCY,
        roles=roles,
        allocated=frozenset(allocated),
        agency_works_with=frozenset(works_with) | frozenset(allocated),
    )


def opened(**kwargs) -> CaseLinks:  # noqa: ANN003
    roles = {VICTIM: CaseRole.VICTIM, HIM: CaseRole.PERPETRATOR, CHILD: CaseRole.CHILD}
    return case_links(OPENED, roles, **kwargs)


def other(**kwargs) -> CaseLinks:  # noqa: ANN003
    roles = {OTHER_VICTIM: CaseRole.VICTIM, HIM: CaseRole.PERPETRATOR, OTHER_CHILD: CaseRole.CHILD}
    return case_links(OTHER_CASE, roles, **kwargs)


def facts(
    person: int,
    cases: tuple[CaseLinks, ...],
    partner: bool = False,
    child: bool = False,
    area: int = AREA,
) -> policy.NetworkPersonFacts:
    memberships = tuple(
        policy.CaseMembership(f"NM-{links.case_id}", links)
        for links in cases
        if person in links.roles
    )
    return policy.NetworkPersonFacts(person, area, memberships, partner, child)


COORDINATOR, CHAIR, REP = viewer(Role.COORDINATOR), viewer(Role.CHAIR), viewer(Role.AGENCY_REP)
HER_WORKER, PROGRAMME = viewer(Role.SUPPORT_WORKER, VF), viewer(Role.AGENCY_REP, PF)
PF_COORDINATOR = viewer(Role.COORDINATOR, PF)
REFERRED = CaseStatus.REFERRED
# The opened case and his other case, as each viewer is linked to them.
OPEN, OTHER, OTHER_HIDDEN = opened(), other(), other(status=REFERRED)
OPEN_REFERRED = opened(status=REFERRED)
HERS = opened(allocated=(VICTIM,))
PROG_OPEN, PROG_OTHER = opened(works_with=(HIM,)), other(works_with=(HIM,))
# What the network found about the person: (a partner of his?, a child exposed to him?)
PARTNER, KID, NEITHER = (True, False), (False, True), (False, False)
ANOTHER, A_CHILD = "Another partner", "A child"

NETWORK_PERSON = [
    # viewer, opened case, other case, person, found, expected, label, why
    (REP, OPEN, OTHER, OTHER_VICTIM, PARTNER, F, None, "may open her case"),
    (REP, OPEN, OTHER_HIDDEN, OTHER_VICTIM, PARTNER, S, ANOTHER, "his other partner"),
    (REP, OPEN, OTHER_HIDDEN, OTHER_CHILD, KID, S, A_CHILD, "a child exposed to him"),
    (REP, OPEN, OTHER_HIDDEN, NEW_PARTNER, PARTNER, S, ANOTHER, "a partner in no case"),
    (REP, OPEN, OTHER_HIDDEN, BROTHER, NEITHER, W, None, "neither partner nor child"),
    (REP, OPEN, OTHER, BROTHER, NEITHER, W, None, "in no case: not for a rep"),
    (REP, OPEN, OTHER, VICTIM, PARTNER, F, None, "the victim of the opened case"),
    (REP, OPEN_REFERRED, OTHER, OTHER_VICTIM, PARTNER, W, None, "cannot open the case"),
    (COORDINATOR, OPEN, OTHER, BROTHER, NEITHER, F, None, "on the area's records"),
    (CHAIR, OPEN, OTHER, NEW_PARTNER, PARTNER, F, None, "on the area's records"),
    (COORDINATOR, OPEN, OTHER, SOMEONE, NEITHER, W, None, "another area's records"),
    (HER_WORKER, HERS, OTHER, VICTIM, PARTNER, F, None, "her own"),
    (HER_WORKER, HERS, OTHER, HIM, NEITHER, F, None, "him"),
    (HER_WORKER, HERS, OTHER, OTHER_VICTIM, PARTNER, S, ANOTHER, "not who she is"),
    (HER_WORKER, HERS, OTHER, OTHER_CHILD, KID, S, A_CHILD, "a child"),
    (HER_WORKER, HERS, OTHER, BROTHER, NEITHER, W, None, "nothing else"),
    (HER_WORKER, OPEN, OTHER, VICTIM, PARTNER, W, None, "not her worker"),
    (PROGRAMME, PROG_OPEN, PROG_OTHER, HIM, NEITHER, F, None, "the man it works with"),
    (PROGRAMME, PROG_OPEN, PROG_OTHER, VICTIM, PARTNER, S, "The victim", "her case"),
    (PROGRAMME, PROG_OPEN, PROG_OTHER, OTHER_VICTIM, PARTNER, S, "The victim in NM-2", "his"),
    (PROGRAMME, PROG_OPEN, PROG_OTHER, CHILD, KID, W, None, "no children"),
    (PROGRAMME, PROG_OPEN, PROG_OTHER, OTHER_CHILD, KID, W, None, "no children"),
    (PROGRAMME, PROG_OPEN, PROG_OTHER, NEW_PARTNER, PARTNER, W, None, "not that she exists"),
    (PROGRAMME, PROG_OPEN, PROG_OTHER, BROTHER, NEITHER, W, None, "nobody else"),
    (PROGRAMME, PROG_OPEN, OTHER, OTHER_VICTIM, PARTNER, W, None, "a case it may not open"),
    (PF_COORDINATOR, PROG_OPEN, OTHER, BROTHER, NEITHER, W, None, "still limited"),
]


@pytest.mark.parametrize(
    ("who", "case", "second", "person", "found", "expected", "wording", "why"), NETWORK_PERSON
)
def test_network_person(
    who: Viewer,
    case: CaseLinks,
    second: CaseLinks,
    person: int,
    found: tuple[bool, bool],
    expected: Level,
    wording: str | None,
    why: str,
) -> None:
    area = OTHER_AREA if person == SOMEONE else AREA
    decision = policy.network_person(who, case, facts(person, (case, second), *found, area=area))
    assert decision.level is expected, why
    assert decision.summary == wording, why


def test_relationships_in_the_network() -> None:
    full, summary = policy._full("x"), policy._summary("x", "y")
    withheld = policy._withheld("x")
    case = opened()
    assert policy.network_relationship(REP, case, full, full).level is F
    assert policy.network_relationship(REP, case, full, summary).level is S
    assert policy.network_relationship(REP, case, summary, summary).level is S
    assert policy.network_relationship(REP, case, full, withheld).level is W
    # The programme is not told whether "the victim" is his partner or ex-partner.
    programme_case = opened(works_with=(HIM,))
    assert policy.network_relationship(PROGRAMME, programme_case, full, summary).level is W
    assert policy.network_relationship(PROGRAMME, programme_case, full, full).level is F
    assert policy.network_relationship(REP, opened(status=REFERRED), full, full).level is W


def test_linked_cases() -> None:
    assert policy.linked_case(REP, opened(), other()).level is F
    hidden = policy.linked_case(REP, opened(), other(status=REFERRED))
    assert hidden.level is S and hidden.summary == policy.ANOTHER_CASE
    assert policy.linked_case(HER_WORKER, opened(allocated=(VICTIM,)), other()).level is S
    programme_case = opened(works_with=(HIM,))
    assert policy.linked_case(PROGRAMME, programme_case, other(works_with=(HIM,))).level is F
    # The programme does not learn that other cases exist.
    assert policy.linked_case(PROGRAMME, programme_case, other()).level is W
    assert policy.linked_case(REP, opened(status=REFERRED), other()).level is W


def test_partner_contact_offers_are_never_shown_to_the_programme() -> None:
    assert policy.partner_contact_offers(REP, opened()).full
    assert policy.partner_contact_offers(HER_WORKER, opened(allocated=(VICTIM,))).full
    assert policy.partner_contact_offers(PROGRAMME, opened(works_with=(HIM,))).withheld
    assert policy.partner_contact_offers(REP, opened(status=REFERRED)).withheld


def test_involvement_in_the_network_follows_the_case_page_rule() -> None:
    full, summary = policy._full("x"), policy._summary("x", "y")
    assert policy.involvement_given_identity(REP, full, OTHER_AGENCY).full
    assert policy.involvement_given_identity(REP, summary, OTHER_AGENCY).withheld
    assert policy.involvement_given_identity(PROGRAMME, full, MY_AGENCY).full
    assert policy.involvement_given_identity(PROGRAMME, full, OTHER_AGENCY).withheld


ALLOCATE = [
    # viewer, case, person, agency, expected, why
    (COORDINATOR, OPEN, VICTIM, OTHER_AGENCY, F, "coordinator: any agency"),
    (REP, OPEN, VICTIM, MY_AGENCY, F, "own agency"),
    (REP, OPEN, VICTIM, OTHER_AGENCY, W, "not another agency"),
    (CHAIR, OPEN, VICTIM, OTHER_AGENCY, W, "the chair allocates only the chair's agency"),
    (CHAIR, OPEN, VICTIM, MY_AGENCY, F, "own agency"),
    (HER_WORKER, HERS, CHILD, MY_AGENCY, F, "own agency"),
    (HER_WORKER, OPEN, CHILD, MY_AGENCY, W, "cannot open the case"),
    (PROGRAMME, PROG_OPEN, HIM, MY_AGENCY, F, "own agency, the man"),
    (PROGRAMME, PROG_OPEN, VICTIM, MY_AGENCY, W, "never for her"),
    (PROGRAMME, PROG_OPEN, HIM, OTHER_AGENCY, W, "not another agency"),
    (PF_COORDINATOR, PROG_OPEN, HIM, OTHER_AGENCY, W, "limited"),
    (viewer(Role.ADMINISTRATOR), OPEN, VICTIM, MY_AGENCY, W, "administrators"),
    (REP, OPEN, 999, MY_AGENCY, W, "not in the case"),
]


@pytest.mark.parametrize(("who", "case", "person", "agency", "expected", "why"), ALLOCATE)
def test_may_allocate(
    who: Viewer, case: CaseLinks, person: int, agency: int, expected: Level, why: str
) -> None:
    assert policy.may_allocate(who, case, person, agency).level is expected, why


def test_only_the_coordinator_and_chair_scan_their_area() -> None:
    assert policy.may_scan_area(COORDINATOR, AREA).full
    assert policy.may_scan_area(CHAIR, AREA).full
    assert policy.may_scan_area(COORDINATOR, OTHER_AREA).withheld
    for who in (REP, HER_WORKER, PROGRAMME, viewer(Role.REVIEWER), viewer(Role.CHAIR, PF)):
        assert policy.may_scan_area(who, AREA).withheld


# --- properties over every combination ------------------------------------------------------------

people = st.sampled_from([VICTIM, HIM, CHILD, OTHER_VICTIM, OTHER_CHILD, NEW_PARTNER, BROTHER])
member_sets = st.frozensets(people, max_size=4)
statuses = st.sampled_from(list(CaseStatus))


@st.composite
def situations(draw: st.DrawFn) -> tuple[Viewer, CaseLinks, CaseLinks, policy.NetworkPersonFacts]:
    who = viewer(draw(st.sampled_from(list(Role))), draw(st.sampled_from(list(AgencySide))))
    first = opened(
        status=draw(statuses),
        allocated=tuple(draw(member_sets)),
        works_with=tuple(draw(member_sets)),
    )
    second = other(
        status=draw(statuses),
        allocated=tuple(draw(member_sets)),
        works_with=tuple(draw(member_sets)),
    )
    person = draw(people)
    return (
        who,
        first,
        second,
        facts(person, (first, second), draw(st.booleans()), draw(st.booleans())),
    )


@given(situations())
def test_network_decisions_hold_their_promises(
    situation: tuple[Viewer, CaseLinks, CaseLinks, policy.NetworkPersonFacts],
) -> None:
    who, first, second, person = situation
    decision = policy.network_person(who, first, person)
    assert (decision.summary is not None) == (decision.level is S)
    if not policy.case_access(who, first).full:
        assert decision.withheld
    if who.perpetrator_facing:
        # Only the men it works with in full; anonymised only as a victim of a case it may open.
        if decision.full:
            assert any(
                m.links.roles.get(person.person_id) is CaseRole.PERPETRATOR
                and person.person_id in m.links.agency_works_with
                for m in person.memberships
            )
        if decision.level is S:
            assert decision.summary.startswith("The victim")
    elif decision.level is S:
        assert decision.summary in (policy.ANOTHER_PARTNER, policy.A_CHILD)
        assert person.partner_of_perpetrator or person.child_exposed
