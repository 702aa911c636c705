"""Leak tests for the papers over the demo: every demo agency's copy of every demo meeting.

For each meeting, each agency's copy (the minutes and action plan of a closed meeting, and the
agenda of every meeting) is built for the agency's reader and its text extracted with pypdf. The
expected answer is the hand-written table in seeds/demo-canaries.toml: ``[agency_copies]`` names
the demo user whose reading each agency's copy is; what that user may not see must be absent,
and what they may see and the chair's complete copy holds must be present. The papers the demo
issued are held to the same table, and so is every PDF each demo user can download or make
(the agenda and each case's action plan) in tests/test_leaks.py.
"""

from __future__ import annotations

import io
import tomllib
from datetime import date

import pypdf
import pytest
import sqlalchemy as sa
from flask import Flask

from marac import papers
from marac.domain import OPEN_MEETING_STATUSES, DocumentKind, Role
from marac.extensions import db
from marac.models import Agency, IssuedDocument, Meeting, User
from marac.present_meetings import present_agenda, present_minutes
from marac.seeding import read_demo
from marac.viewer import agency_reader, viewer_for

from .conftest import page_text
from .test_leaks import CANARIES, CANARY_FILE, login

with CANARY_FILE.open("rb") as _handle:
    AGENCY_COPIES: dict[str, str] = tomllib.load(_handle)["agency_copies"]


def pdf_text(content: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join((page.extract_text() or "") for page in pages).split())


def _heading(recipient: str) -> papers.PaperHeading:
    return papers.PaperHeading(
        title="Test copy",
        marking="OFFICIAL-SENSITIVE",
        recipient=recipient,
        number="NM-P2026-999999",
        issued_on=date(2026, 11, 24),
    )


def _check(text: str, reader: str, universe: set[str], label: str) -> list[str]:
    failures = []
    for canary, allowed in CANARIES.items():
        present = canary in text
        if present and reader not in allowed:
            failures.append(f"LEAK: {label} holds {canary} ({reader} may not see it)")
        if not present and reader in allowed and canary in universe:
            failures.append(f"MISSING: {label} lacks {canary}, which {reader} may see")
    return failures


def test_every_demo_agency_is_in_the_table() -> None:
    keys = {spec["key"] for spec in read_demo()["agencies"]}
    assert set(AGENCY_COPIES) == keys


@pytest.fixture(scope="module")
def agency_keys() -> dict[str, str]:
    """Agency name -> its key in the demo file."""
    return {spec["name"]: spec["key"] for spec in read_demo()["agencies"]}


def test_every_agencys_copy_of_every_meeting_holds_only_what_it_may_see(
    demo_app: Flask, agency_keys: dict[str, str]
) -> None:
    failures: list[str] = []
    checked_minutes = 0
    with demo_app.app_context():
        chair = viewer_for(db.session.scalar(sa.select(User).where(User.username == "chair")))
        agencies = db.session.scalars(sa.select(Agency).order_by(Agency.id)).all()
        meetings = db.session.scalars(sa.select(Meeting).order_by(Meeting.id)).all()
        assert meetings and agencies
        for meeting in meetings:
            closed = meeting.status not in OPEN_MEETING_STATUSES
            chair_agenda = pdf_text(
                papers.agenda_pdf(_heading("chair"), present_agenda(db.session, chair, meeting))
            )
            universe = {c for c in CANARIES if c in chair_agenda}
            chair_minutes = ""
            if closed:
                chair_minutes = pdf_text(
                    papers.minutes_pdf(
                        _heading("chair"), present_minutes(db.session, chair, meeting)
                    )
                )
                universe |= {c for c in CANARIES if c in chair_minutes}
                failures += _check(
                    chair_minutes, "chair", universe, f"chair's minutes {meeting.id}"
                )
            for agency in agencies:
                reader_name = AGENCY_COPIES[agency_keys[agency.name]]
                reader = agency_reader(agency)
                label = f"{agency.name}'s copy of meeting {meeting.id}"
                agenda = pdf_text(
                    papers.agenda_pdf(
                        _heading(agency.name), present_agenda(db.session, reader, meeting)
                    )
                )
                agenda_universe = {c for c in CANARIES if c in chair_agenda}
                failures += _check(agenda, reader_name, agenda_universe, f"agenda: {label}")
                if closed:
                    minutes = pdf_text(
                        papers.minutes_pdf(
                            _heading(agency.name), present_minutes(db.session, reader, meeting)
                        )
                    )
                    failures += _check(minutes, reader_name, universe, f"minutes: {label}")
                    checked_minutes += 1
        db.session.rollback()
    assert checked_minutes >= 2 * 13, "the demo has two closed meetings and 13 agencies"
    assert not failures, "\n".join(failures)


def test_the_chairs_copy_holds_what_the_chairs_minutes_page_shows(demo_app: Flask) -> None:
    client = demo_app.test_client()
    assert login(client, "chair").status_code == 302
    with demo_app.app_context():
        chair = viewer_for(db.session.scalar(sa.select(User).where(User.username == "chair")))
        closed = db.session.scalars(
            sa.select(Meeting).where(Meeting.status.not_in(OPEN_MEETING_STATUSES))
        ).all()
        assert closed
        for meeting in closed:
            page = page_text(client.get(f"/meetings/{meeting.id}/minutes"))
            pdf = pdf_text(
                papers.minutes_pdf(_heading("chair"), present_minutes(db.session, chair, meeting))
            )
            on_page = {c for c in CANARIES if c.startswith("CNY") and c in page}
            in_pdf = {c for c in CANARIES if c.startswith("CNY") and c in pdf}
            assert on_page, f"meeting {meeting.id}: the minutes show some canary"
            assert in_pdf == on_page, meeting.id


def test_the_papers_the_demo_issued_hold_only_what_their_recipient_may_see(
    demo_app: Flask, agency_keys: dict[str, str]
) -> None:
    failures: list[str] = []
    with demo_app.app_context():
        documents = db.session.scalars(
            sa.select(IssuedDocument).where(
                IssuedDocument.kind.in_([DocumentKind.AGENCY_PAPERS, DocumentKind.CHAIR_PAPERS]),
                IssuedDocument.superseded_at.is_(None),
            )
        ).all()
        assert len(documents) >= 9, "the demo issues the papers of the 23 September meeting"
        chair_copies = [d for d in documents if d.kind is DocumentKind.CHAIR_PAPERS]
        assert chair_copies
        universe = {c for d in chair_copies for c in CANARIES if c in pdf_text(d.content)}
        for document in documents:
            if document.kind is DocumentKind.CHAIR_PAPERS:
                reader = "chair"
            else:
                reader = AGENCY_COPIES[agency_keys[document.recipient_agency.name]]
            failures += _check(pdf_text(document.content), reader, universe, document.number or "")
    assert not failures, "\n".join(failures)


def test_only_readers_of_an_agency_copy_download_it(demo_app: Flask) -> None:
    """Each demo user downloads exactly the issued copies the policy opens to them."""
    with demo_app.app_context():
        documents = db.session.execute(
            sa.select(IssuedDocument.id, IssuedDocument.kind, IssuedDocument.recipient_agency_id)
            .where(IssuedDocument.superseded_at.is_(None))
            .where(IssuedDocument.kind.in_([DocumentKind.AGENCY_PAPERS, DocumentKind.CHAIR_PAPERS]))
        ).all()
        users = db.session.scalars(sa.select(User).order_by(User.username)).all()
        expected = {
            u.username: {
                d.id
                for d in documents
                if (d.kind is DocumentKind.CHAIR_PAPERS and u.role is Role.CHAIR)
                or (
                    d.kind is DocumentKind.AGENCY_PAPERS
                    and d.recipient_agency_id == u.agency_id
                    and u.role in (Role.AGENCY_REP, Role.REVIEWER, Role.COORDINATOR, Role.CHAIR)
                    and u.agency.area.code == "NM"
                )
            }
            for u in users
            if u.is_enabled
        }
    for username, allowed in expected.items():
        client = demo_app.test_client()
        assert login(client, username).status_code == 302, username
        got = {d.id for d in documents if client.get(f"/papers/{d.id}").status_code == 200}
        assert got == allowed, username
