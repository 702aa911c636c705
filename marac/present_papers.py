"""What goes into each PDF, for one reader: the presenter behind ``marac.papers``.

Who reads each copy of a meeting's papers is decided here by the policy's readers: an agency copy
is written for ``marac.viewer.agency_reader`` (the agency's representative, no personal links),
the chair's copy for the chair. The content itself comes from ``marac.present_meetings`` and
``marac.present_actions``, which ask ``marac.policy`` about every field, exactly as the screens do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import clock, policy
from marac.domain import DocumentKind, Role
from marac.models import Action, Agency, Attendance, Case, IssuedDocument, Meeting, User
from marac.present import people_labels
from marac.present_actions import PresentedAction, action_rows_statement, present_action_rows
from marac.present_meetings import Identifier, _identifiers, _people
from marac.viewer import CaseLinks, Viewer, agency_reader, viewer_for

CHAIR_RECIPIENT = "The chair (complete copy)"


@dataclass(frozen=True)
class PresentedActionPlan:
    case_reference: str
    people: tuple[Identifier, ...]
    actions: list[PresentedAction]


def present_action_plan(
    session: Session, viewer: Viewer, case: Case, links: CaseLinks
) -> PresentedActionPlan:
    """Every action of one case, each in full or as the policy's summary, or absent."""
    if not policy.case_access(viewer, links).full:
        raise PermissionError("present_action_plan called for a case the viewer may not open")
    labels = people_labels(session, viewer, links)
    people = _people(session, [pid for pid, (d, _l) in labels.items() if d.full])
    rows = session.execute(
        action_rows_statement().where(Action.case_id == case.id).order_by(Action.due_on, Action.id)
    ).all()
    return PresentedActionPlan(
        case_reference=case.reference,
        people=_identifiers(viewer, links, people),
        actions=present_action_rows(session, viewer, rows, clock.service_today(), {case.id: links}),
    )


# --- who gets a copy of a meeting's papers -----------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    kind: DocumentKind
    agency_id: int
    # Printed on every page.
    label: str
    reader: Viewer


def recipients(session: Session, meeting: Meeting) -> list[Recipient]:
    """One copy per agency that attended (in name order), then the chair's complete copy."""
    agencies = session.scalars(
        sa.select(Agency)
        .where(
            Agency.id.in_(
                sa.select(Attendance.agency_id).where(Attendance.meeting_id == meeting.id)
            )
        )
        .order_by(Agency.name, Agency.id)
    ).all()
    result = [
        Recipient(DocumentKind.AGENCY_PAPERS, a.id, a.name, agency_reader(a)) for a in agencies
    ]
    chair = _chair(session, meeting)
    if chair is not None:
        result.append(
            Recipient(
                DocumentKind.CHAIR_PAPERS,
                chair.agency_id,
                f"{CHAIR_RECIPIENT}, {chair.agency.name}",
                viewer_for(chair),
            )
        )
    return result


def _chair(session: Session, meeting: Meeting) -> User | None:
    for user_id in (meeting.chair_id, meeting.minutes_approved_by_id):
        if user_id is None:
            continue
        user = session.get(User, user_id)
        if user is not None and user.role is Role.CHAIR and user.agency.area_id == meeting.area_id:
            return user
    return None


# --- lists of issued documents -----------------------------------------------------------------


@dataclass(frozen=True)
class PresentedDocument:
    document_id: int
    number: str
    kind_label: str
    recipient: str
    sha256: str
    size: int
    issued_by: str | None
    issued_at: datetime
    superseded_at: datetime | None
    reissue_reason: str | None
    # Whether this viewer may download it.
    may_read: bool
    # Taken out of force with nothing issued in its place yet (``withdraw_copies_holding``).
    withdrawn: bool = False


def facts_of(document: IssuedDocument) -> policy.DocumentFacts:
    return policy.DocumentFacts(
        area_id=document.area_id,
        kind=document.kind,
        recipient_agency_id=document.recipient_agency_id,
        recipient_user_id=document.recipient_user_id,
    )


def recipient_label(document: IssuedDocument, agency_name: str) -> str:
    if document.kind is DocumentKind.CHAIR_PAPERS:
        return f"{CHAIR_RECIPIENT}, {agency_name}"
    return agency_name


def meeting_documents(
    session: Session, viewer: Viewer, meeting: Meeting
) -> list[PresentedDocument]:
    """The meeting's issued papers: all of them (without their content) for the coordinator
    and the chair, who trace them; for anyone else only those they may read."""
    rows = session.execute(
        sa.select(IssuedDocument, Agency.name, User.display_name)
        .join(Agency, Agency.id == IssuedDocument.recipient_agency_id)
        .outerjoin(User, User.id == IssuedDocument.issued_by_id)
        .where(
            IssuedDocument.meeting_id == meeting.id,
            IssuedDocument.kind.in_([DocumentKind.AGENCY_PAPERS, DocumentKind.CHAIR_PAPERS]),
        )
        .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id)
    ).all()
    tracer = policy.may_run_meeting(viewer, meeting.area_id).full
    # A copy out of force with no copy in force for the same recipient was withdrawn (an item in
    # it closed to that agency), not replaced: the papers need issuing again.
    in_force = {
        (document.kind, document.recipient_agency_id)
        for document, _name, _by in rows
        if document.superseded_at is None
    }
    result = []
    for document, agency_name, issued_by in rows:
        may_read = policy.may_read_document(viewer, facts_of(document)).full
        if not (may_read or tracer):
            continue
        result.append(
            PresentedDocument(
                document_id=document.id,
                number=document.number or "",
                kind_label=document.kind.label,
                recipient=recipient_label(document, agency_name),
                sha256=document.sha256 or "",
                size=document.size,
                issued_by=issued_by,
                issued_at=clock.local(document.issued_at),
                superseded_at=clock.local(document.superseded_at)
                if document.superseded_at
                else None,
                reissue_reason=document.reissue_reason,
                may_read=may_read and document.superseded_at is None,
                withdrawn=document.superseded_at is not None
                and (document.kind, document.recipient_agency_id) not in in_force,
            )
        )
    return result


@dataclass(frozen=True)
class Verification:
    """What checking a file tells the viewer."""

    matched: bool
    # In full (the coordinator, the chair, whoever may read it).
    document: PresentedDocument | None = None
    meeting: str | None = None
    case_reference: str | None = None
    # Only that it is genuine.
    note: str | None = None


def issued_on(document: IssuedDocument) -> date:
    return clock.local(document.issued_at).date()
