"""Benchmark: the pages people wait for, through the real app, on a generated dataset.

For each database given (made by ``bench/generate.py``, or generated here with ``--scale``), signs
in users of several random areas through the real sign-in form (password and authenticator code),
then requests, for many random cases and users, through the Flask test client:

- the case page, the agency's action dashboard and the coordinator's (three views);
- referral matching (the live "is this someone already known?" fragment, for typed names);
- the network of one case (its htmx fragment);
- the live meeting update (the feed an attendee's screen polls, after a change);
- issuing a meeting's papers, when the service has them;
- and, as floors to compare with, ``/healthz`` (no session, one ``SELECT 1``: the trivial page of
  ``bench/load.py``) and ``/`` signed in (the session and the user are read, then a redirect).

Each is reported as median and 95th percentile server time and SQL queries per request. Given two
sizes, it prints the queries side by side: they must not grow with the data.

    .venv/bin/python bench/run.py --database-url sqlite:////tmp/marac-national.sqlite3
    .venv/bin/python bench/run.py --scale 0.01 --scale 0.1 --db sqlite --db postgresql

Prints a table and writes JSON to bench/results/ (date, machine, load, database, size).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: I001 - the generator beside this file
from marac import clock, create_app, twofactor
from marac.domain import AgencyKind, Role
from marac.extensions import db

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HX = {"HX-Request": "true"}


@dataclass
class Page:
    label: str
    timings: list[float] = field(default_factory=list)
    # This process's CPU time: on a machine others are loading, the wall time includes waiting
    # for a core, which this does not (on SQLite it covers the database's work too).
    cpu: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    refused: int = 0

    def summary(self) -> dict[str, Any]:
        if not self.timings:
            return {"page": self.label, "requests": 0, "refused": self.refused}
        return {
            "page": self.label,
            "requests": len(self.timings),
            "median_ms": round(statistics.median(self.timings), 1),
            "p95_ms": round(p95(self.timings), 1),
            "cpu_median_ms": round(statistics.median(self.cpu), 1),
            "cpu_p95_ms": round(p95(self.cpu), 1),
            "queries_min": min(self.queries),
            "queries_max": max(self.queries),
            "refused": self.refused,
        }


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


def sign_in(app: Any, username: str) -> Any:
    client = app.test_client()
    code = twofactor.current_code(generate.TOTP_SECRET, clock.utc_now())
    response = client.post(
        "/login", data={"username": username, "password": generate.PASSWORD, "code": code}
    )
    if response.status_code != 302 or response.headers["Location"].startswith("/login"):
        raise RuntimeError(f"could not sign in as {username}: {response.status_code}")
    return client


def typed_name(given: str, family: str, rng: random.Random) -> tuple[str, str]:
    """What a referrer types for someone known: as recorded, or with one slip."""
    if rng.random() < 0.5 and len(family) > 4:
        i = rng.randrange(1, len(family) - 2)
        family = family[:i] + family[i + 1] + family[i] + family[i + 2 :]
    return given, family


def measure(url: str, areas: int, per_area: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        sizes = {
            table: db.session.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()  # noqa: S608
            for table in (
                "area",
                "person",
                "relationship",
                "marac_case",
                "action",
                "information_item",
                "meeting",
            )
        }
        area_ids = db.session.scalars(sa.text("SELECT id FROM area ORDER BY id")).all()
        chosen = rng.sample(area_ids, min(areas, len(area_ids)))
        plan = []
        for area in chosen:
            cases = db.session.scalars(
                sa.text(
                    "SELECT id FROM marac_case WHERE area_id = :a AND status <> 'not_eligible'"
                ),
                {"a": area},
            ).all()
            people = db.session.execute(
                sa.text(
                    "SELECT given_name, family_name FROM person WHERE area_id = :a "
                    "AND id % 97 = :k LIMIT 200"
                ),
                {"a": area, "k": rng.randrange(97)},
            ).all()
            live = db.session.scalar(
                sa.text("SELECT id FROM meeting WHERE area_id = :a AND status = 'in_progress'"),
                {"a": area},
            )
            # Papers are issued once a meeting's minutes are approved: the area's latest such.
            approved = db.session.scalar(
                sa.text(
                    "SELECT id FROM meeting WHERE area_id = :a AND status = 'approved' "
                    "ORDER BY starts_at DESC LIMIT 1"
                ),
                {"a": area},
            )
            sample = rng.sample(cases, min(per_area, len(cases)))
            plan.append((area, sample, people, live, approved))
        # A code is accepted once: forget the last one used, so that a second run within
        # thirty seconds can sign the same people in (as a phone would show the next code).
        db.session.execute(sa.text("UPDATE sign_in_state SET totp_last_step = NULL"))
        db.session.commit()
        db.session.remove()

    pages = {
        key: Page(label)
        for key, label in (
            ("case", "case page"),
            ("agency", "agency action dashboard"),
            ("coordinator", "coordinator: overdue actions"),
            ("not_completed", "coordinator: not completed"),
            ("stale", "coordinator: not updated"),
            ("matching", "referral matching"),
            ("network", "network of one case"),
            ("feed", "live meeting update"),
            ("papers", "issue a meeting's papers"),
            # The floors the pages above stand on: no data at all, and signed in but no page.
            ("trivial", "trivial page (/healthz)"),
            ("signed_in", "signed in, redirect only (/)"),
        )
    }
    papers = any(rule.endpoint.startswith("papers.") for rule in app.url_map.iter_rules())
    counter = QueryCounter()
    sa.event.listen(engine, "before_cursor_execute", counter)

    def timed(page: Page, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        ok = kwargs.pop("ok", (200,))
        counter.count = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        response = call(*args, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000
        cpu = (time.process_time() - cpu_started) * 1000
        if response.status_code not in ok:
            page.refused += 1
            return
        page.timings.append(elapsed)
        page.cpu.append(cpu)
        page.queries.append(counter.count)

    try:
        for area, cases, people, live, approved in plan:
            users = {
                "coordinator": generate.usernames(area, AgencyKind.OTHER, Role.COORDINATOR)[0],
                "chair": generate.usernames(area, AgencyKind.OTHER, Role.CHAIR)[0],
                "police": generate.usernames(area, AgencyKind.POLICE, Role.AGENCY_REP)[0],
                "idva": generate.usernames(area, AgencyKind.IDVA, Role.SUPPORT_WORKER)[0],
            }
            clients = {who: sign_in(app, name) for who, name in users.items()}
            coordinator, chair = clients["coordinator"], clients["chair"]
            # Warm this area's pages once (first use of templates, the database's cache).
            for client, path in ((coordinator, f"/cases/{cases[0]}"), (chair, "/actions/")):
                client.get(path)
            anonymous = app.test_client()
            for _ in range(len(cases)):
                timed(pages["trivial"], anonymous.get, "/healthz")
                timed(pages["signed_in"], coordinator.get, "/", ok=(302,))
            for n, case_id in enumerate(cases):
                # The police and the IDVA may open only some cases; a refusal is counted apart.
                viewer = (coordinator, chair, clients["police"], clients["idva"])[n % 4]
                timed(pages["case"], viewer.get, f"/cases/{case_id}")
                timed(pages["network"], viewer.get, f"/cases/{case_id}/network", headers=HX)
            for _ in range(max(2, len(cases) // 4)):
                for who in ("police", "idva"):
                    timed(pages["agency"], clients[who].get, "/actions/")
                timed(pages["coordinator"], coordinator.get, "/actions/coordinator")
                timed(
                    pages["not_completed"],
                    coordinator.get,
                    "/actions/coordinator?show=not_completed",
                )
                timed(pages["stale"], coordinator.get, "/actions/coordinator?show=stale")
            for given, family in rng.sample(people, min(len(people), len(cases))):
                typed_given, typed_family = typed_name(given, family, rng)
                timed(
                    pages["matching"],
                    clients["police"].post,
                    "/referrals/new/matches",
                    data={
                        "row": "victim",
                        "victim-given_name": typed_given,
                        "victim-family_name": typed_family,
                    },
                    headers=HX,
                )
            if live is not None:
                feed = f"/meetings/{live}/live/feed"
                for _ in range(max(2, len(cases) // 2)):
                    for who in ("chair", "police", "idva"):
                        timed(pages["feed"], clients[who].get, feed, headers=HX)
            if papers and approved is not None:  # when the service issues papers
                issue = f"/meetings/{approved}/papers"
                for _ in range(2):
                    # Each issue builds and stores every agency's copy. A reason is given, as
                    # issuing again after the first time needs one.
                    data = {"reason": "Bench: issued again after a correction."}
                    timed(pages["papers"], coordinator.post, issue, data=data, ok=(303,))
                    if "documents issued" not in coordinator.get(issue).get_data(as_text=True):
                        raise RuntimeError(f"issuing the papers of meeting {approved} failed")
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    results = [page.summary() for key, page in pages.items() if key != "papers" or papers]
    if not papers:
        results.append({"page": pages["papers"].label, "not_available": True})
    return {"database": dialect, "sizes": sizes, "pages": results}


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_1_5_15": [round(x, 2) for x in load],
    }


def print_table(report: dict[str, Any]) -> None:
    sizes = report["sizes"]
    print(
        f"\n{report['database']}: {sizes['marac_case']:,} cases, {sizes['person']:,} people, "
        f"{sizes['action']:,} actions, {sizes['information_item']:,} items, "
        f"{sizes['meeting']:,} meetings in {sizes['area']} areas; "
        f"load average {report['machine']['load_1_5_15']}"
    )
    print(
        f"{'page':<32} {'requests':>8} {'median ms':>10} {'p95 ms':>8} "
        f"{'cpu median':>10} {'cpu p95':>8} {'queries':>9}"
    )
    for row in report["pages"]:
        if row.get("not_available"):
            print(f"{row['page']:<32} not available")
            continue
        if not row["requests"]:
            print(f"{row['page']:<32} no request answered 200 ({row['refused']} refused)")
            continue
        queries = (
            str(row["queries_max"])
            if row["queries_min"] == row["queries_max"]
            else f"{row['queries_min']}-{row['queries_max']}"
        )
        print(
            f"{row['page']:<32} {row['requests']:>8} {row['median_ms']:>10} "
            f"{row['p95_ms']:>8} {row['cpu_median_ms']:>10} {row['cpu_p95_ms']:>8} {queries:>9}"
        )


def print_comparison(reports: list[dict[str, Any]]) -> None:
    """Queries per request at each size, side by side: they must not grow with the data."""
    by_db: dict[str, list[dict[str, Any]]] = {}
    for report in reports:
        by_db.setdefault(report["database"], []).append(report)
    for database, runs in by_db.items():
        if len(runs) < 2:
            continue
        runs.sort(key=lambda r: r["sizes"]["marac_case"])
        print(f"\nQueries per request on {database}, by size (most queries seen):")
        header = "".join(f"{r['sizes']['marac_case']:>12,}" for r in runs)
        print(f"{'page':<32}{header}   cases")
        for index, row in enumerate(runs[0]["pages"]):
            if row.get("not_available"):
                continue
            cells = "".join(f"{r['pages'][index].get('queries_max', '-'):>12}" for r in runs)
            print(f"{row['page']:<32}{cells}")


def fresh_database(dialect: str, scale: float) -> str:
    name = f"marac_bench_{str(scale).replace('.', '_')}_{uuid.uuid4().hex[:6]}"
    if dialect == "postgresql":
        url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
        generate.prepare_database(url, create=True)
        return url
    return f"sqlite:////tmp/{name}.sqlite3"


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        action="append",
        default=[],
        help="a database made by bench/generate.py (repeat for several)",
    )
    parser.add_argument(
        "--scale",
        action="append",
        type=float,
        default=[],
        help="generate a fresh dataset of this scale (dropped afterwards)",
    )
    parser.add_argument(
        "--db",
        action="append",
        choices=["sqlite", "postgresql"],
        default=[],
        help="where --scale generates (default sqlite)",
    )
    parser.add_argument("--areas", type=int, default=8, help="random areas to sign in to")
    parser.add_argument("--cases", type=int, default=12, help="random cases per area")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)

    targets = [(url, None) for url in args.database_url]
    for scale in args.scale:
        for dialect in args.db or ["sqlite"]:
            targets.append((None, (dialect, scale)))
    if not targets:
        parser.error("give --database-url or --scale")
    reports = []
    for url, fresh in targets:
        generated = None
        if fresh is not None:
            url = fresh_database(*fresh)
            print(f"Generating scale {fresh[1]} on {fresh[0]} ...")
            generated = generate.generate(
                url, generate.Sizes.at_scale(fresh[1]), echo=lambda _: None
            )
            print(f"  {generated['rows']:,} rows at {generated['rows_per_second']:,} rows/s")
        try:
            report = measure(url, args.areas, args.cases, args.seed)
        finally:
            if fresh is not None:
                generate.drop_database(url)
        report.update(
            {
                "benchmark": "pages through the app",
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine(),
                "generated": generated
                and {k: generated[k] for k in ("rows", "seconds", "rows_per_second")},
            }
        )
        print_table(report)
        args.out.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        out = args.out / f"run-{report['database']}-{report['sizes']['marac_case']}-{stamp}.json"
        out.write_text(json.dumps(report, indent=2))
        print(f"Written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
        reports.append(report)
    print_comparison(reports)
    return reports


if __name__ == "__main__":
    main()
