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
from flask import Flask
from werkzeug.serving import make_server

from marac import MIGRATIONS_DIR
from marac.extensions import db

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

    def make() -> Any:
        context = browser.new_context(base_url=live_server.url)
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
