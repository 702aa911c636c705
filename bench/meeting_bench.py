"""Benchmark: a live meeting of 25 cases, with 15 agencies each adding 5 items per case.

Generates a synthetic country by bulk inserts (areas, agencies, users, people, cases, years of
monthly meetings with their agendas and information items), then one meeting under way in the
first area: 25 listed cases, 15 agencies with two attendees each, each agency 5 items on every
case, some actions, every attendee past the confidentiality statement. Through the Flask test
client it times, for 30 attendees polling the live feed: the update when something changed (the
case rendered for each viewer by the policy) and the answer when nothing did (204); the agenda
page; and compiling the minutes once the meeting has closed. Median, 95th percentile and SQL
queries per request.

    .venv/bin/python bench/meeting_bench.py                       # on SQLite
    .venv/bin/python bench/meeting_bench.py --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test         # a fresh database, dropped

Prints the figures and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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

from marac import clock, create_app, twofactor  # noqa: E402
from marac.domain import (  # noqa: E402
    ActionStatus,
    ActionSubject,
    AgencyKind,
    AgencySide,
    AgendaStatus,
    AttendanceKind,
    CaseRole,
    CaseStatus,
    Classification,
    Gender,
    ItemNature,
    ItemSource,
    MeetingKind,
    MeetingStatus,
    Role,
)
from marac.extensions import db  # noqa: E402
from marac.models import (  # noqa: E402
    Action,
    Agency,
    AgendaItem,
    Area,
    Attendance,
    Case,
    CasePerson,
    InformationItem,
    Meeting,
    Person,
    SignInState,
    User,
)
from marac.services import accounts  # noqa: E402

PASSWORD = "bench password long enough"  # noqa: S105 - synthetic users only
TOTP_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"  # noqa: S105 - synthetic users only
CHUNK = 20_000
AGENCIES = [
    (AgencyKind.OTHER, AgencySide.NEUTRAL, "MARAC Team"),
    (AgencyKind.POLICE, AgencySide.NEUTRAL, "Police"),
    (AgencyKind.IDVA, AgencySide.VICTIM_FACING, "IDVA Service"),
    (AgencyKind.CHILDRENS_SOCIAL_CARE, AgencySide.NEUTRAL, "Children's Social Care"),
    (AgencyKind.PROBATION, AgencySide.NEUTRAL, "Probation"),
    (AgencyKind.HEALTH, AgencySide.NEUTRAL, "Health"),
    (AgencyKind.HOUSING, AgencySide.NEUTRAL, "Housing"),
    (AgencyKind.EDUCATION, AgencySide.NEUTRAL, "Education"),
    (AgencyKind.MENTAL_HEALTH, AgencySide.NEUTRAL, "Mental Health"),
    (AgencyKind.SUBSTANCE_MISUSE, AgencySide.NEUTRAL, "Recovery"),
    (AgencyKind.PARTNER_CONTACT, AgencySide.VICTIM_FACING, "Women's Support"),
    (AgencyKind.OTHER, AgencySide.NEUTRAL, "Ambulance"),
    (AgencyKind.OTHER, AgencySide.NEUTRAL, "Fire and Rescue"),
    (AgencyKind.OTHER, AgencySide.NEUTRAL, "Adult Social Care"),
    (AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, "Programme"),
]
MEETING_CASES = 25
ITEMS_PER_AGENCY = 5
ATTENDEES_PER_AGENCY = 2
CLASSIFICATIONS = [Classification.MARAC] * 6 + [
    Classification.AGENCY_ONLY,
    Classification.SURVIVOR_CONFIDENTIAL,
]


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


def generate(n_cases: int, n_areas: int, seed: int, now: datetime) -> dict[str, Any]:
    """The country, and the meeting under way in area 1. Returns ids the measures need."""
    rng = random.Random(seed)
    password = accounts.hash_password(PASSWORD)
    areas = [Area(code=f"B{a}", name=f"Benchshire {a}") for a in range(n_areas)]
    db.session.add_all(areas)
    db.session.flush()
    agencies: dict[int, list[Agency]] = {}
    for area in areas:
        agencies[area.id] = [
            Agency(area_id=area.id, name=f"{name} {area.code}", kind=kind, side=side)
            for kind, side, name in AGENCIES
        ]
        db.session.add_all(agencies[area.id])
    db.session.flush()
    first = areas[0]
    staff = []
    for agency in agencies[first.id]:
        for n in range(ATTENDEES_PER_AGENCY):
            staff.append(
                User(
                    username=f"{agency.kind.value}-{agency.id}-{n}",
                    display_name=f"{agency.name} rep {n}",
                    role=Role.AGENCY_REP,
                    agency_id=agency.id,
                    password_hash=password,
                )
            )
    team = agencies[first.id][0]
    police = agencies[first.id][1]
    coordinator = User(
        username="coordinator",
        display_name="Coordinator",
        role=Role.COORDINATOR,
        agency_id=team.id,
        password_hash=password,
    )
    chair = User(
        username="chair",
        display_name="Chair",
        role=Role.CHAIR,
        agency_id=police.id,
        password_hash=password,
    )
    for user in (*staff, coordinator, chair):
        user.sign_in = SignInState(
            totp_secret=TOTP_SECRET, totp_confirmed_at=clock.utc_now(), failed_attempts=0
        )
    db.session.add_all([*staff, coordinator, chair])
    db.session.flush()

    # People and cases: a victim and a perpetrator each, spread over the areas and five years.
    person_t, case_t, member_t = Person.__table__, Case.__table__, CasePerson.__table__
    start = date(now.year - 5, 1, 1)
    span = (now.date() - start).days - 40
    area_ids = [a.id for a in areas]

    def people() -> Iterator[dict[str, Any]]:
        for n in range(n_cases * 2):
            yield {
                "id": n + 1,
                "area_id": area_ids[(n // 2) % n_areas],
                "given_name": f"Given{n}",
                "family_name": f"Family{n % 50_000}",
                "date_of_birth": date(1960, 1, 1) + timedelta(days=rng.randrange(15_000)),
                "gender": (Gender.FEMALE if n % 2 == 0 else Gender.MALE).value,
                "created_at": now,
                "version": 1,
            }

    insert(person_t, people())
    referred = {}

    def cases() -> Iterator[dict[str, Any]]:
        for n in range(n_cases):
            area = area_ids[n % n_areas]
            meeting_case = n % n_areas == 0 and n // n_areas < MEETING_CASES
            if meeting_case:
                day = now.date() - timedelta(days=20)
            else:
                day = start + timedelta(days=rng.randrange(span))
            referred[n + 1] = (area, day)
            yield {
                "id": n + 1,
                "area_id": area,
                "reference": f"B{area}-{day.year}-{n + 1:07d}",
                "status": (CaseStatus.LISTED if meeting_case else CaseStatus.HEARD).value,
                "referred_on": day,
                "created_at": now,
                "version": 1,
            }

    insert(case_t, cases())

    def members() -> Iterator[dict[str, Any]]:
        for n in range(n_cases):
            yield {"case_id": n + 1, "person_id": 2 * n + 1, "role": CaseRole.VICTIM.value}
            yield {"case_id": n + 1, "person_id": 2 * n + 2, "role": CaseRole.PERPETRATOR.value}

    insert(member_t, members())

    # Years of monthly meetings in every area; every past case heard at one, with 2 items each.
    meeting_t, agenda_t, item_t = Meeting.__table__, AgendaItem.__table__, InformationItem.__table__
    meeting_ids: dict[tuple[int, int, int], int] = {}
    meeting_rows = []
    next_id = 1
    for area_id in area_ids:
        day = date(start.year, start.month, 10)
        while day < now.date():
            meeting_rows.append(
                {
                    "id": next_id,
                    "area_id": area_id,
                    "kind": MeetingKind.REGULAR.value,
                    "starts_at": datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
                    "referral_cutoff_on": day - timedelta(days=7),
                    "capacity": 10_000,
                    "minutes_per_case": 12,
                    "status": MeetingStatus.APPROVED.value,
                    "revision": 0,
                    "created_at": now,
                    "version": 1,
                }
            )
            meeting_ids[(area_id, day.year, day.month)] = next_id
            next_id += 1
            day = date(day.year + (day.month == 12), day.month % 12 + 1, 10)
    insert(meeting_t, iter(meeting_rows))
    live_id = next_id
    db.session.execute(
        meeting_t.insert(),
        [
            {
                "id": live_id,
                "area_id": first.id,
                "kind": MeetingKind.REGULAR.value,
                "starts_at": now - timedelta(hours=1),
                "referral_cutoff_on": now.date() - timedelta(days=7),
                "capacity": 30,
                "minutes_per_case": 12,
                "status": MeetingStatus.IN_PROGRESS.value,
                "opened_at": now - timedelta(hours=1),
                "revision": 0,
                "created_at": now,
                "version": 1,
            }
        ],
    )
    # The first cases of area 1, listed above: the meeting's agenda.
    live_cases = [n + 1 for n in range(0, MEETING_CASES * n_areas, n_areas)]
    live_set = set(live_cases)
    positions: dict[int, int] = {}

    def agenda() -> Iterator[dict[str, Any]]:
        for case_id, (area, day) in referred.items():
            if case_id in live_set:
                continue
            after = day + timedelta(days=20)
            meeting = meeting_ids.get((area, after.year, after.month))
            if meeting is None:
                continue
            positions[meeting] = positions.get(meeting, 0) + 1
            yield {
                "id": case_id,
                "meeting_id": meeting,
                "case_id": case_id,
                "position": positions[meeting],
                "status": AgendaStatus.HEARD.value,
                "review_next": False,
                "created_at": now,
                "version": 1,
            }
        for position, case_id in enumerate(live_cases, start=1):
            yield {
                "id": n_cases + position,
                "meeting_id": live_id,
                "case_id": case_id,
                "position": position,
                "status": AgendaStatus.LISTED.value,
                "review_next": False,
                "started_at": now - timedelta(minutes=5) if position == 1 else None,
                "created_at": now,
                "version": 1,
            }

    insert(agenda_t, agenda())
    heard = set(db.session.scalars(sa.select(AgendaItem.case_id)))
    agency_of_area = {a: [x.id for x in agencies[a]] for a in area_ids}

    def items() -> Iterator[dict[str, Any]]:
        for case_id, (area, day) in referred.items():
            if case_id in live_set or case_id not in heard:
                continue
            for k in range(2):
                yield _item(case_id, case_id, rng.choice(agency_of_area[area]), k, day, rng)
        for position, case_id in enumerate(live_cases, start=1):
            for agency in agencies[first.id]:
                for k in range(ITEMS_PER_AGENCY):
                    yield _item(
                        case_id, n_cases + position, agency.id, k, now.date() - timedelta(3), rng
                    )

    insert(item_t, items())
    db.session.execute(
        Action.__table__.insert(),
        [
            {
                "case_id": case_id,
                "area_id": first.id,
                "owner_agency_id": agencies[first.id][1 + k % 13].id,
                "subject": ActionSubject.HOUSEHOLD.value,
                "text": f"Action {k} for case {case_id}",
                "due_on": now.date() + timedelta(days=14),
                "shared_in_detail": k % 2 == 0,
                "status": ActionStatus.OPEN.value,
                "agenda_item_id": n_cases + position,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for position, case_id in enumerate(live_cases, start=1)
            for k in range(3)
        ],
    )
    db.session.execute(
        Attendance.__table__.insert(),
        [
            {
                "meeting_id": live_id,
                "user_id": user.id,
                "agency_id": user.agency_id,
                "kind": AttendanceKind.MEMBER.value,
                "accepted_at": now - timedelta(minutes=55),
            }
            for user in [*staff, coordinator, chair]
        ],
    )
    db.session.execute(
        sa.update(Meeting).where(Meeting.id == live_id).values(current_item_id=n_cases + 1)
    )
    db.session.commit()
    counts = {
        table: db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
        for table in ("marac_case", "person", "meeting", "agenda_item", "information_item")
    }
    return {
        "meeting_id": live_id,
        "attendees": [u.username for u in staff],
        "counts": counts,
        "meeting_items": len(agencies[first.id]) * ITEMS_PER_AGENCY * MEETING_CASES,
    }


def _item(
    case_id: int, agenda_item_id: int, agency_id: int, k: int, day: date, rng: random.Random
) -> dict[str, Any]:
    classification = rng.choice(CLASSIFICATIONS)
    return {
        "case_id": case_id,
        "agenda_item_id": agenda_item_id,
        "about_person_id": 2 * case_id - 1 + (k % 2),
        "text": f"Item {k} recorded by agency {agency_id} about case {case_id}",
        "source": ItemSource.AGENCY_RECORDS.value,
        "nature": ItemNature.FACT.value,
        "classification": classification.value,
        "withheld_reason": "Bench reason" if classification is Classification.AGENCY_ONLY else None,
        "recorded_by_agency_id": agency_id,
        "recorded_at": datetime.combine(day, datetime.min.time(), tzinfo=UTC),
        "version": 1,
    }


def analyse() -> None:
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("ANALYZE")


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


def timed(
    request: Callable[[], Any], counter: Counter, runs: int, expect: int
) -> tuple[list[float], list[int], list[float]]:
    timings, counts, cpu = [], [], []
    for _ in range(runs):
        counter.count = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        response = request()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        counts.append(counter.count)
        assert response.status_code == expect, (response.status_code, expect)
    return timings, counts, cpu


def summary(timings: list[float], counts: list[int], cpu: list[float]) -> dict[str, Any]:
    return {
        # The process's own CPU time (SQLite's work included), which waiting for a core on a
        # shared machine does not inflate.
        "cpu_median_ms": round(statistics.median(cpu), 1),
        "requests": len(timings),
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(statistics.quantiles(timings, n=20)[18], 1) if len(timings) > 1 else None,
        "queries": max(counts),
        "queries_min": min(counts),
    }


def measure(app: Any, meta: dict[str, Any], rounds: int) -> dict[str, Any]:
    meeting = meta["meeting_id"]
    pollers = meta["attendees"][:30]
    clients = {}
    for username in [*pollers, "coordinator", "chair"]:
        client = app.test_client()
        code = twofactor.current_code(TOTP_SECRET, clock.utc_now())
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD, "code": code}
        )
        assert response.status_code == 302, (username, response.status_code)
        assert not response.headers["Location"].startswith("/login"), username
        clients[username] = client
    counter = Counter()
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", counter)
    feed = f"/meetings/{meeting}/live/feed"
    hx = {"HX-Request": "true"}
    try:
        for client in clients.values():  # warm the caches
            client.get(feed, headers=hx)
        changed: tuple[list[float], list[int], list[float]] = ([], [], [])
        unchanged: tuple[list[float], list[int], list[float]] = ([], [], [])
        round_totals = []
        with app.app_context():
            revision = db.session.get(Meeting, meeting).revision
        for _ in range(rounds):
            started = time.perf_counter()
            for username in pollers:
                t, c, p = timed(
                    lambda u=username: clients[u].get(feed, headers=hx), counter, 1, 200
                )
                changed[0].extend(t)
                changed[1].extend(c)
                changed[2].extend(p)
            round_totals.append((time.perf_counter() - started) * 1000)
            for username in pollers:
                t, c, p = timed(
                    lambda u=username: clients[u].get(f"{feed}?seen={revision}", headers=hx),
                    counter,
                    1,
                    204,
                )
                unchanged[0].extend(t)
                unchanged[1].extend(c)
                unchanged[2].extend(p)
        agenda = {
            who: summary(
                *timed(lambda w=who: clients[w].get(f"/meetings/{meeting}"), counter, rounds, 200)
            )
            for who in ("coordinator", pollers[0])
        }
        close = clients["chair"].post(
            f"/meetings/{meeting}/live/close",
            data={"version": str(_version(app, meeting))},
        )
        assert close.status_code == 303, close.status_code
        minutes = {
            who: summary(
                *timed(
                    lambda w=who: clients[w].get(f"/meetings/{meeting}/minutes"),
                    counter,
                    rounds,
                    200,
                )
            )
            for who in ("chair", pollers[0])
        }
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    return {
        "feed_changed": summary(*changed),
        "feed_unchanged": summary(*unchanged),
        "thirty_clients_round_ms": {
            "median": round(statistics.median(round_totals), 1),
            "max": round(max(round_totals), 1),
        },
        "agenda": agenda,
        "minutes": minutes,
    }


def _version(app: Any, meeting_id: int) -> int:
    with app.app_context():
        return db.session.get(Meeting, meeting_id).version


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=200_000, help="cases in the country")
    parser.add_argument("--areas", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10, help="polls by each of 30 attendees")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database-url", help="a PostgreSQL server; a fresh database is made")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    if args.cases < MEETING_CASES * args.areas:
        parser.error(f"--cases must be at least {MEETING_CASES * args.areas}")

    workdir = Path(tempfile.mkdtemp(prefix="marac-meeting-bench-"))
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
        url = f"sqlite:///{workdir / 'meeting-bench.sqlite3'}"

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            meta = generate(args.cases, args.areas, args.seed, now)
            analyse()
            generated_in = time.perf_counter() - started
            dialect = db.engine.dialect.name
        results = measure(app, meta, args.rounds)
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
        "benchmark": "live meeting: 25 cases, 15 agencies x 5 items per case, 30 pollers",
        "database": dialect,
        "date": now.isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {platform.processor()}".strip(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rows": meta["counts"],
        "meeting_items": meta["meeting_items"],
        "generated_seconds": round(generated_in, 1),
        **results,
    }
    print_report(report)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"meeting-{dialect}-{args.cases}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nWritten to {out}")
    return report


def print_report(report: dict[str, Any]) -> None:
    rows = report["rows"]
    print(f"{report['benchmark']} on {report['database']}, {report['date']}")
    print(
        f"{rows['marac_case']:,} cases, {rows['meeting']:,} meetings, {rows['agenda_item']:,} "
        f"agenda items, {rows['information_item']:,} information items "
        f"({report['meeting_items']:,} at the meeting); generated in "
        f"{report['generated_seconds']} s"
    )
    print(f"Load average at the end: {' / '.join(str(x) for x in report['load_average'])}")
    print(f"\n{'what':<44} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>8} {'queries':>8}")
    lines = [
        ("live feed, something changed (per poll)", report["feed_changed"]),
        ("live feed, nothing changed: 204", report["feed_unchanged"]),
        *((f"agenda page ({who})", s) for who, s in report["agenda"].items()),
        *((f"minutes ({who})", s) for who, s in report["minutes"].items()),
    ]
    for label, s in lines:
        print(
            f"{label[:44]:<44} {s['median_ms']:>10} {s['p95_ms']!s:>8} "
            f"{s['cpu_median_ms']!s:>8} {s['queries']:>8}"
        )
    total = report["thirty_clients_round_ms"]
    print(
        f"\nAll 30 attendees served one changed update, one after another: median "
        f"{total['median']} ms, slowest round {total['max']} ms"
    )


if __name__ == "__main__":
    run()
