"""Allocating agencies and named workers to people, and who must be offered partner contact.

The rules that come straight from practice, enforced here for every allocation whatever screen or
command asks for it:

(a) a worker who works, or has worked, with a perpetrator as his named worker is never the
    partner-contact or IDVA worker (``SURVIVOR_WORKER_KINDS``) of any of his current or former
    partners, and the other way round: the named survivor worker of one of his partners is never
    allocated to work with him;
(b) each current or former partner of the same man has her own partner-contact or IDVA worker: a
    worker who is, or was, the survivor worker of one of them is never allocated as survivor worker
    to another.

Ended involvements count too: a worker who has heard one partner's account, or sat with him, keeps
what they learnt (stricter where in doubt). A perpetrator is someone recorded as the perpetrator in
any case, or in a behaviour-change programme.

Refusals are returned as messages tied to a form field; they name the worker and this person only,
never the man or the other partner, so a refusal cannot tell the person allocating anything they
may not see. Every allocation and ending is audited, and so is every refused allocation (who
asked, what for, and the rules that refused it, in those same words); the request commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import audit, graph
from marac.domain import (
    SURVIVOR_WORKER_KINDS,
    AgencySide,
    CaseRole,
    InvolvementKind,
)
from marac.extensions import db
from marac.models import Agency, Case, CasePerson, Involvement, Relationship, User


@dataclass(frozen=True)
class Refusal:
    field: str  # the form field the message belongs beside
    message: str


class AllocationRefused(Exception):
    def __init__(self, refusals: Iterable[Refusal]) -> None:
        self.refusals = tuple(refusals)
        super().__init__(" ".join(r.message for r in self.refusals))


@dataclass(frozen=True)
class AllocationRequest:
    case_id: int
    person_id: int
    agency_id: int
    kind: InvolvementKind
    worker_id: int | None
    started_on: date


RULE_A = (
    "A worker who works with a perpetrator is never the partner-contact or IDVA worker for any "
    "of his partners."
)
RULE_B = "Each partner of the same man has her own partner-contact or IDVA worker."


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session


def check_allocation(
    request: AllocationRequest, today: date, session: Session | None = None
) -> list[Refusal]:
    """Every reason the allocation may not be made, as messages for the form; empty if it may."""
    session = _session(session)
    case = session.get(Case, request.case_id)
    if case is None:
        return [Refusal("person_id", "This case no longer exists.")]
    roles = dict(
        session.execute(
            sa.select(CasePerson.person_id, CasePerson.role).where(CasePerson.case_id == case.id)
        ).all()
    )
    agency = session.get(Agency, request.agency_id)
    refusals = []
    if request.person_id not in roles:
        refusals.append(Refusal("person_id", "Choose someone in this case."))
    if agency is None or agency.area_id != case.area_id:
        refusals.append(Refusal("agency_id", "Choose an agency of this area."))
    elif not agency.is_active:
        refusals.append(Refusal("agency_id", f"{agency.name} is no longer active."))
    if refusals:
        return refusals

    kind = request.kind
    his_case = roles[request.person_id] is CaseRole.PERPETRATOR
    if agency.side is AgencySide.PERPETRATOR_FACING and not his_case:
        refusals.append(
            Refusal("agency_id", f"{agency.name} works only with perpetrators, not this person.")
        )
    if kind in SURVIVOR_WORKER_KINDS:
        if his_case:
            refusals.append(
                Refusal("kind", f"{kind.label} is for survivors, not for a perpetrator.")
            )
        elif agency.side is not AgencySide.VICTIM_FACING:
            refusals.append(Refusal("kind", f"{kind.label} comes from a victim-facing agency."))
    if kind is InvolvementKind.PERPETRATOR_PROGRAMME and not his_case:
        refusals.append(
            Refusal("kind", "A behaviour-change programme works with a perpetrator of this case.")
        )
    if request.started_on > today:
        refusals.append(Refusal("started_on", "The start date cannot be in the future."))

    worker = session.get(User, request.worker_id) if request.worker_id is not None else None
    if request.worker_id is not None:
        if worker is None or worker.agency_id != agency.id:
            refusals.append(
                Refusal("worker_id", f"Choose a worker of {agency.name}, or no named worker.")
            )
            worker = None
        elif not worker.is_enabled:
            refusals.append(Refusal("worker_id", f"{worker.display_name}'s account is disabled."))

    duplicate = session.scalar(
        sa.select(Involvement.id).where(
            Involvement.agency_id == agency.id,
            Involvement.person_id == request.person_id,
            Involvement.kind == kind,
            Involvement.worker_id.is_(None)
            if request.worker_id is None
            else Involvement.worker_id == request.worker_id,
            _current(today),
        )
    )
    if duplicate is not None:
        refusals.append(
            Refusal("kind", f"{agency.name} already works with this person in this way.")
        )
    if worker is not None and not refusals:
        refusals += _practice_rules(session, request.person_id, kind, worker, today)
    return refusals


def check_partner_contact_worker(
    person_id: int,
    agency_id: int,
    worker_id: int | None,
    today: date,
    session: Session | None = None,
) -> list[Refusal]:
    """Whether ``worker_id`` may become her partner-contact worker at ``agency_id``, outside any
    one case (a handover, or a partner in no MARAC case): the same rules as ``check_allocation``."""
    session = _session(session)
    agency = session.get(Agency, agency_id)
    worker = session.get(User, worker_id) if worker_id is not None else None
    if agency is None or not agency.is_active:
        return [Refusal("worker_id", "Her partner-contact service is no longer active.")]
    if worker is None or worker.agency_id != agency.id:
        return [Refusal("worker_id", f"Choose a worker of {agency.name}.")]
    if not worker.is_enabled:
        return [Refusal("worker_id", f"{worker.display_name}'s account is disabled.")]
    if agency.side is not AgencySide.VICTIM_FACING:
        return [Refusal("worker_id", "Partner contact comes from a victim-facing agency.")]
    if _perpetrators(session, {person_id}):
        return [Refusal("worker_id", "Partner contact is for survivors, not for a perpetrator.")]
    return _practice_rules(session, person_id, InvolvementKind.PARTNER_CONTACT, worker, today)


def _current(today: date) -> sa.ColumnElement[bool]:
    return sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > today)


def _practice_rules(
    session: Session, person_id: int, kind: InvolvementKind, worker: User, today: date
) -> list[Refusal]:
    """Rules (a) and (b) of the module docstring, for a named worker."""
    her_partners = _partners(session, {person_id}).get(person_id, set())
    worked_with: dict[int, set[InvolvementKind]] = defaultdict(set)
    for pid, involvement_kind in session.execute(
        sa.select(Involvement.person_id, Involvement.kind).where(Involvement.worker_id == worker.id)
    ):
        worked_with[pid].add(involvement_kind)
    survivor_of = {pid for pid, kinds in worked_with.items() if kinds & SURVIVOR_WORKER_KINDS}
    name = worker.display_name
    refusals = []
    if kind in SURVIVOR_WORKER_KINDS:
        men = _perpetrators(session, her_partners & set(worked_with))
        if men:
            refusals.append(
                Refusal(
                    "worker_id",
                    f"{name} works with a man who is, or was, this person's partner. {RULE_A}",
                )
            )
        others = set().union(*_partners(session, her_partners).values()) - {person_id}
        if others & survivor_of:
            refusals.append(
                Refusal(
                    "worker_id",
                    f"{name} is already the partner-contact or IDVA worker for another current "
                    f"or former partner of the same man. {RULE_B}",
                )
            )
    he_is_a_perpetrator = kind is InvolvementKind.PERPETRATOR_PROGRAMME or _perpetrators(
        session, {person_id}
    )
    if he_is_a_perpetrator and her_partners & survivor_of:
        refusals.append(
            Refusal(
                "worker_id",
                f"{name} is the partner-contact or IDVA worker for a current or former partner "
                f"of this person. {RULE_A}",
            )
        )
    return refusals


def _partners(session: Session, people: set[int]) -> dict[int, set[int]]:
    """Current and former partners of each of ``people``, whichever way round recorded."""
    found: dict[int, set[int]] = defaultdict(set)
    if not people:
        return found
    kinds = list(graph.PARTNER_KINDS)
    rows = session.execute(
        sa.union_all(
            sa.select(Relationship.person_id, Relationship.other_person_id).where(
                Relationship.person_id.in_(people), Relationship.kind.in_(kinds)
            ),
            sa.select(Relationship.other_person_id, Relationship.person_id).where(
                Relationship.other_person_id.in_(people), Relationship.kind.in_(kinds)
            ),
        )
    )
    for someone, partner in rows:
        found[someone].add(partner)
    return found


def partners_of(session: Session, person_id: int) -> set[int]:
    """Her current and former partners, whichever way round recorded."""
    return set(_partners(session, {person_id}).get(person_id, set()))


def _perpetrators(session: Session, people: set[int]) -> set[int]:
    """Those of ``people`` recorded as a perpetrator in any case or in a programme."""
    if not people:
        return set()
    rows = session.execute(
        sa.union(
            sa.select(CasePerson.person_id).where(
                CasePerson.person_id.in_(people), CasePerson.role == CaseRole.PERPETRATOR
            ),
            sa.select(Involvement.person_id).where(
                Involvement.person_id.in_(people),
                Involvement.kind == InvolvementKind.PERPETRATOR_PROGRAMME,
            ),
        )
    )
    return {row[0] for row in rows}


def allocate_worker(
    request: AllocationRequest, today: date, session: Session | None = None
) -> Involvement:
    """Add the involvement, or raise ``AllocationRefused`` with every reason it may not be made."""
    session = _session(session)
    refusals = check_allocation(request, today, session)
    if refusals:
        record_refusal(request, [r.message for r in refusals], session)
        raise AllocationRefused(refusals)
    involvement = Involvement(
        agency_id=request.agency_id,
        person_id=request.person_id,
        worker_id=request.worker_id,
        kind=request.kind,
        started_on=request.started_on,
    )
    session.add(involvement)
    session.flush()
    audit.record(
        "involvement.create",
        object_type="involvement",
        object_id=involvement.id,
        detail=_audit_detail(session, request.case_id, involvement),
        session=session,
    )
    return involvement


def record_refusal(
    request: AllocationRequest, reasons: Iterable[str], session: Session | None = None
) -> None:
    """Audit a refused allocation: what was asked for, and why not. The reasons are the messages
    shown beside the form, which name the worker and this person only, never the man or another
    partner. A refusal answers 400, which rolls the request back: the caller commits this."""
    session = _session(session)
    audit.record(
        "involvement.refused",
        object_type="case",
        object_id=request.case_id,
        detail=_describe(
            session,
            request.case_id,
            request.agency_id,
            request.kind,
            request.person_id,
            request.worker_id,
        )
        + "; refused: "
        + " ".join(reasons),
        session=session,
    )


def end_involvement(
    involvement: Involvement, case_id: int, today: date, session: Session | None = None
) -> None:
    """End an involvement today. Ending never deletes it: who worked with whom stays on record."""
    session = _session(session)
    if involvement.ended_on is not None and involvement.ended_on <= today:
        raise AllocationRefused([Refusal("involvement", "This involvement has already ended.")])
    involvement.ended_on = today
    session.flush()
    audit.record(
        "involvement.end",
        object_type="involvement",
        object_id=involvement.id,
        detail=_audit_detail(session, case_id, involvement),
        session=session,
    )


def _audit_detail(session: Session, case_id: int, involvement: Involvement) -> str:
    return _describe(
        session,
        case_id,
        involvement.agency_id,
        involvement.kind,
        involvement.person_id,
        involvement.worker_id,
    )


def _describe(
    session: Session,
    case_id: int,
    agency_id: int,
    kind: InvolvementKind,
    person_id: int,
    worker_id: int | None,
) -> str:
    """An involvement in words for the audit trail: the agency, the kind of work, the person's
    number and the named worker's username; never a name of someone in the case."""
    agency = session.get(Agency, agency_id)
    worker = session.get(User, worker_id) if worker_id else None
    detail = (
        f"case {case_id}: {agency.name if agency else 'agency'}, {kind.label}, person {person_id}"
    )
    return detail + (f", named worker {worker.username}" if worker else "")


# ---------------------------------------------------------------------------------------------
# Partner contact (used by the programme and partner-contact work)


def partners_to_offer_contact(
    person_id: int, today: date, session: Session | None = None
) -> list[graph.ContactOffer]:
    """Everyone who must be offered partner contact when he is in a programme, with the reasons
    and explaining paths (see ``marac.graph``). Not projected: callers decide who sees it."""
    session = _session(session)
    nb = graph.build_neighbourhood(session, today=today, person_ids=[person_id])
    return graph.partners_to_offer_contact(nb, person_id)
