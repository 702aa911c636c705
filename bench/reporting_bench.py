"""Benchmark: the quarterly data return and the area dashboard, at national scale.

Generates a synthetic country by bulk inserts: ``--areas`` areas and ``--cases`` cases over five
years, one big area holding ``--big-share`` of them (a city MARAC meeting weekly); each case a
victim with varied equality answers, a perpetrator (some under 18), 0 to 3 children, a referral
(about a third repeats), a hearing at a meeting of its area (one in ten heard again at the next),
three actions, and IDVA support for most victims. Then it times, for the big area and a small
one, counting the return of the last full quarter, publishing it (with suppression) and the
dashboard: median and 95th percentile over ``--runs``, and the SQL queries each costs.

    .venv/bin/python bench/reporting_bench.py                       # SQLite, 300,000 cases
    .venv/bin/python bench/reporting_bench.py --cases 30000          # a quick run
    .venv/bin/python bench/reporting_bench.py --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test           # a fresh database, dropped

Prints the figures and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marac import create_app, reporting  # noqa: E402
from marac.domain import (  # noqa: E402
    ActionStatus,
    ActionSubject,
    AgencyKind,
    AgencySide,
    AgendaStatus,
    CaseRole,
    CaseStatus,
    Disability,
    EthnicGroup,
    Gender,
    InvolvementKind,
    MeetingKind,
    MeetingStatus,
    SexualOrientation,
    TransHistory,
)
from marac.extensions import db  # noqa: E402
from marac.models import (  # noqa: E402
    Action,
    Agency,
    AgendaItem,
    Area,
    AreaReportSettings,
    Case,
    CasePerson,
    Involvement,
    Meeting,
    Person,
    Referral,
)

CHUNK = 20_000
KINDS = [
    (AgencyKind.OTHER, AgencySide.NEUTRAL),
    (AgencyKind.POLICE, AgencySide.NEUTRAL),
    (AgencyKind.IDVA, AgencySide.VICTIM_FACING),
    (AgencyKind.CHILDRENS_SOCIAL_CARE, AgencySide.NEUTRAL),
    (AgencyKind.PROBATION, AgencySide.NEUTRAL),
    (AgencyKind.HEALTH, AgencySide.NEUTRAL),
    (AgencyKind.HOUSING, AgencySide.NEUTRAL),
    (AgencyKind.EDUCATION, AgencySide.NEUTRAL),
    (AgencyKind.MENTAL_HEALTH, AgencySide.NEUTRAL),
]
# Police refer most cases; the rest spread over the others.
REFERRER_WEIGHTS = [1, 60, 8, 8, 3, 8, 4, 3, 5]
ACTION_STATUSES = [ActionStatus.DONE] * 6 + [
    ActionStatus.OPEN,
    ActionStatus.IN_PROGRESS,
    ActionStatus.NOT_DONE_BY_AGENCY,
    ActionStatus.CANCELLED,
]


def insert(table: sa.Table, rows: Iterator[dict[str, Any]]) -> int:
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            db.session.execute(table.insert(), batch)
            count, batch = count + len(batch), []
    if batch:
        db.session.execute(table.insert(), batch)
        count += len(batch)
    return count


def generate(n_cases: int, n_areas: int, big_share: float, seed: int, today: date) -> dict:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    areas = [Area(code=f"R{a}", name=f"Reportshire {a}") for a in range(n_areas)]
    db.session.add_all(areas)
    db.session.flush()
    area_ids = [a.id for a in areas]
    agencies: dict[int, list[int]] = {}
    for area in areas:
        rows = [
            Agency(area_id=area.id, name=f"{kind.value} {area.code}", kind=kind, side=side)
            for kind, side in KINDS
        ]
        db.session.add_all(rows)
        db.session.flush()
        agencies[area.id] = [r.id for r in rows]
    big = area_ids[0]
    db.session.add(AreaReportSettings(area_id=big, adult_female_population=900_000, idva_fte=30))
    start = date(today.year - 5, 1, 1)
    span = (today - start).days - 10

    # Weekly meetings in the big area, monthly elsewhere, every one of them closed.
    meeting_rows, meetings_of = [], {}
    for area_id in area_ids:
        step = 7 if area_id == big else 28
        day, ids = start + timedelta(days=3), []
        while day < today:
            meeting_rows.append(
                {
                    "id": len(meeting_rows) + 1,
                    "area_id": area_id,
                    "kind": MeetingKind.REGULAR.value,
                    "starts_at": datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
                    "referral_cutoff_on": day - timedelta(days=7),
                    "capacity": 10_000,
                    "minutes_per_case": 12,
                    "status": MeetingStatus.APPROVED.value,
                    "revision": 0,
                    "opened_at": datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
                    "closed_at": datetime(day.year, day.month, day.day, 15, tzinfo=UTC),
                    "created_at": now,
                    "version": 1,
                }
            )
            ids.append((day, len(meeting_rows)))
            day += timedelta(days=step)
        meetings_of[area_id] = ids
    insert(Meeting.__table__, iter(meeting_rows))

    plan = []  # (case id, area, referred day, people)
    person_id = 0

    def pick_area() -> int:
        return big if rng.random() < big_share else rng.choice(area_ids[1:] or area_ids)

    def people() -> Iterator[dict[str, Any]]:
        nonlocal person_id
        for n in range(n_cases):
            area = pick_area()
            day = start + timedelta(days=rng.randrange(span))
            members = []
            for role in [CaseRole.VICTIM, CaseRole.PERPETRATOR] + [CaseRole.CHILD] * rng.choice(
                (0, 0, 1, 1, 2, 3)
            ):
                person_id += 1
                members.append((person_id, role))
                if role is CaseRole.CHILD:
                    born = day - timedelta(days=rng.randrange(1, 6_000))
                elif role is CaseRole.PERPETRATOR and rng.random() < 0.03:
                    born = day - timedelta(days=rng.randrange(5_500, 6_570))
                else:
                    born = day - timedelta(days=rng.randrange(5_900, 25_000))
                yield {
                    "id": person_id,
                    "area_id": area,
                    "given_name": f"Given{person_id}",
                    "family_name": f"Family{person_id % 50_000}",
                    "date_of_birth": born,
                    "gender": (
                        Gender.MALE
                        if (role is CaseRole.VICTIM) == (rng.random() < 0.05)
                        else Gender.FEMALE
                    ).value,
                    "ethnic_group": rng.choice(list(EthnicGroup)).value,
                    "sexual_orientation": rng.choice(list(SexualOrientation)).value,
                    "trans_history": rng.choice(list(TransHistory)).value,
                    "disability": rng.choice(list(Disability)).value,
                    "created_at": now,
                    "version": 1,
                }
            plan.append((n + 1, area, day, members))

    insert(Person.__table__, people())
    insert(
        Case.__table__,
        (
            {
                "id": case_id,
                "area_id": area,
                "reference": f"R{area}-{day.year}-{case_id:07d}",
                "status": CaseStatus.HEARD.value,
                "referring_agency_id": rng.choices(agencies[area], REFERRER_WEIGHTS)[0],
                "referred_on": day,
                "created_at": now,
                "version": 1,
            }
            for case_id, area, day, _m in plan
        ),
    )
    insert(
        CasePerson.__table__,
        (
            {"case_id": case_id, "person_id": pid, "role": role.value}
            for case_id, _a, _d, members in plan
            for pid, role in members
        ),
    )
    insert(
        Referral.__table__,
        (
            {
                "case_id": case_id,
                "referring_agency_id": agencies[area][1],
                "officer_name": "Officer",
                "incident_on": day,
                "checklist_key": "default",
                "score": 14,
                "threshold": 14,
                "police_callouts": 0,
                "eligible": True,
                "repeat_of_case_id": case_id - 1 if case_id > 1 and rng.random() < 0.33 else None,
                "created_at": now,
            }
            for case_id, area, day, _m in plan
        ),
    )

    def hearings() -> Iterator[dict[str, Any]]:
        item = 0
        for case_id, area, day, _m in plan:
            later = [m for m in meetings_of[area] if m[0] > day][:2]
            heard_at = later[: 2 if rng.random() < 0.1 else 1]
            for held_on, meeting_id in heard_at:
                item += 1
                yield {
                    "id": item,
                    "meeting_id": meeting_id,
                    "case_id": case_id,
                    "position": item,
                    "status": AgendaStatus.HEARD.value,
                    "review_next": False,
                    "started_at": datetime(
                        held_on.year, held_on.month, held_on.day, 10, 5, tzinfo=UTC
                    ),
                    "created_at": now,
                    "version": 1,
                }

    heard = insert(AgendaItem.__table__, hearings())

    def actions() -> Iterator[dict[str, Any]]:
        for case_id, area, day, _m in plan:
            for _k in range(3):
                yield {
                    "case_id": case_id,
                    "area_id": area,
                    "owner_agency_id": rng.choice(agencies[area]),
                    "subject": ActionSubject.HOUSEHOLD.value,
                    "text": "Synthetic action",
                    "due_on": day + timedelta(days=rng.randrange(14, 60)),
                    "shared_in_detail": False,
                    "status": rng.choice(ACTION_STATUSES).value,
                    "updated_at": now,
                    "created_at": now,
                    "version": 1,
                }

    n_actions = insert(Action.__table__, actions())
    insert(
        Involvement.__table__,
        (
            {
                "agency_id": agencies[area][2],
                "person_id": members[0][0],
                "kind": InvolvementKind.IDVA_SUPPORT.value,
                "started_on": day,
                "ended_on": day + timedelta(days=rng.randrange(60, 300)),
                "created_at": now,
                "version": 1,
            }
            for case_id, area, day, members in plan
            if rng.random() < 0.8
        ),
    )
    db.session.commit()
    small = area_ids[1] if n_areas > 1 else big
    return {
        "areas": n_areas,
        "cases": n_cases,
        "people": person_id,
        "meetings": len(meeting_rows),
        "hearings": heard,
        "actions": n_actions,
        "big_area": big,
        "small_area": small,
        "big_area_cases": sum(1 for _c, a, _d, _m in plan if a == big),
    }


def timed(call: Callable[[], Any], runs: int, engine: sa.Engine) -> dict[str, Any]:
    queries = 0

    def count(*_args: Any) -> None:
        nonlocal queries
        queries += 1

    times = []
    result = None
    for _run in range(runs):
        db.session.expire_all()
        queries = 0
        sa.event.listen(engine, "before_cursor_execute", count)
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
        sa.event.remove(engine, "before_cursor_execute", count)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        "queries": queries,
        "result": result,
    }


def _database(url: str | None, folder: Path) -> tuple[str, str | None]:
    if not url:
        return f"sqlite:///{folder / 'reporting-bench.sqlite3'}", None
    server = make_url(url)
    name = f"marac_bench_reporting_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False), name


def _drop(url: str | None, name: str | None) -> None:
    if url and name:
        admin = sa.create_engine(make_url(url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300_000)
    parser.add_argument("--areas", type=int, default=300)
    parser.add_argument("--big-share", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--database-url", help="a PostgreSQL server; a fresh database is made")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    today = date.today()
    quarter = reporting.Quarter.containing(today).previous
    with tempfile.TemporaryDirectory() as folder:
        url, name = _database(args.database_url, Path(folder))
        try:
            app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
            with app.app_context():
                db.create_all()
                began = time.perf_counter()
                data = generate(args.cases, args.areas, args.big_share, args.seed, today)
                data["generate_s"] = round(time.perf_counter() - began, 1)
                if db.engine.dialect.name == "postgresql":
                    db.session.execute(sa.text("ANALYZE"))
                    db.session.commit()
                figures = {}
                for label, area_id in (("big", data["big_area"]), ("small", data["small_area"])):
                    counted = timed(
                        lambda a=area_id: reporting.count_return(db.session, a, "A", quarter),
                        args.runs,
                        db.engine,
                    )
                    data_return = counted.pop("result")
                    published = timed(
                        lambda r=data_return: reporting.publish(r), args.runs, db.engine
                    )
                    published_result = published.pop("result")
                    dashboard = timed(
                        lambda a=area_id: reporting.count_dashboard(db.session, a, today),
                        args.runs,
                        db.engine,
                    )
                    board = dashboard.pop("result")
                    figures[label] = {
                        "return": counted,
                        "publish": published,
                        "dashboard": dashboard,
                        "meetings_in_quarter": len(data_return.meetings),
                        "hearings_in_quarter": data_return.total["cases_heard"],
                        "cells_suppressed": published_result.suppressed,
                        "cases_heard_in_year": board.cases_heard,
                    }
                db.session.remove()
                db.engine.dispose()
        finally:
            _drop(args.database_url, name)
    report = {
        "database": make_url(url).get_backend_name(),
        "quarter": quarter.key,
        "data": data,
        "figures": figures,
    }
    print_report(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"reporting-{report['database']}-{args.cases}.json").write_text(
        json.dumps(report, indent=2, default=str)
    )
    return report


def print_report(report: dict[str, Any]) -> None:
    data = report["data"]
    print(
        f"{report['database']}: {data['cases']:,} cases in {data['areas']} areas "
        f"({data['big_area_cases']:,} in the big area), {data['hearings']:,} hearings, "
        f"{data['actions']:,} actions; generated in {data['generate_s']} s"
    )
    for label, f in report["figures"].items():
        print(
            f"  {label} area, {report['quarter']}: {f['meetings_in_quarter']} meetings, "
            f"{f['hearings_in_quarter']} hearings, {f['cells_suppressed']} cells suppressed"
        )
        for part in ("return", "publish", "dashboard"):
            p = f[part]
            print(
                f"    {part:<9} median ms {p['median_ms']:>8}  p95 {p['p95_ms']:>8}  "
                f"queries {p['queries']}"
            )


if __name__ == "__main__":
    run()
