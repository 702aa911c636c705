"""Papers: issuing a meeting's PDFs in one step, what each copy holds, the page furniture, the
document record and its hash, re-issuing, downloading (audited), re-authentication, checking a
file, and hostile text in the builder."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pypdf
import pytest
import sqlalchemy as sa

from marac import clock, papers
from marac.domain import (
    ActionSubject,
    AgencyKind,
    AgencySide,
    AgendaStatus,
    AttendanceKind,
    CaseStatus,
    Classification,
    DocumentKind,
    InvolvementKind,
    ItemSource,
    MeetingStatus,
    Role,
)
from marac.extensions import db
from marac.models import Action, AgendaItem, Attendance, AuditEntry, IssuedDocument, Meeting
from marac.security import CONFIRMED_AT
from marac.services import papers as service
from marac.services.papers import PapersProblem

from .conftest import csrf_token, login

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MARKING = "OFFICIAL-SENSITIVE"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)


def pdf_pages(content: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return [page.extract_text() or "" for page in reader.pages]


def pdf_text(content: bytes) -> str:
    """The whole text, with every run of whitespace (line breaks in wrapped cells) one space."""
    return " ".join(" ".join(pdf_pages(content)).split())


def squeezed(text: str) -> str:
    """The text with no whitespace at all: a long word wrapped over lines reads whole."""
    return "".join(text.split())


def qpdf_check(content: bytes, tmp_path: Any) -> None:
    """``qpdf --check`` where it is installed (``apt-get install qpdf``); pypdf always."""
    pypdf.PdfReader(io.BytesIO(content))
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        return
    path = tmp_path / "check.pdf"
    path.write_bytes(content)
    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr


class World:
    pass


@pytest.fixture
def w(app, make_area, make_agency, make_user, make_person, make_case, make_item, involve):  # noqa: ANN001
    """An approved meeting that heard one case: police, children's social care, an IDVA service
    and a programme attended, each with something of its own on record."""
    w = World()
    w.area = area = make_area(code="PP", name="Papermere")
    w.team = make_agency(area, AgencyKind.OTHER, name="Papermere MARAC Team")
    w.police = make_agency(area, AgencyKind.POLICE, name="Papermere Police")
    w.csc = make_agency(area, AgencyKind.CHILDRENS_SOCIAL_CARE, name="Papermere CSC")
    w.idva = make_agency(area, AgencyKind.IDVA, AgencySide.VICTIM_FACING, name="Papermere IDVA")
    w.programme = make_agency(
        area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, name="Waymark"
    )
    w.coordinator = make_user(Role.COORDINATOR, w.team, username="pp-coord")
    w.chair = make_user(Role.CHAIR, w.police, username="pp-chair")
    w.police_rep = make_user(Role.AGENCY_REP, w.police, username="pp-police")
    w.csc_rep = make_user(Role.AGENCY_REP, w.csc, username="pp-csc")
    w.idva_worker = make_user(Role.SUPPORT_WORKER, w.idva, username="pp-idva")
    w.programme_rep = make_user(Role.AGENCY_REP, w.programme, username="pp-prog")
    other_area = make_area(code="PQ", name="Elsewhere")
    w.stranger = make_user(
        Role.COORDINATOR, make_agency(other_area, AgencyKind.OTHER), username="pp-south"
    )

    w.victim = make_person(area, given="Petra", family="Quillon")
    w.man = make_person(area, given="Piers", family="Quillon")
    w.case = make_case(area, w.victim, (w.man,), status=CaseStatus.HEARD, referring_agency=w.police)
    involve(w.idva, w.victim, InvolvementKind.IDVA_SUPPORT, worker=w.idva_worker)
    involve(w.programme, w.man, InvolvementKind.PERPETRATOR_PROGRAMME)

    w.meeting = Meeting(
        area_id=area.id,
        starts_at=datetime(2026, 11, 10, 10, tzinfo=UTC),
        referral_cutoff_on=date(2026, 11, 3),
        status=MeetingStatus.APPROVED,
        chair_id=w.chair.id,
        minutes_approved_by_id=w.chair.id,
        minutes_approved_at=datetime(2026, 11, 11, 9, tzinfo=UTC),
    )
    db.session.add(w.meeting)
    db.session.flush()
    w.item = AgendaItem(
        meeting_id=w.meeting.id,
        case_id=w.case.id,
        position=1,
        status=AgendaStatus.HEARD,
        risk_summary="Risk rising since October CNYTRISK",
    )
    db.session.add(w.item)
    db.session.flush()
    for user in (
        w.coordinator,
        w.chair,
        w.police_rep,
        w.csc_rep,
        w.idva_worker,
        w.programme_rep,
    ):
        db.session.add(
            Attendance(
                meeting_id=w.meeting.id,
                user_id=user.id,
                agency_id=user.agency_id,
                kind=AttendanceKind.MEMBER,
            )
        )
    db.session.commit()

    def item(agency, text, **kwargs):  # noqa: ANN001, ANN202
        row = make_item(w.case, agency, text, **kwargs)
        row.agenda_item_id = w.item.id
        db.session.commit()
        return row

    item(w.police, "Arrested for assault in October CNYTMARAC", about=w.man)
    item(
        w.idva,
        "She told her IDVA he took her passport CNYTSURV",
        about=w.victim,
        classification=Classification.SURVIVOR_CONFIDENTIAL,
        source=ItemSource.VICTIM_DISCLOSURE,
        by=w.idva_worker,
    )
    item(
        w.csc, "A section 47 enquiry is open CNYTCSCONLY", classification=Classification.AGENCY_ONLY
    )

    def action(agency, text, shared=False, days=14):  # noqa: ANN001, ANN202
        row = Action(
            case_id=w.case.id,
            area_id=area.id,
            owner_agency_id=agency.id,
            subject=ActionSubject.HOUSEHOLD,
            text=text,
            due_on=date(2026, 11, 24) + timedelta(days=days),
            shared_in_detail=shared,
            agenda_item_id=w.item.id,
        )
        db.session.add(row)
        db.session.commit()
        return row

    action(w.police, "Flag the address for an urgent response CNYTPOLACT", days=14)
    action(w.csc, "Visit the children at school CNYTSHARED", shared=True, days=7)
    action(w.programme, "Add a one-to-one session each week CNYTPROGACT", days=21)
    return w


def _issue(w, reason=None) -> list[IssuedDocument]:  # noqa: ANN001
    documents = service.issue_meeting_papers(
        db.session, w.meeting, user=w.coordinator, marking=MARKING, reissue_reason=reason
    )
    db.session.commit()
    return documents


def _copy(documents: list[IssuedDocument], agency, kind=DocumentKind.AGENCY_PAPERS):  # noqa: ANN001
    (found,) = [d for d in documents if d.recipient_agency_id == agency.id and d.kind is kind]
    return found


# --- what each copy holds --------------------------------------------------------------------


def test_one_copy_per_attending_agency_and_the_chairs(w) -> None:  # noqa: ANN001
    documents = _issue(w)
    agencies = sorted(
        d.recipient_agency_id for d in documents if d.kind is DocumentKind.AGENCY_PAPERS
    )
    assert agencies == sorted([w.team.id, w.police.id, w.csc.id, w.idva.id, w.programme.id])
    chair = [d for d in documents if d.kind is DocumentKind.CHAIR_PAPERS]
    assert len(chair) == 1 and chair[0].recipient_agency_id == w.police.id
    for document in documents:
        assert document.sha256 == hashlib.sha256(document.content).hexdigest()
        assert document.size == len(document.content)
        assert document.number and document.number.startswith("PP-P2026-")
        assert document.issued_by_id == w.coordinator.id
        assert document.meeting_id == w.meeting.id
    assert len({d.number for d in documents}) == len(documents)
    audit = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "papers.issued")
    ).all()
    assert len(audit) == 1 and audit[0].object_id == w.meeting.id


SECRETS = {
    "CNYTMARAC",
    "CNYTSURV",
    "CNYTCSCONLY",
    "CNYTPOLACT",
    "CNYTSHARED",
    "CNYTPROGACT",
    "CNYTRISK",
    "Petra Quillon",
}
# What each copy may hold, by the disclosure rules; everything else in SECRETS must be absent.
MAY_SEE = {
    # Everything but what an agency holds and will not share (the chair reads its reason).
    "chair": SECRETS - {"CNYTCSCONLY"},
    "police": {"CNYTMARAC", "CNYTPOLACT", "CNYTSHARED", "CNYTRISK", "Petra Quillon"},
    "csc": {"CNYTMARAC", "CNYTCSCONLY", "CNYTSHARED", "CNYTRISK", "Petra Quillon"},
    # The IDVA's own worker recorded her disclosure, but an agency copy holds nothing that only
    # one person in the agency may read.
    "idva": {"CNYTMARAC", "CNYTSHARED", "CNYTRISK", "Petra Quillon"},
    "team": {"CNYTMARAC", "CNYTSHARED", "CNYTRISK", "Petra Quillon"},
    # His programme: its own action, the police record about him; nothing of her.
    "programme": {"CNYTMARAC", "CNYTPROGACT"},
}


def test_each_copy_holds_what_its_agency_may_see_and_nothing_else(w) -> None:  # noqa: ANN001
    documents = _issue(w)
    copies = {
        "chair": _copy(documents, w.police, DocumentKind.CHAIR_PAPERS),
        "police": _copy(documents, w.police),
        "csc": _copy(documents, w.csc),
        "idva": _copy(documents, w.idva),
        "team": _copy(documents, w.team),
        "programme": _copy(documents, w.programme),
    }
    for name, document in copies.items():
        text = pdf_text(document.content)
        present = {s for s in SECRETS if s in text}
        assert present == MAY_SEE[name], f"{name}: {sorted(present ^ MAY_SEE[name])}"


def test_another_agencys_action_is_only_its_summary(w) -> None:  # noqa: ANN001
    documents = _issue(w)
    police = pdf_text(_copy(documents, w.police).content)
    # The programme's action, for the police: the owner and the date, never the text.
    assert "Action for Waymark (due 15 December 2026)" in police
    csc = pdf_text(_copy(documents, w.csc).content)
    assert "Action for Papermere Police (due 8 December 2026)" in csc
    # Shared in detail: everyone (but the programme) reads it in full.
    assert "Visit the children at school CNYTSHARED" in csc
    programme = pdf_text(_copy(documents, w.programme).content)
    assert "Action for" not in programme
    assert "Other agencies hold risk information about this case." in programme


# --- every page --------------------------------------------------------------------------------


def test_every_page_carries_the_marking_recipient_number_date_meeting_and_page(
    w, make_item
) -> None:  # noqa: ANN001
    for n in range(60):
        row = make_item(w.case, w.police, f"Entry {n} of a long police record " + "x " * 40)
        row.agenda_item_id = w.item.id
    db.session.commit()
    documents = _issue(w)
    document = _copy(documents, w.police)
    pages = pdf_pages(document.content)
    assert len(pages) > 2
    for number, page in enumerate(pages, start=1):
        flat = " ".join(page.split())
        assert flat.count(MARKING) >= 2, f"page {number}: marking top and bottom"
        if number > 1:
            assert flat.count(MARKING) == 2
        assert "Recipient: Papermere Police" in flat
        assert f"Document {document.number}" in flat
        assert f"Page {number} of {len(pages)}" in flat
        assert "Issued 24 November 2026" in flat
        assert "Papermere MARAC, 10 November 2026" in flat
    # The table of information runs over pages with its heading row on each.
    headed = [p for p in pages if "Information" in p and "Entry" in p]
    assert len(headed) >= 2


def test_the_pdf_has_a_title_and_a_language(w) -> None:  # noqa: ANN001
    document = _copy(_issue(w), w.police)
    reader = pypdf.PdfReader(io.BytesIO(document.content))
    assert reader.metadata.title == f"Minutes and action plan ({document.number})"
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"]


def test_the_marking_is_configurable(w, app) -> None:  # noqa: ANN001
    documents = service.issue_meeting_papers(
        db.session, w.meeting, user=w.coordinator, marking="OFFICIAL"
    )
    text = pdf_text(documents[0].content)
    assert "OFFICIAL" in text and "OFFICIAL-SENSITIVE" not in text
    db.session.rollback()


# --- issuing again -----------------------------------------------------------------------------


def test_papers_are_issued_only_after_the_minutes_are_approved(w) -> None:  # noqa: ANN001
    w.meeting.status = MeetingStatus.CLOSED
    db.session.commit()
    with pytest.raises(PapersProblem):
        _issue(w)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0


def test_issuing_again_needs_a_reason_and_supersedes_the_old_copies(w) -> None:  # noqa: ANN001
    first = _issue(w)
    with pytest.raises(PapersProblem) as problem:
        _issue(w)
    assert problem.value.field == "reason"
    db.session.rollback()
    second = _issue(w, reason="The police action's date was wrong")
    assert {d.number for d in first}.isdisjoint({d.number for d in second})
    for old in first:
        db.session.refresh(old)
        assert old.superseded_at is not None and old.superseded_by_id == w.coordinator.id
    assert all(d.superseded_at is None for d in second)
    assert all(d.reissue_reason == "The police action's date was wrong" for d in second)
    assert len(service.current_papers(db.session, w.meeting.id)) == len(second)
    actions = [e.action for e in db.session.scalars(sa.select(AuditEntry))]
    assert "papers.reissued" in actions


# --- through the service -----------------------------------------------------------------------


def _sign_in(client, user) -> Any:  # noqa: ANN001
    db.session.commit()
    assert login(client, user.username).status_code == 302
    return client


def test_the_coordinator_issues_in_one_step_after_confirming_who_they_are(w, app, client) -> None:  # noqa: ANN001
    _sign_in(client, w.coordinator)
    url = f"/meetings/{w.meeting.id}/papers"
    token = csrf_token(client, url)
    with client.session_transaction() as session:
        session[CONFIRMED_AT] = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    refused = client.post(url, data={"csrf_token": token})
    assert refused.status_code == 303 and "/confirm" in refused.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0
    with client.session_transaction() as session:
        session[CONFIRMED_AT] = datetime.now(UTC).isoformat()
    done = client.post(url, data={"csrf_token": token})
    assert done.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 6
    # Again without a reason: refused, with the message by the field, and nothing issued.
    again = client.post(url, data={"csrf_token": token})
    assert again.status_code == 400
    assert "say what was corrected" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 6
    long_reason = client.post(url, data={"csrf_token": token, "reason": "x" * 5000})
    assert long_reason.status_code == 400
    assert ("x" * 5000) in long_reason.get_data(as_text=True)


def test_only_the_coordinator_issues(w, client) -> None:  # noqa: ANN001
    _sign_in(client, w.chair)
    url = f"/meetings/{w.meeting.id}/papers"
    assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 403


def test_an_agency_downloads_its_own_copy_and_the_download_is_audited(w, client) -> None:  # noqa: ANN001
    documents = _issue(w)
    police = _copy(documents, w.police)
    _sign_in(client, w.police_rep)
    page = client.get(f"/meetings/{w.meeting.id}/papers").get_data(as_text=True)
    assert police.number in page
    assert _copy(documents, w.csc).number not in page
    response = client.get(f"/papers/{police.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert hashlib.sha256(response.data).hexdigest() == police.sha256
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "document.downloaded")
    ).all()
    assert [(e.object_id, e.user_id) for e in entries] == [(police.id, w.police_rep.id)]
    # Another agency's copy and the chair's copy: as if they did not exist.
    assert client.get(f"/papers/{_copy(documents, w.csc).id}").status_code == 404
    chair_copy = _copy(documents, w.police, DocumentKind.CHAIR_PAPERS)
    assert client.get(f"/papers/{chair_copy.id}").status_code == 404
    assert client.get("/papers/987654").status_code == 404


def test_a_named_worker_never_reads_the_agency_copy(w, client) -> None:  # noqa: ANN001
    documents = _issue(w)
    _sign_in(client, w.idva_worker)
    assert client.get(f"/papers/{_copy(documents, w.idva).id}").status_code == 404


def test_a_superseded_copy_is_no_longer_downloaded(w, client) -> None:  # noqa: ANN001
    first = _copy(_issue(w), w.police)
    second = _copy(_issue(w, reason="corrected"), w.police)
    _sign_in(client, w.police_rep)
    old = client.get(f"/papers/{first.id}")
    assert old.status_code == 303
    assert client.get(f"/papers/{second.id}").status_code == 200


def test_the_agenda_and_an_action_plan_on_demand(w, client) -> None:  # noqa: ANN001
    _sign_in(client, w.programme_rep)
    agenda = client.get(f"/meetings/{w.meeting.id}/agenda.pdf")
    assert agenda.status_code == 200 and agenda.mimetype == "application/pdf"
    text = pdf_text(agenda.data)
    assert "Piers Quillon" in text and "The victim" in text
    assert "Petra" not in text and "CNYT" not in text
    plan = client.get(f"/cases/{w.case.id}/action-plan.pdf")
    text = pdf_text(plan.data)
    assert "CNYTPROGACT" in text
    assert "CNYTPOLACT" not in text and "Action for" not in text
    recorded = db.session.scalars(
        sa.select(IssuedDocument).where(IssuedDocument.recipient_user_id == w.programme_rep.id)
    ).all()
    assert {d.kind for d in recorded} == {DocumentKind.AGENDA, DocumentKind.ACTION_PLAN}
    assert {d.sha256 for d in recorded} == {
        hashlib.sha256(agenda.data).hexdigest(),
        hashlib.sha256(plan.data).hexdigest(),
    }


# --- checking a file ---------------------------------------------------------------------------


def _verify(client, content: bytes | None, name: str = "copy.pdf") -> Any:  # noqa: ANN001
    token = csrf_token(client, "/papers/verify")
    data: dict[str, Any] = {"csrf_token": token}
    if content is not None:
        data["document"] = (io.BytesIO(content), name)
    return client.post("/papers/verify", data=data, content_type="multipart/form-data")


def test_checking_a_file_against_the_issued_documents(w, client) -> None:  # noqa: ANN001
    documents = _issue(w)
    police = _copy(documents, w.police)
    _sign_in(client, w.coordinator)
    match = _verify(client, police.content).get_data(as_text=True)
    assert "It matches a document the service issued" in match
    assert police.number in match and "Papermere Police" in match
    altered = police.content[:-10] + b"%%EOF    \n"
    assert "No match" in _verify(client, altered).get_data(as_text=True)
    audit = [
        e.detail
        for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "document.verified")
        )
    ]
    assert audit == ["matched", "no match"]


def test_what_checking_tells_depends_on_who_asks(w, app) -> None:  # noqa: ANN001
    documents = _issue(w)
    police = _copy(documents, w.police)
    # csc may not read the police's copy: only that it is genuine.
    client = app.test_client()
    _sign_in(client, w.csc_rep)
    text = _verify(client, police.content).get_data(as_text=True)
    assert "It matches" in text and police.number not in text
    assert "Ask the MARAC coordinator" in text
    # Another area: as if the service never issued it.
    client = app.test_client()
    _sign_in(client, w.stranger)
    text = _verify(client, police.content).get_data(as_text=True)
    assert "No match" in text and police.number not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Choose the PDF file to check."),
        (b"", "That file is not a PDF."),
        (b"GIF89a not a pdf", "That file is not a PDF."),
        (b"%PDF-" + b"0" * 5000, None),
    ],
)
def test_a_bad_file_gets_a_clear_message(w, app, client, content, message) -> None:  # noqa: ANN001
    _sign_in(client, w.police_rep)
    # The request limit made small, so the test sends a small body (a large one would be spooled
    # to a temporary file by the test client).
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = _verify(client, content)
    if message is None:
        # Larger than the service accepts at all.
        assert response.status_code == 413
        assert "larger than the service accepts" in response.get_data(as_text=True)
    else:
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


# --- hostile text ------------------------------------------------------------------------------

HOSTILE = [
    "<",
    "&",
    "a < b && c > d",
    '<img src="/etc/passwd"/>',
    "<img src=/etc/passwd>",
    '<font color="red" name="Courier">big</font>',
    "<font color=#ff0000>",
    '<a href="http://evil.example/x">click</a>',
    "<link href='javascript:alert(1)'>x</link>",
    "&amp; &lt; &#60; &nonsense;",
    "</para><para>",
    "]]><!-- -->",
    "W" * 500,
]


def test_hostile_text_is_shown_literally_in_a_valid_pdf(w, make_item, tmp_path) -> None:  # noqa: ANN001
    for text in HOSTILE:
        row = make_item(w.case, w.police, text)
        row.agenda_item_id = w.item.id
    db.session.commit()
    document = _copy(_issue(w), w.police)
    qpdf_check(document.content, tmp_path)
    flat = squeezed(" ".join(pdf_pages(document.content)))
    for text in HOSTILE:
        assert squeezed(text) in flat, text
    reader = pypdf.PdfReader(io.BytesIO(document.content))
    for page in reader.pages:
        assert "/Annots" not in page, "no link may come from the data"
        xobjects = page["/Resources"].get("/XObject") or {}
        assert not xobjects, "no image may come from the data"


def test_right_to_left_and_emoji(tmp_path) -> None:
    heading = papers.PaperHeading(
        title="Test", marking=MARKING, recipient="Testers", number="T-1", issued_on=NOW.date()
    )
    from marac.papers import _build, _p

    hebrew = "שלום עולם"
    arabic = "مرحبا"
    content = _build(heading, [_p(hebrew), _p(arabic), _p("Smile 😀 and ☺ done")], "Test")
    qpdf_check(content, tmp_path)
    text = pdf_text(content)
    # Drawn in the order typed; extraction reads a right-to-left run backwards.
    assert hebrew in text or hebrew[::-1] in text
    assert arabic in text or arabic[::-1] in text
    # A character the font cannot draw is shown as its code point, never dropped silently.
    assert "[U+1F600]" in text and "☺" in text


@pytest.mark.parametrize("filler_lines", range(40, 80))
def test_a_section_heading_never_ends_a_page_without_what_follows(filler_lines: int) -> None:
    from marac.papers import _build, _p, _section

    heading = papers.PaperHeading(
        title="Test", marking=MARKING, recipient="Testers", number="T-1", issued_on=NOW.date()
    )
    # Text of varying length moves the heading down the first page until it reaches the foot.
    story = [_p(f"Filler line {n}.") for n in range(filler_lines)]
    story += [*_section("Summary of risks"), _p("First line under the heading.")]
    reader = pypdf.PdfReader(io.BytesIO(_build(heading, story, "Test")))
    pages = [page.extract_text() for page in reader.pages]
    with_heading = [n for n, text in enumerate(pages) if "Summary of risks" in text]
    with_line = [n for n, text in enumerate(pages) if "First line under the heading." in text]
    assert with_heading == with_line, (filler_lines, with_heading, with_line)


@pytest.mark.parametrize("filler_lines", range(30, 80, 3))
def test_a_case_heading_starts_on_the_page_of_its_first_section(filler_lines: int) -> None:
    from marac.papers import _build, _case_heading, _p, _section

    heading = papers.PaperHeading(
        title="Test", marking=MARKING, recipient="Testers", number="T-1", issued_on=NOW.date()
    )
    story = [_p(f"Filler line {n}.") for n in range(filler_lines)]
    story += _case_heading("7. NM-2026-0999", "Ada Example (Victim, born 1 May 1990)")
    story += [*_section("Reason for referral"), _p("First line of the reason.")]
    reader = pypdf.PdfReader(io.BytesIO(_build(heading, story, "Test")))
    pages = [page.extract_text() for page in reader.pages]
    found = {
        text: [n for n, page in enumerate(pages) if text in page]
        for text in ("7. NM-2026-0999", "Ada Example", "Reason for referral", "First line of")
    }
    assert len({tuple(where) for where in found.values()}) == 1, (filler_lines, found)
