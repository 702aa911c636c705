"""The disclosure policy as truth tables: viewer x relationship x thing -> FULL/SUMMARY/WITHHELD.

Expected answers are written out by hand from the rules in marac/policy.py's docstring; the
second half proves that the query filters agree with the single decisions on a real database.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from marac import policy
from marac.domain import (
    AgencyKind,
    AgencySide,
    CaseRole,
    CaseStatus,
    Classification,
    InvolvementKind,
    ItemSource,
    Role,
)
from marac.extensions import db
from marac.models import Case, CasePerson
from marac.policy import Level
from marac.viewer import CaseLinks, Viewer, links_for_cases, viewer_for

F, S, W = Level.FULL, Level.SUMMARY, Level.WITHHELD
N, VF, PF = AgencySide.NEUTRAL, AgencySide.VICTIM_FACING, AgencySide.PERPETRATOR_FACING

AREA, OTHER_AREA = 1, 2
MY_AGENCY, OTHER_AGENCY, PROGRAMME_AGENCY = 10, 11, 12
ME, SOMEONE_ELSE = 100, 101
VICTIM, PERP, CHILD, OTHER_ADULT, SECOND_PERP = 1, 2, 3, 4, 5
ROLES = {
    VICTIM: CaseRole.VICTIM,
    PERP: CaseRole.PERPETRATOR,
    CHILD: CaseRole.CHILD,
    OTHER_ADULT: CaseRole.OTHER_ADULT,
    SECOND_PERP: CaseRole.PERPETRATOR,
}


def viewer(role: Role, side: AgencySide = N, area: int = AREA) -> Viewer:
    kind = AgencyKind.PERPETRATOR_PROGRAMME if side is PF else AgencyKind.POLICE
    return Viewer(ME, "me", "Me", role, MY_AGENCY, "My Agency", kind, side, area)


def links(
    status: CaseStatus = CaseStatus.LISTED,
    referring: int | None = OTHER_AGENCY,
    allocated: tuple[int, ...] = (),
    works_with: tuple[int, ...] = (),
    consent_disclosures: tuple[int, ...] = (),
    consent_contact: tuple[int, ...] = (),
    overrides: tuple[int, ...] = (),
    area: int = AREA,
) -> CaseLinks:
    return CaseLinks(
        case_id=1,
        area_id=area,
        status=status,
        referring_agency_id=referring,
        roles=ROLES,
        allocated=frozenset(allocated),
        agency_works_with=frozenset(works_with) | frozenset(allocated),
        consent_disclosures=frozenset(consent_disclosures),
        consent_contact=frozenset(consent_contact),
        overridden_items=frozenset(overrides),
    )


# --- opening a case ------------------------------------------------------------------------------

CASE_ACCESS = [
    # (viewer, links, expected, why)
    (viewer(Role.ADMINISTRATOR), links(), W, "administrators see no cases"),
    (viewer(Role.COORDINATOR), links(), F, "coordinator: every case of the area"),
    (viewer(Role.COORDINATOR), links(status=CaseStatus.REFERRED), F, "even before listing"),
    (viewer(Role.COORDINATOR, area=OTHER_AREA), links(), W, "not another area's"),
    (viewer(Role.CHAIR), links(status=CaseStatus.NOT_ELIGIBLE), F, "chair: every case"),
    (viewer(Role.CHAIR, area=OTHER_AREA), links(), W, "not another area's"),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.LISTED), F, "listed: all agencies"),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.HEARD), F, "heard"),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.CLOSED), F, "closed"),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.REFERRED), W, "not yet listed"),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.ELIGIBLE), W, "not yet listed"),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.NOT_ELIGIBLE), W, "never listed"),
    (
        viewer(Role.AGENCY_REP),
        links(status=CaseStatus.REFERRED, referring=MY_AGENCY),
        F,
        "own referral",
    ),
    (
        viewer(Role.AGENCY_REP),
        links(status=CaseStatus.REFERRED, works_with=(CHILD,)),
        F,
        "agency works with someone in it",
    ),
    (viewer(Role.AGENCY_REP, area=OTHER_AREA), links(status=CaseStatus.HEARD), W, "other area"),
    (viewer(Role.REVIEWER), links(status=CaseStatus.HEARD), F, "reviewer like a rep"),
    (viewer(Role.REVIEWER), links(status=CaseStatus.ELIGIBLE), W, "reviewer like a rep"),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(status=CaseStatus.HEARD),
        W,
        "survivor worker: only own cases",
    ),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(VICTIM,)), F, "named worker"),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(works_with=(VICTIM,)),
        W,
        "agency works with her, but another worker is named",
    ),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(status=CaseStatus.REFERRED, referring=MY_AGENCY),
        W,
        "referral by the agency is not enough",
    ),
    (
        viewer(Role.AGENCY_REP, PF),
        links(status=CaseStatus.HEARD),
        W,
        "programme: not a man it works with",
    ),
    (viewer(Role.AGENCY_REP, PF), links(works_with=(PERP,)), F, "programme works with him"),
    (
        viewer(Role.AGENCY_REP, PF),
        links(status=CaseStatus.REFERRED, works_with=(PERP,)),
        F,
        "whatever the status",
    ),
    (
        viewer(Role.AGENCY_REP, PF),
        links(works_with=(VICTIM,)),
        W,
        "working with her is not working with him",
    ),
    (
        viewer(Role.AGENCY_REP, PF),
        links(status=CaseStatus.REFERRED, referring=MY_AGENCY),
        W,
        "its own referral is not enough",
    ),
    (viewer(Role.CHAIR, PF), links(), W, "a perpetrator-side chair is still limited"),
    (viewer(Role.COORDINATOR, PF), links(works_with=(PERP,)), F, "limited to his cases"),
]


@pytest.mark.parametrize(("who", "case", "expected", "why"), CASE_ACCESS)
def test_case_access(who: Viewer, case: CaseLinks, expected: Level, why: str) -> None:
    assert policy.case_access(who, case).level is expected, why


# --- who is in the case -------------------------------------------------------------------------

PERSON_IDENTITY = [
    (viewer(Role.AGENCY_REP), links(), {VICTIM: F, PERP: F, CHILD: F, OTHER_ADULT: F}),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(allocated=(VICTIM,)),
        {VICTIM: F, PERP: F, CHILD: F, OTHER_ADULT: F},
    ),
    (
        viewer(Role.AGENCY_REP, PF),
        links(works_with=(PERP,)),
        {VICTIM: S, PERP: F, CHILD: W, OTHER_ADULT: W, SECOND_PERP: W},
    ),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.REFERRED), {VICTIM: W, PERP: W}),
    (viewer(Role.CHAIR, area=OTHER_AREA), links(), {VICTIM: W, PERP: W}),
]


@pytest.mark.parametrize(("who", "case", "expected"), PERSON_IDENTITY)
def test_person_identity(who: Viewer, case: CaseLinks, expected: dict[int, Level]) -> None:
    for person, level in expected.items():
        assert policy.person_identity(who, case, person).level is level, person


def test_relationships_need_both_people_in_full() -> None:
    programme, case = viewer(Role.AGENCY_REP, PF), links(works_with=(PERP,))
    assert policy.relationship(programme, case, PERP, VICTIM).level is W
    assert policy.relationship(programme, case, PERP, CHILD).level is W
    assert policy.relationship(programme, case, PERP, SECOND_PERP).level is W
    assert policy.relationship(viewer(Role.AGENCY_REP), links(), PERP, VICTIM).level is F
    assert policy.relationship(viewer(Role.AGENCY_REP), links(), PERP, 999).level is W


def test_anonymised_victim_is_labelled_without_identity() -> None:
    decision = policy.person_identity(
        viewer(Role.AGENCY_REP, PF), links(works_with=(PERP,)), VICTIM
    )
    assert decision.summary == "The victim"


def test_someone_not_in_the_case_is_withheld() -> None:
    assert policy.person_identity(viewer(Role.CHAIR), links(), 999).level is W


# --- address and safe contact details -----------------------------------------------------------

CONTACT = [
    # viewer, links, person, expected, why
    (viewer(Role.CHAIR), links(), VICTIM, F, "chair"),
    (viewer(Role.COORDINATOR), links(), VICTIM, S, "coordinator does not contact her"),
    (viewer(Role.AGENCY_REP), links(), VICTIM, S, "agency without her agreement"),
    (viewer(Role.AGENCY_REP), links(consent_contact=(VICTIM,)), VICTIM, F, "she agreed"),
    (
        viewer(Role.AGENCY_REP),
        links(consent_disclosures=(VICTIM,)),
        VICTIM,
        S,
        "agreement to disclosures does not cover contact",
    ),
    (
        viewer(Role.AGENCY_REP),
        links(works_with=(VICTIM,)),
        VICTIM,
        S,
        "working with her is not being her named worker",
    ),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(VICTIM,)), VICTIM, F, "her own worker"),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(allocated=(VICTIM,)),
        CHILD,
        F,
        "her worker reaches her children",
    ),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(allocated=(VICTIM,)),
        OTHER_ADULT,
        S,
        "but not other adults",
    ),
    (
        viewer(Role.AGENCY_REP),
        links(consent_contact=(VICTIM,)),
        CHILD,
        F,
        "her agreement covers her children",
    ),
    (viewer(Role.AGENCY_REP), links(), CHILD, S, "child, no agreement"),
    (viewer(Role.AGENCY_REP, PF), links(works_with=(PERP,)), VICTIM, W, "never to the programme"),
    (
        viewer(Role.AGENCY_REP, PF),
        links(works_with=(PERP,), consent_contact=(VICTIM,)),
        VICTIM,
        W,
        "not even with her agreement",
    ),
    (viewer(Role.AGENCY_REP, PF), links(works_with=(PERP,)), CHILD, W, "nor the children's"),
    (viewer(Role.AGENCY_REP, PF), links(works_with=(PERP,)), PERP, F, "his own"),
    (
        viewer(Role.AGENCY_REP, PF),
        links(works_with=(PERP,)),
        SECOND_PERP,
        W,
        "not another man it does not work with",
    ),
    (viewer(Role.AGENCY_REP), links(), PERP, F, "his address is shared with the MARAC"),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.REFERRED), PERP, W, "cannot open the case"),
    (viewer(Role.CHAIR, area=OTHER_AREA), links(), VICTIM, W, "other area"),
]


@pytest.mark.parametrize(("who", "case", "person", "expected", "why"), CONTACT)
def test_contact_details(
    who: Viewer, case: CaseLinks, person: int, expected: Level, why: str
) -> None:
    assert policy.contact_details(who, case, person).level is expected, why


def test_contact_summary_names_no_one() -> None:
    decision = policy.contact_details(viewer(Role.AGENCY_REP), links(), VICTIM)
    assert decision.summary == policy.CONTACT_HELD_ELSEWHERE


# --- information items --------------------------------------------------------------------------

ITEM_ID = 77


def item(
    classification: Classification,
    about: int | None = VICTIM,
    source: ItemSource = ItemSource.AGENCY_RECORDS,
    agency: int = OTHER_AGENCY,
    recorded_by: int | None = SOMEONE_ELSE,
) -> policy.ItemFacts:
    return policy.ItemFacts(
        id=ITEM_ID,
        about_person_id=about,
        source=source,
        classification=classification,
        recorded_by_agency_id=agency,
        recorded_by_agency_name="Recording Agency",
        recorded_by_id=recorded_by,
        recorded_on=date(2026, 5, 3),
        withheld_reason="A court order prevents it.",
    )


MARAC, SURVIVOR = Classification.MARAC, Classification.SURVIVOR_CONFIDENTIAL
PROGRAMME, AGENCY_ONLY = Classification.PROGRAMME_CONFIDENTIAL, Classification.AGENCY_ONLY
PROG_VIEWER = viewer(Role.AGENCY_REP, PF)
PROG_LINKS = links(works_with=(PERP,))

ITEMS = [
    # shared with the MARAC
    (viewer(Role.CHAIR), links(), item(MARAC), F, "shared"),
    (viewer(Role.COORDINATOR), links(), item(MARAC), F, "shared"),
    (viewer(Role.AGENCY_REP), links(), item(MARAC), F, "shared"),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(VICTIM,)), item(MARAC), F, "shared"),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.REFERRED), item(MARAC), W, "no access"),
    (viewer(Role.CHAIR, area=OTHER_AREA), links(), item(MARAC), W, "other area"),
    (PROG_VIEWER, PROG_LINKS, item(MARAC, about=VICTIM), S, "about her: only that risk exists"),
    (PROG_VIEWER, PROG_LINKS, item(MARAC, about=CHILD), S, "about a child"),
    (PROG_VIEWER, PROG_LINKS, item(MARAC, about=None), S, "about the household"),
    (PROG_VIEWER, PROG_LINKS, item(MARAC, about=PERP), F, "record about him"),
    (
        PROG_VIEWER,
        PROG_LINKS,
        item(MARAC, about=PERP, source=ItemSource.PERPETRATOR_DISCLOSURE),
        F,
        "his own disclosure",
    ),
    (
        PROG_VIEWER,
        PROG_LINKS,
        item(MARAC, about=PERP, source=ItemSource.VICTIM_DISCLOSURE),
        W,
        "what she said, even about him",
    ),
    (
        PROG_VIEWER,
        PROG_LINKS,
        item(MARAC, about=PERP, source=ItemSource.THIRD_PARTY),
        S,
        "third-party accounts may point to her",
    ),
    (PROG_VIEWER, PROG_LINKS, item(MARAC, about=SECOND_PERP), S, "another man"),
    (PROG_VIEWER, PROG_LINKS, item(MARAC, about=VICTIM, agency=MY_AGENCY), F, "its own record"),
    # survivor confidential
    (viewer(Role.CHAIR), links(), item(SURVIVOR), F, "chair"),
    (viewer(Role.COORDINATOR), links(), item(SURVIVOR), S, "coordinator: exists only"),
    (viewer(Role.AGENCY_REP), links(), item(SURVIVOR), S, "exists only"),
    (
        viewer(Role.AGENCY_REP),
        links(),
        item(SURVIVOR, agency=MY_AGENCY),
        S,
        "colleagues of her worker do not read it",
    ),
    (viewer(Role.AGENCY_REP), links(), item(SURVIVOR, recorded_by=ME), F, "recorded it"),
    (
        viewer(Role.AGENCY_REP),
        links(consent_disclosures=(VICTIM,)),
        item(SURVIVOR),
        F,
        "she agreed",
    ),
    (
        viewer(Role.AGENCY_REP),
        links(consent_contact=(VICTIM,)),
        item(SURVIVOR),
        S,
        "agreement to contact does not cover disclosures",
    ),
    (viewer(Role.AGENCY_REP), links(overrides=(ITEM_ID,)), item(SURVIVOR), F, "override"),
    (
        viewer(Role.AGENCY_REP),
        links(overrides=(ITEM_ID + 1,)),
        item(SURVIVOR),
        S,
        "an override of another item",
    ),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(allocated=(VICTIM,)),
        item(SURVIVOR),
        F,
        "her own worker",
    ),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(allocated=(VICTIM,)),
        item(SURVIVOR, about=CHILD),
        F,
        "her worker reads what she said about her child",
    ),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(allocated=(CHILD,)),
        item(SURVIVOR, about=VICTIM),
        S,
        "a child's worker is not her worker",
    ),
    (PROG_VIEWER, PROG_LINKS, item(SURVIVOR), W, "never to the programme"),
    (
        PROG_VIEWER,
        links(works_with=(PERP,), overrides=(ITEM_ID,)),
        item(SURVIVOR),
        W,
        "not even by override",
    ),
    (
        PROG_VIEWER,
        links(works_with=(PERP,), consent_disclosures=(VICTIM,)),
        item(SURVIVOR),
        W,
        "not even with her agreement",
    ),
    # programme confidential (his disclosures in the programme)
    (PROG_VIEWER, PROG_LINKS, item(PROGRAMME, about=PERP, agency=MY_AGENCY), F, "own record"),
    (viewer(Role.CHAIR), links(), item(PROGRAMME, about=PERP, agency=PROGRAMME_AGENCY), F, "chair"),
    (
        viewer(Role.COORDINATOR),
        links(),
        item(PROGRAMME, about=PERP, agency=PROGRAMME_AGENCY),
        S,
        "minimum crosses",
    ),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(allocated=(VICTIM,)),
        item(PROGRAMME, about=PERP, agency=PROGRAMME_AGENCY),
        S,
        "PC side: the minimum",
    ),
    (
        viewer(Role.AGENCY_REP),
        links(overrides=(ITEM_ID,)),
        item(PROGRAMME, about=PERP, agency=PROGRAMME_AGENCY),
        F,
        "override",
    ),
    # held by the agency, not shared
    (viewer(Role.AGENCY_REP), links(), item(AGENCY_ONLY, agency=MY_AGENCY), F, "own agency"),
    (viewer(Role.CHAIR), links(), item(AGENCY_ONLY), S, "even the chair sees only the reason"),
    (viewer(Role.COORDINATOR), links(), item(AGENCY_ONLY), S, "reason only"),
    (viewer(Role.AGENCY_REP), links(overrides=(ITEM_ID,)), item(AGENCY_ONLY), F, "override"),
    (PROG_VIEWER, PROG_LINKS, item(AGENCY_ONLY, about=PERP), S, "only that risk exists"),
]


@pytest.mark.parametrize(("who", "case", "thing", "expected", "why"), ITEMS)
def test_information_item(
    who: Viewer, case: CaseLinks, thing: policy.ItemFacts, expected: Level, why: str
) -> None:
    assert policy.information_item(who, case, thing).level is expected, why


def test_summaries_use_safe_wording() -> None:
    coordinator = viewer(Role.COORDINATOR)
    programme = policy.information_item(
        coordinator, links(), item(PROGRAMME, about=PERP, agency=PROGRAMME_AGENCY)
    )
    assert programme.summary == "Recording Agency recorded a disclosure by him on 3 May 2026."
    held = policy.information_item(coordinator, links(), item(AGENCY_ONLY))
    assert held.summary == (
        "Recording Agency holds information it will not share. Reason: A court order prevents it."
    )
    survivor = policy.information_item(coordinator, links(), item(SURVIVOR))
    assert survivor.summary == policy.SURVIVOR_ITEM_EXISTS
    risk = policy.information_item(PROG_VIEWER, PROG_LINKS, item(MARAC, about=VICTIM))
    # The programme's summary names no agency and no date: either could reveal her engagement.
    assert risk.summary == policy.OTHER_AGENCIES_HOLD_RISK
    assert "Recording Agency" not in risk.summary and "2026" not in risk.summary


def test_referral_source_and_involvement_are_hidden_from_the_programme() -> None:
    assert policy.referral_source(PROG_VIEWER, PROG_LINKS).level is W
    assert policy.referral_source(viewer(Role.AGENCY_REP), links()).level is F
    assert policy.involvement(PROG_VIEWER, PROG_LINKS, PERP, OTHER_AGENCY).level is W
    assert policy.involvement(PROG_VIEWER, PROG_LINKS, PERP, MY_AGENCY).level is F
    assert policy.involvement(PROG_VIEWER, PROG_LINKS, VICTIM, MY_AGENCY).level is W
    assert policy.involvement(viewer(Role.AGENCY_REP), links(), VICTIM, OTHER_AGENCY).level is F


def test_administration_is_for_the_areas_administrators() -> None:
    assert policy.may_administer(viewer(Role.ADMINISTRATOR), AREA).full
    assert policy.may_administer(viewer(Role.ADMINISTRATOR), OTHER_AREA).withheld
    for role in Role:
        if role is not Role.ADMINISTRATOR:
            assert policy.may_administer(viewer(role), AREA).withheld, role


# --- properties that hold for every combination --------------------------------------------------

member_sets = st.frozensets(st.sampled_from(sorted(ROLES)), max_size=5)
any_links = st.builds(
    CaseLinks,
    case_id=st.just(1),
    area_id=st.sampled_from([AREA, OTHER_AREA]),
    status=st.sampled_from(list(CaseStatus)),
    referring_agency_id=st.sampled_from([None, MY_AGENCY, OTHER_AGENCY]),
    roles=st.just(ROLES),
    allocated=member_sets,
    agency_works_with=member_sets,
    consent_disclosures=member_sets,
    consent_contact=member_sets,
    overridden_items=st.frozensets(st.sampled_from([ITEM_ID, ITEM_ID + 1])),
)
any_viewer = st.builds(
    viewer,
    role=st.sampled_from(list(Role)),
    side=st.sampled_from(list(AgencySide)),
    area=st.sampled_from([AREA, OTHER_AREA]),
)
any_item = st.builds(
    item,
    classification=st.sampled_from(list(Classification)),
    about=st.sampled_from([None, *sorted(ROLES)]),
    source=st.sampled_from(list(ItemSource)),
    agency=st.sampled_from([MY_AGENCY, OTHER_AGENCY, PROGRAMME_AGENCY]),
    recorded_by=st.sampled_from([None, ME, SOMEONE_ELSE]),
)


@given(any_viewer, any_links, any_item)
def test_nothing_is_shown_without_access_to_the_case(
    who: Viewer, case: CaseLinks, thing: policy.ItemFacts
) -> None:
    if not policy.case_access(who, case).full:
        assert policy.information_item(who, case, thing).withheld
        for person in ROLES:
            assert policy.person_identity(who, case, person).withheld
            assert policy.contact_details(who, case, person).withheld


@given(any_viewer, any_links, any_item)
def test_perpetrator_side_never_reads_her(
    who: Viewer, case: CaseLinks, thing: policy.ItemFacts
) -> None:
    if who.agency_side is not PF or thing.recorded_by_agency_id == MY_AGENCY:
        return
    decision = policy.information_item(who, case, thing)
    if thing.classification is SURVIVOR or thing.source is ItemSource.VICTIM_DISCLOSURE:
        assert decision.withheld
    if decision.level is S:
        assert decision.summary == policy.OTHER_AGENCIES_HOLD_RISK
    for person, role in ROLES.items():
        if role is not CaseRole.PERPETRATOR:
            assert not policy.contact_details(who, case, person).full


@given(any_viewer, any_links, any_item)
def test_summaries_always_carry_wording(
    who: Viewer, case: CaseLinks, thing: policy.ItemFacts
) -> None:
    for decision in (
        policy.information_item(who, case, thing),
        *(policy.contact_details(who, case, p) for p in ROLES),
        *(policy.person_identity(who, case, p) for p in ROLES),
    ):
        assert (decision.summary is not None) == (decision.level is S)
        assert decision.reason


# --- the query filters agree with the decisions --------------------------------------------------


@pytest.fixture
def world(make_area, make_agency, make_user, make_person, make_case, involve):  # noqa: ANN001
    """Two areas, agencies on each side, users of every role, cases of every status, and
    involvements both current and ended."""
    area, other_area = make_area(), make_area()
    police = make_agency(area, AgencyKind.POLICE, N)
    idva = make_agency(area, AgencyKind.IDVA, VF)
    programme = make_agency(area, AgencyKind.PERPETRATOR_PROGRAMME, PF)
    elsewhere = make_agency(other_area, AgencyKind.POLICE, N)
    users = [make_user(role, police) for role in Role if role is not Role.SUPPORT_WORKER]
    users += [make_user(Role.SUPPORT_WORKER, idva), make_user(Role.SUPPORT_WORKER, idva)]
    users += [make_user(Role.AGENCY_REP, idva), make_user(Role.AGENCY_REP, programme)]
    users += [make_user(Role.COORDINATOR, elsewhere), make_user(Role.AGENCY_REP, elsewhere)]
    worker_a, worker_b = users[-6], users[-5]

    cases = []
    for n, status in enumerate(list(CaseStatus) * 2):
        victim = make_person(area, given="Victim")
        man = make_person(area, given="Man")
        child = make_person(area, given="Child")
        referring = [police, idva, programme, None][n % 4]
        cases.append(
            make_case(area, victim, (man,), (child,), status=status, referring_agency=referring)
        )
        if n % 3 == 0:
            involve(
                programme,
                man,
                InvolvementKind.PERPETRATOR_PROGRAMME,
                ended_on=date(2020, 1, 1) if n % 2 else None,
            )
        if n % 4 == 1:
            involve(idva, victim, InvolvementKind.IDVA_SUPPORT, worker=worker_a)
        if n % 5 == 2:
            involve(
                idva,
                victim,
                InvolvementKind.IDVA_SUPPORT,
                worker=worker_b,
                ended_on=date(2021, 1, 1),
            )
        if n % 6 == 3:
            involve(police, child, InvolvementKind.CASEWORK)
    other_victim = make_person(other_area, given="Victim")
    cases.append(
        make_case(other_area, other_victim, status=CaseStatus.HEARD, referring_agency=elsewhere)
    )
    return users, cases


def test_case_filter_agrees_with_case_access(world) -> None:  # noqa: ANN001
    users, cases = world
    checked_some_of_each = {True: 0, False: 0}
    for user in users:
        who = viewer_for(user)
        by_filter = set(
            db.session.scalars(sa.select(Case.id).where(policy.visible_cases_clause(who)))
        )
        by_decision = {
            case_id
            for case_id, case_links in links_for_cases(db.session, who, cases).items()
            if policy.case_access(who, case_links).full
        }
        assert by_filter == by_decision, (user.role, user.agency.name)
        for case in cases:
            checked_some_of_each[case.id in by_decision] += 1
    # The world must exercise both answers, or the agreement would prove nothing.
    assert checked_some_of_each[True] > 20 and checked_some_of_each[False] > 20


def test_name_search_filter_agrees_with_identity(world) -> None:  # noqa: ANN001
    users, cases = world
    for user in users:
        who = viewer_for(user)
        visible = policy.visible_cases_clause(who)
        searchable = {
            (row.case_id, row.person_id)
            for row in db.session.execute(
                sa.select(CasePerson.case_id, CasePerson.person_id)
                .join(Case, Case.id == CasePerson.case_id)
                .where(visible, policy.searchable_person_clause(who))
            )
        }
        identified = {
            (case_id, person_id)
            for case_id, case_links in links_for_cases(db.session, who, cases).items()
            for person_id in case_links.roles
            if policy.person_identity(who, case_links, person_id).full
        }
        assert searchable == identified, (user.role, user.agency.name)


# --- referrals, match candidates and merges -------------------------------------------------

REFERRAL = [
    # (viewer, links, summary, detail, why)
    (viewer(Role.COORDINATOR), links(status=CaseStatus.REFERRED), F, F, "coordinator"),
    (viewer(Role.CHAIR), links(status=CaseStatus.ELIGIBLE), F, F, "chair"),
    (
        viewer(Role.AGENCY_REP),
        links(status=CaseStatus.REFERRED, referring=MY_AGENCY),
        F,
        F,
        "the referring agency",
    ),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.LISTED), F, S, "listed: summary only"),
    (viewer(Role.REVIEWER), links(status=CaseStatus.HEARD), F, S, "reviewer like a rep"),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.ELIGIBLE), W, W, "may not open the case"),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(allocated=(VICTIM,)),
        F,
        F,
        "her own named worker",
    ),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        links(allocated=(CHILD,)),
        F,
        S,
        "a child's worker is not her worker",
    ),
    (viewer(Role.AGENCY_REP, PF), links(works_with=(PERP,)), W, W, "never to the programme"),
    (
        viewer(Role.AGENCY_REP, PF),
        links(works_with=(PERP,), referring=MY_AGENCY),
        W,
        W,
        "not even its own referral",
    ),
    (viewer(Role.ADMINISTRATOR), links(), W, W, "administrator"),
    (viewer(Role.COORDINATOR, area=OTHER_AREA), links(), W, W, "another area"),
]


@pytest.mark.parametrize(("who", "case", "summary", "detail", "why"), REFERRAL)
def test_referral_summary_and_detail(
    who: Viewer, case: CaseLinks, summary: Level, detail: Level, why: str
) -> None:
    assert policy.referral_summary(who, case).level is summary, why
    decision = policy.referral_detail(who, case)
    assert decision.level is detail, why
    if detail is S:
        assert decision.summary == policy.REFERRAL_DETAIL_HELD


def test_who_refers_triages_and_merges() -> None:
    for role in Role:
        assert policy.may_refer(viewer(role)).full is (role is not Role.ADMINISTRATOR), role
        assert policy.may_triage_referrals(viewer(role), AREA).full is (
            role in (Role.COORDINATOR, Role.CHAIR)
        ), role
        assert policy.may_merge_people(viewer(role), AREA).full is (role is Role.COORDINATOR)
    assert policy.may_refer(viewer(Role.AGENCY_REP, PF)).full
    assert policy.may_triage_referrals(viewer(Role.COORDINATOR), OTHER_AREA).withheld
    assert policy.may_merge_people(viewer(Role.COORDINATOR), OTHER_AREA).withheld


MATCHES = [
    # (viewer, person, person's area, cases the person is in, expected, why)
    (viewer(Role.COORDINATOR), VICTIM, AREA, [], F, "coordinator: every match in the area"),
    (viewer(Role.CHAIR), CHILD, AREA, [links(status=CaseStatus.REFERRED)], F, "chair"),
    (viewer(Role.COORDINATOR), VICTIM, OTHER_AREA, [], W, "not another area's people"),
    (viewer(Role.ADMINISTRATOR), VICTIM, AREA, [links()], W, "administrators"),
    (viewer(Role.AGENCY_REP), VICTIM, AREA, [links()], F, "in a listed case it may open"),
    (viewer(Role.AGENCY_REP), VICTIM, AREA, [], W, "in no case"),
    (
        viewer(Role.AGENCY_REP),
        VICTIM,
        AREA,
        [links(status=CaseStatus.ELIGIBLE)],
        W,
        "only in a case it may not open yet",
    ),
    (
        viewer(Role.AGENCY_REP),
        VICTIM,
        AREA,
        [links(status=CaseStatus.ELIGIBLE), links(status=CaseStatus.HEARD)],
        F,
        "one case it may open is enough",
    ),
    (viewer(Role.SUPPORT_WORKER, VF), VICTIM, AREA, [links()], W, "not her worker"),
    (
        viewer(Role.SUPPORT_WORKER, VF),
        CHILD,
        AREA,
        [links(allocated=(VICTIM,))],
        F,
        "her worker sees her children in her case",
    ),
    (
        viewer(Role.AGENCY_REP, PF),
        PERP,
        AREA,
        [links(works_with=(PERP,))],
        F,
        "the man the programme works with",
    ),
    (viewer(Role.AGENCY_REP, PF), VICTIM, AREA, [links(works_with=(PERP,))], W, "never her"),
    (viewer(Role.AGENCY_REP, PF), CHILD, AREA, [links(works_with=(PERP,))], W, "nor a child"),
    (
        viewer(Role.AGENCY_REP, PF),
        OTHER_ADULT,
        AREA,
        [links(works_with=(PERP,))],
        W,
        "nor another adult",
    ),
    (
        viewer(Role.AGENCY_REP, PF),
        SECOND_PERP,
        AREA,
        [links(works_with=(PERP,))],
        W,
        "nor another man",
    ),
    (viewer(Role.COORDINATOR, PF), VICTIM, AREA, [links(works_with=(PERP,))], W, "side first"),
]


@pytest.mark.parametrize(("who", "person", "area", "cases", "expected", "why"), MATCHES)
def test_match_candidates(
    who: Viewer, person: int, area: int, cases: list[CaseLinks], expected: Level, why: str
) -> None:
    assert policy.match_candidate(who, person, area, cases).level is expected, why


def test_match_filter_agrees_with_match_candidate(world, make_person) -> None:  # noqa: ANN001
    from marac.models import Person

    users, cases = world
    make_person(cases[0].area, given="Nobody")  # in no case: only the coordinator and chair
    people = db.session.execute(sa.select(Person.id, Person.area_id)).all()
    members: dict[int, list[int]] = {}
    for case_id, person_id in db.session.execute(
        sa.select(CasePerson.case_id, CasePerson.person_id)
    ):
        members.setdefault(person_id, []).append(case_id)
    offered_some = {True: 0, False: 0}
    for user in users:
        who = viewer_for(user)
        case_links = links_for_cases(db.session, who, cases)
        by_filter = set(
            db.session.scalars(sa.select(Person.id).where(policy.matchable_people_clause(who)))
        )
        by_decision = {
            pid
            for pid, person_area in people
            if policy.match_candidate(
                who, pid, person_area, [case_links[c] for c in members.get(pid, [])]
            ).full
        }
        assert by_filter == by_decision, (user.role, user.agency.name)
        for pid, _area in people:
            offered_some[pid in by_decision] += 1
    assert offered_some[True] > 20 and offered_some[False] > 20
