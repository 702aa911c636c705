"""The production server: gunicorn serves the app as docs/deployment.md says, on loopback."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from marac import create_app
from marac.cli import migrate_to_current
from marac.config import PROJECT_ROOT
from marac.extensions import db


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes, str]:
    """Status, body and the address finally answered (redirects followed)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read(), response.geturl()
    except urllib.error.HTTPError as error:
        return error.code, error.read(), url


@pytest.mark.slow
def test_gunicorn_serves_the_app_with_two_workers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        migrate_to_current()
        db.engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "MARAC_DATABASE_URL": url,
        "MARAC_SECRET_KEY": secrets.token_hex(32),
        "MARAC_INSTANCE_PATH": str(tmp_path),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tmp_path / "gunicorn.log"
    with log.open("w") as errors:
        server = subprocess.Popen(
            [str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}", "marac:create_app()"],
            env=env,
            cwd=PROJECT_ROOT,
            stderr=errors,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body, _url = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert status == 200 and json.loads(body) == {"status": "ok"}
        status, body, _url = _get(f"http://127.0.0.1:{port}/login")
        assert status == 200 and b'name="password"' in body
        # A page behind sign-in sends a stranger to the sign-in page, whichever worker answers.
        for _ in range(4):
            status, body, landed = _get(f"http://127.0.0.1:{port}/actions/")
            assert status == 200 and landed.split("?")[0].endswith("/login"), landed
            assert b": actions</h1>" not in body
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0
