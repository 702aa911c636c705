"""The programme and partner-contact screens: forms, refusals, conflicts and what each user sees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marac import clock
from marac.domain import (
    AgencyKind,
    AgencySide,
    CaseStatus,
    Classification,
    ContactConsent,
    InvolvementKind,
    PcTaskKind,
    PcTaskStatus,
    RelationshipKind,
    Role,
)
from marac.extensions import db
from marac.models import (
    AuditEntry,
    InformationItem,
    PartnerContactRecord,
    PcTask,
    ProgrammeRecord,
)
from marac.services import programmes

from .conftest import csrf_token, login

WORDS = "He shoved her into the wardrobe CNYX99"


@pytest.fixture
def world(
    make_area: Callable[..., Any],
    make_agency: Callable[..., Any],
    make_user: Callable[..., Any],
    make_person: Callable[..., Any],
    make_case: Callable[..., Any],
    involve: Callable[..., Any],
    relate: Callable[..., Any],
) -> dict[str, Any]:
    area = make_area()
    programme = make_agency(area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING)
    service = make_agency(area, AgencyKind.PARTNER_CONTACT, AgencySide.VICTIM_FACING)
    police = make_agency(area, AgencyKind.POLICE)
    users = {
        "programme": make_user(Role.AGENCY_REP, programme, display_name="Pat Programme"),
        "her_worker": make_user(Role.SUPPORT_WORKER, service, display_name="Hetty Worker"),
        "ex_worker": make_user(Role.SUPPORT_WORKER, service, display_name="Ed Worker"),
        "spare": make_user(Role.SUPPORT_WORKER, service, display_name="Sam Spare"),
        "coordinator": make_user(Role.COORDINATOR, police),
        "chair": make_user(Role.CHAIR, police),
        "police": make_user(Role.AGENCY_REP, police),
    }
    man = make_person(area, "Mike", "Moss")
    her = make_person(area, "Helen", "Hart")
    ex = make_person(area, "Erin", "Eve")  # in no MARAC case
    relate(man, her, RelationshipKind.PARTNER)
    relate(man, ex, RelationshipKind.EX_PARTNER, separated_on=date.today() - timedelta(days=100))
    case = make_case(area, her, (man,), status=CaseStatus.LISTED)
    involve(programme, man, InvolvementKind.PERPETRATOR_PROGRAMME, users["programme"])
    involve(service, her, InvolvementKind.PARTNER_CONTACT, users["her_worker"])
    involve(service, ex, InvolvementKind.PARTNER_CONTACT, users["ex_worker"])
    record = programmes.start_record(
        db.session,
        agency=programme,
        man_id=man.id,
        by=users["programme"],
        today=date.today() - timedelta(days=30),
    )
    db.session.commit()
    return {
        "users": users,
        "record": record,
        "her": her,
        "ex": ex,
        "case": case,
        "man": man,
        "area": area,
    }


def _client(app: Any, user: Any) -> FlaskClient:
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return client


def _post(client: FlaskClient, path: str, data: dict[str, Any], page: str) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _disclose(app: Any, world: dict[str, Any], may_cite: str = "y") -> Any:
    client = _client(app, world["users"]["programme"])
    record = world["record"]
    page = f"/programmes/{record.id}"
    return _post(
        client,
        f"{page}/disclosure",
        {
            "disclosure-kind": "disclosure",
            "disclosure-occurred_on": clock.service_today().isoformat(),
            "disclosure-detail": WORDS,
            "disclosure-may_cite": may_cite,
            "disclosure-version": str(record.version),
        },
        page,
    )


def _her_record(world: dict[str, Any], key: str = "her") -> PartnerContactRecord:
    return db.session.scalars(
        sa.select(PartnerContactRecord).where(PartnerContactRecord.person_id == world[key].id)
    ).one()


def test_a_disclosure_reaches_her_worker_as_the_minimum(app: Any, world: dict[str, Any]) -> None:
    response = _disclose(app, world)
    assert response.status_code == 303
    tasks = db.session.scalars(sa.select(PcTask)).all()
    assert {t.worker_id for t in tasks} == {
        world["users"]["her_worker"].id,
        world["users"]["ex_worker"].id,
    }
    her_record = _her_record(world)
    today = clock.service_today()
    on = f"{today.day} {today:%B %Y}"
    minimum = f"He disclosed violence or abuse in the programme on {on}."
    worker_page = _text(
        _client(app, world["users"]["her_worker"]).get(f"/partner-contact/{her_record.id}")
    )
    assert minimum in worker_page
    assert "His disclosure may be cited as the source" in worker_page
    assert WORDS not in worker_page
    # The programme reads its own words; the coordinator and the chair as the policy says.
    programme_page = _text(
        _client(app, world["users"]["programme"]).get(f"/programmes/{world['record'].id}")
    )
    assert WORDS in programme_page
    coordinator_page = _text(
        _client(app, world["users"]["coordinator"]).get(f"/programmes/{world['record'].id}")
    )
    assert minimum in coordinator_page and WORDS not in coordinator_page
    chair_page = _text(
        _client(app, world["users"]["chair"]).get(f"/programmes/{world['record'].id}")
    )
    assert WORDS in chair_page


def test_the_programme_page_is_the_same_whatever_the_fan_out(
    app: Any, world: dict[str, Any]
) -> None:
    """How many partners were told, and who works with them, never reaches the programme."""
    client = _client(app, world["users"]["programme"])
    _disclose(app, world)
    page = _text(client.get(f"/programmes/{world['record'].id}"))
    for hidden in ("Hetty Worker", "Ed Worker", "Helen", "Erin", "task"):
        assert hidden not in page, hidden


def test_bad_input_keeps_what_was_typed(app: Any, world: dict[str, Any]) -> None:
    client = _client(app, world["users"]["programme"])
    record = world["record"]
    page = f"/programmes/{record.id}"
    future = (clock.service_today() + timedelta(days=3)).isoformat()
    response = _post(
        client,
        f"{page}/status",
        {
            "status-status": "dropped_out",
            "status-occurred_on": future,
            "status-reason": "further_violence",
            "status-detail": "Typed notes stay put",
            "status-version": str(record.version),
        },
        page,
    )
    assert response.status_code == 400
    text = _text(response)
    assert "The date cannot be in the future." in text and "Typed notes stay put" in text
    for data in (
        {"status-status": "nonsense", "status-occurred_on": "2026-01-01"},
        {"status-status": "attending", "status-occurred_on": "not a date"},
        {"status-status": "referred", "status-occurred_on": clock.service_today().isoformat()},
    ):
        bad = _post(client, f"{page}/status", {**data, "status-version": str(record.version)}, page)
        assert bad.status_code == 400, data
    assert _post(client, f"{page}/elsewhere", {}, page).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PcTask)) == 0


def test_a_stale_page_gets_409(app: Any, world: dict[str, Any]) -> None:
    client = _client(app, world["users"]["programme"])
    record = world["record"]
    page = f"/programmes/{record.id}"
    old_version = str(record.version)
    today = clock.service_today().isoformat()
    first = _post(
        client,
        f"{page}/attendance",
        {
            "attendance-occurred_on": today,
            "attendance-attended": "yes",
            "attendance-version": old_version,
        },
        page,
    )
    assert first.status_code == 303
    second = _post(
        client,
        f"{page}/status",
        {"status-status": "suspended", "status-occurred_on": today, "status-version": old_version},
        page,
    )
    assert second.status_code == 409
    assert "Someone else changed this record first" in _text(second)
    db.session.expire_all()
    assert db.session.get(ProgrammeRecord, record.id).status.value == "referred"


def test_who_may_record_and_read(app: Any, world: dict[str, Any]) -> None:
    users, record = world["users"], world["record"]
    page = f"/programmes/{record.id}"
    data = {"attendance-occurred_on": "2026-01-01", "attendance-attended": "yes"}
    for name in ("coordinator", "chair"):
        client = _client(app, users[name])
        assert client.get(page).status_code == 200
        assert _post(client, f"{page}/attendance", data, "/").status_code == 403
    for name in ("her_worker", "police"):
        client = _client(app, users[name])
        assert client.get(page).status_code == 404
        assert client.get("/programmes/").status_code == 403
        assert _post(client, f"{page}/attendance", data, "/").status_code == 404


def test_the_programme_starts_a_record_only_for_a_man_it_works_with(
    app: Any, world: dict[str, Any], make_person: Callable[..., Any]
) -> None:
    client = _client(app, world["users"]["programme"])
    assert "Mike Moss" in _text(client.get("/programmes/"))
    stranger = make_person(world["area"], "Stan")
    response = _post(client, "/programmes/start", {"person_id": str(stranger.id)}, "/programmes/")
    assert response.status_code == 404
    assert _post(client, "/programmes/start", {"person_id": "x"}, "/programmes/").status_code == 400


def test_her_worker_keeps_her_record(app: Any, world: dict[str, Any]) -> None:
    _disclose(app, world)
    record = _her_record(world)
    client = _client(app, world["users"]["her_worker"])
    page = f"/partner-contact/{record.id}"
    today = clock.service_today().isoformat()
    bad = _post(
        client,
        f"{page}/details",
        {
            "details-safe_email": "not an email",
            "details-risk_account": "She fears the weekends CNYX98",
            "details-contact_every_days": "14",
            "details-version": str(record.version),
        },
        page,
    )
    assert bad.status_code == 400 and "She fears the weekends CNYX98" in _text(bad)
    good = _post(
        client,
        f"{page}/details",
        {
            "details-safe_phone": "07700 900123",
            "details-risk_account": "She fears the weekends CNYX98",
            "details-contact_every_days": "14",
            "details-may_leave_message": "no",
            "details-version": str(record.version),
        },
        page,
    )
    assert good.status_code == 303
    logged = _post(
        client,
        f"{page}/contacts",
        {
            "contact-occurred_on": today,
            "contact-method": "face_to_face",
            "contact-outcome": "spoke",
            "contact-note": "Met at the library",
        },
        page,
    )
    assert logged.status_code == 303
    child = _post(
        client,
        f"{page}/children",
        {"child-child_name": "Tia", "child-impact": "", "child-assessed_on": today},
        page,
    )
    assert child.status_code == 400 and "Tia" in _text(child)
    db.session.expire_all()
    record = db.session.get(PartnerContactRecord, record.id)
    assert record.contact_every_days == 14 and record.may_leave_message is False
    assert record.next_contact_on == clock.service_today() + timedelta(days=14)
    (task,) = db.session.scalars(sa.select(PcTask).where(PcTask.record_id == record.id)).all()
    done = _post(
        client,
        f"{page}/tasks/{task.id}",
        {"note": "Told her by phone", "version": str(task.version)},
        page,
    )
    assert done.status_code == 303
    again = _post(
        client,
        f"{page}/tasks/{task.id}",
        {"note": "twice", "version": str(task.version)},
        page,
    )
    assert again.status_code == 409
    db.session.expire_all()
    assert db.session.get(PcTask, task.id).status is PcTaskStatus.DONE
    text = _text(client.get(page))
    assert "She fears the weekends CNYX98" in text and "Met at the library" in text


def test_consent_withdrawn_stops_prompts_on_screen(app: Any, world: dict[str, Any]) -> None:
    _disclose(app, world)
    record = _her_record(world)
    client = _client(app, world["users"]["her_worker"])
    page = f"/partner-contact/{record.id}"
    response = _post(
        client,
        f"{page}/consent",
        {
            "consent-consent": "withdrawn",
            "consent-consent_on": clock.service_today().isoformat(),
            "consent-version": str(record.version),
        },
        page,
    )
    assert response.status_code == 303
    text = _text(client.get(page))
    assert "None: the service does not prompt contact" in text
    assert "Review the risk (no contact)" in text
    assert "Contacts due within a week" not in _text(client.get("/partner-contact/"))
    db.session.expire_all()
    assert db.session.get(PartnerContactRecord, record.id).consent is ContactConsent.WITHDRAWN
    assert {
        t.kind for t in db.session.scalars(sa.select(PcTask).where(PcTask.record_id == record.id))
    } == {PcTaskKind.REVIEW_RISK}


def test_closing_needs_a_reason_and_is_never_automatic(app: Any, world: dict[str, Any]) -> None:
    _disclose(app, world)
    record = _her_record(world)
    client = _client(app, world["users"]["her_worker"])
    page = f"/partner-contact/{record.id}"
    empty = _post(
        client, f"{page}/close", {"close-reason": "", "close-version": str(record.version)}, page
    )
    assert empty.status_code == 400
    closed = _post(
        client,
        f"{page}/close",
        {
            "close-reason": "She asked us to stop; she knows how to come back.",
            "close-version": str(record.version),
        },
        page,
    )
    assert closed.status_code == 303
    db.session.expire_all()
    record = db.session.get(PartnerContactRecord, record.id)
    assert record.closed_on is not None
    reopened = _post(client, f"{page}/reopen", {"version": str(record.version)}, page)
    assert reopened.status_code == 303
    db.session.expire_all()
    assert db.session.get(PartnerContactRecord, record.id).closed_on is None


def test_one_partners_worker_never_reaches_anothers_record(app: Any, world: dict[str, Any]) -> None:
    _disclose(app, world)
    her, ex = _her_record(world), _her_record(world, "ex")
    users = world["users"]
    ex_worker = _client(app, users["ex_worker"])
    for path in (
        f"/partner-contact/{her.id}",
        f"/partner-contact/{her.id}/handover",
        f"/partner-contact/{her.id}/table",
    ):
        assert ex_worker.get(path).status_code == 404
    listing = _text(ex_worker.get("/partner-contact/"))
    assert "Erin Eve" in listing and "Helen Hart" not in listing and "Hetty Worker" not in listing
    # The other partner in no MARAC case has her record and her task all the same.
    assert _text(ex_worker.get(f"/partner-contact/{ex.id}")).count("Tell her:") == 1
    for name in ("programme", "police"):
        client = _client(app, users[name])
        assert client.get(f"/partner-contact/{ex.id}").status_code == 404
        assert client.get("/partner-contact/").status_code == 403
    refusals = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "partner_contact_record.refused")
    ).all()
    assert len(refusals) >= 5


def test_the_coordinator_hands_her_over_and_her_tasks_follow(
    app: Any, world: dict[str, Any]
) -> None:
    _disclose(app, world)
    record = _her_record(world)
    users = world["users"]
    client = _client(app, users["coordinator"])
    page = f"/partner-contact/{record.id}/handover"
    summary = _text(client.get(f"/partner-contact/{record.id}"))
    assert "Her partner-contact worker holds her record." in summary
    assert "Tell her" not in summary and "disclosed" not in summary
    refused = _post(
        client,
        page,
        {"handover-worker_id": str(users["ex_worker"].id), "handover-version": str(record.version)},
        page,
    )
    assert refused.status_code == 400
    assert "Each partner of the same man has her own" in _text(refused)
    done = _post(
        client,
        page,
        {"handover-worker_id": str(users["spare"].id), "handover-version": str(record.version)},
        page,
    )
    assert done.status_code == 303
    (task,) = db.session.scalars(sa.select(PcTask).where(PcTask.record_id == record.id)).all()
    assert task.worker_id == users["spare"].id
    assert _client(app, users["her_worker"]).get(f"/partner-contact/{record.id}").status_code == 404
    assert "Tell her:" in _text(_client(app, users["spare"]).get(f"/partner-contact/{record.id}"))
    stale = _post(
        client,
        page,
        {"handover-worker_id": str(users["her_worker"].id), "handover-version": "1"},
        page,
    )
    assert stale.status_code == 409


def test_her_worker_tables_her_account_at_the_marac(app: Any, world: dict[str, Any]) -> None:
    _disclose(app, world)
    record = _her_record(world)
    record.risk_account = "He follows her to the school gate CNYX97"
    db.session.commit()
    users = world["users"]
    client = _client(app, users["her_worker"])
    page = f"/partner-contact/{record.id}/table"
    nothing = _post(client, page, {"table-case_id": str(world["case"].id)}, page)
    assert nothing.status_code == 400
    response = _post(
        client,
        page,
        {
            "table-case_id": str(world["case"].id),
            "table-risk_account": Classification.SURVIVOR_CONFIDENTIAL.value,
        },
        page,
    )
    assert response.status_code == 303
    item = db.session.scalars(sa.select(InformationItem)).one()
    assert item.classification is Classification.SURVIVOR_CONFIDENTIAL
    assert item.case_id == world["case"].id
    case_page = f"/cases/{world['case'].id}"
    assert "CNYX97" in _text(client.get(case_page))
    assert "CNYX97" in _text(_client(app, users["chair"]).get(case_page))
    for name in ("coordinator", "police", "programme"):
        assert "CNYX97" not in _text(_client(app, users[name]).get(case_page)), name
    assert _client(app, users["coordinator"]).get(page).status_code == 403
