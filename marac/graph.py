"""The network of people, cases and agencies around a case, and the questions it answers.

The whole database is never loaded. ``build_neighbourhood`` starts from the people of one case (or
from named people) and walks out a bounded number of links, with a fixed, small number of indexed
queries per hop, into a networkx ``MultiGraph``:

- person nodes ``("person", id)``, joined to each other by their relationships (partner, ex-partner,
  parent, step-parent, sibling, household member), to the cases they are in (with their role), and
  to the agencies that currently work with them;
- case nodes ``("case", id)`` and agency nodes ``("agency", id)``.

The people of the case come first (one query). One hop from a set of people loads: their
relationships (one query), the cases they are in (one query) and the other people of the cases
newly reached (one query). After the last hop, the cases of the outermost people and the
relationships among them are loaded, then the case facts, the people's dates of birth and the
current agency involvements (one query each). With the default depth of two that is at most twelve
queries, however large the database is.

The questions below work on that neighbourhood and return their answers with the paths that explain
them, as node keys and steps. They know nothing of viewers: ``marac.present_network`` projects them
through ``marac.policy`` before anyone sees them. The scan of the whole database for serial
perpetrators is the set-based SQL query ``serial_perpetrator_scan``, never networkx.

Definitions (written down here because practitioners must be able to check them):

- *A child* is someone under 18 today by date of birth; when the date of birth is not known,
  someone recorded as a child in a case.
- *Serial perpetrator*: recorded as the perpetrator in more than one case, or with more than one
  current or former partner on record. The explaining paths name his other cases and his partners
  other than the victim of the case in view.
- *Children exposed* to a man: a child he is a parent or step-parent of, or lives with; a child
  whose parent or step-parent is, or who lives with, an adult he is or was partnered with or lives
  with; a child recorded in a case in which he is a perpetrator; and a brother or sister of any of
  those children. Only links inside the neighbourhood count (two links from anyone in the case).
- *Linked cases*: the other cases of the people in the case.
- *Partner contact* must be offered, when he is in a programme, to every current partner, every
  ex-partner separated within the last two years, and every co-parent. "Within the last two years"
  means separated on a day later than the same calendar day two years before today; when that day
  does not exist (today is 29 February) it is 28 February. An ex-partner with no separation date
  on record is included (stricter where in doubt). A co-parent is another parent or step-parent of
  any child he is a parent of.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import networkx as nx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac.domain import DIRECTED_RELATIONSHIPS, CaseRole, CaseStatus, RelationshipKind
from marac.models import Agency, Case, CasePerson, Involvement, Person, Relationship, User

PERSON, CASE, AGENCY = "person", "case", "agency"
Node = tuple[str, int]

DEFAULT_DEPTH = 2
# A case page never draws more than this many people; beyond it the neighbourhood is cut, nearest
# people first, and the page says so.
MAX_PEOPLE = 400
ADULT_AGE = 18

PARTNER_KINDS = frozenset({RelationshipKind.PARTNER, RelationshipKind.EX_PARTNER})
PARENT_KINDS = frozenset({RelationshipKind.PARENT, RelationshipKind.STEP_PARENT})
# Links through which an adult's children are exposed to him.
ADULT_LINKS = frozenset(
    {RelationshipKind.PARTNER, RelationshipKind.EX_PARTNER, RelationshipKind.HOUSEHOLD_MEMBER}
)

MEMBER = "member"
INVOLVEMENT = "involvement"


def person(person_id: int) -> Node:
    return (PERSON, person_id)


def case_node(case_id: int) -> Node:
    return (CASE, case_id)


def agency_node(agency_id: int) -> Node:
    return (AGENCY, agency_id)


@dataclass(frozen=True)
class CaseFacts:
    """What the network needs of a case (it has the attributes ``links_for_cases`` reads)."""

    id: int
    reference: str
    area_id: int
    status: CaseStatus
    referring_agency_id: int | None


@dataclass(frozen=True)
class Step:
    """One link of a path, read from the node before it to the node after it.

    ``phrase`` never carries a date: the separation date is kept apart so that the presenter can
    leave it out where the policy says so.
    """

    kind: str  # a RelationshipKind value, MEMBER or INVOLVEMENT
    phrase: str
    separated_on: date | None = None


@dataclass(frozen=True)
class Path:
    nodes: tuple[Node, ...]
    steps: tuple[Step, ...]

    def then(self, step: Step, node: Node) -> Path:
        return Path((*self.nodes, node), (*self.steps, step))


@dataclass
class Neighbourhood:
    graph: nx.MultiGraph
    today: date
    focus_case_id: int | None
    seeds: frozenset[int]
    # Person id -> number of hops from the seeds (0 for the people of the case).
    distance: dict[int, int]
    cases: dict[int, CaseFacts]
    truncated: bool = False
    # Answers worked out once per neighbourhood: the questions ask them again and again.
    _memberships: dict[int, list[tuple[int, CaseRole]]] = field(default_factory=dict, repr=False)
    _children: dict[int, bool] = field(default_factory=dict, repr=False)

    def person_ids(self) -> list[int]:
        return sorted(self.distance)

    def has_person(self, person_id: int) -> bool:
        return person(person_id) in self.graph

    def person_data(self, person_id: int) -> dict:
        return self.graph.nodes[person(person_id)]

    def memberships(self, person_id: int) -> list[tuple[int, CaseRole]]:
        """(case id, role) for every case the person is in, in case order."""
        if person_id not in self._memberships:
            found = {
                (other[1], data["role"])
                for _, other, data in self.graph.edges(person(person_id), data=True)
                if other[0] == CASE
            }
            self._memberships[person_id] = sorted(found, key=lambda p: (p[0], p[1].value))
        return self._memberships[person_id]

    def members(self, case_id: int) -> list[tuple[int, CaseRole]]:
        """(person id, role) for the people of a case that are in the neighbourhood."""
        found = set()
        for _, other, data in self.graph.edges(case_node(case_id), data=True):
            if other[0] == PERSON:
                found.add((other[1], data["role"]))
        return sorted(found, key=lambda pair: (pair[0], pair[1].value))

    def roles_in_focus(self) -> dict[int, CaseRole]:
        if self.focus_case_id is None:
            return {}
        return dict(self.members(self.focus_case_id))

    def is_child(self, person_id: int) -> bool:
        if person_id not in self._children:
            dob = self.person_data(person_id).get("date_of_birth")
            self._children[person_id] = (
                _age_on(dob, self.today) < ADULT_AGE
                if dob is not None
                else any(role is CaseRole.CHILD for _, role in self.memberships(person_id))
            )
        return self._children[person_id]

    def links(self, person_id: int) -> Iterator[tuple[int, Step, dict]]:
        """Every relationship of a person: (other person, the step read from them, edge data)."""
        node = person(person_id)
        edges = sorted(
            (
                (other[1], data["relationship_id"], data)
                for _, other, data in self.graph.edges(node, data=True)
                if other[0] == PERSON
            ),
            key=lambda row: (row[0], row[1]),
        )
        for other_id, _, data in edges:
            yield other_id, relationship_step(data, from_person=person_id), data

    def involvements(self) -> Iterator[tuple[int, int, dict]]:
        """(person id, agency id, edge data) for every current involvement loaded."""
        rows = [
            (u, v, data) if u[0] == PERSON else (v, u, data)
            for u, v, data in self.graph.edges(data=True)
            if data.get("kind") == INVOLVEMENT
        ]
        for p, a, data in sorted(rows, key=lambda row: (row[0][1], row[1][1], row[2]["id"])):
            yield p[1], a[1], data

    def relationships(self) -> Iterator[tuple[int, int, dict]]:
        """(person id, other person id, edge data) for every relationship, as recorded."""
        rows = [
            data for u, v, data in self.graph.edges(data=True) if u[0] == PERSON and v[0] == PERSON
        ]
        for data in sorted(rows, key=lambda d: d["relationship_id"]):
            yield data["person_id"], data["other_person_id"], data


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


_PLAIN_PHRASES = {
    RelationshipKind.PARTNER: "partner",
    RelationshipKind.EX_PARTNER: "ex-partner",
    RelationshipKind.SIBLING: "sibling",
    RelationshipKind.HOUSEHOLD_MEMBER: "same household",
}
_DIRECTED_PHRASES = {
    # (kind, read from the parent's side?) -> phrase
    (RelationshipKind.PARENT, True): "parent of",
    (RelationshipKind.PARENT, False): "child of",
    (RelationshipKind.STEP_PARENT, True): "step-parent of",
    (RelationshipKind.STEP_PARENT, False): "step-child of",
}


def relationship_step(data: dict, from_person: int) -> Step:
    kind: RelationshipKind = data["relationship"]
    if kind in DIRECTED_RELATIONSHIPS:
        phrase = _DIRECTED_PHRASES[(kind, data["person_id"] == from_person)]
    else:
        phrase = _PLAIN_PHRASES[kind]
    return Step(kind.value, phrase, data.get("separated_on"))


def is_parent_step(step: Step) -> bool:
    """True when the step reads "parent of" or "step-parent of" (from the parent's side)."""
    return step.phrase in ("parent of", "step-parent of")


def member_step(role: CaseRole, towards_case: bool) -> Step:
    label = role.label.lower()
    return Step(MEMBER, f"{label} in" if towards_case else f"has {label}")


# ---------------------------------------------------------------------------------------------
# Building the neighbourhood


def build_neighbourhood(
    session: Session,
    *,
    today: date,
    case_id: int | None = None,
    person_ids: Iterable[int] = (),
    depth: int = DEFAULT_DEPTH,
    max_people: int = MAX_PEOPLE,
) -> Neighbourhood:
    """The people within ``depth`` links of the case's people (or of ``person_ids``)."""
    graph = nx.MultiGraph()
    seeds = set(person_ids)
    seen_cases: set[int] = set()
    if case_id is not None:
        seen_cases.add(case_id)
        rows = _members_of(session, {case_id})
        _add_memberships(graph, rows)
        seeds.update(row.person_id for row in rows)

    distance = {pid: 0 for pid in seeds}
    for pid in seeds:
        graph.add_node(person(pid), kind=PERSON)
    frontier = set(seeds)
    truncated = False

    for hop in range(depth):
        if not frontier:
            break
        reached: set[int] = set()
        relationships = _relationships_touching(session, frontier)
        reached.update(
            other
            for row in relationships
            for other in (row.person_id, row.other_person_id)
            if other not in distance
        )
        memberships = _memberships_of(session, frontier)
        new_cases = {row.case_id for row in memberships} - seen_cases
        seen_cases.update(new_cases)
        case_members = _members_of(session, new_cases) if new_cases else []
        reached.update(row.person_id for row in case_members if row.person_id not in distance)

        room = max_people - len(distance)
        if len(reached) > room:
            truncated = True
            reached = set(sorted(reached)[: max(room, 0)])
        for pid in reached:
            distance[pid] = hop + 1
            graph.add_node(person(pid), kind=PERSON)
        _add_relationships(graph, (r for r in relationships if _both_known(r, distance)))
        _add_memberships(graph, memberships)
        _add_memberships(graph, (r for r in case_members if r.person_id in distance))
        frontier = reached

    if frontier:
        # The outermost people: which cases they are in, and how they are related to each other.
        _add_memberships(graph, _memberships_of(session, frontier))
        _add_relationships(graph, _relationships_among(session, frontier))

    people = sorted(distance)
    case_ids = sorted(node[1] for node in graph if node[0] == CASE)
    cases = _case_facts(session, case_ids)
    _add_person_facts(session, graph, people)
    _add_involvements(session, graph, people, today)
    return Neighbourhood(
        graph=graph,
        today=today,
        focus_case_id=case_id,
        seeds=frozenset(seeds),
        distance=distance,
        cases=cases,
        truncated=truncated,
    )


def _both_known(row: sa.Row, distance: dict[int, int]) -> bool:
    return row.person_id in distance and row.other_person_id in distance


# The statements are built once, with expanding IN parameters, and run on the session's
# connection: a network costs a dozen small indexed queries, so their overhead counts.
_IDS = sa.bindparam("ids", expanding=True)
_relationship = Relationship.__table__
_case_person = CasePerson.__table__
_RELATIONSHIP_COLUMNS = (
    _relationship.c.id,
    _relationship.c.person_id,
    _relationship.c.other_person_id,
    _relationship.c.kind,
    _relationship.c.started_on,
    _relationship.c.separated_on,
)
# Two indexed lookups (person_id, other_person_id) rather than one OR, which would scan.
_RELATIONSHIPS_TOUCHING = sa.union_all(
    sa.select(*_RELATIONSHIP_COLUMNS).where(_relationship.c.person_id.in_(_IDS)),
    sa.select(*_RELATIONSHIP_COLUMNS).where(_relationship.c.other_person_id.in_(_IDS)),
)
_RELATIONSHIPS_FROM = sa.select(*_RELATIONSHIP_COLUMNS).where(_relationship.c.person_id.in_(_IDS))
_MEMBERSHIP_COLUMNS = (_case_person.c.case_id, _case_person.c.person_id, _case_person.c.role)
_MEMBERSHIPS_OF_PEOPLE = sa.select(*_MEMBERSHIP_COLUMNS).where(_case_person.c.person_id.in_(_IDS))
_MEMBERS_OF_CASES = sa.select(*_MEMBERSHIP_COLUMNS).where(_case_person.c.case_id.in_(_IDS))
_CASE_FACTS = sa.select(
    Case.__table__.c.id,
    Case.__table__.c.reference,
    Case.__table__.c.area_id,
    Case.__table__.c.status,
    Case.__table__.c.referring_agency_id,
).where(Case.__table__.c.id.in_(_IDS))
_PERSON_FACTS = sa.select(
    Person.__table__.c.id, Person.__table__.c.area_id, Person.__table__.c.date_of_birth
).where(Person.__table__.c.id.in_(_IDS))
_involvement, _agency, _user = Involvement.__table__, Agency.__table__, User.__table__
_CURRENT_INVOLVEMENTS = (
    sa.select(
        _involvement.c.id,
        _involvement.c.person_id,
        _involvement.c.agency_id,
        _involvement.c.worker_id,
        _involvement.c.kind,
        _involvement.c.started_on,
        _agency.c.name.label("agency_name"),
        _agency.c.side.label("agency_side"),
        _user.c.display_name.label("worker_name"),
    )
    .join(_agency, _agency.c.id == _involvement.c.agency_id)
    .outerjoin(_user, _user.c.id == _involvement.c.worker_id)
    .where(
        _involvement.c.person_id.in_(_IDS),
        sa.or_(_involvement.c.ended_on.is_(None), _involvement.c.ended_on > sa.bindparam("today")),
    )
)


def _chunks(ids: Iterable[int], size: int = 900) -> Iterator[list[int]]:
    """Keeps IN lists under SQLite's bound-parameter limit even for a truncated frontier."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _rows(
    session: Session, statement: sa.Executable, ids: Iterable[int], **params: object
) -> list[sa.Row]:
    connection = session.connection()
    rows: list[sa.Row] = []
    for chunk in _chunks(ids):
        rows.extend(connection.execute(statement, {"ids": chunk, **params}).all())
    return rows


def _relationships_touching(session: Session, people: set[int]) -> list[sa.Row]:
    return _rows(session, _RELATIONSHIPS_TOUCHING, people)


def _relationships_among(session: Session, people: set[int]) -> list[sa.Row]:
    return [
        row for row in _rows(session, _RELATIONSHIPS_FROM, people) if row.other_person_id in people
    ]


def _memberships_of(session: Session, people: set[int]) -> list[sa.Row]:
    return _rows(session, _MEMBERSHIPS_OF_PEOPLE, people)


def _members_of(session: Session, case_ids: set[int]) -> list[sa.Row]:
    return _rows(session, _MEMBERS_OF_CASES, case_ids)


def _add_relationships(graph: nx.MultiGraph, rows: Iterable[sa.Row]) -> None:
    for row in rows:
        graph.add_edge(
            person(row.person_id),
            person(row.other_person_id),
            key=("relationship", row.id),
            kind=row.kind.value,
            relationship=row.kind,
            relationship_id=row.id,
            person_id=row.person_id,
            other_person_id=row.other_person_id,
            started_on=row.started_on,
            separated_on=row.separated_on,
        )


def _add_memberships(graph: nx.MultiGraph, rows: Iterable[sa.Row]) -> None:
    for row in rows:
        graph.add_node(case_node(row.case_id), kind=CASE)
        graph.add_edge(
            person(row.person_id),
            case_node(row.case_id),
            key=(MEMBER, row.case_id),
            kind=MEMBER,
            role=row.role,
        )


def _case_facts(session: Session, case_ids: list[int]) -> dict[int, CaseFacts]:
    return {
        row.id: CaseFacts(row.id, row.reference, row.area_id, row.status, row.referring_agency_id)
        for row in _rows(session, _CASE_FACTS, case_ids)
    }


def _add_person_facts(session: Session, graph: nx.MultiGraph, people: list[int]) -> None:
    """Area and date of birth only: names are loaded later, for the people a viewer may see."""
    for row in _rows(session, _PERSON_FACTS, people):
        graph.nodes[person(row.id)].update(area_id=row.area_id, date_of_birth=row.date_of_birth)


def _add_involvements(
    session: Session, graph: nx.MultiGraph, people: list[int], today: date
) -> None:
    for row in _rows(session, _CURRENT_INVOLVEMENTS, people, today=today):
        node = agency_node(row.agency_id)
        graph.add_node(node, kind=AGENCY, name=row.agency_name, side=row.agency_side)
        graph.add_edge(
            person(row.person_id),
            node,
            key=(INVOLVEMENT, row.id),
            kind=INVOLVEMENT,
            id=row.id,
            involvement=row.kind,
            worker_id=row.worker_id,
            worker_name=row.worker_name,
            started_on=row.started_on,
        )


# ---------------------------------------------------------------------------------------------
# Questions the neighbourhood answers


@dataclass(frozen=True)
class SerialFinding:
    person_id: int
    case_count: int
    partner_count: int
    # Paths to his other cases, and to his partners other than the victim of the case in view.
    other_cases: tuple[Path, ...]
    other_partners: tuple[Path, ...]


def serial_perpetrator(
    nb: Neighbourhood, person_id: int, case_id: int | None = None
) -> SerialFinding | None:
    """Whether he is a serial perpetrator (see the module docstring), with the explaining paths."""
    start = Path((person(person_id),), ())
    his_cases = [cid for cid, role in nb.memberships(person_id) if role is CaseRole.PERPETRATOR]
    partner_links = [
        (other, step)
        for other, step, data in nb.links(person_id)
        if data["relationship"] in PARTNER_KINDS
    ]
    partners = {other for other, _ in partner_links}
    if len(set(his_cases)) <= 1 and len(partners) <= 1:
        return None
    victims = {
        pid for pid, role in (nb.members(case_id) if case_id else []) if role is CaseRole.VICTIM
    }
    other_cases = tuple(
        start.then(member_step(CaseRole.PERPETRATOR, towards_case=True), case_node(cid))
        for cid in sorted(set(his_cases))
        if cid != case_id
    )
    other_partners = tuple(
        start.then(step, person(other)) for other, step in partner_links if other not in victims
    )
    return SerialFinding(person_id, len(set(his_cases)), len(partners), other_cases, other_partners)


@dataclass(frozen=True)
class ExposedChild:
    person_id: int
    paths: tuple[Path, ...]


def children_exposed(nb: Neighbourhood, man_id: int) -> list[ExposedChild]:
    """Every child connected to him through a household or parent link (module docstring)."""
    start = Path((person(man_id),), ())
    found: dict[int, list[Path]] = defaultdict(list)

    def add(child_id: int, path: Path) -> None:
        if child_id != man_id and nb.is_child(child_id):
            found[child_id].append(path)

    for other, step, data in nb.links(man_id):
        kind = data["relationship"]
        if is_parent_step(step) or kind is RelationshipKind.HOUSEHOLD_MEMBER:
            add(other, start.then(step, person(other)))
        if kind in ADULT_LINKS and not nb.is_child(other):
            via_adult = start.then(step, person(other))
            for child, child_step, child_data in nb.links(other):
                if child != man_id and (
                    is_parent_step(child_step)
                    or child_data["relationship"] is RelationshipKind.HOUSEHOLD_MEMBER
                ):
                    add(child, via_adult.then(child_step, person(child)))

    for cid, role in nb.memberships(man_id):
        if role is not CaseRole.PERPETRATOR:
            continue
        via_case = start.then(member_step(role, towards_case=True), case_node(cid))
        for member, member_role in nb.members(cid):
            if member_role is CaseRole.CHILD:
                add(member, via_case.then(member_step(member_role, False), person(member)))

    for child in sorted(found):
        shortest = min(found[child], key=_path_order)
        for sibling, step, data in nb.links(child):
            if data["relationship"] is RelationshipKind.SIBLING and sibling not in found:
                add(sibling, shortest.then(step, person(sibling)))

    return [
        ExposedChild(child, tuple(sorted(set(paths), key=_path_order)))
        for child, paths in sorted(found.items())
    ]


def _path_order(path: Path) -> tuple:
    return (len(path.steps), path.nodes, tuple(step.phrase for step in path.steps))


@dataclass(frozen=True)
class LinkedCase:
    case_id: int
    paths: tuple[Path, ...]


def linked_cases(nb: Neighbourhood, case_id: int) -> list[LinkedCase]:
    """The other cases of the people in the case, each through the people they share."""
    start = Path((case_node(case_id),), ())
    found: dict[int, list[Path]] = defaultdict(list)
    for member, role in nb.members(case_id):
        via = start.then(member_step(role, towards_case=False), person(member))
        for other_case, other_role in nb.memberships(member):
            if other_case != case_id:
                found[other_case].append(
                    via.then(member_step(other_role, towards_case=True), case_node(other_case))
                )
    return [LinkedCase(cid, tuple(paths)) for cid, paths in sorted(found.items())]


class ContactReason(StrEnum):
    CURRENT_PARTNER = "current partner"
    RECENT_EX_PARTNER = "ex-partner separated within the last two years"
    EX_PARTNER_DATE_NOT_KNOWN = "ex-partner, separation date not recorded"
    CO_PARENT = "co-parent"


@dataclass(frozen=True)
class ContactOffer:
    person_id: int
    reasons: tuple[ContactReason, ...]
    paths: tuple[Path, ...]


def two_years_before(day: date) -> date:
    """The same calendar day two years earlier; 28 February when ``day`` is 29 February."""
    try:
        return day.replace(year=day.year - 2)
    except ValueError:
        return day.replace(year=day.year - 2, day=28)


def separated_within_two_years(separated_on: date, today: date) -> bool:
    return separated_on > two_years_before(today)


def partners_to_offer_contact(nb: Neighbourhood, man_id: int) -> list[ContactOffer]:
    """Who must be offered partner contact when he is in a programme (module docstring)."""
    start = Path((person(man_id),), ())
    reasons: dict[int, list[tuple[ContactReason, Path]]] = defaultdict(list)
    his_children = []
    for other, step, data in nb.links(man_id):
        kind = data["relationship"]
        path = start.then(step, person(other))
        if kind is RelationshipKind.PARTNER:
            reasons[other].append((ContactReason.CURRENT_PARTNER, path))
        elif kind is RelationshipKind.EX_PARTNER:
            separated = data["separated_on"]
            if separated is None:
                reasons[other].append((ContactReason.EX_PARTNER_DATE_NOT_KNOWN, path))
            elif separated_within_two_years(separated, nb.today):
                reasons[other].append((ContactReason.RECENT_EX_PARTNER, path))
        elif kind is RelationshipKind.PARENT and step.phrase == "parent of":
            his_children.append((other, path))
    for child, via_child in his_children:
        for other, step, _data in nb.links(child):
            if other != man_id and step.phrase in ("child of", "step-child of"):
                reasons[other].append(
                    (ContactReason.CO_PARENT, via_child.then(step, person(other)))
                )
    order = list(ContactReason)
    offers = []
    for pid in sorted(reasons):
        entries = sorted(reasons[pid], key=lambda e: (order.index(e[0]), _path_order(e[1])))
        offers.append(
            ContactOffer(
                pid,
                tuple(dict.fromkeys(reason for reason, _ in entries)),
                tuple(path for _, path in entries),
            )
        )
    return offers


# ---------------------------------------------------------------------------------------------
# The whole database at once: set-based SQL, never networkx.


@dataclass(frozen=True)
class SerialRow:
    person_id: int
    case_count: int
    partner_count: int


def serial_perpetrator_scan(session: Session, area_id: int | None = None) -> list[SerialRow]:
    """Every perpetrator who is in more than one case or has more than one partner on record.

    Partners are counted once each, whichever way round the relationship was recorded and
    whether it is current or former. With ``area_id``, only perpetrators of that area's cases.
    """
    perpetrator_cases = sa.select(
        CasePerson.person_id.label("person_id"),
        sa.func.count(sa.distinct(CasePerson.case_id)).label("case_count"),
    ).where(CasePerson.role == CaseRole.PERPETRATOR)
    if area_id is not None:
        perpetrator_cases = perpetrator_cases.join(Case, Case.id == CasePerson.case_id).where(
            Case.area_id == area_id
        )
    perpetrators = perpetrator_cases.group_by(CasePerson.person_id).subquery("perpetrators")

    kinds = [kind.value for kind in PARTNER_KINDS]
    relationship = Relationship.__table__
    # Partner pairs in both directions, for perpetrators only; UNION removes a pair recorded twice.
    pairs = sa.union(
        sa.select(
            relationship.c.person_id.label("man_id"),
            relationship.c.other_person_id.label("partner_id"),
        )
        .join(perpetrators, perpetrators.c.person_id == relationship.c.person_id)
        .where(relationship.c.kind.in_(kinds)),
        sa.select(
            relationship.c.other_person_id.label("man_id"),
            relationship.c.person_id.label("partner_id"),
        )
        .join(perpetrators, perpetrators.c.person_id == relationship.c.other_person_id)
        .where(relationship.c.kind.in_(kinds)),
    ).subquery("pairs")
    partner_counts = (
        sa.select(pairs.c.man_id, sa.func.count().label("partner_count"))
        .group_by(pairs.c.man_id)
        .subquery("partner_counts")
    )
    partners = sa.func.coalesce(partner_counts.c.partner_count, 0)
    statement = (
        sa.select(perpetrators.c.person_id, perpetrators.c.case_count, partners)
        .outerjoin(partner_counts, partner_counts.c.man_id == perpetrators.c.person_id)
        .where(sa.or_(perpetrators.c.case_count > 1, partners > 1))
        .order_by(perpetrators.c.person_id)
    )
    return [SerialRow(*row) for row in session.execute(statement)]


@dataclass
class NeighbourhoodStats:
    """For the benchmark and tests: how big a neighbourhood is."""

    people: int = 0
    cases: int = 0
    agencies: int = 0
    edges: int = 0
    by_distance: dict[int, int] = field(default_factory=dict)


def stats(nb: Neighbourhood) -> NeighbourhoodStats:
    by_distance: dict[int, int] = defaultdict(int)
    for hops in nb.distance.values():
        by_distance[hops] += 1
    return NeighbourhoodStats(
        people=len(nb.distance),
        cases=sum(1 for n in nb.graph if n[0] == CASE),
        agencies=sum(1 for n in nb.graph if n[0] == AGENCY),
        edges=nb.graph.number_of_edges(),
        by_distance=dict(by_distance),
    )
