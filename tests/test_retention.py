"""Retention: closed cases past the period are listed, and deleted down to a tombstone.

The deletion test runs on its own copy of the demo: Chloe Marsh's case (NM-2026-0104), closed
long ago for the test, with her partner Daniel Okafor (in no other case) and his daughter Mia
(also in her mother's live case NM-2026-0103). Which strings belong to that case is written here
by hand from seeds/demo.toml, not worked out by the code under test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from marac import MIGRATIONS_DIR
from marac.domain import CaseStatus
from marac.extensions import db
from marac.models import AuditEntry, Case, CaseTombstone, PartnerContactRecord, Person
from marac.seeding import load_demo
from marac.services import accounts, retention

from .conftest import PASSWORD, make_test_app

CASE = "NM-2026-0104"
# Hers and the case's: her address, her disclosure, the case's actions and their history, her
# name, his alias.
GONE = ["CNYA06", "CNYS05", "CNYK17", "CNYK18", "CNYK19", "Chloe", "Marsh", "Danny Okafor"]
# Mia and her mother stay: they are in NM-2026-0103, which is live.
STAYS = ["Mia", "Grace", "CNYM07", "CNYA05"]
TOKEN = re.compile(r"CNY[A-Z]\d\d")


def every_text(connection: sa.Connection) -> dict[tuple[str, str], list[str]]:
    """Every value of every text column of every table, by (table, column)."""
    found: dict[tuple[str, str], list[str]] = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text)]
        if not columns:
            continue
        for row in connection.execute(sa.select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is not None:
                    found.setdefault((table.name, column.name), []).append(str(value))
    return found


def where(dump: dict[tuple[str, str], list[str]], needle: str) -> list[str]:
    return [f"{t}.{c}" for (t, c), values in dump.items() if any(needle in v for v in values)]


def row_counts(connection: sa.Connection) -> dict[str, int]:
    return {
        t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        for t in db.metadata.sorted_tables
    }


@pytest.fixture
def demo_copy(databases) -> Iterator[Flask]:  # noqa: ANN001
    app = make_test_app(databases.new(f"retention_{next(_copies)}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        load_demo(db.session, accounts.hash_password(PASSWORD))
        case = db.session.scalar(sa.select(Case).where(Case.reference == CASE))
        case.status = CaseStatus.CLOSED
        case.closed_on = date(2019, 3, 31)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


_copies = iter(range(1000))


def test_the_default_period_is_six_years(app: Flask) -> None:
    assert app.config["MARAC_RETENTION_YEARS"] == retention.DEFAULT_RETENTION_YEARS == 6
    assert retention.retention_cutoff(date(2026, 11, 24), 6) == date(2020, 11, 24)
    assert retention.retention_cutoff(date(2028, 2, 29), 6) == date(2022, 2, 28)


def test_due_lists_only_closed_cases_past_the_period(demo_copy: Flask) -> None:
    runner = demo_copy.test_cli_runner()
    result = runner.invoke(args=["retention-due"])
    assert result.exit_code == 0, result.output
    # The demo's other closed cases closed in 2025 and 2026: not due.
    assert CASE in result.output
    assert "NM-2025-0140" not in result.output and "NM-2026-0031" not in result.output
    assert "1 case." in result.output
    demo_copy.config["MARAC_RETENTION_YEARS"] = 1
    wider = runner.invoke(args=["retention-due"]).output
    assert CASE in wider and "NM-2025-0140" in wider and "NM-2026-0031" not in wider


def test_dry_run_deletes_nothing_and_cases_not_due_are_refused(demo_copy: Flask) -> None:
    runner = demo_copy.test_cli_runner()
    with demo_copy.app_context():
        before = row_counts(db.session.connection())
        db.session.commit()
    result = runner.invoke(args=["retention-delete", CASE])
    assert result.exit_code == 0, result.output
    assert f"Would delete {CASE}" in result.output and "Dry run" in result.output
    assert "information_item: 1" in result.output and "person: 2" in result.output
    refused = runner.invoke(args=["retention-delete", "NM-2026-0031", "--confirm"])
    assert refused.exit_code != 0 and "not past retention" in refused.output
    open_case = runner.invoke(args=["retention-delete", "NM-2026-0103", "--confirm"])
    assert open_case.exit_code != 0
    assert runner.invoke(args=["retention-delete", "--confirm"]).exit_code != 0
    with demo_copy.app_context():
        assert row_counts(db.session.connection()) == before


def test_deleting_leaves_no_personal_data_and_the_trail_verifies(demo_copy: Flask) -> None:
    with demo_copy.app_context():
        connection = db.session.connection()
        before = every_text(connection)
        counts_before = row_counts(connection)
        case_id = db.session.scalar(sa.select(Case.id).where(Case.reference == CASE))
        db.session.commit()
    for needle in GONE + STAYS:
        assert where(before, needle), f"{needle} should be in the demo to begin with"
    # The audit trail never held them, so keeping it whole keeps nothing of hers.
    for needle in GONE:
        assert not [place for place in where(before, needle) if place.startswith("audit_entry.")]

    runner = demo_copy.test_cli_runner()
    result = runner.invoke(args=["retention-delete", CASE, "--confirm"])
    assert result.exit_code == 0, result.output
    assert f"Deleted {CASE}" in result.output

    with demo_copy.app_context():
        connection = db.session.connection()
        after = every_text(connection)
        for needle in GONE:
            assert not where(after, needle), f"{needle} is still in {where(after, needle)}"
        for needle in STAYS:
            assert where(after, needle), f"{needle} was lost"
        # Nothing of any other case was lost: every other canary is still there.
        tokens_before = {t for values in before.values() for v in values for t in TOKEN.findall(v)}
        tokens_after = {t for values in after.values() for v in values for t in TOKEN.findall(v)}
        assert tokens_before - tokens_after == {t for t in GONE if TOKEN.fullmatch(t)}
        assert db.session.get(Case, case_id) is None
        assert db.session.scalar(sa.select(Person).where(Person.family_name == "Marsh")) is None
        mia = db.session.scalar(sa.select(Person).where(Person.given_name == "Mia"))
        assert mia is not None

        tombstone = db.session.scalar(sa.select(CaseTombstone))
        assert (tombstone.reference, tombstone.case_id) == (CASE, case_id)
        assert tombstone.closed_on == date(2019, 3, 31) and tombstone.retention_years == 6
        assert "information_item: 1" in tombstone.counts and "person: 2" in tombstone.counts
        actions = list(
            db.session.scalars(
                sa.select(AuditEntry.action).where(
                    AuditEntry.action.in_(["case.retention_delete", "case_tombstone.create"])
                )
            )
        )
        assert sorted(actions) == ["case.retention_delete", "case_tombstone.create"]
        counts_after = row_counts(connection)
        assert counts_after["audit_entry"] == counts_before["audit_entry"] + 2
        assert counts_after["marac_case"] == counts_before["marac_case"] - 1
        db.session.commit()

    verified = runner.invoke(args=["audit-verify"])
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output
    # The case is gone: naming it again is refused.
    assert runner.invoke(args=["retention-delete", CASE, "--confirm"]).exit_code != 0


# --- partner-contact records --------------------------------------------------------------------
# Jade Whitlow is in no MARAC case: her partner-contact record (CNYC14) is all the service holds
# of her, with her address (CNYN01). Hannah Pryce's record (CNYC13) goes, but she stays: she is the
# victim in NM-2025-0140. Both records are closed long ago for the test; Megan's stays open.
JADE_GONE = ["CNYC14", "CNYN01", "Jade", "Whitlow"]
HANNAH_GONE = ["CNYC13"]
PC_STAYS = ["Hannah", "Pryce", "CNYC05", "Megan", "Kieran"]


def _close_records(app: Flask, *given_names: str) -> dict[str, int]:
    with app.app_context():
        ids = {}
        for given in given_names:
            record = db.session.scalar(
                sa.select(PartnerContactRecord)
                .join(Person, Person.id == PartnerContactRecord.person_id)
                .where(Person.given_name == given)
            )
            record.started_on = date(2018, 5, 1)
            record.closed_on = date(2019, 6, 30)
            record.closed_reason = "She moved out of the area"
            ids[given] = record.id
        db.session.commit()
        return ids


def test_closed_partner_contact_records_past_the_period_are_listed(demo_copy: Flask) -> None:
    ids = _close_records(demo_copy, "Jade")
    result = demo_copy.test_cli_runner().invoke(args=["retention-due"])
    assert result.exit_code == 0, result.output
    assert f"record {ids['Jade']}  Harbour" in result.output
    assert "1 record." in result.output
    # Names never appear in the list, only the record's number, agency and dates.
    assert "Jade" not in result.output and "Whitlow" not in result.output


def test_a_partner_contact_record_not_past_the_period_is_refused(demo_copy: Flask) -> None:
    runner = demo_copy.test_cli_runner()
    with demo_copy.app_context():
        open_record = db.session.scalar(sa.select(PartnerContactRecord.id).limit(1))
        before = row_counts(db.session.connection())
        db.session.commit()
    refused = runner.invoke(args=["retention-delete", "--pc-record", str(open_record), "--confirm"])
    assert refused.exit_code != 0 and "not past retention" in refused.output
    missing = runner.invoke(args=["retention-delete", "--pc-record", "999999", "--confirm"])
    assert missing.exit_code != 0 and "no partner-contact record 999999" in missing.output
    with demo_copy.app_context():
        assert row_counts(db.session.connection()) == before


def test_deleting_partner_contact_records_leaves_nothing_of_her_and_the_trail_verifies(
    demo_copy: Flask,
) -> None:
    ids = _close_records(demo_copy, "Jade", "Hannah")
    with demo_copy.app_context():
        connection = db.session.connection()
        before = every_text(connection)
        counts_before = row_counts(connection)
        db.session.commit()
    for needle in JADE_GONE + HANNAH_GONE + PC_STAYS:
        assert where(before, needle), f"{needle} should be in the demo to begin with"

    runner = demo_copy.test_cli_runner()
    dry = runner.invoke(args=["retention-delete", "--all-due"])
    assert dry.exit_code == 0, dry.output
    assert f"Would delete partner-contact record {ids['Jade']}" in dry.output
    assert "Dry run" in dry.output
    with demo_copy.app_context():
        assert row_counts(db.session.connection()) == counts_before

    result = runner.invoke(args=["retention-delete", "--all-due", "--confirm"])
    assert result.exit_code == 0, result.output
    assert f"Deleted partner-contact record {ids['Jade']}" in result.output
    assert f"Deleted partner-contact record {ids['Hannah']}" in result.output
    # The case closed for the fixture goes too, as before.
    assert f"Deleted {CASE}" in result.output

    with demo_copy.app_context():
        connection = db.session.connection()
        after = every_text(connection)
        for needle in JADE_GONE + HANNAH_GONE:
            assert not where(after, needle), f"{needle} is still in {where(after, needle)}"
        for needle in PC_STAYS:
            assert where(after, needle), f"{needle} was lost"
        for record_id in ids.values():
            assert db.session.get(PartnerContactRecord, record_id) is None
        assert db.session.scalar(sa.select(Person).where(Person.given_name == "Jade")) is None
        assert db.session.scalar(sa.select(Person).where(Person.given_name == "Hannah"))
        entries = {
            entry.object_id: entry.detail
            for entry in db.session.scalars(
                sa.select(AuditEntry).where(AuditEntry.action == "partner_contact.retention_delete")
            )
        }
        assert set(entries) == set(ids.values())
        assert "1 people deleted" in entries[ids["Jade"]]
        assert "0 people deleted, 1 kept" in entries[ids["Hannah"]]
        assert all("Jade" not in d and "Hannah" not in d for d in entries.values())
        db.session.commit()

    verified = runner.invoke(args=["audit-verify"])
    assert verified.exit_code == 0, verified.output
