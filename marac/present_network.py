"""The network around a case as one viewer may see it: nodes, links and findings, projected.

``marac.graph`` builds the neighbourhood and answers its questions with paths of node keys; here
every person is put to ``marac.policy.network_person`` and every link and path follows from those
decisions. What is withheld is simply absent; an anonymised person keeps only a safe label. The
picture (``marac.network_svg``) and the text list are drawn from the result and nothing else, so
they always show the same content.

Names are loaded only for the people the policy shows in full.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from sqlalchemy.orm import Session

from marac import graph, policy
from marac.domain import CaseRole, RelationshipKind
from marac.present import person_names, relationship_phrase
from marac.viewer import CaseLinks, Viewer, links_for_cases


class NodeKind(StrEnum):
    VICTIM = "victim"
    PERPETRATOR = "perpetrator"
    CHILD = "child"
    OTHER_ADULT = "other_adult"
    AGENCY = "agency"
    ANONYMISED = "anonymised"

    @property
    def label(self) -> str:
        return _NODE_LABELS[self]


_NODE_LABELS = {
    NodeKind.VICTIM: "Victim",
    NodeKind.PERPETRATOR: "Perpetrator",
    NodeKind.CHILD: "Child",
    NodeKind.OTHER_ADULT: "Other adult",
    NodeKind.AGENCY: "Agency",
    NodeKind.ANONYMISED: "Anonymised person",
}
_NODE_KIND_OF_ROLE = {
    CaseRole.VICTIM: NodeKind.VICTIM,
    CaseRole.PERPETRATOR: NodeKind.PERPETRATOR,
    CaseRole.CHILD: NodeKind.CHILD,
    CaseRole.OTHER_ADULT: NodeKind.OTHER_ADULT,
}
# When someone has different roles in different cases, the picture shows the weightiest.
_ROLE_WEIGHT = [CaseRole.PERPETRATOR, CaseRole.VICTIM, CaseRole.CHILD, CaseRole.OTHER_ADULT]


class LinkKind(StrEnum):
    PARTNER = RelationshipKind.PARTNER.value
    EX_PARTNER = RelationshipKind.EX_PARTNER.value
    PARENT = RelationshipKind.PARENT.value
    STEP_PARENT = RelationshipKind.STEP_PARENT.value
    SIBLING = RelationshipKind.SIBLING.value
    HOUSEHOLD_MEMBER = RelationshipKind.HOUSEHOLD_MEMBER.value
    INVOLVEMENT = "involvement"

    @property
    def label(self) -> str:
        return _LINK_LABELS[self]


_LINK_LABELS = {
    LinkKind.PARTNER: "Partner",
    LinkKind.EX_PARTNER: "Ex-partner",
    LinkKind.PARENT: "Parent (arrow to the child)",
    LinkKind.STEP_PARENT: "Step-parent (arrow to the child)",
    LinkKind.SIBLING: "Sibling",
    LinkKind.HOUSEHOLD_MEMBER: "Same household",
    LinkKind.INVOLVEMENT: "Agency works with",
}
_SHORT_LINK_LABELS = {
    LinkKind.PARTNER: "partner",
    LinkKind.EX_PARTNER: "ex-partner",
    LinkKind.PARENT: "parent",
    LinkKind.STEP_PARENT: "step-parent",
    LinkKind.SIBLING: "sibling",
    LinkKind.HOUSEHOLD_MEMBER: "same household",
}


@dataclass(frozen=True)
class NetworkNode:
    key: str  # "p12" or "a3": identifies the node within one drawing; never shown
    kind: NodeKind
    label: str
    description: str
    in_case: bool
    layer: int


@dataclass(frozen=True)
class NetworkLink:
    source: str
    target: str
    kind: LinkKind
    # Short words drawn beside the line, and the full sentence for the text list.
    label: str
    sentence: str
    # Parent kinds point from the parent (source) to the child (target).
    directed: bool


@dataclass(frozen=True)
class Finding:
    subject: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class LinkedCaseLine:
    case_id: int
    reference: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class ContactLine:
    label: str
    reasons: tuple[str, ...]
    path: str


@dataclass(frozen=True)
class ContactFinding:
    subject: str
    people: tuple[ContactLine, ...]


@dataclass(frozen=True)
class PresentedNetwork:
    case_id: int
    case_reference: str
    nodes: tuple[NetworkNode, ...]
    links: tuple[NetworkLink, ...]
    serial: tuple[Finding, ...]
    children: tuple[Finding, ...]
    linked_cases: tuple[LinkedCaseLine, ...]
    # Linked cases the viewer may not open; always 0 for perpetrator-facing viewers.
    other_cases: int
    # None when the viewer may not see who is offered partner contact.
    partner_contact: tuple[ContactFinding, ...] | None
    truncated: bool

    @property
    def people_count(self) -> int:
        return sum(1 for node in self.nodes if node.kind is not NodeKind.AGENCY)

    @property
    def agency_count(self) -> int:
        return sum(1 for node in self.nodes if node.kind is NodeKind.AGENCY)


def short_date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def present_network(
    session: Session,
    viewer: Viewer,
    opened: CaseLinks,
    nb: graph.Neighbourhood,
    reference: str,
) -> PresentedNetwork:
    """Project the neighbourhood of the opened case for one viewer."""
    if not policy.case_access(viewer, opened).full or nb.focus_case_id != opened.case_id:
        raise PermissionError("present_network called for a case the viewer may not open")
    return _Projection(session, viewer, opened, nb, reference).present()


class _Projection:
    def __init__(
        self,
        session: Session,
        viewer: Viewer,
        opened: CaseLinks,
        nb: graph.Neighbourhood,
        reference: str,
    ) -> None:
        self.viewer = viewer
        self.opened = opened
        self.nb = nb
        self.reference = reference
        self.focus_roles = nb.roles_in_focus()
        self.perpetrators = sorted(
            pid for pid, role in self.focus_roles.items() if role is CaseRole.PERPETRATOR
        )
        self.case_links = links_for_cases(session, viewer, nb.cases.values(), today=nb.today)
        self.case_links[opened.case_id] = opened
        self.exposed = {pid: graph.children_exposed(nb, pid) for pid in self.perpetrators}
        self.decisions = self._decide_people()
        self.labels = self._labels(session)

    # --- people -------------------------------------------------------------------------------

    def _decide_people(self) -> dict[int, policy.Decision]:
        partners = {
            other
            for pid in self.perpetrators
            for other, _step, data in self.nb.links(pid)
            if data["relationship"] in graph.PARTNER_KINDS
        }
        exposed = {child.person_id for found in self.exposed.values() for child in found}
        decisions = {}
        for pid in self.nb.person_ids():
            memberships = tuple(
                policy.CaseMembership(self.nb.cases[cid].reference, self.case_links[cid])
                for cid, _role in self.nb.memberships(pid)
                if cid in self.case_links
            )
            facts = policy.NetworkPersonFacts(
                person_id=pid,
                area_id=self.nb.person_data(pid).get("area_id"),
                memberships=memberships,
                partner_of_perpetrator=pid in partners,
                child_exposed=pid in exposed,
            )
            decisions[pid] = policy.network_person(self.viewer, self.opened, facts)
        return decisions

    def _labels(self, session: Session) -> dict[int, str]:
        full = [pid for pid, d in self.decisions.items() if d.full]
        names = person_names(session, full)
        labels = {pid: names[pid] for pid in full}
        # Numbered in the order they were recorded, nothing that depends on hidden people.
        anonymised = sorted(
            pid for pid, d in self.decisions.items() if d.level is policy.Level.SUMMARY
        )
        repeats = Counter(self.decisions[pid].summary for pid in anonymised)
        numbers: Counter[str] = Counter()
        for pid in anonymised:
            wording = self.decisions[pid].summary or "Someone"
            if repeats[wording] > 1:
                numbers[wording] += 1
                wording = f"{wording} {numbers[wording]}"
            labels[pid] = wording
        return labels

    def shown(self, pid: int) -> bool:
        return pid in self.labels

    def full(self, pid: int) -> bool:
        decision = self.decisions.get(pid)
        return decision is not None and decision.full

    def _openable(self, case_id: int) -> bool:
        links = self.case_links.get(case_id)
        return links is not None and policy.case_access(self.viewer, links).full

    def _person_node(self, pid: int) -> NetworkNode:
        in_case = pid in self.focus_roles
        if not self.full(pid):
            kind = NodeKind.ANONYMISED
            description = "Anonymised: you may know this person exists, not who they are."
        else:
            roles = [(cid, role) for cid, role in self.nb.memberships(pid) if self._openable(cid)]
            if in_case:
                kind = _NODE_KIND_OF_ROLE[self.focus_roles[pid]]
            elif roles:
                kind = _NODE_KIND_OF_ROLE[min((r for _, r in roles), key=_ROLE_WEIGHT.index)]
            else:
                kind = NodeKind.CHILD if self.nb.is_child(pid) else NodeKind.OTHER_ADULT
            description = self._roles_description(roles) if roles else "Not in any case."
        return NetworkNode(
            key=f"p{pid}",
            kind=kind,
            label=self.labels[pid],
            description=description,
            in_case=in_case,
            layer=0,  # set by _layers from what is shown
        )

    def _roles_description(self, roles: list[tuple[int, CaseRole]]) -> str:
        parts = []
        for cid, role in sorted(roles, key=lambda pair: (pair[0] != self.opened.case_id, pair)):
            where = "this case" if cid == self.opened.case_id else self.nb.cases[cid].reference
            parts.append(f"{role.label.lower()} in {where}")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    # --- links --------------------------------------------------------------------------------

    def _relationship_links(self) -> list[NetworkLink]:
        links = []
        for a, b, data in self.nb.relationships():
            decision = self._relationship(a, b)
            if decision.withheld:
                continue
            kind: RelationshipKind = data["relationship"]
            link_kind = LinkKind(kind.value)
            separated = data["separated_on"] if decision.full else None
            when = f"separated {short_date(separated)}" if separated else None
            label = when or _SHORT_LINK_LABELS[link_kind]
            sentence = f"{self.labels[a]} {relationship_phrase(kind)} {self.labels[b]}" + (
                f" ({when})" if when else ""
            )
            links.append(
                NetworkLink(
                    f"p{a}",
                    f"p{b}",
                    link_kind,
                    label,
                    sentence + ".",
                    directed=kind in graph.PARENT_KINDS,
                )
            )
        return links

    def _involvement_links(self) -> tuple[list[NetworkNode], list[NetworkLink]]:
        links = []
        people: dict[int, set[int]] = {}
        for pid, agency_id, data in self.nb.involvements():
            decision = policy.involvement_given_identity(
                self.viewer, self.decisions.get(pid, _WITHHELD), agency_id
            )
            if not decision.full:
                continue
            people.setdefault(agency_id, set()).add(pid)
            name = self._agency_name(agency_id)
            what = data["involvement"].label
            if data["worker_name"]:
                what = f"{what}, named worker {data['worker_name']}"
            links.append(
                NetworkLink(
                    f"a{agency_id}",
                    f"p{pid}",
                    LinkKind.INVOLVEMENT,
                    data["involvement"].label,
                    f"{name} works with {self.labels[pid]} ({what}).",
                    directed=False,
                )
            )
        agencies = [
            NetworkNode(
                key=f"a{agency_id}",
                kind=NodeKind.AGENCY,
                label=self._agency_name(agency_id),
                description=f"Works with {_count(len(pids), 'person', 'people')} shown here.",
                in_case=False,
                layer=0,  # set by _layers from what is shown
            )
            for agency_id, pids in people.items()
        ]
        return agencies, links

    def _agency_name(self, agency_id: int) -> str:
        return self.nb.graph.nodes[graph.agency_node(agency_id)]["name"]

    # --- paths --------------------------------------------------------------------------------

    def render(self, path: graph.Path) -> str | None:
        """The path in words, through the labels the viewer is shown; None if any person or link
        on it is withheld. A separation date is given only between two people shown in full."""
        labels = [self._node_label(node) for node in path.nodes]
        if any(label is None for label in labels):
            return None
        words = [labels[0]]
        for index, step in enumerate(path.steps):
            a, b = path.nodes[index], path.nodes[index + 1]
            phrase = step.phrase
            if a[0] == graph.PERSON and b[0] == graph.PERSON:
                decision = self._relationship(a[1], b[1])
                if decision.withheld:
                    return None
                if decision.full and step.separated_on is not None:
                    phrase = f"{phrase} (separated {short_date(step.separated_on)})"
            words += [phrase, labels[index + 1]]
        return " \u2192 ".join(words)

    def _relationship(self, a: int, b: int) -> policy.Decision:
        return policy.network_relationship(
            self.viewer,
            self.opened,
            self.decisions.get(a, _WITHHELD),
            self.decisions.get(b, _WITHHELD),
        )

    def _node_label(self, node: graph.Node) -> str | None:
        kind, node_id = node
        if kind == graph.PERSON:
            return self.labels.get(node_id)
        if kind == graph.CASE:
            links = self.case_links.get(node_id)
            if links is None:
                return None
            decision = policy.linked_case(self.viewer, self.opened, links)
            if decision.full:
                return self.nb.cases[node_id].reference
            return decision.summary
        return None

    def _first(self, paths: tuple[graph.Path, ...]) -> str | None:
        for path in paths:
            text = self.render(path)
            if text is not None:
                return text
        return None

    # --- findings -----------------------------------------------------------------------------

    def _serial(self) -> list[Finding]:
        findings = []
        for pid in self.perpetrators:
            if not self.shown(pid):
                continue
            found = graph.serial_perpetrator(self.nb, pid, self.opened.case_id)
            if found is None:
                continue
            lines = []
            hidden_cases = 0
            for path in found.other_cases:
                case_id = path.nodes[-1][1]
                decision = policy.linked_case(self.viewer, self.opened, self.case_links[case_id])
                if decision.full:
                    lines.append(self.render(path))
                elif decision.level is policy.Level.SUMMARY:
                    hidden_cases += 1
            if hidden_cases:
                lines.append(f"Perpetrator in {_cases_you_cannot_open(hidden_cases)}.")
            lines += [text for text in map(self.render, found.other_partners) if text]
            if lines:
                findings.append(Finding(self.labels[pid], tuple(lines)))
        return findings

    def _children(self) -> list[Finding]:
        findings = []
        for pid in self.perpetrators:
            if not self.shown(pid):
                continue
            lines = [self._first(child.paths) for child in self.exposed[pid]]
            lines = [line for line in lines if line]
            if lines:
                findings.append(Finding(self.labels[pid], tuple(lines)))
        return findings

    def _linked_cases(self) -> tuple[list[LinkedCaseLine], int]:
        lines = []
        hidden = 0
        for linked in graph.linked_cases(self.nb, self.opened.case_id):
            decision = policy.linked_case(self.viewer, self.opened, self.case_links[linked.case_id])
            if decision.full:
                paths = tuple(dict.fromkeys(t for t in map(self.render, linked.paths) if t))
                if paths:
                    reference = self.nb.cases[linked.case_id].reference
                    lines.append(LinkedCaseLine(linked.case_id, reference, paths))
            elif decision.level is policy.Level.SUMMARY:
                hidden += 1
        return lines, hidden

    def _partner_contact(self) -> list[ContactFinding] | None:
        if not policy.partner_contact_offers(self.viewer, self.opened).full:
            return None
        findings = []
        for pid in self.perpetrators:
            people = []
            for offer in graph.partners_to_offer_contact(self.nb, pid):
                path = self._first(offer.paths)
                if path is None or not self.shown(offer.person_id):
                    continue
                people.append(
                    ContactLine(
                        self.labels[offer.person_id],
                        tuple(reason.value for reason in offer.reasons),
                        path,
                    )
                )
            findings.append(ContactFinding(self.labels[pid], tuple(people)))
        return findings

    # --- all together -------------------------------------------------------------------------

    def present(self) -> PresentedNetwork:
        people = [self._person_node(pid) for pid in self.nb.person_ids() if self.shown(pid)]
        relationship_links = self._relationship_links()
        people = _layers(people, relationship_links)
        people.sort(key=lambda n: (n.layer, _KIND_ORDER[n.kind], n.label, n.key))
        agencies, involvement_links = self._involvement_links()
        agency_layer = max((n.layer for n in people), default=-1) + 1
        agencies = [replace(n, layer=agency_layer) for n in agencies]
        agencies.sort(key=lambda n: (n.label, n.key))
        linked, hidden = self._linked_cases()
        contact = self._partner_contact()
        return PresentedNetwork(
            case_id=self.opened.case_id,
            case_reference=self.reference,
            nodes=tuple(people + agencies),
            links=tuple(relationship_links + involvement_links),
            serial=tuple(self._serial()),
            children=tuple(self._children()),
            linked_cases=tuple(linked),
            other_cases=hidden,
            partner_contact=tuple(contact) if contact is not None else None,
            truncated=self.nb.truncated,
        )


def _layers(people: list[NetworkNode], links: list[NetworkLink]) -> list[NetworkNode]:
    """Rows of the picture from what is shown only: the case's people first, then those one
    shown link away, and so on; people joined by no shown link go in a row after them. Hop
    counts in the whole neighbourhood would hint at someone hidden between two shown people."""
    neighbours: dict[str, set[str]] = {n.key: set() for n in people}
    for link in links:
        neighbours[link.source].add(link.target)
        neighbours[link.target].add(link.source)
    layer = {n.key: 0 for n in people if n.in_case}
    frontier = sorted(layer)
    while frontier:
        reached = sorted({k for key in frontier for k in neighbours[key] if k not in layer})
        for key in reached:
            layer[key] = layer[frontier[0]] + 1
        frontier = reached
    unlinked = max(layer.values(), default=-1) + 1
    return [replace(n, layer=layer.get(n.key, unlinked)) for n in people]


_WITHHELD = policy.Decision(policy.Level.WITHHELD, "not in the network")
_KIND_ORDER = {kind: index for index, kind in enumerate(NodeKind)}


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _cases_you_cannot_open(count: int) -> str:
    return f"{_count(count, 'other case', 'other cases')} you cannot open"


def node_index(network: PresentedNetwork) -> Mapping[str, NetworkNode]:
    return {node.key: node for node in network.nodes}
