"""The README's first command: `marac demo` sets up and serves the demo."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_demo_command_serves_the_login_page(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARAC_")}
    env["MARAC_INSTANCE_PATH"] = str(tmp_path / "instance")
    marac = shutil.which("marac", path=str(Path(sys.executable).parent)) or "marac"
    process = subprocess.Popen(
        [marac, "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Open http://" in line:
                break
        printed = "".join(output)
        assert f"Open http://127.0.0.1:{port}/" in printed, printed
        # The logins, one per role, and the password are printed.
        for username in ("admin", "coordinator", "chair", "police", "idva", "reviewer-cp"):
            assert f"  {username} " in printed, username
        assert "password" in printed

        body = ""
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as page:
                    body = page.read().decode()
                    assert page.status == 200
                break
            except OSError:
                time.sleep(0.2)
        assert "Sign in" in body
        assert "marac demo-code USERNAME" in printed
        _sign_in_as_a_newcomer_would(marac, env, port, printed)
        # SQLite in the instance folder, with the generated secret beside it.
        assert (tmp_path / "instance" / "marac.sqlite3").exists()
        assert (tmp_path / "instance" / "secret_key").exists()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()


def _sign_in_as_a_newcomer_would(marac: str, env: dict, port: int, printed: str) -> None:
    """The password printed by the demo, a code from `marac demo-code`, and the sign-in form."""
    password = re.search(r"all with the password: (\S+)", printed).group(1)
    code_run = subprocess.run(
        [marac, "demo-code", "chair"], env=env, capture_output=True, text=True, timeout=60
    )
    assert code_run.returncode == 0, code_run.stderr
    code = code_run.stdout.split()[0]
    assert re.fullmatch(r"\d{6}", code), code_run.stdout
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    with opener.open(f"{base}/login", timeout=5) as page:
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.read().decode()).group(1)
    form = urllib.parse.urlencode(
        {"username": "chair", "password": password, "code": code, "csrf_token": token}
    ).encode()
    with opener.open(f"{base}/login", data=form, timeout=10) as signed_in:
        assert signed_in.geturl() == f"{base}/cases/"
        assert "Sign out" in signed_in.read().decode()
