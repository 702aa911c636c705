"""The network's questions against hand-built networks whose answers are written out by hand.

The main network: Mark has three partners. Pia is his current partner (case A, with their son Cal
and her adult son Adam); Eve is his ex-partner, separated 23 months ago, whose daughter Dee
(by Xan) is his step-daughter; Fay is his ex-partner, separated 25 months ago (case B), mother of
his son Gus; Gus's step-father is Sol, Fay's new partner. Cal has a sister Bea with no parent on
record; Hal, a child, lives in Mark's household; Kit, Xan's son by someone else, has no link to
Mark. Case A also names Ivy, a child with no date of birth. Cal is in case D too, with another
man, Olly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from marac import graph
from marac.domain import CaseStatus, InvolvementKind, RelationshipKind
from marac.graph import ContactReason
from marac.models import Area, Case, Person

from .conftest import count_queries

TODAY = date(2026, 11, 24)
MONTHS_23 = date(2024, 12, 24)
MONTHS_25 = date(2024, 10, 24)
ADULT, CHILD_DOB = date(1985, 1, 1), date(2016, 6, 1)
P, X, S, PARENT, STEP = (
    RelationshipKind.PARTNER,
    RelationshipKind.EX_PARTNER,
    RelationshipKind.SIBLING,
    RelationshipKind.PARENT,
    RelationshipKind.STEP_PARENT,
)
HOUSEHOLD = RelationshipKind.HOUSEHOLD_MEMBER


@dataclass
class World:
    area: Area
    people: dict[str, Person]
    cases: dict[str, Case]

    def id(self, name: str) -> int:
        return self.people[name].id

    def name(self, person_id: int) -> str:
        return next(n for n, p in self.people.items() if p.id == person_id)

    def names(self, ids) -> set[str]:  # noqa: ANN001
        return {self.name(i) for i in ids}


@pytest.fixture
def world(make_area, make_person, make_case, relate) -> World:  # noqa: ANN001
    area = make_area()
    people = {}
    for name, dob in [
        ("Mark", ADULT),
        ("Pia", ADULT),
        ("Eve", ADULT),
        ("Fay", ADULT),
        ("Sol", ADULT),
        ("Xan", ADULT),
        ("Olly", ADULT),
        ("Adam", date(2005, 1, 1)),
        ("Cal", CHILD_DOB),
        ("Dee", CHILD_DOB),
        ("Gus", CHILD_DOB),
        ("Bea", CHILD_DOB),
        ("Hal", CHILD_DOB),
        ("Kit", CHILD_DOB),
        ("Ivy", None),
    ]:
        people[name] = make_person(area, given=name, family="Test", dob=dob)
    p = people
    links = [
        ("Mark", "Pia", P, None),
        ("Mark", "Eve", X, MONTHS_23),
        ("Fay", "Mark", X, MONTHS_25),  # recorded from her side: must count the same
        ("Mark", "Cal", PARENT, None),
        ("Pia", "Cal", PARENT, None),
        ("Pia", "Adam", PARENT, None),
        ("Eve", "Dee", PARENT, None),
        ("Xan", "Dee", PARENT, None),
        ("Mark", "Dee", STEP, None),
        ("Mark", "Gus", PARENT, None),
        ("Fay", "Gus", PARENT, None),
        ("Sol", "Gus", STEP, None),
        ("Fay", "Sol", P, None),
        ("Cal", "Bea", S, None),
        ("Mark", "Hal", HOUSEHOLD, None),
        ("Xan", "Kit", PARENT, None),
    ]
    for a, b, kind, separated in links:
        relate(p[a], p[b], kind, separated_on=separated)
    cases = {
        "A": make_case(area, p["Pia"], (p["Mark"],), (p["Cal"], p["Ivy"]), (p["Adam"],)),
        "B": make_case(area, p["Fay"], (p["Mark"],), (p["Gus"],)),
        "D": make_case(area, p["Eve"], (p["Olly"],), (p["Cal"],), status=CaseStatus.REFERRED),
    }
    return World(area, people, cases)


def neighbourhood(w: World, case: str = "A", **kwargs) -> graph.Neighbourhood:  # noqa: ANN003
    from marac.extensions import db

    return graph.build_neighbourhood(
        db.session, today=kwargs.pop("today", TODAY), case_id=w.cases[case].id, **kwargs
    )


def around(w: World, name: str, today: date = TODAY) -> graph.Neighbourhood:
    from marac.extensions import db

    return graph.build_neighbourhood(db.session, today=today, person_ids=[w.id(name)])


# --- the two-year rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("separated", "today", "within"),
    [
        (date(2024, 11, 24), date(2026, 11, 24), False),  # exactly two years: not within
        (date(2024, 11, 25), date(2026, 11, 24), True),
        (MONTHS_23, TODAY, True),
        (MONTHS_25, TODAY, False),
        # 29 February: two years before is 28 February.
        (date(2026, 2, 28), date(2028, 2, 29), False),
        (date(2026, 3, 1), date(2028, 2, 29), True),
        # Separated on a 29 February, looked at two years on (no 29 February that year).
        (date(2024, 2, 29), date(2026, 2, 28), True),
        (date(2024, 2, 29), date(2026, 3, 1), False),
    ],
)
def test_separated_within_two_years(separated: date, today: date, within: bool) -> None:
    assert graph.separated_within_two_years(separated, today) is within


def test_two_years_before_29_february_is_28_february() -> None:
    assert graph.two_years_before(date(2028, 2, 29)) == date(2026, 2, 28)
    assert graph.two_years_before(date(2026, 11, 24)) == date(2024, 11, 24)


# --- partner contact -----------------------------------------------------------------------------


def test_partner_contact_for_a_man_with_three_partners(world: World) -> None:
    offers = {
        o.person_id: o
        for o in graph.partners_to_offer_contact(around(world, "Mark"), world.id("Mark"))
    }
    assert world.names(offers) == {"Pia", "Eve", "Fay", "Sol"}
    reasons = {world.name(pid): offer.reasons for pid, offer in offers.items()}
    assert reasons == {
        "Pia": (ContactReason.CURRENT_PARTNER, ContactReason.CO_PARENT),
        "Eve": (ContactReason.RECENT_EX_PARTNER,),
        # Separated 25 months ago, so not as an ex-partner; but she is Gus's mother.
        "Fay": (ContactReason.CO_PARENT,),
        # Gus's step-father: a step-parent of one of his children.
        "Sol": (ContactReason.CO_PARENT,),
    }
    # Xan is the father of Mark's step-daughter, not of one of his children: not a co-parent.
    assert world.id("Xan") not in offers
    fay_path = offers[world.id("Fay")].paths[0]
    assert fay_path.nodes == (
        graph.person(world.id("Mark")),
        graph.person(world.id("Gus")),
        graph.person(world.id("Fay")),
    )
    assert [s.phrase for s in fay_path.steps] == ["parent of", "child of"]


def test_partner_contact_at_the_two_year_boundary(world: World) -> None:
    # Two months later Eve's separation is 25 months old: she drops out; Fay stays as co-parent.
    later = date(2027, 1, 24)
    offers = graph.partners_to_offer_contact(around(world, "Mark", later), world.id("Mark"))
    assert world.names(o.person_id for o in offers) == {"Pia", "Fay", "Sol"}


def test_partner_contact_on_29_february(make_area, make_person, relate) -> None:  # noqa: ANN001
    area = make_area()
    man = make_person(area, given="Leap")
    on_boundary = make_person(area, given="Boundary")
    day_after = make_person(area, given="After")
    unknown = make_person(area, given="Unknown")
    relate(man, on_boundary, X, separated_on=date(2026, 2, 28))
    relate(man, day_after, X, separated_on=date(2026, 3, 1))
    relate(man, unknown, X)
    from marac.extensions import db

    nb = graph.build_neighbourhood(db.session, today=date(2028, 2, 29), person_ids=[man.id])
    offers = {o.person_id: o.reasons for o in graph.partners_to_offer_contact(nb, man.id)}
    assert offers == {
        day_after.id: (ContactReason.RECENT_EX_PARTNER,),
        # No separation date on record: offered, stricter where in doubt.
        unknown.id: (ContactReason.EX_PARTNER_DATE_NOT_KNOWN,),
    }


def test_the_service_gives_the_same_fan_out(world: World) -> None:
    from marac.services.allocation import partners_to_offer_contact

    offers = partners_to_offer_contact(world.id("Mark"), TODAY)
    assert world.names(o.person_id for o in offers) == {"Pia", "Eve", "Fay", "Sol"}


# --- children exposed ----------------------------------------------------------------------------


def test_children_exposed_to_him(world: World) -> None:
    found = {c.person_id: c for c in graph.children_exposed(neighbourhood(world), world.id("Mark"))}
    # Cal and Gus: his children. Dee: his step-daughter (and Eve's daughter). Hal: in his
    # household. Bea: Cal's sister. Ivy: recorded as a child in his case, no date of birth.
    # Not Adam (Pia's son, but 21), not Kit (Xan's son: no link to Mark).
    assert world.names(found) == {"Cal", "Gus", "Dee", "Hal", "Bea", "Ivy"}
    shortest = {world.name(pid): [s.phrase for s in c.paths[0].steps] for pid, c in found.items()}
    assert shortest == {
        "Cal": ["parent of"],
        "Gus": ["parent of"],
        "Dee": ["step-parent of"],
        "Hal": ["same household"],
        "Bea": ["parent of", "sibling"],
        "Ivy": ["perpetrator in", "has child"],
    }
    # Dee is reached both directly and through her mother, his ex-partner.
    dee_paths = [[s.phrase for s in p.steps] for p in found[world.id("Dee")].paths]
    assert dee_paths == [["step-parent of"], ["ex-partner", "parent of"]]


def test_children_exposed_across_cases(world: World) -> None:
    # From case B (Fay's), Cal is found through case A's people, two links from Mark.
    found = graph.children_exposed(neighbourhood(world, "B"), world.id("Mark"))
    assert {"Cal", "Gus", "Dee", "Hal"} <= world.names(c.person_id for c in found)


def test_cycles_are_walked_once(make_area, make_person, make_case, relate) -> None:  # noqa: ANN001
    area = make_area()
    man, woman, other = (make_person(area, given=n) for n in ("Ron", "Una", "Vic"))
    child = make_person(area, given="Wyn", dob=CHILD_DOB)
    # Ron - Una - Vic - Ron household triangle, and Wyn linked to all three.
    for a, b in [(man, woman), (woman, other), (other, man)]:
        relate(a, b, HOUSEHOLD)
    relate(man, child, PARENT)
    relate(woman, child, PARENT)
    relate(other, child, HOUSEHOLD)
    relate(child, man, HOUSEHOLD)
    case = make_case(area, woman, (man,), (child,))
    from marac.extensions import db

    nb = graph.build_neighbourhood(db.session, today=TODAY, case_id=case.id)
    found = graph.children_exposed(nb, man.id)
    assert [c.person_id for c in found] == [child.id]
    assert len(found[0].paths) == len(set(found[0].paths))
    assert graph.serial_perpetrator(nb, man.id, case.id) is None
    assert graph.linked_cases(nb, case.id) == []
    # Una is the other parent of his child; living together is not a partnership.
    offers = graph.partners_to_offer_contact(nb, man.id)
    assert [(o.person_id, o.reasons) for o in offers] == [(woman.id, (ContactReason.CO_PARENT,))]


# --- serial perpetrator and linked cases ---------------------------------------------------------


def test_serial_perpetrator_with_other_cases_and_partners(world: World) -> None:
    found = graph.serial_perpetrator(neighbourhood(world), world.id("Mark"), world.cases["A"].id)
    assert found is not None
    assert (found.case_count, found.partner_count) == (2, 3)
    assert [p.nodes[-1] for p in found.other_cases] == [graph.case_node(world.cases["B"].id)]
    # Pia is the victim of case A: the explaining paths name his other partners.
    assert world.names(p.nodes[-1][1] for p in found.other_partners) == {"Eve", "Fay"}
    eve = next(p for p in found.other_partners if p.nodes[-1][1] == world.id("Eve"))
    assert eve.steps[0].phrase == "ex-partner" and eve.steps[0].separated_on == MONTHS_23


@pytest.mark.parametrize(
    ("cases", "partners", "serial"),
    [(1, 1, False), (1, 2, True), (2, 0, True), (1, 0, False), (2, 1, True)],
)
def test_serial_perpetrator_rule(
    make_area, make_person, make_case, relate, cases, partners, serial
) -> None:  # noqa: ANN001
    area = make_area()
    man = make_person(area, given="Man")
    women = [make_person(area, given=f"W{n}") for n in range(max(cases, partners))]
    for n in range(partners):
        relate(man, women[n], P if n == 0 else X)
    made = [make_case(area, women[n], (man,)) for n in range(cases)]
    from marac.extensions import db

    nb = graph.build_neighbourhood(db.session, today=TODAY, case_id=made[0].id)
    assert (graph.serial_perpetrator(nb, man.id, made[0].id) is not None) is serial
    scan = {row.person_id for row in graph.serial_perpetrator_scan(db.session)}
    assert (man.id in scan) is serial


def test_linked_cases_share_a_person(world: World) -> None:
    linked = {
        lc.case_id: lc for lc in graph.linked_cases(neighbourhood(world), world.cases["A"].id)
    }
    assert set(linked) == {world.cases["B"].id, world.cases["D"].id}
    via_mark = linked[world.cases["B"].id].paths[0]
    assert via_mark.nodes[1] == graph.person(world.id("Mark"))
    assert [s.phrase for s in via_mark.steps] == ["has perpetrator", "perpetrator in"]
    via_cal = linked[world.cases["D"].id].paths[0]
    assert via_cal.nodes[1] == graph.person(world.id("Cal"))
    assert [s.phrase for s in via_cal.steps] == ["has child", "child in"]


# --- the scan over the whole database ------------------------------------------------------------


def test_scan_counts_cases_and_partners(world: World) -> None:
    from marac.extensions import db

    rows = {r.person_id: r for r in graph.serial_perpetrator_scan(db.session)}
    # Mark: two cases, three partners (Fay's relationship recorded from her side counts once).
    assert (rows[world.id("Mark")].case_count, rows[world.id("Mark")].partner_count) == (2, 3)
    # Olly: one case, no partner on record. Fay has two partners but is a perpetrator nowhere.
    assert set(rows) == {world.id("Mark")}
    assert graph.serial_perpetrator_scan(db.session, area_id=world.area.id + 1000) == []


def test_scan_counts_a_pair_recorded_twice_once(make_area, make_person, make_case, relate) -> None:  # noqa: ANN001
    area = make_area()
    man, woman = make_person(area, given="Man"), make_person(area, given="Woman")
    relate(man, woman, P)
    relate(woman, man, X, separated_on=MONTHS_25)
    make_case(area, woman, (man,))
    from marac.extensions import db

    assert graph.serial_perpetrator_scan(db.session) == []


def test_scan_agrees_with_the_neighbourhood(world: World, make_case, make_person, relate) -> None:  # noqa: ANN001
    """For every perpetrator, the set-based scan and the networkx question give the same answer."""
    from marac.extensions import db

    lone = make_person(world.area, given="Lone")
    make_case(world.area, make_person(world.area, given="Her"), (lone,))
    relate(world.people["Olly"], world.people["Xan"], X)
    scan = {row.person_id for row in graph.serial_perpetrator_scan(db.session)}
    checked = 0
    for case in db.session.query(Case).all():
        nb = graph.build_neighbourhood(db.session, today=TODAY, case_id=case.id)
        for pid, role in nb.members(case.id):
            if role.value == "perpetrator":
                checked += 1
                assert (graph.serial_perpetrator(nb, pid, case.id) is not None) is (pid in scan)
    assert checked == 4


# --- building the neighbourhood ------------------------------------------------------------------


def test_neighbourhood_is_bounded_by_depth(make_area, make_person, make_case, relate) -> None:  # noqa: ANN001
    area = make_area()
    chain = [make_person(area, given=f"N{n}") for n in range(6)]
    for a, b in zip(chain, chain[1:], strict=False):
        relate(a, b, HOUSEHOLD)
    case = make_case(area, chain[0])
    from marac.extensions import db

    nb = graph.build_neighbourhood(db.session, today=TODAY, case_id=case.id)
    assert nb.distance == {chain[0].id: 0, chain[1].id: 1, chain[2].id: 2}
    # The link between the two outermost people is there; nothing beyond them is loaded.
    nb3 = graph.build_neighbourhood(db.session, today=TODAY, case_id=case.id, depth=3)
    assert set(nb3.distance) == {p.id for p in chain[:4]}


def test_neighbourhood_reaches_the_people_of_linked_cases(world: World) -> None:
    nb = neighbourhood(world)
    # Case D is linked through Cal; its victim Eve and perpetrator Olly are one hop away.
    assert nb.distance[world.id("Olly")] == 1
    assert nb.distance[world.id("Cal")] == 0
    assert world.id("Kit") not in nb.distance or nb.distance[world.id("Kit")] == 2


def test_a_large_neighbourhood_is_cut_and_says_so(world: World) -> None:
    nb = neighbourhood(world, max_people=6)
    assert nb.truncated and len(nb.distance) == 6
    assert not neighbourhood(world).truncated


def test_involvements_are_current_only(world: World, make_agency, involve) -> None:  # noqa: ANN001
    agency = make_agency(world.area)
    involve(agency, world.people["Mark"], InvolvementKind.CASEWORK)
    involve(agency, world.people["Pia"], InvolvementKind.CASEWORK, ended_on=date(2026, 1, 1))
    found = [(pid, aid) for pid, aid, _ in neighbourhood(world).involvements()]
    assert found == [(world.id("Mark"), agency.id)]


def test_query_count_is_fixed_and_does_not_grow_with_the_database(
    world: World, make_person, make_case, relate
) -> None:  # noqa: ANN001
    with count_queries() as before:
        first = neighbourhood(world)
    # A much bigger database elsewhere, and a bigger neighbourhood here, cost no more queries.
    for _ in range(40):
        a, b = make_person(world.area), make_person(world.area)
        relate(a, b, P)
        make_case(world.area, a, (b,))
    for n in range(15):
        relate(world.people["Pia"], make_person(world.area, given=f"Friend{n}"), HOUSEHOLD)
    with count_queries() as after:
        second = neighbourhood(world)
    assert before.count == after.count <= 12
    assert len(second.distance) == len(first.distance) + 15
