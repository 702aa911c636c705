"""Properties of the papers (hypothesis).

1. No leak: for generated information items and actions on a heard case, and a generated reader
   (any agency's copy, or the chair's), the PDF holds an item's or action's text exactly when the
   policy opens it to that reader in full, and another agency's action appears only as "Action
   for <agency> (due <date>)" unless it is shared in detail.
2. Hostile text: whatever a user typed, the builder makes a valid PDF (pypdf reads it; qpdf
   --check passes where installed) that shows the text literally.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marac import papers, policy
from marac.domain import (
    ActionSubject,
    AgencyKind,
    AgencySide,
    AgendaStatus,
    AttendanceKind,
    CaseStatus,
    Classification,
    InvolvementKind,
    ItemNature,
    ItemSource,
    MeetingStatus,
    Role,
)
from marac.extensions import db
from marac.models import Action, AgendaItem, Attendance, InformationItem, Meeting
from marac.present_actions import action_rows_statement, facts_of
from marac.present_meetings import present_minutes
from marac.viewer import agency_reader, links_for_case, viewer_for

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def pdf_text(content: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join((p.extract_text() or "") for p in pages).split())


def heading() -> papers.PaperHeading:
    return papers.PaperHeading(
        title="Minutes and action plan",
        marking="OFFICIAL-SENSITIVE",
        recipient="Test",
        number="PT-P2026-000001",
        issued_on=date(2026, 11, 24),
        meeting="Test MARAC",
    )


# --- no leak -----------------------------------------------------------------------------------


class World:
    pass


@pytest.fixture
def w(app, make_area, make_agency, make_user, make_person, make_case, involve):  # noqa: ANN001
    w = World()
    area = make_area(code="PT")
    w.agencies = [
        make_agency(area, AgencyKind.POLICE, name="Proptown Police"),
        make_agency(area, AgencyKind.CHILDRENS_SOCIAL_CARE, name="Proptown CSC"),
        make_agency(area, AgencyKind.HOUSING, name="Proptown Housing"),
        make_agency(area, AgencyKind.IDVA, AgencySide.VICTIM_FACING, name="Proptown IDVA"),
        make_agency(
            area,
            AgencyKind.PERPETRATOR_PROGRAMME,
            AgencySide.PERPETRATOR_FACING,
            name="Proptown Programme",
        ),
    ]
    w.chair = make_user(Role.CHAIR, w.agencies[0], username="pt-chair")
    w.victim = make_person(area, given="Tamsin", family="Roe")
    w.man = make_person(area, given="Toby", family="Roe")
    w.child = make_person(area, given="Tilly", family="Roe")
    w.case = make_case(area, w.victim, (w.man,), (w.child,), status=CaseStatus.HEARD)
    involve(w.agencies[4], w.man, InvolvementKind.PERPETRATOR_PROGRAMME)
    w.meeting = Meeting(
        area_id=area.id,
        starts_at=datetime(2026, 11, 10, 10, tzinfo=UTC),
        referral_cutoff_on=date(2026, 11, 3),
        status=MeetingStatus.APPROVED,
        chair_id=w.chair.id,
        minutes_approved_by_id=w.chair.id,
        minutes_approved_at=datetime(2026, 11, 11, tzinfo=UTC),
    )
    db.session.add(w.meeting)
    db.session.flush()
    w.item = AgendaItem(
        meeting_id=w.meeting.id, case_id=w.case.id, position=1, status=AgendaStatus.HEARD
    )
    db.session.add(w.item)
    db.session.add(
        Attendance(
            meeting_id=w.meeting.id,
            user_id=w.chair.id,
            agency_id=w.chair.agency_id,
            kind=AttendanceKind.MEMBER,
        )
    )
    db.session.commit()
    return w


item_specs = st.lists(
    st.tuples(
        st.integers(0, 4),  # recording agency
        st.sampled_from(list(Classification)),
        st.sampled_from(list(ItemSource)),
        st.sampled_from(["victim", "man", "child", None]),
    ),
    max_size=6,
)
action_specs = st.lists(
    st.tuples(
        st.integers(0, 4),  # owner agency
        st.booleans(),  # shared in detail
        st.sampled_from(["victim", "man", "child", None]),
        st.integers(1, 60),  # due in days
    ),
    max_size=5,
)
readers = st.one_of(st.integers(0, 4), st.just("chair"))


@SETTINGS
@given(items=item_specs, actions=action_specs, reader=readers)
def test_a_copy_holds_exactly_what_the_policy_opens_to_its_reader(
    w, items, actions, reader
) -> None:  # noqa: ANN001
    people = {"victim": w.victim, "man": w.man, "child": w.child, None: None}
    subjects = {
        "victim": ActionSubject.VICTIM,
        "man": ActionSubject.PERPETRATOR,
        "child": ActionSubject.CHILD,
        None: ActionSubject.HOUSEHOLD,
    }
    try:
        rows = []
        for n, (agency, classification, source, about) in enumerate(items):
            if classification is Classification.PROGRAMME_CONFIDENTIAL and agency != 4:
                continue  # programme-confidential items come only from a programme
            row = InformationItem(
                case_id=w.case.id,
                agenda_item_id=w.item.id,
                about_person_id=people[about].id if people[about] else None,
                text=f"Item text CNYH{n:02d}",
                source=source,
                nature=ItemNature.FACT,
                classification=classification,
                withheld_reason="Held for now"
                if classification is Classification.AGENCY_ONLY
                else None,
                recorded_by_agency_id=w.agencies[agency].id,
                recorded_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
            db.session.add(row)
            rows.append(row)
        acts = []
        for n, (owner, shared, about, days) in enumerate(actions):
            person = people[about]
            act = Action(
                case_id=w.case.id,
                area_id=w.case.area_id,
                owner_agency_id=w.agencies[owner].id,
                subject=subjects[about],
                subject_person_id=person.id if person else None,
                text=f"Action text CNYQ{n:02d}",
                due_on=date(2026, 11, 24) + timedelta(days=days),
                shared_in_detail=shared,
                agenda_item_id=w.item.id,
            )
            db.session.add(act)
            acts.append(act)
        db.session.flush()
        viewer = viewer_for(w.chair) if reader == "chair" else agency_reader(w.agencies[reader])
        text = pdf_text(
            papers.minutes_pdf(heading(), present_minutes(db.session, viewer, w.meeting))
        )
        links = links_for_case(db.session, viewer, w.case)
        for row in rows:
            decision = policy.information_item(
                viewer,
                links,
                policy.ItemFacts(
                    id=row.id,
                    about_person_id=row.about_person_id,
                    source=row.source,
                    classification=row.classification,
                    recorded_by_agency_id=row.recorded_by_agency_id,
                    recorded_by_agency_name="",
                    recorded_by_id=row.recorded_by_id,
                    recorded_on=date(2026, 11, 1),
                    withheld_reason=row.withheld_reason,
                ),
            )
            assert (row.text in text) == decision.full, (row.text, decision)
        by_id = {r.id: r for r in db.session.execute(action_rows_statement()).all()}
        for act in acts:
            decision = policy.action(viewer, links, facts_of(by_id[act.id]))
            assert (act.text in text) == decision.full, (act.text, decision)
            summary = policy.action_summary_wording(w.agencies[owner_of(act, w)].name, act.due_on)
            if decision.level is policy.Level.SUMMARY:
                assert summary in text
            if (
                not act.shared_in_detail
                and act.owner_agency_id != viewer.agency_id
                and reader != "chair"
            ):
                assert act.text not in text
    finally:
        db.session.rollback()


def owner_of(act: Action, w: World) -> int:
    return next(i for i, a in enumerate(w.agencies) if a.id == act.owner_agency_id)


# --- hostile text ------------------------------------------------------------------------------

FRAGMENTS = [
    "<",
    ">",
    "&",
    "&amp;",
    "&#60;",
    "&bogus;",
    '"',
    "'",
    "<b>",
    "</para>",
    "<br/>",
    '<img src="/etc/passwd"/>',
    "<img src=/etc/passwd>",
    '<font color="red">',
    "<font color=#f00 size=72 name=Courier>",
    '<a href="http://evil.example/">',
    "<link href='x'>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "\\",
    "%",
    "é",
    "ß",
    "€",
    "Ł",
]
printable = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30
)
long_words = st.integers(60, 400).map(lambda n: "Q" * n)
hostile_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), printable, long_words), min_size=1, max_size=8
).map("".join)


def valid(content: bytes, tmp_path: Any) -> None:
    pypdf.PdfReader(io.BytesIO(content))
    qpdf = shutil.which("qpdf")
    if qpdf:
        path = tmp_path / "hostile.pdf"
        path.write_bytes(content)
        result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)  # noqa: S603
        assert result.returncode == 0, result.stdout + result.stderr


def squeezed(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=60, deadline=None)
@given(text=hostile_text)
def test_hostile_text_always_gives_a_valid_pdf_that_shows_it_literally(
    text, tmp_path_factory
) -> None:  # noqa: ANN001
    from marac.papers import _build, _p, _table

    content = _build(
        heading(),
        [_p(text), _table(("Column", "Text"), [["1", text]] * 3, (10, 90))],
        "Test",
    )
    valid(content, tmp_path_factory.mktemp("pdf"))
    extracted = squeezed(
        " ".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(content)).pages)
    )
    assert extracted.count(squeezed(text)) >= 4
    reader = pypdf.PdfReader(io.BytesIO(content))
    for page in reader.pages:
        assert "/Annots" not in page
        assert not (page["/Resources"].get("/XObject") or {})


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200))
def test_any_unicode_at_all_gives_a_valid_pdf(text, tmp_path_factory) -> None:  # noqa: ANN001
    """Right-to-left scripts, emoji, combining marks, control characters, lone surrogates."""
    from marac.papers import _build, _p, _table

    content = _build(heading(), [_p(text), _table(("A", "B"), [[text, text]], (50, 50))], "Test")
    valid(content, tmp_path_factory.mktemp("pdf"))
