"""Load test: the app under gunicorn, driven by wrk on 127.0.0.1, bounded in time.

Serves a dataset made by ``bench/generate.py`` with gunicorn (the production server, as
docs/deployment.md runs it), signs two users in through the real sign-in form (CSRF token,
password, authenticator code), then runs wrk for a fixed time against, in turn:

- ``/healthz``: the trivial page (one ``SELECT 1``), the framework's own limit in this process;
- ``/`` signed in: the session and the user, then a redirect;
- the case page's floor (``bench/floor_app.py``): everything a view of a case must do before it
  shows anything, showing only the reference, over the same cases as the case page;
- the case page, rotating over many cases of the coordinator's area (each view is audited);
- the agency's action dashboard (a police representative) and the coordinator's.

It reports requests/s and latency percentiles side by side, and each page's requests/s as a
share of the trivial page's.

    .venv/bin/python bench/load.py --database-url sqlite:////tmp/marac-national.sqlite3
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/x \\
        --workers 2 --duration 10 --connections 16

Needs ``wrk`` (``apt-get install -y wrk``). Writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: I001 - the generator beside this file
from run import machine
from marac import clock, twofactor
from marac import config as marac_config
from marac.domain import AgencyKind, Role

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, workers: int, port: int, instance: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "MARAC_DATABASE_URL": url,
        "MARAC_SECRET_KEY": secrets.token_hex(32),
        # The key bench/generate.py sealed the synthetic users' second-factor secrets with.
        "MARAC_DATA_KEY": marac_config.TESTING["MARAC_DATA_KEY"],
        "MARAC_INSTANCE_PATH": str(instance),
        # Plain HTTP on loopback: the cookie must travel without TLS here, and only here.
        "MARAC_COOKIE_SECURE": "0",
        "MARAC_HSTS": "0",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [
            str(gunicorn),
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            # The service's own app, plus the case page's floor (bench/floor_app.py).
            "floor_app:app",
        ],
        env={
            **env,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(ROOT / "bench"), env.get("PYTHONPATH")])
            ),
        },
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def sign_in(port: int, username: str) -> str:
    """Through the real form, as a browser does; returns the session cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://{HOST}:{port}"
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    if token is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    code = twofactor.current_code(generate.TOTP_SECRET, clock.utc_now())
    body = urllib.parse.urlencode(
        {
            "csrf_token": token.group(1),
            "username": username,
            "password": generate.PASSWORD,
            "code": code,
        }
    ).encode()
    response = opener.open(f"{base}/login", data=body)
    if "/login" in urllib.parse.urlparse(response.geturl()).path:
        raise RuntimeError(f"could not sign in as {username}")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(
    port: int,
    path: str,
    cookie: str | None,
    args: argparse.Namespace,
    paths: list[str] | None = None,
) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    script = None
    if paths:
        # Rotate over many pages, so that the figure is not one cached case.
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        listed = ", ".join(f'"{p}"' for p in paths)
        script.write(
            f"local paths = {{{listed}}}\nlocal n = 0\n"
            "request = function()\n  n = n % #paths + 1\n"
            "  return wrk.format(nil, paths[n])\nend\n"
        )
        script.close()
        command += ["-s", script.name]
    command.append(f"http://{HOST}:{port}{path}")
    try:
        output = subprocess.run(  # noqa: S603 - wrk on loopback, bounded by -d
            command, capture_output=True, text=True, check=True, timeout=args.duration + 60
        ).stdout
    finally:
        if script:
            os.unlink(script.name)
    return parse_wrk(output)


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit], 2)


def parse_wrk(output: str) -> dict[str, Any]:
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if "50" not in latency:
        raise RuntimeError(f"wrk said:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    requests = re.search(r"(\d+) requests in", output)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(requests.group(1)) if requests else 0,
        "p50_ms": _ms(latency["50"]),
        "p90_ms": _ms(latency["90"]),
        "p99_ms": _ms(latency["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else None,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="made by bench/generate.py")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="wrk's threads")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10, help="seconds per page")
    parser.add_argument("--area", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install -y wrk)")

    engine = sa.create_engine(args.database_url)
    with engine.begin() as connection:
        cases = connection.scalars(
            sa.text(
                "SELECT id FROM marac_case WHERE area_id = :a AND status <> 'not_eligible' "
                "ORDER BY id DESC LIMIT 200"
            ),
            {"a": args.area},
        ).all()
        sizes = {
            table: connection.scalar(sa.text(f'SELECT count(*) FROM "{table}"'))  # noqa: S608
            for table in ("person", "marac_case", "action", "information_item")
        }
        # Each code is accepted once: forget the last one, so a second run can sign in again.
        connection.execute(sa.text("UPDATE sign_in_state SET totp_last_step = NULL"))
    dialect = engine.dialect.name
    engine.dispose()

    port = free_port()
    instance = Path(tempfile.mkdtemp(prefix="marac-load-"))
    server = start_gunicorn(args.database_url, args.workers, port, instance)
    try:
        coordinator = sign_in(
            port, generate.usernames(args.area, AgencyKind.OTHER, Role.COORDINATOR)[0]
        )
        police = sign_in(port, generate.usernames(args.area, AgencyKind.POLICE, Role.AGENCY_REP)[0])
        runs = [
            ("trivial page (/healthz)", "/healthz", None, None),
            ("signed in, redirect only (/)", "/", coordinator, None),
            (
                "case page's floor",
                f"/bench/case-floor/{cases[0]}",
                coordinator,
                [f"/bench/case-floor/{c}" for c in cases],
            ),
            ("case page", f"/cases/{cases[0]}", coordinator, [f"/cases/{c}" for c in cases]),
            ("agency action dashboard", "/actions/", police, None),
            ("coordinator dashboard", "/actions/coordinator", coordinator, None),
        ]
        results = []
        for label, path, cookie, paths in runs:
            result = wrk(port, path, cookie, args, paths)
            result["page"] = label
            # Others share the machine: the load just after each page's run goes with its figure.
            result["load_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
            results.append(result)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(instance, ignore_errors=True)

    trivial = results[0]["requests_per_s"]
    for result in results:
        result["share_of_trivial"] = round(result["requests_per_s"] / trivial, 3)
    report = {
        "benchmark": "load: gunicorn and wrk on loopback",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "database": dialect,
        "sizes": sizes,
        "gunicorn_workers": args.workers,
        "wrk": {"threads": args.threads, "connections": args.connections, "seconds": args.duration},
        "pages": results,
    }
    print(
        f"{dialect}, {sizes['marac_case']:,} cases; gunicorn {args.workers} workers; wrk "
        f"{args.threads} thread(s), {args.connections} connections, {args.duration} s per page; "
        f"load average {report['machine']['load_1_5_15']}"
    )
    print(
        f"{'page':<28} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'vs trivial':>10} {'load 1 min':>10}"
    )
    for r in results:
        print(
            f"{r['page']:<28} {r['requests_per_s']:>8.0f} {r['p50_ms']:>8} {r['p90_ms']:>8} "
            f"{r['p99_ms']:>8} {r['non_2xx']:>8} {r['share_of_trivial']:>10.0%} "
            f"{r['load_1_5_15'][0]:>10}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = args.out / f"load-{dialect}-{sizes['marac_case']}-{stamp}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"Written to {out}")
    return report


if __name__ == "__main__":
    main()
