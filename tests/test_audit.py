"""The audit trail: sealed by a hash chain at commit, append-only in the database, verified by
``marac audit-verify``, in one order even with concurrent writers; and the administrator's
"who looked at this person's record" screen, which shows who and when but no case content.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.exc import DatabaseError

from marac import MIGRATIONS_DIR, audit, audit_chain
from marac.domain import AgencyKind, CaseStatus, Role
from marac.extensions import db
from marac.models import AuditChainHead, AuditEntry
from marac.models.audit import TRIGGER_NAME, create_append_only_triggers, drop_append_only_triggers

from .conftest import DatabaseFactory, login, make_test_app, post_form
from .test_leaks import CANARIES


def _write(count: int, action: str = "test.entry") -> None:
    for n in range(count):
        audit.record(action, object_type="case", object_id=n, detail=f"entry {n}")
        db.session.commit()


@contextmanager
def _triggers_off() -> Iterator[None]:
    """What someone with the database owner's rights could do: switch the protection off."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE audit_entry DISABLE TRIGGER {TRIGGER_NAME}")
    else:
        drop_append_only_triggers(connection)
    try:
        yield
        db.session.commit()
    finally:
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ALTER TABLE audit_entry ENABLE TRIGGER {TRIGGER_NAME}")
        else:
            drop_append_only_triggers(connection)
            create_append_only_triggers(connection)
        db.session.commit()


def _verify() -> audit_chain.Verification:
    db.session.expire_all()
    return audit.verify_chain(db.session)


def test_entries_are_sealed_in_one_chain_at_commit(app: Flask) -> None:
    _write(5)
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == audit_chain.GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))
    head = db.session.get(AuditChainHead, 1)
    assert (head.length, head.last_hash) == (5, entries[-1].entry_hash)
    result = _verify()
    assert result.ok and result.checked == 5 and result.head_hash == entries[-1].entry_hash


def test_an_entry_rolled_back_takes_no_place(app: Flask) -> None:
    _write(2)
    audit.record("never.happened")
    db.session.rollback()
    _write(1)
    assert [e.seq for e in db.session.scalars(sa.select(AuditEntry))] == [1, 2, 3]
    assert _verify().ok


def test_the_database_refuses_to_change_or_delete_an_entry(app: Flask) -> None:
    _write(2)
    for statement in (
        sa.update(AuditEntry).where(AuditEntry.seq == 1).values(detail="rewritten"),
        sa.delete(AuditEntry).where(AuditEntry.seq == 2),
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    assert _verify().ok


def test_an_edited_entry_is_detected(app: Flask) -> None:
    _write(4)
    with _triggers_off():
        db.session.execute(
            sa.update(AuditEntry).where(AuditEntry.seq == 2).values(detail="someone else did it")
        )
    result = _verify()
    assert not result.ok
    assert result.problems == ["entry 2 was changed after it was written"]


def test_an_edited_entry_with_its_hash_recomputed_breaks_the_next_link(app: Flask) -> None:
    _write(4)
    second = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.seq == 2))
    second.detail = "forged"
    forged = audit_chain.entry_hash(second, second.prev_hash)
    db.session.rollback()
    with _triggers_off():
        db.session.execute(
            sa.update(AuditEntry)
            .where(AuditEntry.seq == 2)
            .values(detail="forged", entry_hash=forged)
        )
    assert _verify().problems == ["entry 3 does not follow the entry before it"]


def test_a_deleted_entry_is_detected(app: Flask) -> None:
    _write(5)
    with _triggers_off():
        db.session.execute(sa.delete(AuditEntry).where(AuditEntry.seq == 3))
    problems = _verify().problems
    assert "entry 3 missing (deleted?)" in problems
    assert "entry 4 does not follow the entry before it" in problems


def test_entries_cut_off_the_end_are_detected(app: Flask) -> None:
    _write(5)
    with _triggers_off():
        db.session.execute(sa.delete(AuditEntry).where(AuditEntry.seq >= 4))
    problems = _verify().problems
    assert len(problems) == 1 and "head says 5 entries" in problems[0]


def test_audit_verify_command(app: Flask) -> None:
    _write(3)
    runner = app.test_cli_runner()
    good = runner.invoke(args=["audit-verify"])
    assert good.exit_code == 0 and "intact: 3 entries" in good.output
    with _triggers_off():
        db.session.execute(sa.delete(AuditEntry).where(AuditEntry.seq == 2))
    bad = runner.invoke(args=["audit-verify"])
    assert bad.exit_code == 1
    assert "AUDIT TRAIL BROKEN" in bad.output and "entry 2 missing" in bad.output


def test_concurrent_writers_extend_one_chain(app: Flask) -> None:
    """Writers in separate sessions and connections, at once: no fork, no lost entry."""
    writers, each = 4, 15
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(each):
                    audit.record("concurrent", object_type="case", object_id=n * 1000 + i)
                    if i % 3 == 0:  # some transactions carry two entries
                        audit.record("concurrent", object_type="case", object_id=-1)
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    total = writers * (each + len(range(0, each, 3)))
    result = _verify()
    assert result.ok, result.problems
    assert result.checked == total
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == total


def test_the_migration_seals_entries_written_before_the_chain(databases: DatabaseFactory) -> None:
    app = make_test_app(databases.new("audit_migration"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="03d359f59ea3")
        old = sa.table(
            "audit_entry",
            sa.column("at", sa.DateTime(timezone=True)),
            sa.column("action", sa.String),
            sa.column("detail", sa.Text),
        )
        with db.engine.begin() as connection:
            connection.execute(
                old.insert(),
                [
                    {
                        "at": datetime(2026, 1, 2, 3, 4, 5, 678, UTC),
                        "action": "login",
                        "detail": None,
                    },
                    {
                        "at": datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
                        "action": "x",
                        "detail": "é ü",
                    },
                ],
            )
        upgrade(directory=MIGRATIONS_DIR)
        result = audit.verify_chain(db.session)
        assert result.ok and result.checked == 2
        _write(1)
        assert _verify().checked == 3
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(sa.delete(AuditEntry))
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


# --- who looked at this person's record ---------------------------------------------------------


def test_views_of_a_case_are_recorded_with_who_agency_and_address(
    client: FlaskClient,
    make_area,
    make_agency,
    make_user,
    make_person,
    make_case,  # noqa: ANN001
) -> None:
    area = make_area()
    police = make_agency(area, AgencyKind.POLICE)
    rep = make_user(Role.AGENCY_REP, police, username="looker")
    victim = make_person(area, "Ada", "Lovelace")
    case = make_case(area, victim, status=CaseStatus.LISTED)
    login(client, "looker")
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert client.get(f"/cases/{case.id}").status_code == 200
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "case.view"))
    assert (entry.user_id, entry.agency_id, entry.object_id) == (rep.id, police.id, case.id)
    assert entry.remote_addr == "203.0.113.9" and entry.at is not None
    assert _verify().ok


@pytest.fixture
def looked_at(make_area, make_agency, make_user, make_person, make_case):  # noqa: ANN001
    area = make_area()
    team = make_agency(area, AgencyKind.OTHER, name="Area Team")
    police = make_agency(area, AgencyKind.POLICE, name="Northmere Police")
    admin = make_user(Role.ADMINISTRATOR, team, username="boss")
    rep = make_user(Role.AGENCY_REP, police, username="looker", display_name="Lou Looker")
    victim = make_person(area, "Ada", "Secretname")
    other = make_person(area, "Bea", "Untouched")
    case = make_case(area, victim, status=CaseStatus.LISTED)
    make_case(area, other, status=CaseStatus.LISTED)
    return admin, rep, victim, other, case


def test_an_administrator_sees_who_looked_and_when_but_not_what(
    app: Flask, client: FlaskClient, looked_at
) -> None:  # noqa: ANN001
    _admin, _rep, victim, other, case = looked_at
    theirs = app.test_client()
    login(theirs, "looker")
    theirs.get(f"/cases/{case.id}")
    login(client, "boss")
    page = client.get(f"/admin/audit/people/{victim.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Lou Looker (looker)" in text and "Northmere Police" in text
    assert "opened the case" in text and f"case record {case.id}" in text
    assert "Secretname" not in text and "Ada" not in text and case.reference not in text
    untouched = client.get(f"/admin/audit/people/{other.id}").get_data(as_text=True)
    assert "Nobody has opened or changed this record" in untouched
    # The look-up form goes by record number, in the path, never a name in the URL.
    found = post_form(client, "/admin/audit/people", {"person_id": str(victim.id)})
    assert found.status_code == 303
    assert found.headers["Location"] == f"/admin/audit/people/{victim.id}"
    bad = post_form(client, "/admin/audit/people", {"person_id": "Ada Secretname"})
    assert bad.status_code == 400 and "Enter the record number" in bad.get_data(as_text=True)
    lookups = db.session.scalars(
        sa.select(AuditEntry.object_id).where(AuditEntry.action == "audit.person_lookup")
    ).all()
    assert lookups == [victim.id, other.id]


def test_only_administrators_of_the_area_use_the_screen(
    client: FlaskClient,
    looked_at,
    make_area,
    make_agency,
    make_user,  # noqa: ANN001
) -> None:
    _admin, _rep, victim, *_ = looked_at
    login(client, "looker")
    assert client.get(f"/admin/audit/people/{victim.id}").status_code == 403
    elsewhere = make_user(Role.ADMINISTRATOR, make_agency(make_area()), username="far")
    other = client.application.test_client()
    login(other, elsewhere.username)
    assert other.get(f"/admin/audit/people/{victim.id}").status_code == 404
    assert other.get("/admin/audit/people/999999").status_code == 404


def test_the_audit_screen_leaks_no_case_content_on_the_demo(demo_app: Flask) -> None:
    """Every demo user opens every case they can; the administrator's screen for each demo
    person then names the viewers but none of the demo's sensitive values or identities."""
    with demo_app.app_context():
        case_ids = list(db.session.scalars(sa.text("SELECT id FROM marac_case ORDER BY id")))
        person_ids = list(db.session.scalars(sa.text("SELECT id FROM person ORDER BY id")))
    for username in ("chair", "pc1", "programme", "police"):
        viewer = demo_app.test_client()
        login(viewer, username)
        for case_id in case_ids:
            viewer.get(f"/cases/{case_id}")
    admin = demo_app.test_client()
    login(admin, "admin")
    text = "\n".join(
        admin.get(f"/admin/audit/people/{person_id}").get_data(as_text=True)
        for person_id in person_ids
    )
    leaks = sorted(t for t, allowed in CANARIES.items() if t in text and "admin" not in allowed)
    assert leaks == [], leaks
    assert "(chair)" in text and "(pc1)" in text and "opened the case" in text
