"""Issuing the PDFs: a meeting's papers in one step, the agenda and action plans on demand.

Each PDF is recorded before it leaves: its number (printed on every page), recipient, the SHA-256
of its bytes, who issued it and when, so a leaked copy can be traced (``verify``). Re-issuing a
meeting's papers is deliberate: it needs a reason, makes new documents with new numbers, and
marks the ones they replace as superseded. Every issue, re-issue and download is audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import audit, clock, papers, policy
from marac.domain import MEETING_PAPERS, DocumentKind, MeetingStatus
from marac.models import AgendaItem, Area, Case, IssuedDocument, Meeting, User
from marac.present_meetings import MeetingRows, present_agenda, present_minutes
from marac.present_papers import (
    PresentedDocument,
    Verification,
    facts_of,
    present_action_plan,
    recipient_label,
    recipients,
)
from marac.services.meetings import meeting_title
from marac.viewer import CaseLinks, Viewer

REASON_LIMIT = 1000
# Anything larger is not a PDF this service made (the papers of a full meeting are far smaller).
PDF_MAGIC = b"%PDF-"


class PapersProblem(ValueError):
    """A request the service refuses, with the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def document_number(area_code: str, year: int, document_id: int) -> str:
    """Unique by construction (the row's id), so two issues at once never share one."""
    return f"{area_code}-P{year}-{document_id:06d}"


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _record(
    session: Session,
    *,
    area: Area,
    kind: DocumentKind,
    recipient_agency_id: int,
    issued_by: User | None,
    marking: str,
    build: Callable[[papers.PaperHeading], bytes],
    title: str,
    recipient: str,
    meeting: str | None,
    now: datetime,
    meeting_id: int | None = None,
    case_id: int | None = None,
    recipient_user_id: int | None = None,
    keep_content: bool = False,
    reissue_reason: str | None = None,
) -> tuple[IssuedDocument, bytes]:
    document = IssuedDocument(
        area_id=area.id,
        kind=kind,
        meeting_id=meeting_id,
        case_id=case_id,
        recipient_agency_id=recipient_agency_id,
        recipient_user_id=recipient_user_id,
        protective_marking=marking,
        issued_by_id=issued_by.id if issued_by else None,
        issued_at=now,
        reissue_reason=reissue_reason,
    )
    session.add(document)
    session.flush()
    local_day = clock.local(now).date()
    document.number = document_number(area.code, local_day.year, document.id)
    content = build(
        papers.PaperHeading(
            title=title,
            marking=marking,
            recipient=recipient,
            number=document.number,
            issued_on=local_day,
            meeting=meeting,
        )
    )
    document.sha256 = sha256(content)
    document.size = len(content)
    if keep_content:
        document.content = content
    return document, content


def current_papers(session: Session, meeting_id: int) -> list[IssuedDocument]:
    return list(
        session.scalars(
            sa.select(IssuedDocument)
            .where(
                IssuedDocument.meeting_id == meeting_id,
                IssuedDocument.kind.in_(MEETING_PAPERS),
                IssuedDocument.superseded_at.is_(None),
            )
            .order_by(IssuedDocument.id)
        )
    )


def issue_meeting_papers(
    session: Session,
    meeting: Meeting,
    *,
    user: User,
    marking: str,
    reissue_reason: str | None = None,
    now: datetime | None = None,
) -> list[IssuedDocument]:
    """One PDF per attending agency and the chair's complete copy, in one step.

    Papers already issued for the meeting are replaced only when a reason is given: they are
    marked superseded and the new ones get new numbers.
    """
    if meeting.status is not MeetingStatus.APPROVED:
        raise PapersProblem(
            "meeting_id", "The papers are issued once the chair has approved the minutes."
        )
    reason = (reissue_reason or "").strip() or None
    if reason is not None and len(reason) > REASON_LIMIT:
        raise PapersProblem("reason", f"Keep the reason to {REASON_LIMIT} characters or fewer.")
    now = now or clock.utc_now()
    existing = current_papers(session, meeting.id)
    if existing and reason is None:
        raise PapersProblem(
            "reason",
            "The papers for this meeting have been issued already. To issue them again after a "
            "correction, say what was corrected: the copies issued before will be marked "
            "superseded.",
        )
    for old in existing:
        old.superseded_at = now
        old.superseded_by_id = user.id
    area = session.get(Area, meeting.area_id)
    assert area is not None
    title = meeting_title(meeting, area.name)
    issued = []
    # Read once for every copy; each copy is then decided for its reader by the policy.
    rows = MeetingRows.load(session, meeting)
    with papers.shared_layout():
        for recipient in recipients(session, meeting):
            minutes = present_minutes(session, recipient.reader, meeting, rows)
            document, _content = _record(
                session,
                area=area,
                kind=recipient.kind,
                recipient_agency_id=recipient.agency_id,
                issued_by=user,
                marking=marking,
                build=lambda heading, minutes=minutes: papers.minutes_pdf(heading, minutes),
                title="Minutes and action plan",
                recipient=recipient.label,
                meeting=title,
                now=now,
                meeting_id=meeting.id,
                keep_content=True,
                reissue_reason=reason if existing else None,
            )
            issued.append(document)
    session.flush()
    numbers = ", ".join(d.number or "" for d in issued)
    audit.record(
        "papers.reissued" if existing else "papers.issued",
        user=user,
        object_type="meeting",
        object_id=meeting.id,
        detail=(
            f"{len(issued)} documents issued ({numbers})"
            + (f"; {len(existing)} superseded" if existing else "")
        ),
    )
    return issued


def withdraw_copies_holding(
    session: Session,
    *,
    case_id: int,
    agency_id: int,
    since: datetime,
    user: User,
    now: datetime | None = None,
) -> list[IssuedDocument]:
    """An item of the case is no longer open to the agency: its current copies of the papers of
    every meeting that heard the case, issued since the item was opened to it, are withdrawn.

    An issued copy is kept exactly as issued, so a copy made while the item was open holds it;
    withdrawn, it can no longer be downloaded, and the papers are issued again for the agency
    to read what it may now. Copies issued before ``since`` never held the item this way.
    """
    now = now or clock.utc_now()
    heard = sa.select(AgendaItem.meeting_id).where(AgendaItem.case_id == case_id)
    copies = [
        document
        for document in session.scalars(
            sa.select(IssuedDocument)
            .where(
                IssuedDocument.recipient_agency_id == agency_id,
                IssuedDocument.kind.in_(MEETING_PAPERS),
                IssuedDocument.superseded_at.is_(None),
                IssuedDocument.meeting_id.in_(heard),
            )
            .order_by(IssuedDocument.id)
        )
        if clock.as_utc(document.issued_at) >= clock.as_utc(since)
    ]
    for document in copies:
        document.superseded_at = now
        document.superseded_by_id = user.id
        audit.record(
            "papers.withdrawn",
            user=user,
            object_type="meeting",
            object_id=document.meeting_id,
            detail=(
                f"{document.number} withdrawn from agency {agency_id}: an item of case "
                f"{case_id} in it is no longer open to the agency"
            ),
            session=session,
        )
    return copies


def replacement_exists(session: Session, document: IssuedDocument) -> bool:
    """Whether a current copy of the same papers was issued to the same agency since."""
    return (
        session.scalar(
            sa.select(IssuedDocument.id)
            .where(
                IssuedDocument.meeting_id == document.meeting_id,
                IssuedDocument.kind == document.kind,
                IssuedDocument.recipient_agency_id == document.recipient_agency_id,
                IssuedDocument.superseded_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def download(session: Session, document: IssuedDocument, *, user: User) -> bytes:
    """The issued bytes, exactly as recorded; the download is audited."""
    content = document.content
    if content is None or sha256(content) != document.sha256:
        raise PapersProblem("document_id", "This document's file is not available.")
    audit.record(
        "document.downloaded",
        user=user,
        object_type="issued_document",
        object_id=document.id,
        detail=f"downloaded {document.number}",
    )
    return content


def agenda_document(
    session: Session, viewer: Viewer, meeting: Meeting, *, user: User, marking: str
) -> tuple[IssuedDocument, bytes]:
    """The agenda (identifiers only) as this user may see it, recorded and audited."""
    area = session.get(Area, meeting.area_id)
    assert area is not None
    agenda = present_agenda(session, viewer, meeting)
    document, content = _record(
        session,
        area=area,
        kind=DocumentKind.AGENDA,
        recipient_agency_id=viewer.agency_id,
        recipient_user_id=viewer.user_id,
        issued_by=user,
        marking=marking,
        build=lambda heading: papers.agenda_pdf(heading, agenda),
        title="Agenda",
        recipient=f"{viewer.agency_name} ({viewer.display_name})",
        meeting=meeting_title(meeting, area.name),
        now=clock.utc_now(),
        meeting_id=meeting.id,
    )
    audit.record(
        "document.issued",
        user=user,
        object_type="issued_document",
        object_id=document.id,
        detail=f"agenda {document.number} for meeting {meeting.id}",
    )
    return document, content


def action_plan_document(
    session: Session, viewer: Viewer, case: Case, links: CaseLinks, *, user: User, marking: str
) -> tuple[IssuedDocument, bytes]:
    """One case's action plan as this user may see it, recorded and audited."""
    area = session.get(Area, case.area_id)
    assert area is not None
    plan = present_action_plan(session, viewer, case, links)
    document, content = _record(
        session,
        area=area,
        kind=DocumentKind.ACTION_PLAN,
        recipient_agency_id=viewer.agency_id,
        recipient_user_id=viewer.user_id,
        issued_by=user,
        marking=marking,
        build=lambda heading: papers.action_plan_pdf(heading, plan),
        title=f"Action plan: {case.reference}",
        recipient=f"{viewer.agency_name} ({viewer.display_name})",
        meeting=None,
        now=clock.utc_now(),
        case_id=case.id,
    )
    audit.record(
        "document.issued",
        user=user,
        object_type="issued_document",
        object_id=document.id,
        detail=f"action plan {document.number} for case {case.id}",
    )
    return document, content


# --- verification ------------------------------------------------------------------------------


def verify(session: Session, viewer: Viewer, content: bytes, *, user: User) -> Verification:
    """Whether ``content`` is byte for byte a document the service issued, and what this viewer
    may be told about it (``policy.document_verification``). Audited either way."""
    digest = sha256(content)
    candidates = session.scalars(
        sa.select(IssuedDocument).where(IssuedDocument.sha256 == digest).order_by(IssuedDocument.id)
    ).all()
    best: tuple[IssuedDocument, policy.Decision] | None = None
    for candidate in candidates:
        decision = policy.document_verification(viewer, facts_of(candidate))
        if decision.withheld:
            continue
        if best is None or (decision.full and not best[1].full):
            best = (candidate, decision)
    audit.record(
        "document.verified",
        user=user,
        object_type="issued_document",
        object_id=best[0].id if best else None,
        detail="matched" if best else "no match",
    )
    if best is None:
        return Verification(matched=False)
    document, decision = best
    if not decision.full:
        return Verification(matched=True, note=decision.summary)
    agency_name = document.recipient_agency.name
    issuer = document.issued_by.display_name if document.issued_by else None
    meeting = session.get(Meeting, document.meeting_id) if document.meeting_id else None
    case = session.get(Case, document.case_id) if document.case_id else None
    area = session.get(Area, document.area_id)
    return Verification(
        matched=True,
        document=PresentedDocument(
            document_id=document.id,
            number=document.number or "",
            kind_label=document.kind.label,
            recipient=recipient_label(document, agency_name),
            sha256=document.sha256 or "",
            size=document.size,
            issued_by=issuer,
            issued_at=clock.local(document.issued_at),
            superseded_at=clock.local(document.superseded_at) if document.superseded_at else None,
            reissue_reason=document.reissue_reason,
            may_read=False,
        ),
        meeting=meeting_title(meeting, area.name) if meeting and area else None,
        case_reference=case.reference
        if case is not None and _may_open(session, viewer, case)
        else None,
    )


def _may_open(session: Session, viewer: Viewer, case: Case) -> bool:
    from marac.viewer import links_for_case

    return policy.case_access(viewer, links_for_case(session, viewer, case)).full
