"""Benchmark: the action dashboards' first page with a million actions.

Generates synthetic areas, agencies, users, cases, people and actions (with their status
history) by bulk inserts into a throwaway SQLite file, or into a fresh database on the
PostgreSQL server named by --database-url (dropped afterwards), then times the first page of
each dashboard through the Flask test client: median and 95th percentile, and SQL queries per
request at two page sizes, to show the query count does not grow with the page.

    .venv/bin/python bench/actions_bench.py                      # 1,000,000 actions on SQLite
    .venv/bin/python bench/actions_bench.py --actions 100000 --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test

Prints the figures and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marac import clock, create_app, sealing, twofactor  # noqa: E402
from marac.domain import (  # noqa: E402
    ActionStatus,
    ActionSubject,
    AgencyKind,
    AgencySide,
    CaseRole,
    CaseStatus,
    Gender,
    InvolvementKind,
    Role,
)
from marac.extensions import db  # noqa: E402
from marac.models import (  # noqa: E402
    Action,
    ActionStatusChange,
    Agency,
    Area,
    Case,
    CasePerson,
    Involvement,
    Person,
    SignInState,
    User,
)
from marac.services import accounts  # noqa: E402

PASSWORD = "bench password long enough"  # noqa: S105 - synthetic users only
TOTP_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"  # noqa: S105 - synthetic users only
CHUNK = 20_000
AGENCY_KINDS = [
    (AgencyKind.OTHER, AgencySide.NEUTRAL, "MARAC Team"),
    (AgencyKind.POLICE, AgencySide.NEUTRAL, "Police"),
    (AgencyKind.CHILDRENS_SOCIAL_CARE, AgencySide.NEUTRAL, "Children's Social Care"),
    (AgencyKind.HEALTH, AgencySide.NEUTRAL, "Health"),
    (AgencyKind.HOUSING, AgencySide.NEUTRAL, "Housing"),
    (AgencyKind.IDVA, AgencySide.VICTIM_FACING, "IDVA Service"),
    (AgencyKind.PROBATION, AgencySide.NEUTRAL, "Probation"),
    (AgencyKind.EDUCATION, AgencySide.NEUTRAL, "Education"),
    (AgencyKind.MENTAL_HEALTH, AgencySide.NEUTRAL, "Mental Health"),
    (AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, "Programme"),
]
# Who signs in, in the first area, and the pages they open.
VIEWERS = {
    "rep": (Role.AGENCY_REP, AgencyKind.POLICE),
    "coordinator": (Role.COORDINATOR, AgencyKind.OTHER),
    "reviewer_cp": (Role.REVIEWER, AgencyKind.CHILDRENS_SOCIAL_CARE),
    "reviewer_police": (Role.REVIEWER, AgencyKind.POLICE),
}
PAGES = [
    ("my agency: due soon", "rep", "/actions/"),
    ("my agency: overdue", "rep", "/actions/?show=overdue"),
    ("my agency: done", "rep", "/actions/?show=done"),
    ("due list", "rep", "/actions/due"),
    ("coordinator: overdue", "coordinator", "/actions/coordinator"),
    ("coordinator: not updated", "coordinator", "/actions/coordinator?show=stale"),
    ("coordinator: not completed", "coordinator", "/actions/coordinator?show=not_completed"),
    ("children: open actions", "reviewer_cp", "/actions/children"),
    ("children: cases without", "reviewer_cp", "/actions/children?show=uncovered"),
    ("police: open actions", "reviewer_police", "/actions/police"),
    ("police: cases without", "reviewer_police", "/actions/police?show=uncovered"),
]
# The dashboards' default page and their largest: the query count must be the same for both.
PAGE_SIZES = (25, 100)


def chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert(table: sa.Table, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for batch in chunks(rows):
        db.session.execute(table.insert(), batch)
        count += len(batch)
    return count


def generate(n_actions: int, n_areas: int, seed: int) -> dict[str, int]:
    """Bulk-insert the synthetic world. Ids are assigned here so rows can refer to each other."""
    rnd = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    today = clock.service_today()
    now = clock.utc_now()
    password_hash = accounts.hash_password(PASSWORD)
    counts: dict[str, int] = {}

    counts["area"] = insert(
        Area.__table__,
        (
            {"id": a, "code": f"B{a}", "name": f"Bench area {a}", "created_at": now}
            for a in range(1, n_areas + 1)
        ),
    )
    agencies: dict[int, dict[AgencyKind, int]] = {}
    agency_rows = []
    next_id = 1
    for area in range(1, n_areas + 1):
        agencies[area] = {}
        for kind, side, name in AGENCY_KINDS:
            agencies[area][kind] = next_id
            agency_rows.append(
                {
                    "id": next_id,
                    "area_id": area,
                    "name": f"{name} {area}",
                    "kind": kind,
                    "side": side,
                    "is_active": True,
                    "created_at": now,
                    "version": 1,
                }
            )
            next_id += 1
    counts["agency"] = insert(Agency.__table__, iter(agency_rows))
    user_rows = []
    for area in range(1, n_areas + 1):
        for key, (role, kind) in VIEWERS.items():
            user_rows.append(
                {
                    "id": len(user_rows) + 1,
                    "agency_id": agencies[area][kind],
                    "username": f"{key}{area}",
                    "display_name": f"{key} {area}",
                    "email": f"{key}{area}@bench.example",
                    "role": role,
                    "password_hash": password_hash,
                    "is_enabled": True,
                    "session_token": uuid.uuid4().hex,
                    "created_at": now,
                    "version": 1,
                }
            )
    counts["user_account"] = insert(User.__table__, iter(user_rows))
    # Sealed once with the data key the benchmark's app reads (rows written without the ORM).
    sealed_secret = sealing.seal(TOTP_SECRET)
    counts["sign_in_state"] = insert(
        SignInState.__table__,
        (
            {
                "user_id": row["id"],
                "totp_secret_sealed": sealed_secret,
                "totp_confirmed_at": now,
                "failed_attempts": 0,
            }
            for row in user_rows
        ),
    )

    # Four actions per case, as at a real MARAC; cases spread over four years.
    n_cases = max(1, n_actions // 4)
    statuses = (
        [CaseStatus.CLOSED] * 14
        + [CaseStatus.HEARD] * 2
        + [CaseStatus.LISTED] * 2
        + [CaseStatus.REFERRED, CaseStatus.ELIGIBLE]
    )
    cases, people, members, involvements = [], [], [], []
    person_id = 0
    for case_id in range(1, n_cases + 1):
        area = (case_id % n_areas) + 1
        referred = today - timedelta(days=rnd.randrange(0, 4 * 365))
        status = statuses[rnd.randrange(len(statuses))]
        if referred > today - timedelta(days=60) and status is CaseStatus.CLOSED:
            status = CaseStatus.HEARD
        cases.append(
            {
                "id": case_id,
                "area_id": area,
                "reference": f"B{area}-{case_id:07d}",
                "status": status,
                "referring_agency_id": agencies[area][AgencyKind.POLICE],
                "referred_on": referred,
                "created_at": now,
                "version": 1,
            }
        )
        roles = [CaseRole.VICTIM, CaseRole.PERPETRATOR]
        if rnd.random() < 0.5:
            roles.append(CaseRole.CHILD)
        ids = {}
        for role in roles:
            person_id += 1
            ids[role] = person_id
            people.append(
                {
                    "id": person_id,
                    "area_id": area,
                    "given_name": f"G{person_id}",
                    "family_name": f"F{person_id}",
                    "date_of_birth": date(1990, 1, 1),
                    "gender": Gender.NOT_KNOWN,
                    "created_at": now,
                    "version": 1,
                }
            )
            members.append({"case_id": case_id, "person_id": person_id, "role": role})
        if rnd.random() < 0.05:
            involvements.append(
                {
                    "agency_id": agencies[area][AgencyKind.PERPETRATOR_PROGRAMME],
                    "person_id": ids[CaseRole.PERPETRATOR],
                    "kind": InvolvementKind.PERPETRATOR_PROGRAMME,
                    "started_on": referred,
                    "created_at": now,
                    "version": 1,
                }
            )
        cases[-1]["_people"] = ids
    counts["person"] = insert(Person.__table__, iter(people))
    counts["marac_case"] = insert(
        Case.__table__, ({k: v for k, v in c.items() if k != "_people"} for c in cases)
    )
    counts["case_person"] = insert(CasePerson.__table__, iter(members))
    counts["involvement"] = insert(Involvement.__table__, iter(involvements))
    del people, members

    owner_kinds = [k for k, _s, _n in AGENCY_KINDS if k is not AgencyKind.OTHER]
    closed_mix = (
        [ActionStatus.DONE] * 85
        + [ActionStatus.NOT_DONE_CIRCUMSTANCES] * 5
        + [ActionStatus.NOT_DONE_BY_AGENCY] * 3
        + [ActionStatus.CANCELLED] * 4
        + [ActionStatus.OPEN] * 3
    )
    live_mix = [ActionStatus.OPEN] * 6 + [ActionStatus.IN_PROGRESS] * 3 + [ActionStatus.DONE]
    history: list[dict[str, Any]] = []

    def actions() -> Iterator[dict[str, Any]]:
        action_id = 0
        for case in cases:
            people_of = case["_people"]
            for _ in range(4):
                action_id += 1
                if action_id > n_actions:
                    return
                due = case["referred_on"] + timedelta(days=rnd.randrange(7, 91))
                mix = closed_mix if due < today - timedelta(days=60) else live_mix
                status = mix[rnd.randrange(len(mix))]
                subject = rnd.choice(
                    [
                        ActionSubject.VICTIM,
                        ActionSubject.CHILD,
                        ActionSubject.PERPETRATOR,
                        ActionSubject.HOUSEHOLD,
                    ]
                )
                if subject is ActionSubject.CHILD and CaseRole.CHILD not in people_of:
                    subject = ActionSubject.VICTIM
                role = {
                    ActionSubject.VICTIM: CaseRole.VICTIM,
                    ActionSubject.CHILD: CaseRole.CHILD,
                    ActionSubject.PERPETRATOR: CaseRole.PERPETRATOR,
                }.get(subject)
                created = datetime.combine(case["referred_on"], datetime.min.time(), tzinfo=UTC)
                updated = min(now, created + timedelta(days=rnd.randrange(0, 120)))
                if status is not ActionStatus.OPEN:
                    history.append(
                        {
                            "action_id": action_id,
                            "area_id": case["area_id"],
                            "from_status": ActionStatus.OPEN,
                            "to_status": status,
                            "note": "Bench note",
                            "changed_at": updated,
                        }
                    )
                yield {
                    "id": action_id,
                    "case_id": case["id"],
                    "area_id": case["area_id"],
                    "owner_agency_id": agencies[case["area_id"]][rnd.choice(owner_kinds)],
                    "owner_user_id": None,
                    "subject": subject,
                    "subject_person_id": people_of.get(role) if role else None,
                    "text": f"Bench action {action_id}",
                    "due_on": due,
                    "shared_in_detail": rnd.random() < 0.2,
                    "status": status,
                    "created_by_id": None,
                    "created_at": created,
                    "updated_at": updated,
                    "version": 1,
                }

    counts["action"] = insert(Action.__table__, actions())
    counts["action_status_change"] = insert(ActionStatusChange.__table__, iter(history))
    db.session.commit()
    return counts


def analyse() -> None:
    """Refresh the planner's statistics, as a deployment's routine maintenance does."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("ANALYZE")


def measure(app: Any, runs: int, page_sizes: tuple[int, ...] = PAGE_SIZES) -> list[dict]:
    clients = {}
    for key in VIEWERS:
        client = app.test_client()
        code = twofactor.current_code(TOTP_SECRET, clock.utc_now())
        response = client.post(
            "/login", data={"username": f"{key}1", "password": PASSWORD, "code": code}
        )
        assert response.status_code == 302, (key, response.status_code)
        assert not response.headers["Location"].startswith("/login"), key
        clients[key] = client
    queries = {"count": 0}

    def on_execute(*_args: Any) -> None:
        queries["count"] += 1

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    results = []
    try:
        for label, who, path in PAGES:
            row: dict[str, Any] = {"page": label, "path": path}
            for size in page_sizes:
                url = f"{path}{'&' if '?' in path else '?'}per_page={size}"
                for _ in range(2):  # warm the caches
                    clients[who].get(url)
                timings, counts = [], []
                for _ in range(runs):
                    queries["count"] = 0
                    start = time.perf_counter()
                    response = clients[who].get(url)
                    timings.append((time.perf_counter() - start) * 1000)
                    counts.append(queries["count"])
                    assert response.status_code == 200, (url, response.status_code)
                row[f"per_page_{size}"] = {
                    "median_ms": round(statistics.median(timings), 1),
                    "p95_ms": round(statistics.quantiles(timings, n=20)[18], 1),
                    "queries": max(counts),
                    "queries_min": min(counts),
                }
            results.append(row)
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    return results


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument(
        "--areas",
        type=int,
        default=10,
        help="areas the actions are spread over (a country has many)",
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--database-url", help="a PostgreSQL server; a fresh database is made")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--page-sizes", default=",".join(map(str, PAGE_SIZES)), help="two of 10, 25, 50, 100"
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="marac-actions-bench-"))
    server, database = None, None
    if args.database_url:
        server = make_url(args.database_url)
        database = f"marac_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        admin.dispose()
        url = server.set(database=database).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{workdir / 'actions-bench.sqlite3'}"

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    try:
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            counts = generate(args.actions, args.areas, args.seed)
            analyse()
            generated_in = time.perf_counter() - started
            dialect = db.engine.dialect.name
        page_sizes = tuple(int(n) for n in args.page_sizes.split(","))
        results = measure(app, args.runs, page_sizes)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if database:
            admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.dispose()
        for path in workdir.glob("*"):
            path.unlink()
        workdir.rmdir()

    report = {
        "benchmark": "actions dashboards, first page",
        "database": dialect,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {platform.processor()}".strip(),
        "python": platform.python_version(),
        "rows": counts,
        "areas": args.areas,
        "generated_seconds": round(generated_in, 1),
        "runs_per_page": args.runs,
        "page_sizes": list(page_sizes),
        "pages": results,
    }
    print_report(report)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"actions-{dialect}-{args.actions}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nWritten to {out}")
    return report


def print_report(report: dict[str, Any]) -> None:
    rows = report["rows"]
    print(f"{report['benchmark']} on {report['database']}, {report['date']}")
    print(
        f"{rows['action']:,} actions, {rows['marac_case']:,} cases, {rows['person']:,} people, "
        f"{rows['action_status_change']:,} status changes in {report['areas']} areas; "
        f"generated in {report['generated_seconds']} s"
    )
    a, b = report["page_sizes"]
    print(
        f"\n{'page':<30} {'median ms':>10} {'p95 ms':>8} {'queries':>8}"
        f"   {'median ms':>10} {'p95 ms':>8} {'queries':>8}"
    )
    print(f"{'':<30} {f'--- {a} per page ---':>28}   {f'--- {b} per page ---':>28}")
    for row in report["pages"]:
        first, second = row[f"per_page_{a}"], row[f"per_page_{b}"]
        print(
            f"{row['page']:<30} {first['median_ms']:>10} {first['p95_ms']:>8} "
            f"{first['queries']:>8}   {second['median_ms']:>10} {second['p95_ms']:>8} "
            f"{second['queries']:>8}"
        )


if __name__ == "__main__":
    run()
