"""Online backup of the SQLite database while it is written to, and restoring it.

The writer commits one person and one audit entry per transaction, numbered, and notes each
number once its commit has returned. A consistent backup holds every write acknowledged before
the backup began, and the writes it holds are 0..k with none missing and none half there.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from marac import audit
from marac.extensions import db
from marac.models import Area, Person

from .conftest import TEST_DATABASE_SERVER, make_test_app

pytestmark = pytest.mark.skipif(
    bool(TEST_DATABASE_SERVER), reason="SQLite's backup; PostgreSQL uses pg_dump (docs)"
)

# person_name: the match keys written with each person.
WRITER_TABLES = {"person", "person_name", "audit_entry", "audit_chain_head"}


def rows_by_table(path: Path) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: sorted(
                connection.execute(f'SELECT * FROM "{name}"').fetchall(),  # noqa: S608
                key=repr,
            )
            for name in names
        }
    finally:
        connection.close()


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_test_app(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    with app.app_context():
        db.create_all()
        area = Area(code="BK", name="Backup area")
        db.session.add(area)
        db.session.flush()
        db.session.add_all(
            Person(area_id=area.id, given_name="Before", family_name=f"Backup{n}")
            for n in range(50)
        )
        audit.record("test.setup", detail="fifty people")
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _writer(app: Flask, stop: threading.Event, acknowledged: list[int]) -> None:
    with app.app_context():
        area_id = db.session.scalar(sa.select(Area.id))
        n = 0
        while not stop.is_set() and n < 5000:
            db.session.add(Person(area_id=area_id, given_name="Write", family_name=f"W{n:05d}"))
            audit.record("test.write", detail=f"write {n}")
            db.session.commit()
            acknowledged.append(n)
            n += 1
        db.session.remove()


def _writes_in(path: Path) -> tuple[list[int], list[int]]:
    tables = rows_by_table(path)
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        people = sorted(
            int(r[0][1:])
            for r in connection.execute("SELECT family_name FROM person WHERE given_name = 'Write'")
        )
        entries = sorted(
            int(r[0].split()[1])
            for r in connection.execute(
                "SELECT detail FROM audit_entry WHERE action = 'test.write'"
            )
        )
    finally:
        connection.close()
    assert tables  # the file is a database
    return people, entries


def test_backup_while_writing_then_restore_finds_every_record(
    live_app: Flask, tmp_path: Path
) -> None:
    live_path = tmp_path / "live.sqlite3"
    backup_path = tmp_path / "backups" / "marac-backup.sqlite3"
    stop = threading.Event()
    acknowledged: list[int] = []
    writer = threading.Thread(target=_writer, args=(live_app, stop, acknowledged))
    writer.start()
    try:
        while len(acknowledged) < 30:
            time.sleep(0.01)
        before_backup = len(acknowledged)
        result = live_app.test_cli_runner().invoke(args=["backup", str(backup_path)])
        during = len(acknowledged)
        # The writer goes on after the backup too.
        while len(acknowledged) < during + 20:
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "Backed up to" in result.output

    people, entries = _writes_in(backup_path)
    # Consistent: the same writes in both tables, numbered from 0 with none missing.
    assert people == entries == list(range(len(people)))
    assert len(people) >= before_backup, "an acknowledged write is missing from the backup"
    assert len(people) < len(acknowledged), "the writer went on after the backup"
    assert not Path(f"{backup_path}-wal").exists()

    restored_path = tmp_path / "restored.sqlite3"
    restored_app = make_test_app(f"sqlite:///{restored_path}")
    try:
        restored = restored_app.test_cli_runner().invoke(args=["restore", str(backup_path)])
        assert restored.exit_code == 0, restored.output
        assert "integrity ok" in restored.output and "Audit trail intact" in restored.output
        with restored_app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 50 + len(people)
            assert audit.verify_chain(db.session).ok
    finally:
        with restored_app.app_context():
            db.session.remove()
            db.engine.dispose()

    in_backup = rows_by_table(backup_path)
    in_restored = rows_by_table(restored_path)
    in_live = rows_by_table(live_path)
    assert set(in_backup) == set(in_restored) == set(in_live)
    for name, rows in in_backup.items():
        assert in_restored[name] == rows, f"{name} differs after restore"
        if name in WRITER_TABLES - {"audit_chain_head"}:
            assert set(rows) <= set(in_live[name]), f"{name} has rows the live one never had"
        elif name not in WRITER_TABLES:
            assert rows == in_live[name], f"{name} differs from the live database"


def test_restore_refuses_to_overwrite_without_replace(live_app: Flask, tmp_path: Path) -> None:
    runner = live_app.test_cli_runner()
    backup_path = tmp_path / "one.sqlite3"
    assert runner.invoke(args=["backup", str(backup_path)]).exit_code == 0
    again = runner.invoke(args=["backup", str(backup_path)])
    assert again.exit_code != 0 and "exists already" in again.output

    with live_app.app_context():
        db.session.add(Person(area_id=1, given_name="After", family_name="Backup"))
        db.session.commit()
    refused = runner.invoke(args=["restore", str(backup_path)])
    assert refused.exit_code != 0 and "--replace" in refused.output
    with live_app.app_context():
        assert db.session.scalar(sa.select(Person.id).where(Person.given_name == "After"))

    replaced = runner.invoke(args=["restore", str(backup_path), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    with live_app.app_context():
        db.session.remove()
        assert not db.session.scalar(sa.select(Person.id).where(Person.given_name == "After"))
        assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 50


def test_a_damaged_backup_is_refused(live_app: Flask, tmp_path: Path) -> None:
    runner = live_app.test_cli_runner()
    backup_path = tmp_path / "one.sqlite3"
    assert runner.invoke(args=["backup", str(backup_path)]).exit_code == 0
    data = bytearray(backup_path.read_bytes())
    # Scribble over the middle of the file (table pages, not the header).
    middle = len(data) // 2
    data[middle : middle + 4096] = b"\xff" * 4096
    backup_path.write_bytes(bytes(data))
    restored_app = make_test_app(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    try:
        result = restored_app.test_cli_runner().invoke(args=["restore", str(backup_path)])
    finally:
        with restored_app.app_context():
            db.engine.dispose()
    assert result.exit_code != 0
    assert "integrity" in result.output or "malformed" in result.output
