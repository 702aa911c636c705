"""Browser tests: the service served on a free loopback port, driven by Playwright in Chromium.

Debian's Chromium is used (``.ci/run`` installs it); Playwright's own browser downloads are never
used. The server runs in a thread of the test process on a database of its own, migrated and
loaded with the demo (every demo user's password is ``PASSWORD``). It lives for the whole session:
a test must not rely on what another test changed, so each one writes its own unique text.

Every test signs in through ``sign_in(page, username)``: all the steps of signing in live there,
so that a change to signing in (a second factor) is made in one place.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from marac import MIGRATIONS_DIR
from marac.domain import OPEN_MEETING_STATUSES, MeetingStatus
from marac.extensions import db
from marac.models import Case, DisclosureOverride, InformationItem, Meeting, Person, User

from ..conftest import PASSWORD, DatabaseFactory, fresh_code, make_test_app

# The app the live server serves: sign_in reads a demo user's current code from it.
_SERVED_APPS: list[Flask] = []

# The real binary first: /usr/bin/chromium is Debian's wrapper script around it.
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a poll of the live meeting (every 3 s) and a slow shared machine.
TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium")
    return found


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_server(databases: DatabaseFactory) -> Iterator[LiveServer]:
    """The app on 127.0.0.1 with the demo loaded, answering from a thread."""
    from flask_migrate import upgrade

    from marac.seeding import load_demo
    from marac.services import accounts

    app = make_test_app(databases.new("browser"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        load_demo(db.session, accounts.hash_password(PASSWORD))
        db.session.commit()
    _SERVED_APPS.append(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "Chromium is not installed: `apt-get install -y chromium` (.ci/run does it) "
            "to run the browser tests"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed: pip install -e '.[test]'")
    playwright = sync_playwright().start()
    launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()
        playwright.stop()


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Callable[[], Any]]:
    """Pages in browser contexts of their own (separate cookies: separate people)."""
    contexts = []

    def make(**options: Any) -> Any:
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Every step of signing in as a demo user, ending on the page the service sends them to.

    The code is the one the user's authenticator app would show now (demo users are enrolled).
    """
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Code").fill(fresh_code(_SERVED_APPS[-1], username))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


# Who the walk signs in as: one of each kind of user, and how many pages of each route they
# check (the chair reaches the most, with two of each to meet more of the pages' variants).
WALK_ROLES = {
    "chair": 2,
    "coordinator": 1,
    "police": 1,
    "idva": 1,
    "pc1": 1,
    "programme": 1,
    "reviewer-cp": 1,
    "reviewer-police": 1,
    "admin": 1,
}
# A new member of staff, signing in for the first time: the second factor is set up next.
NEW_STARTER = "new-starter"


def _walk_extras(app: Flask) -> dict[str, tuple[str, ...]]:
    """Pages no link leads to within the walk's bounds, visited on purpose."""
    with app.app_context():
        closed = db.session.scalars(
            sa.select(Meeting.id).where(Meeting.status.not_in(OPEN_MEETING_STATUSES))
        ).all()
        megan = db.session.scalar(
            sa.select(Person.id).where(Person.given_name == "Megan", Person.family_name == "Thorne")
        )
        case = db.session.scalar(sa.select(Case.id).where(Case.reference == "NM-2026-0101"))
        approved = db.session.scalar(
            sa.select(Meeting.id)
            .where(Meeting.status == MeetingStatus.APPROVED)
            .order_by(Meeting.starts_at.desc())
        )
        live = db.session.scalar(
            sa.select(Meeting.id).where(Meeting.status == MeetingStatus.IN_PROGRESS)
        )
        # The demo's override (the knife threat opened to children's social care).
        demo_override = db.session.scalar(
            sa.select(DisclosureOverride).order_by(DisclosureOverride.id)
        )
        override_case = db.session.scalar(
            sa.select(InformationItem.case_id).where(InformationItem.id == demo_override.item_id)
        )
    overrides = (
        f"/cases/{override_case}/overrides/new",
        f"/cases/{override_case}/overrides/{demo_override.id}/revoke",
    )
    # The case page's sections also answer on their own (the page includes them).
    sections = (f"/cases/{case}/network", f"/cases/{case}/agencies", f"/actions/cases/{case}")
    return {
        # The meeting under way, which the chair has joined: its screen polls the live feed.
        "chair": (
            *(f"/meetings/{m}/minutes" for m in closed),
            f"/meetings/{live}/live",
            "/confirm",
            *sections,
            *overrides,
        ),
        "coordinator": ("/network/serial-perpetrators",),
        # The papers issued for the meeting (_issue_papers), with the police's own copy.
        "police": (f"/meetings/{approved}/papers",),
        "admin": (f"/admin/audit/people/{megan}",),
    }


def _issue_papers(app: Flask) -> None:
    """The papers of the latest meeting with approved minutes, as its coordinator issues them,
    so that the walk meets an issued document whatever the other tests did."""
    from marac.models import IssuedDocument
    from marac.services.papers import issue_meeting_papers

    with app.app_context():
        meeting = db.session.scalar(
            sa.select(Meeting)
            .where(Meeting.status == MeetingStatus.APPROVED)
            .order_by(Meeting.starts_at.desc())
        )
        if db.session.scalar(
            sa.select(IssuedDocument.id).where(IssuedDocument.meeting_id == meeting.id)
        ):
            return
        coordinator = db.session.scalar(sa.select(User).where(User.username == "coordinator"))
        issue_meeting_papers(
            db.session, meeting, user=coordinator, marking=app.config["MARAC_PROTECTIVE_MARKING"]
        )
        db.session.commit()


def _add_new_starter(app: Flask) -> None:
    with app.app_context():
        if db.session.scalar(sa.select(User.id).where(User.username == NEW_STARTER)):
            return
        police = db.session.scalar(sa.select(User).where(User.username == "police"))
        db.session.add(
            User(
                username=NEW_STARTER,
                display_name="Robin Sayer",
                role=police.role,
                agency_id=police.agency_id,
                password_hash=police.password_hash,
            )
        )
        db.session.commit()


@pytest.fixture(scope="session")
def demo_walk(browser: Any, live_server: LiveServer) -> Any:
    """Every page of the demo each kind of user reaches, checked with axe where it stands."""
    from . import walk

    script = walk.axe_script()
    app = live_server.app
    _issue_papers(app)
    extras = _walk_extras(app)
    found = walk.Crawl()

    def merge(crawl: walk.Crawl) -> None:
        found.pages.extend(crawl.pages)
        found.redirects |= crawl.redirects
        found.fragments |= crawl.fragments
        found.downloads |= crawl.downloads

    def fresh_page() -> Any:
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        return context.new_page()

    page = fresh_page()
    page.goto("/login")
    merge(walk.crawl(page, app, "signed out", script, ["/login"], 1))
    right = fresh_code(app, "housing")
    found.pages += walk.signed_out_states(page, script, f"{(int(right) + 1) % 1_000_000:06d}")
    _add_new_starter(app)
    found.pages += walk.first_sign_in_states(page, script, NEW_STARTER, PASSWORD)
    page.context.close()

    with app.app_context():
        meeting_id = db.session.scalar(
            sa.select(Meeting.id).where(Meeting.status == MeetingStatus.IN_PROGRESS)
        )
    for username, per_endpoint in WALK_ROLES.items():
        page = fresh_page()
        sign_in(page, username)
        merge(
            walk.crawl(
                page,
                app,
                username,
                script,
                ["/", "/account"],
                per_endpoint,
                extras.get(username, ()),
            )
        )
        if username in ("police", "coordinator"):
            found.pages += walk.referral_states(page, username, script)
        if username in ("chair", "police"):
            found.pages += walk.live_meeting_states(page, username, script, meeting_id)
        page.context.close()
    return found
