"""Who is asking: the viewer, and the viewer's links to the cases in front of them.

Built once per request (or per PDF, or per CLI run) from the database, then handed to
``marac.policy``, which never reads the request or the database itself. Links for many cases are
loaded with a fixed number of queries, so a list of 50 cases costs the same as a list of one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac.domain import (
    SURVIVOR_WORKER_KINDS,
    AgencyKind,
    AgencySide,
    CaseRole,
    CaseStatus,
    InvolvementKind,
    Role,
)
from marac.models import (
    Agency,
    Case,
    CasePerson,
    DisclosureOverride,
    InformationItem,
    Involvement,
    ProgrammeRecord,
    SharingConsent,
    User,
)
from marac.policy import PartnerContactFacts, ProgrammeFacts


@dataclass(frozen=True)
class Viewer:
    user_id: int
    username: str
    display_name: str
    role: Role
    agency_id: int
    agency_name: str
    agency_kind: AgencyKind
    agency_side: AgencySide
    area_id: int

    @property
    def perpetrator_facing(self) -> bool:
        return self.agency_side is AgencySide.PERPETRATOR_FACING


@dataclass(frozen=True)
class CaseLinks:
    """One case's facts that the policy needs, and how this viewer is connected to it."""

    case_id: int
    area_id: int
    status: CaseStatus
    referring_agency_id: int | None
    roles: Mapping[int, CaseRole]
    # People this viewer is the current named IDVA or partner-contact worker for.
    allocated: frozenset[int] = frozenset()
    # People the viewer's agency currently works with, in any capacity.
    agency_works_with: frozenset[int] = frozenset()
    # People who agreed that the viewer's agency may see their disclosures / contact details.
    consent_disclosures: frozenset[int] = frozenset()
    consent_contact: frozenset[int] = frozenset()
    # Items opened to the viewer's agency by an override.
    overridden_items: frozenset[int] = frozenset()

    @property
    def person_ids(self) -> frozenset[int]:
        return frozenset(self.roles)

    def with_role(self, role: CaseRole) -> frozenset[int]:
        return frozenset(pid for pid, r in self.roles.items() if r is role)

    @property
    def victim_id(self) -> int | None:
        victims = self.with_role(CaseRole.VICTIM)
        return next(iter(victims)) if victims else None


def viewer_for(user: User) -> Viewer:
    agency = user.agency
    return Viewer(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        agency_id=agency.id,
        agency_name=agency.name,
        agency_kind=agency.kind,
        agency_side=agency.side,
        area_id=agency.area_id,
    )


# No user has this id: an agency reader is never anyone's named worker, never recorded anything.
AGENCY_READER_USER_ID = 0


def agency_reader(agency: Agency) -> Viewer:
    """The reader an agency copy of the papers is written for: the agency's representative, with
    no personal links (``marac.policy``, "Papers"), so the copy holds only what the agency as a
    whole may see."""
    return Viewer(
        user_id=AGENCY_READER_USER_ID,
        username="",
        display_name=agency.name,
        role=Role.AGENCY_REP,
        agency_id=agency.id,
        agency_name=agency.name,
        agency_kind=agency.kind,
        agency_side=agency.side,
        area_id=agency.area_id,
    )


class CaseFacts(Protocol):
    """What ``links_for_cases`` reads of a case: an ORM ``Case``, or plain facts (the network
    reads cases it may not load whole, ``marac.graph.CaseFacts``)."""

    @property
    def id(self) -> int: ...
    @property
    def area_id(self) -> int: ...
    @property
    def status(self) -> CaseStatus: ...
    @property
    def referring_agency_id(self) -> int | None: ...


def _current(
    column_ended: sa.ColumnElement, today: date | sa.BindParameter
) -> sa.ColumnElement[bool]:
    return sa.or_(column_ended.is_(None), column_ended > today)


# Built once: these run on every request that opens a case, and building a statement costs
# more than SQLite takes to answer it.
_CASE_IDS = sa.bindparam("case_ids", expanding=True)
_PEOPLE = sa.bindparam("people", expanding=True)
_ROLES_IN_CASES = sa.select(CasePerson.case_id, CasePerson.person_id, CasePerson.role).where(
    CasePerson.case_id.in_(_CASE_IDS)
)
_AGENCY_INVOLVEMENTS = sa.select(
    Involvement.person_id, Involvement.worker_id, Involvement.kind
).where(
    Involvement.agency_id == sa.bindparam("agency_id"),
    Involvement.person_id.in_(_PEOPLE),
    _current(Involvement.ended_on, sa.bindparam("today")),
)
_AGENCY_CONSENTS = sa.select(
    SharingConsent.person_id, SharingConsent.covers_disclosures, SharingConsent.covers_contact
).where(
    SharingConsent.agency_id == sa.bindparam("agency_id"),
    SharingConsent.person_id.in_(_PEOPLE),
    _current(SharingConsent.withdrawn_on, sa.bindparam("today")),
)
_AGENCY_OVERRIDES = (
    sa.select(InformationItem.case_id, DisclosureOverride.item_id)
    .join(InformationItem, InformationItem.id == DisclosureOverride.item_id)
    .where(
        InformationItem.case_id.in_(_CASE_IDS),
        DisclosureOverride.agency_id == sa.bindparam("agency_id"),
        DisclosureOverride.revoked_at.is_(None),
    )
)


def links_for_cases(
    session: Session, viewer: Viewer, cases: Iterable[CaseFacts], today: date | None = None
) -> dict[int, CaseLinks]:
    """The viewer's links to each of ``cases``, in four queries whatever the number of cases."""
    today = today or date.today()
    cases = list(cases)
    if not cases:
        return {}
    case_ids = [c.id for c in cases]

    roles: dict[int, dict[int, CaseRole]] = defaultdict(dict)
    for case_id, person_id, role in session.execute(_ROLES_IN_CASES, {"case_ids": case_ids}):
        roles[case_id][person_id] = role
    people = list({pid for members in roles.values() for pid in members})
    agency = {"agency_id": viewer.agency_id, "people": people, "today": today}

    allocated: set[int] = set()
    works_with: set[int] = set()
    consent_disclosures: set[int] = set()
    consent_contact: set[int] = set()
    if people:
        for person_id, worker_id, kind in session.execute(_AGENCY_INVOLVEMENTS, agency):
            works_with.add(person_id)
            if worker_id == viewer.user_id and kind in SURVIVOR_WORKER_KINDS:
                allocated.add(person_id)
        for person_id, disclosures, contact in session.execute(_AGENCY_CONSENTS, agency):
            if disclosures:
                consent_disclosures.add(person_id)
            if contact:
                consent_contact.add(person_id)

    overridden: dict[int, set[int]] = defaultdict(set)
    for case_id, item_id in session.execute(
        _AGENCY_OVERRIDES, {"case_ids": case_ids, "agency_id": viewer.agency_id}
    ):
        overridden[case_id].add(item_id)

    links = {}
    for case in cases:
        members = roles.get(case.id, {})
        ids = set(members)
        links[case.id] = CaseLinks(
            case_id=case.id,
            area_id=case.area_id,
            status=case.status,
            referring_agency_id=case.referring_agency_id,
            roles=dict(members),
            allocated=frozenset(allocated & ids),
            agency_works_with=frozenset(works_with & ids),
            consent_disclosures=frozenset(consent_disclosures & ids),
            consent_contact=frozenset(consent_contact & ids),
            overridden_items=frozenset(overridden.get(case.id, ())),
        )
    return links


def links_for_case(session: Session, viewer: Viewer, case: Case) -> CaseLinks:
    return links_for_cases(session, viewer, [case])[case.id]


def agency_names(session: Session, agency_ids: Iterable[int]) -> dict[int, str]:
    ids = set(agency_ids)
    if not ids:
        return {}
    return dict(session.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(ids))).all())


class PartnerContactRow(Protocol):
    """What ``partner_contact_facts`` reads of a record: an ORM row or plain facts."""

    @property
    def id(self) -> int: ...
    @property
    def area_id(self) -> int: ...
    @property
    def person_id(self) -> int: ...
    @property
    def agency_id(self) -> int: ...


def partner_contact_facts(
    session: Session, records: Iterable[PartnerContactRow], today: date | None = None
) -> dict[int, PartnerContactFacts]:
    """The policy's facts for each partner-contact record (her current named workers), in one
    query whatever the number of records."""
    today = today or date.today()
    records = list(records)
    people = {r.person_id for r in records}
    workers: dict[tuple[int, int], set[int]] = defaultdict(set)
    if people:
        for person_id, agency_id, worker_id in session.execute(
            sa.select(Involvement.person_id, Involvement.agency_id, Involvement.worker_id).where(
                Involvement.person_id.in_(people),
                Involvement.kind == InvolvementKind.PARTNER_CONTACT,
                Involvement.worker_id.is_not(None),
                _current(Involvement.ended_on, today),
            )
        ):
            workers[(person_id, agency_id)].add(worker_id)
    return {
        r.id: PartnerContactFacts(
            record_id=r.id,
            area_id=r.area_id,
            person_id=r.person_id,
            agency_id=r.agency_id,
            worker_ids=frozenset(workers.get((r.person_id, r.agency_id), ())),
        )
        for r in records
    }


def programme_facts(record: ProgrammeRecord) -> ProgrammeFacts:
    return ProgrammeFacts(
        record_id=record.id,
        area_id=record.area_id,
        man_id=record.person_id,
        agency_id=record.agency_id,
    )
