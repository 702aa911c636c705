"""The case list and case page: access, search, fragments, headers and query counts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from marac.domain import (
    AgencyKind,
    AgencySide,
    CaseRole,
    CaseStatus,
    Classification,
    InvolvementKind,
    RelationshipKind,
    Role,
)
from marac.extensions import db
from marac.models import CasePerson, Person

from .conftest import count_queries, csrf_token


@pytest.fixture
def area_setup(make_area, make_agency, make_user, make_person, make_case, make_item, relate):  # noqa: ANN001
    area = make_area(code="TA")
    police = make_agency(area, AgencyKind.POLICE, name="Testshire Police")
    rep = make_user(Role.AGENCY_REP, police, username="rep")
    victim = make_person(
        area,
        given="Alys",
        family="Marrow",
        aliases=("Ally Marrow",),
        contact={"address": "SECRET-ADDRESS"},
    )
    man = make_person(area, given="Bryn", family="Cotter")
    child = make_person(area, given="Cai", family="Marrow")
    relate(man, victim, RelationshipKind.EX_PARTNER)
    relate(victim, child, RelationshipKind.PARENT)
    case = make_case(
        area, victim, (man,), (child,), status=CaseStatus.HEARD, referring_agency=police
    )
    make_item(case, police, "Shared police record", about=man)
    return area, police, rep, case


def test_case_page_shows_people_relationships_and_items(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, _police, rep, case = area_setup
    signed_in(rep)
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for expected in (
        "Alys Marrow",
        "Ally Marrow",
        "Bryn Cotter",
        "Cai Marrow",
        "Bryn Cotter is the ex-partner of Alys Marrow",
        "Alys Marrow is a parent of Cai Marrow",
        "Shared police record",
        "Testshire Police",
    ):
        assert expected in text, expected
    # Her address is not for this agency: it says it is held, and is absent.
    assert "SECRET-ADDRESS" not in text
    assert "Contact details are held by her own worker" in text


def test_sensitive_pages_are_not_cached_and_carry_security_headers(
    client, signed_in, area_setup
) -> None:  # noqa: ANN001
    _area, _police, rep, case = area_setup
    signed_in(rep)
    for path in ("/cases/", f"/cases/{case.id}"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store"
        csp = response.headers["Content-Security-Policy"]
        nonce = re.search(r"script-src 'nonce-([\w-]+)' 'strict-dynamic'", csp).group(1)
        script_src = csp.split("script-src")[1].split(";")[0]
        assert "unsafe-inline" not in csp and "'self'" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "HX-Request" in response.headers["Vary"]
        body = response.get_data(as_text=True)
        assert "<script>" not in body and " onclick=" not in body and " style=" not in body
        assert body.count("<script ") == body.count(f'nonce="{nonce}"') - 1  # and the style sheet
        assert 'data-hx-history="false"' in body


def test_case_of_another_area_or_unknown_is_not_found(
    client,
    signed_in,
    area_setup,
    make_area,
    make_person,
    make_case,  # noqa: ANN001
) -> None:
    _area, _police, rep, _case = area_setup
    elsewhere = make_area()
    hidden = make_case(elsewhere, make_person(elsewhere), status=CaseStatus.HEARD)
    signed_in(rep)
    assert client.get(f"/cases/{hidden.id}").status_code == 404
    assert client.get("/cases/999999").status_code == 404
    assert hidden.reference not in client.get("/cases/").get_data(as_text=True)


def test_htmx_gets_the_results_fragment(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, _police, rep, case = area_setup
    signed_in(rep)
    fragment = client.get("/cases/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="case-results"')
    assert "<html" not in fragment
    assert case.reference in fragment
    # A history restore asks for the whole page.
    restore = client.get(
        "/cases/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.get_data(as_text=True)


def test_search_by_name_alias_and_reference(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, _police, rep, case = area_setup
    signed_in(rep)
    token = csrf_token(client, "/cases/")
    for term, found in [
        ("alys", True),
        ("ally marrow", True),
        ("COTTER", True),
        (case.reference[:5], True),
        ("nobody-like-this", False),
        ("%", False),
        ("_", False),
    ]:
        text = client.post("/cases/", data={"q": term, "csrf_token": token}).get_data(as_text=True)
        assert (case.reference in text) is found, term


def test_bad_filters_get_a_clear_answer_not_an_error(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, _police, rep, _case = area_setup
    signed_in(rep)
    response = client.get("/cases/?status=on-the-moon&page=abc")
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    long = client.post(
        "/cases/", data={"q": "x" * 500, "csrf_token": csrf_token(client, "/cases/")}
    )
    assert long.status_code == 400
    assert "Use at most 100 characters." in long.get_data(as_text=True)
    assert client.get("/cases/?page=99999999999999999999").status_code == 200


def test_status_filter(client, signed_in, area_setup, make_person, make_case) -> None:  # noqa: ANN001
    area, police, rep, heard = area_setup
    listed = make_case(area, make_person(area), status=CaseStatus.LISTED, referring_agency=police)
    signed_in(rep)
    text = client.get("/cases/?status=listed").get_data(as_text=True)
    assert listed.reference in text and heard.reference not in text


def test_query_count_does_not_grow_with_the_list(
    client,
    signed_in,
    area_setup,
    make_person,
    make_case,
    make_agency,
    involve,  # noqa: ANN001
) -> None:
    area, police, rep, _case = area_setup
    signed_in(rep)

    def add_cases(n: int) -> None:
        for _ in range(n):
            victim, man = make_person(area), make_person(area)
            make_case(area, victim, (man,), (make_person(area),), status=CaseStatus.HEARD)
            involve(police, man, InvolvementKind.CASEWORK)

    add_cases(3)
    with count_queries() as few:
        assert client.get("/cases/").status_code == 200
    add_cases(30)
    with count_queries() as many:
        assert client.get("/cases/").status_code == 200
    assert many.count == few.count, (few.count, many.count)


def test_case_page_query_count_does_not_grow_with_items(
    client,
    signed_in,
    area_setup,
    make_item,  # noqa: ANN001
) -> None:
    _area, police, rep, case = area_setup
    signed_in(rep)
    with count_queries() as few:
        client.get(f"/cases/{case.id}")
    for n in range(25):
        make_item(
            case,
            police,
            f"Item {n}",
            classification=[Classification.MARAC, Classification.AGENCY_ONLY][n % 2],
        )
    with count_queries() as many:
        text = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Item 24" in text
    assert many.count == few.count, (few.count, many.count)


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", on_execute)


def test_case_page_reads_nothing_twice(
    client,
    signed_in,
    area_setup,
    make_user,
    involve,  # noqa: ANN001
) -> None:
    """The people cards, the agencies section and both forms share what they read: the people,
    their involvements, the area's agencies and its workers are each read once for the page."""
    _area, police, rep, case = area_setup
    make_user(Role.AGENCY_REP, police, username="rep2")
    victim = db.session.scalar(
        sa.select(Person)
        .join(CasePerson, CasePerson.person_id == Person.id)
        .where(CasePerson.case_id == case.id, CasePerson.role == CaseRole.VICTIM)
    )
    involve(police, victim, InvolvementKind.CASEWORK, worker=rep)
    signed_in(rep)
    page = f"/cases/{case.id}"
    with statements() as seen:
        text = client.get(page).get_data(as_text=True)
    assert "Add an action" in text and "Add an agency or worker" in text
    repeated = [statement for statement, n in Counter(seen).items() if n > 1]
    assert not repeated, "\n".join(s[:90].replace("\n", " ") for s in seen)
    # The view's audit entry is written once, already sealed, not inserted and then rewritten.
    assert sum(s.startswith("INSERT INTO audit_entry") for s in seen) == 1
    assert not [s for s in seen if s.startswith("UPDATE audit_entry")]


def test_viewing_a_case_is_audited(client, signed_in, area_setup) -> None:  # noqa: ANN001
    import sqlalchemy as sa

    from marac.models import AuditEntry

    _area, _police, rep, case = area_setup
    signed_in(rep)
    client.get(f"/cases/{case.id}")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "case.view"))
    assert entry.user_id == rep.id and entry.object_id == case.id
    assert entry.remote_addr == "127.0.0.1"


def test_refused_case_is_audited(client, signed_in, area_setup, make_person, make_case) -> None:  # noqa: ANN001
    import sqlalchemy as sa

    from marac.models import AuditEntry

    area, _police, rep, _case = area_setup
    not_listed = make_case(area, make_person(area), status=CaseStatus.REFERRED)
    signed_in(rep)
    assert client.get(f"/cases/{not_listed.id}").status_code == 404
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "case.refused"))
    assert entry is not None and entry.object_id == not_listed.id


def test_programme_sees_the_victim_only_as_the_victim(
    client,
    signed_in,
    area_setup,
    make_agency,
    make_user,
    involve,  # noqa: ANN001
) -> None:
    area, _police, _rep, case = area_setup
    programme = make_agency(area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING)
    worker = make_user(Role.AGENCY_REP, programme)
    man_id = next(m.person_id for m in case.members if m.role.value == "perpetrator")
    from marac.models import Person

    involve(programme, db.session.get(Person, man_id), InvolvementKind.PERPETRATOR_PROGRAMME)
    signed_in(worker)
    text = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Bryn Cotter" in text and "The victim" in text
    # The shared police record about him is his agency's to read; who referred her is not.
    assert "Shared police record" in text
    assert "Referred by" not in text
    for hidden in ("Alys", "Marrow", "Cai", "ex-partner", "SECRET-ADDRESS", "Contact details"):
        assert hidden not in text, hidden
