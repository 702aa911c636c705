"""Case references: one number after another per area and year, never the same twice, even when
many referrals are saved at the same instant (each in its own request, session and connection)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from marac import clock
from marac.domain import AgencyKind, Role
from marac.extensions import db
from marac.models import Case, CaseReferenceCounter
from marac.services.referrals import next_reference

from .conftest import csrf_token, login
from .test_referrals import form_data

# "Today" is read once, at noon of the day the run starts, and the service's clock is held
# there: a run that crosses midnight must not meet two different days.
NOW = datetime.combine(clock.service_today(), time(12), tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def held_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)


AT_ONCE = 12

# Names that match nobody else here, so that no referral stops to ask "is this someone known?".
VICTIMS = [
    "Alys Marrow", "Bethan Quillfeather", "Ceridwen Dunmore", "Delyth Okonjo", "Eira Vasquez",
    "Ffion Tanaka", "Gwenllian Brackley", "Heledd Nwosu", "Ifanwy Castellano", "Lowri Zielinski",
    "Mali Haverford", "Nia Abernathy",
]  # fmt: skip
PERPETRATORS = [
    "Bryn Cotter", "Cai Wolstenholme", "Dylan Ferreira", "Emyr Kowalczyk", "Gethin Adeyemi",
    "Huw Lindqvist", "Iolo Ramsbottom", "Jac Papadopoulos", "Llyr Okafor", "Macsen Trevithick",
    "Osian Gallagher", "Rhodri Yamamoto",
]  # fmt: skip


@pytest.fixture
def police_officer(make_area, make_agency, make_user):  # noqa: ANN001
    area = make_area(code="RC")
    police = make_agency(area, AgencyKind.POLICE, name="Riverford Police")
    return area, police, make_user(Role.AGENCY_REP, police, username="officer")


def _referral(token: str, n: int) -> dict[str, str]:
    victim_given, victim_family = VICTIMS[n].split()
    his_given, his_family = PERPETRATORS[n].split()
    return form_data(
        token,
        **{
            "victim-given_name": victim_given,
            "victim-family_name": victim_family,
            "victim-date_of_birth": date(1980 + n, 1 + n % 12, 1 + n).isoformat(),
            "victim-match": "new",
            "people-0-given_name": his_given,
            "people-0-family_name": his_family,
            "people-0-match": "new",
        },
    )


def test_referrals_saved_at_the_same_instant_get_distinct_references(
    app,  # noqa: ANN001
    police_officer,  # noqa: ANN001
) -> None:
    area, _police, officer = police_officer
    # A case made before (by the demo loader or an import) without the counter: numbering
    # carries on after it.
    db.session.add(Case(area_id=area.id, reference=f"RC-{TODAY.year}-0007", referred_on=TODAY))
    db.session.commit()

    clients = []
    for n in range(AT_ONCE):
        client = app.test_client()
        assert login(client, officer.username).status_code == 302
        clients.append((client, _referral(csrf_token(client, "/referrals/new"), n)))

    start = threading.Barrier(AT_ONCE)
    answers: list[tuple[int, str]] = [(0, "")] * AT_ONCE

    def refer(n: int) -> None:
        client, data = clients[n]
        start.wait()
        response = client.post("/referrals/new", data=data)
        answers[n] = (response.status_code, response.get_data(as_text=True)[-300:])

    threads = [threading.Thread(target=refer, args=(n,)) for n in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    assert [status for status, _body in answers] == [303] * AT_ONCE, answers
    db.session.expire_all()
    references = db.session.scalars(
        sa.select(Case.reference).where(Case.area_id == area.id).order_by(Case.reference)
    ).all()
    # Every referral saved, each with its own number, following on from 0007 without a gap.
    assert references == [f"RC-{TODAY.year}-{n:04d}" for n in range(7, 8 + AT_ONCE)]


def test_numbers_follow_on_per_area_and_year_and_skip_a_taken_one(
    app,  # noqa: ANN001
    make_area,  # noqa: ANN001
) -> None:
    north, south = make_area(code="NX"), make_area(code="SX")
    day = date(2031, 3, 1)
    assert next_reference(db.session, north, day) == "NX-2031-0001"
    assert next_reference(db.session, north, day) == "NX-2031-0002"
    # Another area and another year count on their own.
    assert next_reference(db.session, south, day) == "SX-2031-0001"
    assert next_reference(db.session, north, day + timedelta(days=365)) == "NX-2032-0001"
    # A case saved with a number the counter has not reached (an import) is never reused.
    db.session.add(Case(area_id=north.id, reference="NX-2031-0003", referred_on=day))
    db.session.flush()
    assert next_reference(db.session, north, day) == "NX-2031-0004"
    # Numbers beyond 9999 keep counting (the reference grows a digit).
    counter = db.session.get(CaseReferenceCounter, (north.id, 2031))
    counter.last_number = 9999
    db.session.flush()
    assert next_reference(db.session, north, day) == "NX-2031-10000"
    db.session.rollback()


def test_a_first_number_of_the_year_follows_the_highest_existing_one(
    app,  # noqa: ANN001
    make_area,  # noqa: ANN001
) -> None:
    area = make_area(code="HX")
    day = date(2031, 5, 1)
    for reference in ("HX-2031-0009", "HX-2031-0120", "HX-2030-0999", "HX-2031-0012"):
        db.session.add(Case(area_id=area.id, reference=reference, referred_on=day))
    db.session.commit()
    assert next_reference(db.session, area, day) == "HX-2031-0121"
