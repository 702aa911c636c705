"""Nothing lost: SQLite's WAL and busy timeout, and a server killed in the middle of writes.

The crash test runs the real service (`marac run`) as a separate process on a SQLite file, signs
in over HTTP and sends agency creations from four threads. A write counts as committed when the
answer is a redirect: the request commits before it answers. The process is killed with SIGKILL
while requests are in flight, started again on the same file, and every acknowledged write must
be there, each with its audit entry, the audit chain intact.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from marac import MIGRATIONS_DIR, audit
from marac import config as marac_config
from marac.domain import AgencyKind, AgencySide, Role
from marac.extensions import db
from marac.models import Agency, Area, AuditEntry, SignInState, User
from marac.services import accounts

from .conftest import PASSWORD, TEST_DATABASE_SERVER, TOTP_SECRET, make_test_app

pytestmark = pytest.mark.skipif(
    bool(TEST_DATABASE_SERVER), reason="SQLite's settings and a SQLite file served by a process"
)

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
MARAC = str(Path(sys.executable).parent / "marac")


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app: Flask) -> None:
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_second_writer_waits_for_the_first_instead_of_failing(app: Flask) -> None:
    area = Area(code="WT", name="Waiting")
    db.session.add(area)
    db.session.commit()
    holding = threading.Event()
    released = threading.Event()

    path = db.engine.url.database

    def hold_the_write_lock() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE area SET name = 'Held' WHERE code = 'WT'")
            holding.set()
            time.sleep(1.0)
            other.execute("COMMIT")
            released.set()
        finally:
            other.close()

    with app.app_context():
        thread = threading.Thread(target=hold_the_write_lock)
        thread.start()
        holding.wait(5)
        started = time.monotonic()
        db.session.add(Area(code="W2", name="Written while locked"))
        db.session.commit()  # waits for the lock (up to 5 s), then commits
        waited = time.monotonic() - started
        thread.join()
    assert released.is_set()
    assert waited >= 0.5, "the write did not wait for the other writer"
    assert db.session.scalar(sa.select(Area.id).where(Area.name == "Written while locked"))


# --- the crash ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, instance: Path, database: Path) -> None:
        self.port = _free_port()
        self.log = open(instance / f"server-{self.port}.log", "wb")  # noqa: SIM115
        env = {
            **os.environ,
            "MARAC_INSTANCE_PATH": str(instance),
            "MARAC_DATABASE_URL": f"sqlite:///{database}",
            "MARAC_SECRET_KEY": "crash-test-key-not-a-secret",
            # The key the setup app sealed the administrator's second-factor secret with.
            "MARAC_DATA_KEY": marac_config.TESTING["MARAC_DATA_KEY"],
            "MARAC_COOKIE_SECURE": "0",
            "MARAC_HSTS": "0",
            "MARAC_LOGIN_RATE_LIMIT": "1000 per minute",
        }
        self.process = subprocess.Popen(
            [
                MARAC,
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-reload",
                "--no-debugger",
                "--with-threads",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/login")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError("the server did not start: " + self.read_log())

    def read_log(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, cookie: str = ""
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            headers = {"Cookie": cookie} if cookie else {}
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, text
        finally:
            connection.close()

    def sign_in(self, username: str) -> tuple[str, str]:
        """(cookie, CSRF token) of a new session."""
        status, headers, page = self.request("GET", "/login")
        cookie = headers["set-cookie"].split(";", 1)[0]
        token = CSRF.search(page).group(1)
        form = {
            "username": username,
            "password": PASSWORD,
            "code": pyotp.TOTP(TOTP_SECRET).now(),
            "csrf_token": token,
        }
        status, headers, page = self.request("POST", "/login", form, cookie)
        assert status == 302, (status, page[:500])
        cookie = headers["set-cookie"].split(";", 1)[0]
        # The form's token is kept in the session: the page that shows it sets the cookie.
        _, headers, page = self.request("GET", "/admin/agencies/new", cookie=cookie)
        cookie = headers.get("set-cookie", cookie).split(";", 1)[0]
        return cookie, CSRF.search(page).group(1)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()


@pytest.fixture
def crash_site(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    database = tmp_path / "crash.sqlite3"
    setup = make_test_app(f"sqlite:///{database}")
    with setup.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        area = Area(code="CR", name="Crash area")
        db.session.add(area)
        db.session.flush()
        agency = Agency(
            area_id=area.id,
            name="Crash admin team",
            kind=AgencyKind.POLICE,
            side=AgencySide.NEUTRAL,
        )
        db.session.add(agency)
        db.session.flush()
        admin = User(
            username="crashadmin",
            display_name="Crash Admin",
            role=Role.ADMINISTRATOR,
            agency_id=agency.id,
            password_hash=accounts.hash_password(PASSWORD),
        )
        admin.sign_in = SignInState(
            totp_secret=TOTP_SECRET, totp_confirmed_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        db.session.add(admin)
        db.session.commit()
        db.engine.dispose()
    yield tmp_path, database


def _forget_last_code(database: Path) -> None:
    """A second sign-in within 30 seconds: the phone would show the next code; the test forgets
    the last one used instead of waiting."""
    app = make_test_app(f"sqlite:///{database}")
    with app.app_context():
        db.session.execute(sa.update(SignInState).values(totp_last_step=None))
        db.session.commit()
        db.engine.dispose()


def test_writes_answered_before_a_kill_are_all_there_after_restart(
    crash_site: tuple[Path, Path],
) -> None:
    instance, database = crash_site
    server = Server(instance, database)
    acknowledged: list[str] = []
    attempted: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    try:
        cookie, token = server.sign_in("crashadmin")

        def write(thread: int) -> None:
            for n in range(10_000):
                name = f"Crash agency {thread}-{n:05d}"
                with lock:
                    attempted.append(name)
                form = {
                    "name": name,
                    "kind": "police",
                    "side": "neutral",
                    "is_active": "y",
                    "csrf_token": token,
                }
                try:
                    status, _, page = server.request("POST", "/admin/agencies/new", form, cookie)
                except (OSError, http.client.HTTPException):
                    return  # the server is gone: this one's fate is unknown, and allowed to be
                if status != 302:
                    errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)', page)
                    failures.append(f"{status}: {errors or page[-500:]}")
                    return
                with lock:
                    acknowledged.append(name)

        threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 60 and time.monotonic() < deadline and not failures:
            time.sleep(0.02)
    finally:
        server.kill()  # SIGKILL: no shutdown, no checkpoint, requests in flight
    for thread in threads:
        thread.join(30)
    assert not failures, failures[:3]
    assert len(acknowledged) >= 60, server.read_log()
    assert server.process.returncode == -signal.SIGKILL

    _forget_last_code(database)
    again = Server(instance, database)
    try:
        cookie, _ = again.sign_in("crashadmin")
        status, _, listing = again.request("GET", "/admin/agencies", cookie=cookie)
        assert status == 200
    finally:
        again.kill()
    missing = [name for name in acknowledged if name not in listing]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}"

    check = make_test_app(f"sqlite:///{database}")
    with check.app_context():
        stored = set(
            db.session.scalars(sa.select(Agency.name).where(Agency.name.like("Crash agency %")))
        )
        assert set(acknowledged) <= stored <= set(attempted)
        created = db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "agency.create")
        )
        assert created == len(stored), "an agency without its audit entry, or the reverse"
        result = audit.verify_chain(db.session)
        assert result.ok, result.problems
        assert db.session.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
        db.session.remove()
        db.engine.dispose()
