"""Benchmark: the network of one case, and the full serial-perpetrator scan, at national scale.

Generates a synthetic country (by default 1,000,000 people, 2,000,000 relationships and 300,000
cases, seeded so every run builds the same data) with bulk SQLAlchemy Core inserts into a
throwaway SQLite file, or into a throwaway database on the PostgreSQL server named by
``--database-url``. Then it times, for random cases, what a case page does for its network:

- links: the viewer's links to the case (``links_for_cases``);
- build: ``graph.build_neighbourhood`` (indexed queries around the case);
- present: the projection through the policy (``present_network``, names of those shown);
- draw: the SVG picture (``network_svg.draw``);

and reports the median and 95th percentile of each and of the total, the queries per network,
and the time of the full set-based serial-perpetrator scan (``graph.serial_perpetrator_scan``).

    .venv/bin/python bench/network_bench.py                      # full scale, SQLite
    .venv/bin/python bench/network_bench.py --people 20000       # a quick run
    .venv/bin/python bench/network_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Figures are printed and written as JSON to bench/results/ (git-ignored).
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marac import graph
from marac.domain import (
    AgencyKind,
    AgencySide,
    CaseRole,
    CaseStatus,
    Gender,
    InvolvementKind,
    RelationshipKind,
    Role,
)
from marac.extensions import db
from marac.network_svg import draw
from marac.present_network import present_network
from marac.viewer import Viewer, links_for_cases

TODAY = date(2026, 11, 24)
AREAS = 40
CHUNK = 20_000
GIVEN = ["Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Jamie", "Casey", "Morgan", "Taylor"]
FAMILY = ["Smith", "Jones", "Patel", "Khan", "Brown", "Evans", "Walker", "Wright", "Hughes"]
AGENCY_KINDS = [
    (AgencyKind.POLICE, AgencySide.NEUTRAL),
    (AgencyKind.IDVA, AgencySide.VICTIM_FACING),
    (AgencyKind.CHILDRENS_SOCIAL_CARE, AgencySide.NEUTRAL),
    (AgencyKind.PROBATION, AgencySide.NEUTRAL),
    (AgencyKind.HEALTH, AgencySide.NEUTRAL),
    (AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING),
    (AgencyKind.PARTNER_CONTACT, AgencySide.VICTIM_FACING),
    (AgencyKind.OTHER, AgencySide.NEUTRAL),
]


# --- the synthetic country ----------------------------------------------------------------------


@dataclass
class Counts:
    people: int = 0
    relationships: int = 0
    cases: int = 0
    case_people: int = 0
    involvements: int = 0


@dataclass
class Generator:
    """Seeded, so the same arguments always give the same data."""

    people_target: int
    relationships_target: int
    cases_target: int
    rng: random.Random
    created: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    next_person: int = 0
    person_area: list[int] = field(default_factory=lambda: [0])
    pairs: set[tuple[int, int, str]] = field(default_factory=set)
    counts: Counts = field(default_factory=Counts)

    def person_row(self, area: int, child: bool) -> dict[str, Any]:
        self.next_person += 1
        self.person_area.append(area)
        age_days = self.rng.randint(1, 17 * 365) if child else self.rng.randint(18 * 365, 70 * 365)
        return {
            "id": self.next_person,
            "area_id": area,
            "given_name": self.rng.choice(GIVEN),
            "family_name": self.rng.choice(FAMILY),
            "date_of_birth": TODAY - timedelta(days=age_days),
            "gender": self.rng.choice([Gender.FEMALE, Gender.MALE]).value,
            "created_at": self.created,
            "version": 1,
        }

    def relationship_row(
        self, a: int, b: int, kind: RelationshipKind, separated: date | None = None
    ) -> dict[str, Any] | None:
        key = (a, b, kind.value)
        if a == b or key in self.pairs:
            return None
        self.pairs.add(key)
        return {
            "id": len(self.pairs),
            "person_id": a,
            "other_person_id": b,
            "kind": kind.value,
            "started_on": None,
            "separated_on": separated,
            "created_at": self.created,
            "version": 1,
        }


def _insert(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(table.insert(), rows)
        rows.clear()


def generate(engine: Engine, people: int, relationships: int, cases: int, seed: int) -> Counts:
    tables = db.metadata.tables
    gen = Generator(people, relationships, cases, random.Random(seed))
    rng = gen.rng
    with engine.begin() as connection:
        connection.execute(
            tables["area"].insert(),
            [
                {"id": a, "name": f"Area {a}", "code": f"B{a:02d}", "created_at": gen.created}
                for a in range(1, AREAS + 1)
            ],
        )
        agencies, users = [], []
        agency_of: dict[tuple[int, AgencyKind], int] = {}
        workers: dict[int, list[int]] = {}
        for area in range(1, AREAS + 1):
            for kind, side in AGENCY_KINDS:
                agency_id = len(agencies) + 1
                agency_of[(area, kind)] = agency_id
                agencies.append(
                    {
                        "id": agency_id,
                        "area_id": area,
                        "name": f"{kind.label} {area}",
                        "kind": kind.value,
                        "side": side.value,
                        "is_active": True,
                        "created_at": gen.created,
                        "version": 1,
                    }
                )
                workers[agency_id] = []
                for n in range(3):
                    user_id = len(users) + 1
                    workers[agency_id].append(user_id)
                    role = (
                        Role.COORDINATOR
                        if kind is AgencyKind.OTHER and n == 0
                        else (
                            Role.SUPPORT_WORKER
                            if side is AgencySide.VICTIM_FACING
                            else Role.AGENCY_REP
                        )
                    )
                    users.append(
                        {
                            "id": user_id,
                            "agency_id": agency_id,
                            "username": f"u{user_id}",
                            "display_name": f"Worker {user_id}",
                            "email": None,
                            "role": role.value,
                            "password_hash": "-",
                            "is_enabled": True,
                            "session_token": uuid.uuid4().hex,
                            "created_at": gen.created,
                            "version": 1,
                        }
                    )
        connection.execute(tables["agency"].insert(), agencies)
        connection.execute(tables["user_account"].insert(), users)

        person_rows: list[dict[str, Any]] = []
        case_rows: list[dict[str, Any]] = []
        member_rows: list[dict[str, Any]] = []
        rel_rows: list[dict[str, Any]] = []
        involvement_rows: list[dict[str, Any]] = []
        perpetrators: list[int] = []
        statuses = list(CaseStatus)

        batches = (
            ("person", person_rows),
            ("marac_case", case_rows),
            ("case_person", member_rows),
            ("relationship", rel_rows),
            ("involvement", involvement_rows),
        )

        def flush(force: bool = False) -> None:
            # All tables at once, in the order their foreign keys need.
            if not force and not any(len(rows) >= CHUNK for _, rows in batches):
                return
            for table, rows in batches:
                if table == "case_person":
                    gen.counts.case_people += len(rows)
                _insert(connection, tables[table], rows)

        def relate(a: int, b: int, kind: RelationshipKind, separated: date | None = None) -> None:
            row = gen.relationship_row(a, b, kind, separated)
            if row is not None:
                rel_rows.append(row)

        def involve(agency_id: int, person_id: int, kind: InvolvementKind) -> None:
            involvement_rows.append(
                {
                    "id": gen.counts.involvements + 1,
                    "agency_id": agency_id,
                    "person_id": person_id,
                    "worker_id": rng.choice(workers[agency_id]),
                    "kind": kind.value,
                    "started_on": TODAY - timedelta(days=rng.randint(0, 700)),
                    "ended_on": None,
                    "created_at": gen.created,
                    "version": 1,
                }
            )
            gen.counts.involvements += 1

        for case_id in range(1, cases + 1):
            area = rng.randint(1, AREAS)
            person_rows.append(gen.person_row(area, child=False))
            victim = gen.next_person
            if perpetrators and rng.random() < 0.15:
                perpetrator = rng.choice(perpetrators)  # a serial perpetrator
            else:
                person_rows.append(gen.person_row(area, child=False))
                perpetrator = gen.next_person
                perpetrators.append(perpetrator)
            children = []
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                person_rows.append(gen.person_row(area, child=True))
                children.append(gen.next_person)
            case_rows.append(
                {
                    "id": case_id,
                    "area_id": area,
                    "reference": f"B{area:02d}-{case_id:07d}",
                    "status": rng.choice(statuses).value,
                    "referring_agency_id": agency_of[(area, AgencyKind.POLICE)],
                    "referred_on": TODAY - timedelta(days=rng.randint(0, 1500)),
                    "closed_on": None,
                    "created_at": gen.created,
                    "version": 1,
                }
            )
            gen.counts.cases += 1
            members = [(victim, CaseRole.VICTIM), (perpetrator, CaseRole.PERPETRATOR)]
            members += [(child, CaseRole.CHILD) for child in children]
            for person_id, role in members:
                member_rows.append(
                    {
                        "id": gen.counts.case_people + len(member_rows) + 1,
                        "case_id": case_id,
                        "person_id": person_id,
                        "role": role.value,
                    }
                )
            if rng.random() < 0.7:
                relate(perpetrator, victim, RelationshipKind.PARTNER)
            else:
                separated = TODAY - timedelta(days=rng.randint(30, 5 * 365))
                relate(perpetrator, victim, RelationshipKind.EX_PARTNER, separated)
            for index, child in enumerate(children):
                relate(victim, child, RelationshipKind.PARENT)
                roll = rng.random()
                if roll < 0.6:
                    relate(perpetrator, child, RelationshipKind.PARENT)
                elif roll < 0.8:
                    relate(perpetrator, child, RelationshipKind.STEP_PARENT)
                if index:
                    relate(children[index - 1], child, RelationshipKind.SIBLING)
            if rng.random() < 0.3:
                involve(agency_of[(area, AgencyKind.IDVA)], victim, InvolvementKind.IDVA_SUPPORT)
            if rng.random() < 0.05:
                involve(
                    agency_of[(area, AgencyKind.PERPETRATOR_PROGRAMME)],
                    perpetrator,
                    InvolvementKind.PERPETRATOR_PROGRAMME,
                )
                involve(
                    agency_of[(area, AgencyKind.PARTNER_CONTACT)],
                    victim,
                    InvolvementKind.PARTNER_CONTACT,
                )
            if children and rng.random() < 0.4:
                involve(
                    agency_of[(area, AgencyKind.CHILDRENS_SOCIAL_CARE)],
                    children[0],
                    InvolvementKind.CASEWORK,
                )
            flush()

        # Relatives and others on record outside any case, each linked to someone already known.
        while gen.next_person < people:
            anchor = rng.randint(1, gen.next_person)
            area = gen.person_area[anchor]
            person_rows.append(gen.person_row(area, child=rng.random() < 0.2))
            kind = rng.choice(
                [
                    RelationshipKind.PARENT,
                    RelationshipKind.SIBLING,
                    RelationshipKind.HOUSEHOLD_MEMBER,
                    RelationshipKind.PARTNER,
                ]
            )
            relate(gen.next_person, anchor, kind)
            flush()
        # The rest of the relationships: random links between people of the same area.
        by_area: dict[int, list[int]] = {}
        for person_id in range(1, gen.next_person + 1):
            by_area.setdefault(gen.person_area[person_id], []).append(person_id)
        kinds = [
            RelationshipKind.SIBLING,
            RelationshipKind.HOUSEHOLD_MEMBER,
            RelationshipKind.EX_PARTNER,
            RelationshipKind.PARENT,
        ]
        while len(gen.pairs) < relationships:
            members = by_area[rng.randint(1, AREAS)]
            a, b = rng.choice(members), rng.choice(members)
            kind = rng.choice(kinds)
            separated = (
                TODAY - timedelta(days=rng.randint(30, 5 * 365))
                if kind is RelationshipKind.EX_PARTNER
                else None
            )
            relate(a, b, kind, separated)
            flush()
        flush(force=True)
    gen.counts.people = gen.next_person
    gen.counts.relationships = len(gen.pairs)
    return gen.counts


# --- measuring ----------------------------------------------------------------------------------


@contextmanager
def counting(engine: Engine) -> Iterator[list[int]]:
    counter = [0]

    def on_execute(*_args: Any) -> None:
        counter[0] += 1

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)


def coordinator_of(session: Session, area_id: int) -> Viewer:
    from marac.models import Agency, User

    user, agency = session.execute(
        sa.select(User, Agency)
        .join(Agency, Agency.id == User.agency_id)
        .where(Agency.area_id == area_id, User.role == Role.COORDINATOR)
        .limit(1)
    ).one()
    return Viewer(
        user.id,
        user.username,
        user.display_name,
        user.role,
        agency.id,
        agency.name,
        agency.kind,
        agency.side,
        area_id,
    )


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def time_networks(engine: Engine, cases: int, samples: int, seed: int) -> dict[str, Any]:
    from marac.models import Case

    rng = random.Random(seed + 1)
    case_ids = [rng.randint(1, cases) for _ in range(samples)]
    steps = ("links", "build", "present", "draw", "total")
    timings: dict[str, list[float]] = {step: [] for step in steps}
    queries, people, svg_bytes = [], [], []
    with Session(engine) as session:
        viewers: dict[int, Viewer] = {}
        # Warm up: the first network pays for connections and caches, as a running server would.
        for case_id in case_ids[:5] + case_ids:
            session.expunge_all()
            case = session.get(Case, case_id)
            viewer = viewers.get(case.area_id) or coordinator_of(session, case.area_id)
            viewers[case.area_id] = viewer
            with counting(engine) as counter:
                started = time.perf_counter()
                links = links_for_cases(session, viewer, [case], today=TODAY)[case.id]
                t_links = time.perf_counter()
                nb = graph.build_neighbourhood(session, today=TODAY, case_id=case.id)
                t_build = time.perf_counter()
                network = present_network(session, viewer, links, nb, case.reference)
                t_present = time.perf_counter()
                svg = draw(network)
                t_draw = time.perf_counter()
            timings["links"].append(t_links - started)
            timings["build"].append(t_build - t_links)
            timings["present"].append(t_present - t_build)
            timings["draw"].append(t_draw - t_present)
            timings["total"].append(t_draw - started)
            queries.append(counter[0])
            people.append(len(nb.distance))
            svg_bytes.append(len(svg))
        for key in timings:
            timings[key] = timings[key][5:]
        queries, people, svg_bytes = queries[5:], people[5:], svg_bytes[5:]
    return {
        "samples": samples,
        **{f"{key}": summary(values) for key, values in timings.items()},
        "queries_per_network": {"min": min(queries), "max": max(queries)},
        "people_per_network": {
            "median": statistics.median(people),
            "max": max(people),
        },
        "svg_bytes_median": statistics.median(svg_bytes),
    }


def time_scan(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        started = time.perf_counter()
        rows = graph.serial_perpetrator_scan(session)
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        area_rows = graph.serial_perpetrator_scan(session, area_id=1)
        area_elapsed = time.perf_counter() - started
    return {
        "whole_database_s": round(elapsed, 3),
        "serial_perpetrators": len(rows),
        "one_area_s": round(area_elapsed, 3),
        "serial_perpetrators_in_area": len(area_rows),
    }


# --- running ------------------------------------------------------------------------------------


def sqlite_engine(path: Path) -> Engine:
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -262144")
        cursor.close()

    return engine


def postgresql_engine(server_url: str) -> tuple[Engine, str]:
    server = make_url(server_url)
    name = f"marac_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.create_engine(server.set(database=name)), name


def drop_postgresql(server_url: str, name: str) -> None:
    admin = sa.create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def existing_counts(engine: Engine) -> Counts:
    """The sizes of a database generated by an earlier run (``--sqlite-file``)."""
    tables = db.metadata.tables
    with engine.connect() as connection:

        def count(name: str) -> int:
            return connection.scalar(sa.select(sa.func.count()).select_from(tables[name]))

        return Counts(
            people=count("person"),
            relationships=count("relationship"),
            cases=count("marac_case"),
            case_people=count("case_person"),
            involvements=count("involvement"),
        )


def run(args: argparse.Namespace) -> dict[str, Any]:
    import marac.models  # noqa: F401 - registers every table on the metadata

    people = args.people
    relationships = args.relationships or 2 * people
    cases = args.cases or int(people * 0.3)
    workdir = None
    pg_name = None
    reuse = bool(args.sqlite_file and args.sqlite_file.exists())
    if args.database_url:
        engine, pg_name = postgresql_engine(args.database_url)
        backend = "postgresql"
    else:
        if not args.sqlite_file:
            workdir = Path(tempfile.mkdtemp(prefix="marac-bench-"))
        engine = sqlite_engine(args.sqlite_file or workdir / "network.sqlite3")
        backend = "sqlite"
    try:
        started = time.perf_counter()
        if reuse:
            counts = existing_counts(engine)
        else:
            db.metadata.create_all(engine)
            counts = generate(engine, people, relationships, cases, args.seed)
            with engine.begin() as connection:
                connection.execute(sa.text("ANALYZE"))
            if backend == "sqlite":
                # The load is one transaction: fold its write-ahead log into the file, as a
                # running server's would be, before reading.
                with engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        generated = time.perf_counter() - started
        print(
            f"generated {counts.people:,} people, {counts.relationships:,} relationships, "
            f"{counts.cases:,} cases ({counts.case_people:,} case members, "
            f"{counts.involvements:,} involvements) in {generated:.1f} s on {backend}"
            + (" (reused)" if reuse else ""),
            flush=True,
        )
        networks = time_networks(engine, counts.cases, args.samples, args.seed)
        scan = time_scan(engine)
    finally:
        engine.dispose()
        if pg_name and not args.keep:
            drop_postgresql(args.database_url, pg_name)
        if workdir is not None and not args.keep:
            for path in workdir.iterdir():
                path.unlink()
            workdir.rmdir()
        elif workdir is not None:
            print(f"database kept in {workdir}")
    return {
        "benchmark": "network",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
        },
        "database": backend,
        "data": counts.__dict__,
        "generation_s": round(generated, 1),
        "network_of_one_case": networks,
        "serial_perpetrator_scan": scan,
        "targets": {"network_p95_ms": 50, "scan_s": 10},
    }


def report(result: dict[str, Any]) -> None:
    net = result["network_of_one_case"]
    print(f"network of one case ({net['samples']} random cases, coordinator's view):")
    for key in ("links", "build", "present", "draw", "total"):
        figures = net[key]
        print(
            f"  {key:<8} median {figures['median_ms']:>7.2f} ms   p95 {figures['p95_ms']:>7.2f} ms"
            f"   max {figures['max_ms']:>7.2f} ms"
        )
    q = net["queries_per_network"]
    print(f"  queries per network: {q['min']} to {q['max']}")
    p = net["people_per_network"]
    print(f"  people per network: median {p['median']}, max {p['max']}")
    scan = result["serial_perpetrator_scan"]
    print(
        f"serial-perpetrator scan: whole database {scan['whole_database_s']:.2f} s "
        f"({scan['serial_perpetrators']:,} found); one area {scan['one_area_s']:.2f} s"
    )
    ok_net = net["total"]["p95_ms"] < result["targets"]["network_p95_ms"]
    ok_scan = scan["whole_database_s"] < result["targets"]["scan_s"]
    print(
        f"targets: network p95 < 50 ms {'met' if ok_net else 'NOT met'}; "
        f"scan < 10 s {'met' if ok_scan else 'NOT met'}"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--relationships", type=int, help="default: twice the people")
    parser.add_argument("--cases", type=int, help="default: 30%% of the people")
    parser.add_argument("--samples", type=int, default=200, help="random cases to time")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--database-url", help="a PostgreSQL server URL; a database is created")
    parser.add_argument("--output", type=Path, help="JSON file (default under bench/results/)")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument(
        "--sqlite-file",
        type=Path,
        help="where to put the SQLite database; if it exists, it is reused as it is",
    )
    args = parser.parse_args(argv)
    result = run(args)
    report(result)
    output = args.output or (
        ROOT / "bench" / "results" / f"network-{result['database']}-{args.people}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {output}")
    return result


if __name__ == "__main__":
    main()
