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
from marac.models import AuditEntry, Case, CaseTombstone, Person
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
