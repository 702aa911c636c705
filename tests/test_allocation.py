"""Allocating agencies and workers: the practice rules, the refusals, the screen, the audit.

Max is the perpetrator in two cases: Hope (his current partner) and Iris (his ex-partner). Jo is
a woman in an unrelated case. Harbour is a partner-contact service with workers Ana and Bea;
Pathways is a behaviour-change programme.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from marac import clock
from marac.domain import (
    AgencyKind,
    AgencySide,
    CaseStatus,
    InvolvementKind,
    RelationshipKind,
    Role,
)
from marac.extensions import db
from marac.models import AuditEntry, Involvement
from marac.services.allocation import (
    RULE_A,
    RULE_B,
    AllocationRefused,
    AllocationRequest,
    allocate_worker,
    check_allocation,
    end_involvement,
)

from .conftest import csrf_token, login, post_form

# "Today" is read once, at noon of the day the run starts, and the service's clock is held
# there: a run that crosses midnight must not meet two different days.
NOW = datetime.combine(clock.service_today(), time(12), tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def held_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)


PC, IDVA, CASEWORK = (
    InvolvementKind.PARTNER_CONTACT,
    InvolvementKind.IDVA_SUPPORT,
    InvolvementKind.CASEWORK,
)


@pytest.fixture
def w(make_area, make_agency, make_user, make_person, make_case, relate):  # noqa: ANN001
    area = make_area(code="AL")
    team = make_agency(area, AgencyKind.OTHER, name="Team")
    police = make_agency(area, AgencyKind.POLICE, name="Police")
    harbour = make_agency(
        area, AgencyKind.PARTNER_CONTACT, AgencySide.VICTIM_FACING, name="Harbour"
    )
    pathways = make_agency(
        area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, name="Pathways"
    )
    elsewhere = make_agency(make_area(), AgencyKind.POLICE, name="Elsewhere Police")
    users = {
        "coordinator": make_user(Role.COORDINATOR, team, username="coordinator"),
        "police": make_user(Role.AGENCY_REP, police, username="police"),
        "ana": make_user(Role.SUPPORT_WORKER, harbour, username="ana", display_name="Ana Ek"),
        "bea": make_user(Role.SUPPORT_WORKER, harbour, username="bea", display_name="Bea Fox"),
        "prog": make_user(Role.AGENCY_REP, pathways, username="prog", display_name="Pat Oak"),
    }
    max_, hope, iris, jo = (
        make_person(area, given=g, family=f)
        for g, f in [("Max", "Rook"), ("Hope", "Lane"), ("Iris", "Vale"), ("Jo", "Wren")]
    )
    relate(max_, hope, RelationshipKind.PARTNER)
    relate(iris, max_, RelationshipKind.EX_PARTNER, separated_on=date(2025, 6, 1))
    cases = {
        "hope": make_case(area, hope, (max_,), status=CaseStatus.HEARD),
        "iris": make_case(area, iris, (max_,), status=CaseStatus.HEARD),
        "jo": make_case(area, jo, (), status=CaseStatus.HEARD),
    }
    return {
        "area": area,
        "agencies": {"police": police, "harbour": harbour, "pathways": pathways, "team": team},
        "elsewhere": elsewhere,
        "users": users,
        "people": {"max": max_, "hope": hope, "iris": iris, "jo": jo},
        "cases": cases,
    }


def ask(w, case: str, person: str, agency: str, kind, worker: str | None = None, **kw):  # noqa: ANN001, ANN003, ANN201
    agency_obj = w["elsewhere"] if agency == "elsewhere" else w["agencies"][agency]
    return AllocationRequest(
        case_id=w["cases"][case].id,
        person_id=w["people"][person].id,
        agency_id=agency_obj.id,
        kind=kind,
        worker_id=w["users"][worker].id if worker else None,
        started_on=kw.get("started_on", TODAY),
    )


def refusals(w, *args, **kwargs) -> list[tuple[str, str]]:  # noqa: ANN001, ANN002, ANN003
    return [(r.field, r.message) for r in check_allocation(ask(w, *args, **kwargs), TODAY)]


def allocate(w, *args, **kwargs) -> Involvement:  # noqa: ANN001, ANN002, ANN003
    involvement = allocate_worker(ask(w, *args, **kwargs), TODAY)
    db.session.commit()
    return involvement


# --- the practice rules --------------------------------------------------------------------------


def test_each_partner_of_the_same_man_has_her_own_worker(w) -> None:  # noqa: ANN001
    allocate(w, "hope", "hope", "harbour", PC, "ana")
    found = refusals(w, "iris", "iris", "harbour", PC, "ana")
    assert found == [
        (
            "worker_id",
            "Ana Ek is already the partner-contact or IDVA worker for another current or former "
            f"partner of the same man. {RULE_B}",
        )
    ]
    # The same rule for IDVA support; another worker is fine; an unrelated woman is fine.
    assert refusals(w, "iris", "iris", "harbour", IDVA, "ana")[0][1].endswith(RULE_B)
    assert refusals(w, "iris", "iris", "harbour", PC, "bea") == []
    assert refusals(w, "jo", "jo", "harbour", PC, "ana") == []
    # Her own worker may add another kind of support for her.
    assert refusals(w, "hope", "hope", "harbour", IDVA, "ana") == []


def test_ended_work_with_one_partner_still_counts(w) -> None:  # noqa: ANN001
    involvement = allocate(w, "hope", "hope", "harbour", PC, "ana")
    end_involvement(involvement, w["cases"]["hope"].id, TODAY)
    db.session.commit()
    assert refusals(w, "iris", "iris", "harbour", PC, "ana")[0][1].endswith(RULE_B)


def test_a_worker_who_works_with_him_is_never_her_worker(w, involve) -> None:  # noqa: ANN001
    involve(w["agencies"]["harbour"], w["people"]["max"], CASEWORK, worker=w["users"]["bea"])
    for case, person in (("hope", "hope"), ("iris", "iris")):
        found = refusals(w, case, person, "harbour", PC, "bea")
        assert found == [
            (
                "worker_id",
                f"Bea Fox works with a man who is, or was, this person's partner. {RULE_A}",
            )
        ]
    assert refusals(w, "jo", "jo", "harbour", PC, "bea") == []


def test_ended_work_with_him_still_counts(w, involve) -> None:  # noqa: ANN001
    ended = TODAY - timedelta(days=30)
    involve(
        w["agencies"]["harbour"], w["people"]["max"], CASEWORK, w["users"]["bea"], ended_on=ended
    )
    assert refusals(w, "hope", "hope", "harbour", PC, "bea")[0][1].endswith(RULE_A)


def test_her_worker_is_never_allocated_to_work_with_him(w) -> None:  # noqa: ANN001
    allocate(w, "hope", "hope", "harbour", PC, "ana")
    found = refusals(w, "hope", "max", "harbour", CASEWORK, "ana")
    assert found == [
        (
            "worker_id",
            "Ana Ek is the partner-contact or IDVA worker for a current or former partner of this "
            f"person. {RULE_A}",
        )
    ]


def test_refusals_name_neither_the_man_nor_another_partner(w, involve) -> None:  # noqa: ANN001
    allocate(w, "hope", "hope", "harbour", PC, "ana")
    involve(w["agencies"]["harbour"], w["people"]["max"], CASEWORK, worker=w["users"]["bea"])
    messages = " ".join(
        message
        for case, person, worker in (("iris", "iris", "ana"), ("iris", "iris", "bea"))
        for _, message in refusals(w, case, person, "harbour", PC, worker)
    )
    assert RULE_A in messages and RULE_B in messages
    for name in ("Max", "Rook", "Hope", "Lane", "Iris", "Vale"):
        assert name not in messages


def test_what_may_be_allocated_at_all(w) -> None:  # noqa: ANN001
    cases = [
        (("hope", "jo", "harbour", PC), "person_id", "Choose someone in this case."),
        (("hope", "hope", "elsewhere", CASEWORK), "agency_id", "Choose an agency of this area."),
        (
            ("hope", "hope", "pathways", CASEWORK),
            "agency_id",
            "Pathways works only with perpetrators, not this person.",
        ),
        (
            ("hope", "max", "harbour", PC),
            "kind",
            "Partner contact is for survivors, not for a perpetrator.",
        ),
        (
            ("hope", "hope", "police", IDVA),
            "kind",
            "IDVA support comes from a victim-facing agency.",
        ),
        (
            ("hope", "hope", "harbour", InvolvementKind.PERPETRATOR_PROGRAMME),
            "kind",
            "A behaviour-change programme works with a perpetrator of this case.",
        ),
    ]
    for arguments, field, message in cases:
        assert (field, message) in refusals(w, *arguments), arguments
    assert ("worker_id", "Choose a worker of Police, or no named worker.") in refusals(
        w, "hope", "hope", "police", CASEWORK, "ana"
    )
    future = refusals(w, "hope", "hope", "police", CASEWORK, started_on=TODAY + timedelta(days=1))
    assert future == [("started_on", "The start date cannot be in the future.")]
    assert (
        refusals(w, "hope", "max", "pathways", InvolvementKind.PERPETRATOR_PROGRAMME, "prog") == []
    )


def test_the_same_involvement_twice_is_refused(w) -> None:  # noqa: ANN001
    allocate(w, "hope", "hope", "police", CASEWORK)
    assert refusals(w, "hope", "hope", "police", CASEWORK) == [
        ("kind", "Police already works with this person in this way.")
    ]


def test_allocating_and_ending_are_audited(w) -> None:  # noqa: ANN001
    involvement = allocate(w, "hope", "hope", "harbour", PC, "ana")
    created = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "involvement.create")
    )
    assert created.object_id == involvement.id
    assert "Harbour" in created.detail and "ana" in created.detail
    assert "Hope" not in created.detail and "Lane" not in created.detail
    end_involvement(involvement, w["cases"]["hope"].id, TODAY)
    db.session.commit()
    assert involvement.ended_on == TODAY
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "involvement.end"))
    with pytest.raises(AllocationRefused):
        end_involvement(involvement, w["cases"]["hope"].id, TODAY)
    with pytest.raises(AllocationRefused) as refused:
        allocate_worker(ask(w, "hope", "jo", "police", CASEWORK), TODAY)
    assert refused.value.refusals[0].field == "person_id"


# --- the screen ----------------------------------------------------------------------------------


def _page(client, case) -> str:  # noqa: ANN001
    return client.get(f"/cases/{case.id}").get_data(as_text=True)


def _form(w, person: str, agency: str, kind, worker: str | None = None) -> dict[str, str]:  # noqa: ANN001
    return {
        "allocate-person_id": str(w["people"][person].id),
        "allocate-agency_id": str(w["agencies"][agency].id),
        "allocate-kind": kind.value,
        "allocate-worker_id": str(w["users"][worker].id) if worker else "",
        "allocate-started_on": TODAY.isoformat(),
    }


def test_the_coordinator_allocates_from_the_case_page(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w["users"]["coordinator"])
    case = w["cases"]["hope"]
    page = _page(client, case)
    assert "Agencies involved" in page and "Add to agencies involved" in page
    path = f"/cases/{case.id}/agencies"
    response = post_form(client, path, _form(w, "hope", "harbour", PC, "ana"), f"/cases/{case.id}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{case.id}#agencies")
    page = _page(client, case)
    assert "Added to the agencies involved." in page
    row = page[page.index('id="agencies-title"') :]
    assert "Hope Lane" in row and "Harbour" in row and "Ana Ek" in row


def test_a_refusal_is_a_form_error_and_keeps_the_choices(client, signed_in, w) -> None:  # noqa: ANN001
    allocate(w, "hope", "hope", "harbour", PC, "ana")
    signed_in(w["users"]["coordinator"])
    case = w["cases"]["iris"]
    response = post_form(
        client, f"/cases/{case.id}/agencies", _form(w, "iris", "harbour", PC, "ana"), "/cases/"
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert RULE_B in text and 'id="allocate-worker_id-error"' in text
    assert f'<option selected value="{w["users"]["ana"].id}">' in text
    assert f'<option selected value="{w["people"]["iris"].id}">' in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Involvement)) == 1


def test_an_agency_allocates_only_itself(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w["users"]["police"])
    case = w["cases"]["hope"]
    page = _page(client, case)
    form = page[page.index('id="allocate-agency_id"') :].split("</select>")[0]
    assert "Police" in form and "Harbour" not in form
    response = post_form(
        client, f"/cases/{case.id}/agencies", _form(w, "hope", "harbour", PC, "ana"), "/cases/"
    )
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    response = post_form(
        client, f"/cases/{case.id}/agencies", _form(w, "hope", "police", CASEWORK), "/cases/"
    )
    assert response.status_code == 303


def test_the_programme_may_allocate_only_itself_to_him(client, signed_in, w, involve) -> None:  # noqa: ANN001
    involve(w["agencies"]["pathways"], w["people"]["max"], InvolvementKind.PERPETRATOR_PROGRAMME)
    signed_in(w["users"]["prog"])
    page = _page(client, w["cases"]["hope"])
    person_select = page[page.index('id="allocate-person_id"') :].split("</select>")[0]
    assert "Max Rook" in person_select and "Hope" not in person_select
    assert "Hope Lane" not in page


def test_bad_input_gets_a_clear_answer_not_an_error(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w["users"]["coordinator"])
    case = w["cases"]["hope"]
    for field, value in (
        ("allocate-person_id", "abc"),
        ("allocate-agency_id", "99999"),
        ("allocate-kind", "on-the-moon"),
        ("allocate-worker_id", "xyz"),
        ("allocate-started_on", "yesterday-ish"),
        ("allocate-started_on", ""),
    ):
        data = {**_form(w, "hope", "police", CASEWORK), field: value}
        response = post_form(client, f"/cases/{case.id}/agencies", data, "/cases/")
        assert response.status_code == 400, (field, value)
        assert "There is a problem" in response.get_data(as_text=True)


def _refusals_on_record() -> list[AuditEntry]:
    db.session.expire_all()  # what the request committed, not what this session remembers
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "involvement.refused")
            .order_by(AuditEntry.id)
        )
    )


def test_a_refused_allocation_stays_on_record_without_the_other_partner(
    client,  # noqa: ANN001
    signed_in,  # noqa: ANN001
    w,  # noqa: ANN001
) -> None:
    allocate(w, "hope", "hope", "harbour", PC, "ana")
    coordinator = w["users"]["coordinator"]
    signed_in(coordinator)
    case = w["cases"]["iris"]
    response = post_form(
        client, f"/cases/{case.id}/agencies", _form(w, "iris", "harbour", PC, "ana"), "/cases/"
    )
    assert response.status_code == 400  # the answer rolls the request back ...
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Involvement)) == 1
    [entry] = _refusals_on_record()  # ... but the refusal is kept
    # Who, what was asked for, and the rule.
    assert (entry.user_id, entry.agency_id) == (coordinator.id, coordinator.agency_id)
    assert (entry.object_type, entry.object_id) == ("case", case.id)
    iris = w["people"]["iris"]
    assert entry.detail.startswith(
        f"case {case.id}: Harbour, Partner contact, person {iris.id}, named worker ana; refused: "
    )
    assert RULE_B in entry.detail
    # Never the other partner, nor the man, by name, number or case.
    assert re.findall(r"person (\d+)", entry.detail) == [str(iris.id)]
    for hidden in ("Hope", "Lane", "Max", "Rook", w["cases"]["hope"].reference):
        assert hidden not in entry.detail, hidden


def test_a_refusal_by_the_service_is_recorded_in_its_transaction(w) -> None:  # noqa: ANN001
    """Rule (a) the other way round: her worker is never allocated to work with him."""
    allocate(w, "hope", "hope", "harbour", PC, "ana")
    with pytest.raises(AllocationRefused):
        allocate_worker(ask(w, "iris", "max", "harbour", CASEWORK, "ana"), TODAY)
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "involvement.refused")
    )
    assert entry.object_id == w["cases"]["iris"].id
    assert f"person {w['people']['max'].id}, named worker ana; refused: " in entry.detail
    assert RULE_A in entry.detail
    assert "Hope" not in entry.detail and f"person {w['people']['hope'].id}," not in entry.detail


def test_a_pair_the_policy_refuses_is_recorded(client, signed_in, w, monkeypatch) -> None:  # noqa: ANN001
    """Each chosen pair is checked again when the form is sent. Here the policy refuses one pair
    whose person and agency are each offered (with others)."""
    from marac import policy

    hope, police = w["people"]["hope"], w["agencies"]["police"]
    real = policy.may_allocate

    def refuse_one_pair(viewer, links, person_id, agency_id):  # noqa: ANN001, ANN202
        if (person_id, agency_id) == (hope.id, police.id):
            return policy.Decision(policy.Level.WITHHELD, "not this pair")
        return real(viewer, links, person_id, agency_id)

    monkeypatch.setattr(policy, "may_allocate", refuse_one_pair)
    coordinator = w["users"]["coordinator"]
    signed_in(coordinator)
    case = w["cases"]["hope"]
    response = post_form(
        client, f"/cases/{case.id}/agencies", _form(w, "hope", "police", CASEWORK), "/cases/"
    )
    assert response.status_code == 400
    assert "You may allocate only your own agency." in response.get_data(as_text=True)
    [entry] = _refusals_on_record()
    assert entry.user_id == coordinator.id and entry.object_id == case.id
    assert entry.detail == (
        f"case {case.id}: Police, Casework, person {hope.id}; refused: Not allowed: not this pair."
    )


def test_sending_the_form_when_nothing_may_be_allocated_is_recorded(
    client,  # noqa: ANN001
    signed_in,  # noqa: ANN001
    w,  # noqa: ANN001
    monkeypatch,  # noqa: ANN001
) -> None:
    from marac import policy

    monkeypatch.setattr(
        policy, "may_allocate", lambda *_args: policy.Decision(policy.Level.WITHHELD, "no")
    )
    police = w["users"]["police"]
    signed_in(police)
    case = w["cases"]["hope"]
    response = post_form(
        client, f"/cases/{case.id}/agencies", _form(w, "hope", "police", CASEWORK), "/cases/"
    )
    assert response.status_code == 403
    [entry] = _refusals_on_record()
    assert entry.user_id == police.id
    assert entry.detail == f"case {case.id}: refused: may allocate no agency to anyone in this case"


def _end(client, w, involvement: Involvement, version: int | None = None):  # noqa: ANN001, ANN202
    case = w["cases"]["hope"]
    return client.post(
        f"/cases/{case.id}/agencies/{involvement.id}/end",
        data={
            "csrf_token": csrf_token(client, f"/cases/{case.id}"),
            "version": str(version if version is not None else involvement.version),
        },
    )


def test_ending_an_involvement(app, w) -> None:  # noqa: ANN001
    police_work = allocate(w, "hope", "hope", "police", CASEWORK)
    harbour_work = allocate(w, "hope", "hope", "harbour", PC, "ana")
    client = app.test_client()
    login(client, "police")
    assert _end(client, w, harbour_work).status_code == 403  # not its agency
    assert _end(client, w, police_work, version=police_work.version + 5).status_code == 409
    response = _end(client, w, police_work)
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Involvement, police_work.id).ended_on == TODAY
    assert _end(client, w, police_work).status_code == 404  # already ended
    case_id = w["cases"]["hope"].id
    missing = client.post(
        f"/cases/{case_id}/agencies/999999/end",
        data={"csrf_token": csrf_token(client, f"/cases/{case_id}"), "version": "1"},
    )
    assert missing.status_code == 404


def test_a_stale_end_shows_the_current_state(app, w) -> None:  # noqa: ANN001
    police_work = allocate(w, "hope", "hope", "police", CASEWORK)
    client = app.test_client()
    login(client, "coordinator")
    response = _end(client, w, police_work, version=police_work.version + 1)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Someone else changed this first." in text and "Police" in text
    db.session.expire_all()
    assert db.session.get(Involvement, police_work.id).ended_on is None


def test_an_involvement_of_another_case_is_not_found(app, w) -> None:  # noqa: ANN001
    jo_work = allocate(w, "jo", "jo", "police", CASEWORK)
    client = app.test_client()
    login(client, "coordinator")
    assert _end(client, w, jo_work).status_code == 404  # Jo is not in Hope's case


def test_ending_her_own_work_closes_the_case_to_the_worker(app, w) -> None:  # noqa: ANN001
    work = allocate(w, "hope", "hope", "harbour", PC, "ana")
    client = app.test_client()
    login(client, "ana")
    response = _end(client, w, work)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/cases/")
    assert client.get(f"/cases/{w['cases']['hope'].id}").status_code == 404


def test_the_agencies_page_stands_on_its_own(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w["users"]["coordinator"])
    case = w["cases"]["hope"]
    page = client.get(f"/cases/{case.id}/agencies")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"<h1>Case {case.reference}</h1>" in text
    assert f'value="{TODAY.isoformat()}"' in text
    fragment = client.get(f"/cases/{case.id}/agencies", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="agencies"')
