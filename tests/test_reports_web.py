"""The reports' screens and downloads: who gets them, what the files hold, and what they never
hold (names, references), with the hand-counted area of tests/test_reporting.py."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from marac import clock
from marac.domain import AgencyKind, InvolvementKind, Role
from marac.extensions import db
from marac.models import Agency, Area, AreaReportSettings, AuditEntry, Case, Person
from marac.report_files import return_pdf
from marac.reporting import MEASURE_KEYS, DataReturn, MeetingColumn, Quarter, publish
from marac.security import CONFIRMED_AT
from tests.test_reporting import counted_area  # noqa: F401 (a fixture)

from .conftest import csrf_token

Q3 = "2026-q3"


@pytest.fixture
def people(counted_area: Any, make_agency: Callable, make_user: Callable) -> dict[str, Any]:  # noqa: F811
    area, _meetings = counted_area
    team = make_agency(area, AgencyKind.OTHER, name="HC Team")
    police = db.session.scalar(sa.select(Agency).where(Agency.name == "HC police"))
    elsewhere = db.session.scalar(sa.select(Area).where(Area.code == "EW"))
    return {
        "area": area,
        "coordinator": make_user(Role.COORDINATOR, team, username="hc-coord"),
        "chair": make_user(Role.CHAIR, police, username="hc-chair"),
        "rep": make_user(Role.AGENCY_REP, police, username="hc-rep"),
        "admin": make_user(Role.ADMINISTRATOR, team, username="hc-admin"),
        "elsewhere": make_user(
            Role.COORDINATOR, make_agency(elsewhere, AgencyKind.OTHER), username="ew-coord"
        ),
    }


def _personal_strings() -> list[str]:
    """Every name and reference in the database: none may be in a report."""
    names = db.session.execute(sa.select(Person.given_name, Person.family_name)).all()
    references = db.session.scalars(sa.select(Case.reference)).all()
    return [f for _g, f in names] + list(references)


def _pdf_text(body: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]


def test_the_coordinator_downloads_a_suppressed_csv_with_nothing_personal(
    client: FlaskClient, signed_in: Callable, people: dict
) -> None:
    area = people["area"]
    signed_in(people["coordinator"])
    response = client.get(f"/areas/{area.id}/reports/return.csv?quarter={Q3}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["OFFICIAL-SENSITIVE"] and rows[-1] == ["OFFICIAL-SENSITIVE"]
    assert rows[2] == ["Measure", "1 Jul 2026", "15 Jul 2026", "10 Aug 2026", "2 Sep 2026", "Total"]
    table = {row[0]: row[1:] for row in rows[3:-2]}
    # Hand-counted (tests/test_reporting.py EXPECTED): 1, 3, 0, 3 and 7 cases heard. Every
    # count from 1 to 5 is "5 or fewer"; zeros stay. The total 7 may stay: three counts of 1 to
    # 5 make 7 in many ways. Repeat cases (0, 1, 0, 0; total 1) are all small.
    assert table["Cases heard"] == ["5 or fewer", "5 or fewer", "0", "5 or fewer", "7"]
    assert table["Repeat cases"] == ["0", "5 or fewer", "0", "0", "5 or fewer"]
    assert table["Referred by housing"] == ["0", "0", "0", "0", "0"]
    assert table["Children in the households"][2] == "0"
    for cells in table.values():
        for cell in cells:
            assert cell in ("0", "5 or fewer", "not shown") or int(cell) > 5, cell
    for personal in _personal_strings():
        assert personal not in text, personal
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "report.return_download_csv")
    )
    assert entry is not None and entry.object_id == area.id
    assert hashlib.sha256(response.get_data()).hexdigest() in entry.detail


def test_the_pdf_is_marked_on_every_page_and_holds_only_suppressed_counts(
    client: FlaskClient, signed_in: Callable, people: dict
) -> None:
    area = people["area"]
    signed_in(people["chair"])
    response = client.get(f"/areas/{area.id}/reports/return.pdf?quarter={Q3}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = _pdf_text(response.get_data())
    for number, text in enumerate(pages, start=1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert lines.count("OFFICIAL-SENSITIVE") == 2, lines
        assert f"Page {number} of {len(pages)}" in text
    whole = "\n".join(pages)
    assert "MARAC data return: Handcount, July to September 2026" in whole
    assert "5 or fewer" in whole and "not shown" in whole
    for personal in _personal_strings():
        assert personal not in whole, personal
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(
                AuditEntry.action == "report.return_download_pdf"
            )
        )
        == 1
    )


def test_a_weekly_area_pdf_spreads_its_meetings_over_tables_and_marks_each_page() -> None:
    counts = {key: 7 for key in MEASURE_KEYS}
    columns = tuple(
        MeetingColumn(n, date(2026, 7, 1) + timedelta(days=7 * n), counts) for n in range(13)
    )
    published = publish(
        DataReturn("Weekly <b>&amp; area", Quarter(2026, 3), columns, {k: 91 for k in counts})
    )
    pages = _pdf_text(return_pdf(published, "OFFICIAL-SENSITIVE"))
    assert len(pages) >= 2
    whole = "\n".join(pages)
    # The area's name is text, never markup.
    assert "Weekly <b>&amp; area" in whole
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert text.count("OFFICIAL-SENSITIVE") == 2


def test_the_screen_shows_the_exact_counts_and_what_the_download_will_show(
    client: FlaskClient, signed_in: Callable, people: dict
) -> None:
    area = people["area"]
    signed_in(people["coordinator"])
    page = client.get(f"/areas/{area.id}/reports/return?quarter={Q3}").get_data(as_text=True)
    assert "July to September 2026" in page
    assert re.search(r"Cases heard</th><td>1</td><td>3</td><td>0</td><td>3</td><td>7</td>", page)
    assert "5 or fewer" in page
    for personal in _personal_strings():
        assert personal not in page, personal
    assert client.get(f"/areas/{area.id}/reports/return.csv?quarter=soon").status_code == 400


def test_a_mistyped_quarter_is_refused_beside_the_box_with_what_was_typed(
    client: FlaskClient, signed_in: Callable, people: dict
) -> None:
    area = people["area"]
    signed_in(people["coordinator"])
    for typed in ("2026-q9", "next <b>spring</b>", "1999-q1"):
        response = client.get(f"/areas/{area.id}/reports/return", query_string={"quarter": typed})
        page = response.get_data(as_text=True)
        assert response.status_code == 400, typed
        assert "There is a problem" in page
        assert "Enter a year from 2000 to 2100 and a quarter from 1 to 4" in page
        # What was typed is kept in the box (escaped), and no counts are shown for a guess.
        assert re.search(r'<input[^>]*name="quarter"[^>]*value="([^"]*)"', page).group(1) == (
            typed.replace("<", "&lt;").replace(">", "&gt;")
        )
        assert "Cases heard" not in page
    # Typed with spaces and capitals, a real quarter is read, and the box shows its key.
    shown = client.get(f"/areas/{area.id}/reports/return", query_string={"quarter": " 2026-Q3 "})
    assert shown.status_code == 200
    assert "July to September 2026" in shown.get_data(as_text=True)
    assert 'value="2026-q3"' in shown.get_data(as_text=True)


def test_downloads_ask_to_confirm_after_a_while(
    app: Flask, client: FlaskClient, signed_in: Callable, people: dict
) -> None:
    area = people["area"]
    signed_in(people["coordinator"])
    stale = datetime.now(UTC) - timedelta(minutes=app.config["MARAC_REAUTH_MINUTES"] + 1)
    with client.session_transaction() as session:
        session[CONFIRMED_AT] = stale.isoformat()
    for kind in ("csv", "pdf"):
        path = f"/areas/{area.id}/reports/return.{kind}?quarter={Q3}"
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/confirm?next=")
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(
                AuditEntry.action.like("report.return_dow%")
            )
        )
        == 0
    )


def test_who_reaches_the_reports(client: FlaskClient, signed_in: Callable, people: dict) -> None:
    area = people["area"]
    expected = {
        "coordinator": (200, 200, 200),
        "chair": (200, 200, 403),
        "rep": (403, 403, 403),
        "admin": (403, 403, 200),
        "elsewhere": (404, 404, 404),
    }
    for who, answers in expected.items():
        client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
        signed_in(people[who])
        got = tuple(
            client.get(f"/areas/{area.id}{path}").status_code
            for path in ("/reports", f"/reports/return.csv?quarter={Q3}", "/reports/settings")
        )
        assert got == answers, who


def test_the_dashboard_draws_accessible_charts_from_the_counts(
    client: FlaskClient, signed_in: Callable, people: dict, involve: Callable, make_person: Callable
) -> None:
    area = people["area"]
    db.session.add(AreaReportSettings(area_id=area.id, adult_female_population=2_000, idva_fte=0.5))
    idva = db.session.scalar(sa.select(Agency).where(Agency.name == "HC idva"))
    for n in range(3):
        involve(idva, make_person(area, f"Supported{n}"), InvolvementKind.IDVA_SUPPORT)
    db.session.commit()
    signed_in(people["chair"])
    original = clock.utc_now
    clock.utc_now = lambda: datetime(2026, 10, 5, 12, tzinfo=UTC)  # type: ignore[assignment]
    try:
        page = client.get(f"/areas/{area.id}/reports").get_data(as_text=True)
    finally:
        clock.utc_now = original  # type: ignore[assignment]
    # Hand-counted: 6 different cases heard in the year (case 1 twice), one a repeat (case 2),
    # one referred by the police (case 1): 6 per 2,000 women is 30.0 per 10,000.
    assert "6 cases heard for 2,000 women aged 16 and over: 30.0 per 10,000" in page
    assert "1 of 6 cases heard were repeats: 17%" in page
    assert "5 of 6 cases heard (83%) were referred by agencies other than the police" in page
    assert "3 people had IDVA support in the year, with 0.5 full-time-equivalent IDVAs: 6.0" in page
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(svgs) >= 5
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
        assert "style=" not in svg and "<script" not in svg
        assert 'fill="url(#' in svg  # a pattern, not colour alone
    assert "Recommended: 40" in page and "National range: 28% to 40%" in page
    assert page.count("<table") >= len(svgs)
    for personal in _personal_strings():
        assert personal not in page, personal


def test_the_settings_keep_what_was_typed_and_refuse_a_stale_save(
    client: FlaskClient, signed_in: Callable, people: dict
) -> None:
    area = people["area"]
    signed_in(people["admin"])
    path = f"/areas/{area.id}/reports/settings"
    token = csrf_token(client, path)
    bad = client.post(
        path,
        data={
            "csrf_token": token,
            "version": "0",
            "adult_female_population": "lots",
            "idva_fte": "-1",
        },
    )
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert 'value="lots"' in text and "Enter a number from 0" in text
    saved = client.post(
        path,
        data={
            "csrf_token": token,
            "version": "0",
            "adult_female_population": "142000",
            "idva_fte": "4.5",
        },
    )
    assert saved.status_code == 303 and saved.headers["Location"] == path
    row = db.session.get(AreaReportSettings, area.id)
    assert (row.adult_female_population, row.idva_fte, row.version) == (142_000, 4.5, 1)
    stale = client.post(
        path,
        data={"csrf_token": token, "version": "0", "adult_female_population": "1", "idva_fte": "1"},
    )
    assert stale.status_code == 409
    assert "Someone else saved these settings" in stale.get_data(as_text=True)
    db.session.refresh(row)
    assert row.adult_female_population == 142_000
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(
                AuditEntry.action == "report.settings_change"
            )
        )
        == 1
    )
