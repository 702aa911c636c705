"""The retention review page: the area's closed cases past retention, for its coordinator and
administrator, with references and dates only, and how deletion is done."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from marac import clock
from marac.domain import AgencyKind, AgencySide, CaseStatus, Role
from marac.extensions import db
from marac.models import AuditEntry
from marac.services.retention import due_since, retention_cutoff

from .conftest import login, page_text


@pytest.fixture
def w(app, make_area, make_agency, make_user, make_person, make_case):  # noqa: ANN001
    years = app.config["MARAC_RETENTION_YEARS"]
    today = clock.service_today()
    cutoff = retention_cutoff(today, years)
    area = make_area(code="RT", name="Retford")
    team = make_agency(area, AgencyKind.OTHER, name="Retford MARAC Team")
    police = make_agency(area, AgencyKind.POLICE, name="Retford Police")
    programme = make_agency(
        area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, name="Retway"
    )
    users = {
        "coordinator": make_user(Role.COORDINATOR, team, username="rt-coord"),
        "administrator": make_user(Role.ADMINISTRATOR, team, username="rt-admin"),
        "chair": make_user(Role.CHAIR, police, username="rt-chair"),
        "rep": make_user(Role.AGENCY_REP, police, username="rt-rep"),
        "programme": make_user(Role.COORDINATOR, programme, username="rt-prog"),
    }

    def closed(given: str, closed_on: date | None, status: CaseStatus = CaseStatus.CLOSED):  # noqa: ANN202
        case = make_case(area, make_person(area, given=given, family="Rettle"), status=status)
        case.closed_on = closed_on
        db.session.commit()
        return case

    due = closed("Rowena", cutoff - timedelta(days=400))
    just_due = closed("Ruth", cutoff)
    not_yet = closed("Rhoda", cutoff + timedelta(days=1))
    still_open = closed("Rosa", None, CaseStatus.HEARD)
    elsewhere_area = make_area(code="RX", name="Elsewhere")
    elsewhere = make_case(
        elsewhere_area,
        make_person(elsewhere_area, given="Roxanne", family="Farr"),
        status=CaseStatus.CLOSED,
    )
    elsewhere.closed_on = cutoff - timedelta(days=10)
    db.session.commit()
    return {
        "years": years,
        "users": users,
        "listed": (due, just_due),
        "not_listed": (not_yet, still_open, elsewhere),
    }


def _page(app: Flask, username: str) -> tuple[int, str]:
    client = app.test_client()
    assert login(client, username).status_code == 302
    response = client.get("/retention")
    return response.status_code, page_text(response)


@pytest.mark.parametrize("who", ["coordinator", "administrator"])
def test_the_coordinator_and_administrator_review_their_areas_due_cases(w, app, who) -> None:  # noqa: ANN001
    status, text = _page(app, w["users"][who].username)
    assert status == 200
    for case in w["listed"]:
        assert case.reference in text
        assert case.closed_on.isoformat() in text
        assert due_since(case.closed_on, w["years"]).isoformat() in text
    for case in w["not_listed"]:
        assert case.reference not in text
    assert "2 cases due for deletion" in text
    assert "marac retention-delete" in text and "--confirm" in text
    # References and dates only: no name of anyone in the cases.
    assert "Rettle" not in text and "Rowena" not in text
    # The menu leads there.
    assert 'href="/retention"' in text


@pytest.mark.parametrize("who", ["chair", "rep", "programme"])
def test_nobody_else_sees_the_list(w, app, who) -> None:  # noqa: ANN001
    status, text = _page(app, w["users"][who].username)
    assert status == 403
    assert all(case.reference not in text for case in w["listed"])


def test_the_menu_offers_it_only_to_those_who_may_see_it(w, app) -> None:  # noqa: ANN001
    client = app.test_client()
    login(client, w["users"]["chair"].username)
    assert 'href="/retention"' not in page_text(client.get("/cases/"))
    client = app.test_client()
    login(client, w["users"]["coordinator"].username)
    assert 'href="/retention"' in page_text(client.get("/cases/"))


def test_looking_at_the_list_is_audited(w, app) -> None:  # noqa: ANN001
    _page(app, w["users"]["coordinator"].username)
    (entry,) = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "retention.review")
    ).all()
    assert entry.user_id == w["users"]["coordinator"].id
    assert entry.detail == (f"2 cases and 0 partner-contact records past {w['years']} years listed")


def test_a_case_closed_on_29_february_is_due_on_1_march() -> None:
    assert due_since(date(2020, 2, 29), 6) == date(2026, 3, 1)
    # The same day the cutoff first reaches it.
    assert retention_cutoff(date(2026, 3, 1), 6) >= date(2020, 2, 29)
    assert retention_cutoff(date(2026, 2, 28), 6) < date(2020, 2, 29)
    assert due_since(date(2020, 5, 4), 6) == date(2026, 5, 4)
