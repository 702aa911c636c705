"""Turns database rows into what one viewer may see. Withheld things are absent, not flagged.

Templates, PDFs and the network picture only ever receive these presented objects. Sensitive
columns (contact details, item text) are read from the database only for the rows the policy
has already opened to this viewer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from marac import clock, policy
from marac.domain import CaseRole, RelationshipKind
from marac.models import (
    Agency,
    Case,
    ContactDetails,
    InformationItem,
    Involvement,
    Person,
    Relationship,
    User,
)
from marac.viewer import CaseLinks, Viewer

ROLE_ORDER = {
    CaseRole.VICTIM: 0,
    CaseRole.PERPETRATOR: 1,
    CaseRole.CHILD: 2,
    CaseRole.OTHER_ADULT: 3,
}


@dataclass(frozen=True)
class PresentedContact:
    address: str | None
    safe_phone: str | None
    safe_to_call: bool | None
    safe_times: str | None
    may_leave_message: bool | None
    notes: str | None
    feared_people: str | None = None
    safe_to_speak_to: str | None = None
    not_safe_to_speak_to: str | None = None


@dataclass(frozen=True)
class PresentedPerson:
    person_id: int
    role: CaseRole
    # The name, or the anonymised label ("The victim") when identity is withheld.
    label: str
    identified: bool
    date_of_birth: date | None = None
    gender_label: str | None = None
    aliases: tuple[str, ...] = ()
    contact: PresentedContact | None = None
    contact_note: str | None = None
    involvements: tuple[str, ...] = ()
    # (question, answer) pairs of equality monitoring; empty when the policy withholds them.
    equality: tuple[tuple[str, str], ...] = ()

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


@dataclass(frozen=True)
class PresentedRelationship:
    from_label: str
    kind_label: str
    to_label: str
    separated_on: date | None


@dataclass(frozen=True)
class PresentedItem:
    item_id: int
    about_label: str
    text: str
    source_label: str
    nature_label: str
    classification_label: str
    agency_name: str
    recorded_by: str | None
    recorded_on: date


@dataclass(frozen=True)
class PresentedCase:
    case_id: int
    reference: str
    status_label: str
    referred_on: date
    referring_agency: str | None
    people: tuple[PresentedPerson, ...]
    relationships: tuple[PresentedRelationship, ...]
    items: tuple[PresentedItem, ...]
    # Safe wordings for what exists but may not be read, each once.
    summaries: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class CaseRow:
    case_id: int
    reference: str
    status_label: str
    referred_on: date
    victim: str | None
    perpetrators: tuple[str, ...]


def _people_labels(
    viewer: Viewer, links: CaseLinks, people: Mapping[int, Person]
) -> dict[int, tuple[policy.Decision, str]]:
    """The decision and the label shown for each person of a case; withheld people are left out."""
    labels = {}
    for person_id in links.roles:
        decision = policy.person_identity(viewer, links, person_id)
        if decision.full:
            labels[person_id] = (decision, people[person_id].full_name)
        elif decision.level is policy.Level.SUMMARY:
            labels[person_id] = (decision, decision.summary or "Someone")
    return labels


def case_rows(
    session: Session, viewer: Viewer, cases: Iterable[Case], links: Mapping[int, CaseLinks]
) -> list[CaseRow]:
    cases = [c for c in cases if policy.case_access(viewer, links[c.id]).full]
    person_ids = {pid for c in cases for pid in links[c.id].roles}
    people = _load_people(session, person_ids)
    rows = []
    for case in cases:
        case_links = links[case.id]
        labels = _people_labels(viewer, case_links, people)
        victim = case_links.victim_id
        perpetrators = sorted(
            labels[pid][1] for pid in case_links.with_role(CaseRole.PERPETRATOR) if pid in labels
        )
        rows.append(
            CaseRow(
                case_id=case.id,
                reference=case.reference,
                status_label=case.status.label,
                referred_on=case.referred_on,
                victim=labels[victim][1] if victim in labels else None,
                perpetrators=tuple(perpetrators),
            )
        )
    return rows


def person_names(session: Session, person_ids: Iterable[int]) -> dict[int, str]:
    """Full names by person id, read only for the ids given: callers pass only the people the
    policy shows in full."""
    ids = set(person_ids)
    if not ids:
        return {}
    return dict(
        session.execute(
            sa.select(Person.id, Person.given_name + " " + Person.family_name).where(
                Person.id.in_(ids)
            )
        ).all()
    )


# The case page's statements, built once: building one costs about as much as SQLite takes to
# answer it, and the page runs a dozen on every view.
_CURRENT_INVOLVEMENTS = (
    sa.select(
        Involvement.id,
        Involvement.version,
        Involvement.person_id,
        Involvement.agency_id,
        Involvement.kind,
        Involvement.started_on,
        Agency.name.label("agency_name"),
        User.display_name.label("worker_name"),
    )
    .join(Agency, Agency.id == Involvement.agency_id)
    .outerjoin(User, User.id == Involvement.worker_id)
    .where(
        Involvement.person_id.in_(sa.bindparam("people", expanding=True)),
        sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > sa.bindparam("today")),
    )
    .order_by(Agency.name, Involvement.started_on, Involvement.id)
)
_AREA_AGENCIES = (
    sa.select(Agency.id, Agency.name, Agency.is_active)
    .where(Agency.area_id == sa.bindparam("area_id"))
    .order_by(Agency.name)
)
_AREA_USERS = (
    sa.select(User.id, User.display_name, User.agency_id, User.role)
    .join(Agency, Agency.id == User.agency_id)
    .where(Agency.area_id == sa.bindparam("area_id"), User.is_enabled.is_(True))
    .order_by(User.display_name, User.id)
)
_PEOPLE_WITH_ALIASES = (
    sa.select(Person)
    .where(Person.id.in_(sa.bindparam("ids", expanding=True)))
    .options(joinedload(Person.aliases))
)
_CONTACTS = sa.select(ContactDetails).where(
    ContactDetails.person_id.in_(sa.bindparam("people", expanding=True))
)
_RELATIONSHIPS_AMONG = (
    sa.select(Relationship)
    .where(
        Relationship.person_id.in_(sa.bindparam("people", expanding=True)),
        Relationship.other_person_id.in_(sa.bindparam("others", expanding=True)),
    )
    .order_by(Relationship.id)
)
# An information item's facts for the policy, without its text (the case page, the minutes).
ITEM_FACTS = (
    sa.select(
        InformationItem.id,
        InformationItem.agenda_item_id,
        InformationItem.about_person_id,
        InformationItem.source,
        InformationItem.classification,
        InformationItem.recorded_by_agency_id,
        InformationItem.recorded_by_id,
        InformationItem.recorded_at,
        InformationItem.withheld_reason,
        Agency.name,
    )
    .join(Agency, Agency.id == InformationItem.recorded_by_agency_id)
    .order_by(InformationItem.recorded_at, InformationItem.id)
)
_ITEMS_OF_CASE = ITEM_FACTS.where(InformationItem.case_id == sa.bindparam("case_id"))
_ITEMS_OF_AGENDA_ITEM = _ITEMS_OF_CASE.where(
    InformationItem.agenda_item_id == sa.bindparam("agenda_item_id")
)
# The text of items the policy opened (and who recorded it): columns, not whole rows.
ITEM_TEXTS = (
    sa.select(InformationItem.id, InformationItem.text, InformationItem.nature, User.display_name)
    .outerjoin(User, User.id == InformationItem.recorded_by_id)
    .where(InformationItem.id.in_(sa.bindparam("item_ids", expanding=True)))
)


class CaseReads:
    """Rows several sections of one case page need, each read once for the page.

    The people, their involvements and the area's agencies and workers were each read two or
    three times (by the people cards, the agencies section and the two forms). A reader is made
    for one page and thrown away with it, so nothing read here outlives the request; a section's
    own route makes its own.
    """

    def __init__(self, session: Session, links: CaseLinks) -> None:
        self.session = session
        self.links = links
        self._people: dict[int, Person] | None = None
        self._names: dict[frozenset[int], dict[int, str]] = {}
        self._involvements: dict[date, list[sa.Row]] = {}
        self._agencies: list[sa.Row] | None = None
        self._users: list[sa.Row] | None = None

    def people(self) -> dict[int, Person]:
        """Every person of the case, with their aliases; callers show only what the policy opens."""
        if self._people is None:
            self._people = _load_people(self.session, self.links.roles)
        return self._people

    def names(self, person_ids: Iterable[int]) -> dict[int, str]:
        """Full names of these people of the case (callers pass only those they may name)."""
        ids = frozenset(person_ids)
        if self._people is not None:
            return {pid: self._people[pid].full_name for pid in ids if pid in self._people}
        if ids not in self._names:
            self._names[ids] = person_names(self.session, ids)
        return self._names[ids]

    def involvements(self, today: date) -> list[sa.Row]:
        """The current involvements of everyone in the case (id, version, person_id, agency_id,
        kind, started_on, agency_name, worker_name), by agency name then start; callers keep
        those the policy shows. Columns, not whole rows: nothing here is changed."""
        if today not in self._involvements:
            people = list(self.links.roles)
            self._involvements[today] = (
                self.session.execute(
                    _CURRENT_INVOLVEMENTS, {"people": people, "today": today}
                ).all()
                if people
                else []
            )
        return self._involvements[today]

    def area_agencies(self) -> list[sa.Row]:
        """The case's area's agencies (id, name, is_active), active or not, by name."""
        if self._agencies is None:
            self._agencies = self.session.execute(
                _AREA_AGENCIES, {"area_id": self.links.area_id}
            ).all()
        return self._agencies

    def area_users(self) -> list[sa.Row]:
        """The enabled users of the area's agencies (id, display_name, agency_id, role), by name."""
        if self._users is None:
            self._users = self.session.execute(_AREA_USERS, {"area_id": self.links.area_id}).all()
        return self._users


def _load_people(session: Session, person_ids: Iterable[int]) -> dict[int, Person]:
    ids = set(person_ids)
    if not ids:
        return {}
    # One query: a case has a handful of people and aliases, so joining them costs less than
    # a second round trip.
    rows = session.scalars(_PEOPLE_WITH_ALIASES, {"ids": list(ids)}).unique()
    return {p.id: p for p in rows}


EQUALITY_QUESTIONS = (
    ("ethnic_group", "Ethnic group"),
    ("sexual_orientation", "Sexual orientation"),
    ("trans_history", "Gender the same as registered at birth"),
    ("disability", "Disabled"),
)


def equality_answers(person: Person) -> tuple[tuple[str, str], ...]:
    """Only after ``policy.equality_details`` has opened them."""
    return tuple((question, getattr(person, name).label) for name, question in EQUALITY_QUESTIONS)


def present_case(
    session: Session,
    viewer: Viewer,
    case: Case,
    links: CaseLinks,
    reads: CaseReads | None = None,
) -> PresentedCase:
    if not policy.case_access(viewer, links).full:
        raise PermissionError("present_case called for a case the viewer may not open")
    reads = reads or CaseReads(session, links)
    people = reads.people()
    labels = _people_labels(viewer, links, people)

    contact_decisions = {pid: policy.contact_details(viewer, links, pid) for pid in labels}
    open_contact_ids = [pid for pid, d in contact_decisions.items() if d.full]
    contacts = (
        {c.person_id: c for c in session.scalars(_CONTACTS, {"people": open_contact_ids})}
        if open_contact_ids
        else {}
    )

    involvement_lines: dict[int, list[str]] = defaultdict(list)
    # The service's today (London), as the agencies section below uses: the server's clock
    # (UTC) could end an involvement an hour apart from it on the same page.
    today = clock.service_today()
    for inv in reads.involvements(today):
        if inv.person_id not in labels:
            continue
        if policy.involvement(viewer, links, inv.person_id, inv.agency_id).full:
            agency_name, worker_name = inv.agency_name, inv.worker_name
            who = f" ({worker_name})" if worker_name else ""
            involvement_lines[inv.person_id].append(f"{agency_name}: {inv.kind.label}{who}")

    presented_people = []
    for pid, (decision, label) in labels.items():
        person = people[pid]
        contact_decision = contact_decisions[pid]
        contact = contacts.get(pid)
        presented_people.append(
            PresentedPerson(
                person_id=pid,
                role=links.roles[pid],
                label=label,
                identified=decision.full,
                date_of_birth=person.date_of_birth if decision.full else None,
                gender_label=person.gender.label if decision.full else None,
                aliases=tuple(a.name for a in person.aliases) if decision.full else (),
                contact=_present_contact(contact) if contact_decision.full and contact else None,
                contact_note=contact_decision.summary,
                involvements=tuple(involvement_lines.get(pid, ())),
                equality=(
                    equality_answers(person)
                    if policy.equality_details(viewer, links, pid).full
                    else ()
                ),
            )
        )
    presented_people.sort(key=lambda p: (ROLE_ORDER[p.role], p.label))

    relationships = []
    if len(labels) > 1:
        for rel in session.scalars(
            _RELATIONSHIPS_AMONG, {"people": list(labels), "others": list(labels)}
        ):
            if not policy.relationship(viewer, links, rel.person_id, rel.other_person_id).full:
                continue
            relationships.append(
                PresentedRelationship(
                    from_label=labels[rel.person_id][1],
                    kind_label=relationship_phrase(rel.kind),
                    to_label=labels[rel.other_person_id][1],
                    separated_on=rel.separated_on,
                )
            )

    items, summaries = present_items(session, viewer, links, case.id, labels)
    referring_agency = None
    if policy.referral_source(viewer, links).full and case.referring_agency_id is not None:
        # Nearly always an agency of the case's area, already read for the page's forms.
        in_area = {a.id: a.name for a in reads.area_agencies()}
        referring_agency = in_area.get(case.referring_agency_id) or case.referring_agency.name
    return PresentedCase(
        case_id=case.id,
        reference=case.reference,
        status_label=case.status.label,
        referred_on=case.referred_on,
        referring_agency=referring_agency,
        people=tuple(presented_people),
        relationships=tuple(relationships),
        items=tuple(items),
        summaries=tuple(summaries),
    )


_RELATIONSHIP_PHRASES = {
    RelationshipKind.PARTNER: "is the partner of",
    RelationshipKind.EX_PARTNER: "is the ex-partner of",
    RelationshipKind.PARENT: "is a parent of",
    RelationshipKind.STEP_PARENT: "is a step-parent of",
    RelationshipKind.SIBLING: "is a sibling of",
    RelationshipKind.HOUSEHOLD_MEMBER: "lives in the same household as",
}


def relationship_phrase(kind: RelationshipKind) -> str:
    return _RELATIONSHIP_PHRASES[kind]


def _present_contact(contact: ContactDetails) -> PresentedContact:
    return PresentedContact(
        address=contact.address,
        safe_phone=contact.safe_phone,
        safe_to_call=contact.safe_to_call,
        safe_times=contact.safe_times,
        may_leave_message=contact.may_leave_message,
        notes=contact.notes,
        feared_people=contact.feared_people,
        safe_to_speak_to=contact.safe_to_speak_to,
        not_safe_to_speak_to=contact.not_safe_to_speak_to,
    )


def people_labels(
    session: Session, viewer: Viewer, links: CaseLinks
) -> dict[int, tuple[policy.Decision, str]]:
    """Each person of the case the viewer may know of: the decision and the label shown."""
    return _people_labels(viewer, links, _load_people(session, links.roles))


def present_items(
    session: Session,
    viewer: Viewer,
    links: CaseLinks,
    case_id: int,
    labels: Mapping[int, tuple[policy.Decision, str]],
    agenda_item_id: int | None = None,
) -> tuple[list[PresentedItem], list[str]]:
    """The case's information items (or only those recorded for one agenda item) as the viewer
    may see them, and the safe wordings for those held but not shown, each once."""
    # Metadata first, without the text: the text is loaded only for the items the policy opens.
    if agenda_item_id is None:
        rows = session.execute(_ITEMS_OF_CASE, {"case_id": case_id}).all()
    else:
        rows = session.execute(
            _ITEMS_OF_AGENDA_ITEM, {"case_id": case_id, "agenda_item_id": agenda_item_id}
        ).all()
    decisions = {row.id: policy.information_item(viewer, links, item_facts(row)) for row in rows}

    open_ids = [item_id for item_id, d in decisions.items() if d.full]
    # The text (and who recorded it), only for the items opened: columns, not whole rows, since
    # a meeting shows every item of the case to every attendee every time something changes.
    details = (
        {detail.id: detail for detail in session.execute(ITEM_TEXTS, {"item_ids": open_ids})}
        if open_ids
        else {}
    )
    return items_as_decided(rows, decisions, details, labels)


def item_facts(row: Any) -> policy.ItemFacts:
    """What the policy reads of an item, from a row of ``ITEM_FACTS``."""
    return policy.ItemFacts(
        id=row.id,
        about_person_id=row.about_person_id,
        source=row.source,
        classification=row.classification,
        recorded_by_agency_id=row.recorded_by_agency_id,
        recorded_by_agency_name=row.name,
        recorded_by_id=row.recorded_by_id,
        recorded_on=row.recorded_at.date(),
        withheld_reason=row.withheld_reason,
    )


def items_as_decided(
    rows: Iterable[Any],
    decisions: dict[int, policy.Decision],
    details: dict[int, Any],
    labels: dict[int, tuple[policy.Decision, str]],
) -> tuple[list[PresentedItem], list[str]]:
    """Items' metadata rows as the policy decided them for one viewer: the opened ones in full
    (their text from ``details``), and each summary wording once for those it summarises."""
    presented: list[PresentedItem] = []
    summaries: list[str] = []
    for row in rows:
        decision = decisions[row.id]
        if decision.full:
            detail = details[row.id]
            about = (
                labels[row.about_person_id][1] if row.about_person_id in labels else "The household"
            )
            presented.append(
                PresentedItem(
                    item_id=row.id,
                    about_label=about,
                    text=detail.text,
                    source_label=row.source.label,
                    nature_label=detail.nature.label,
                    classification_label=row.classification.label,
                    agency_name=row.name,
                    recorded_by=detail.display_name,
                    recorded_on=row.recorded_at.date(),
                )
            )
        elif decision.level is policy.Level.SUMMARY and decision.summary not in summaries:
            summaries.append(decision.summary)
    return presented, summaries
