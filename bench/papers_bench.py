"""Benchmark: issuing the papers of a meeting of 25 cases and 15 agencies (16 PDFs).

Builds the same synthetic meeting as ``bench/meeting_bench.py`` (25 cases, 15 agencies each
adding 5 items on every case, actions, two attendees per agency), closes it with the minutes
approved, then times ``marac.services.papers.issue_meeting_papers``: one PDF per attending
agency (15) and the chair's complete copy, each compiled for its reader by the policy, built,
hashed and recorded. Then each copy alone, to split the time between compiling the minutes for
the reader and laying out the PDF. Target: the whole set under 3 s on one core
(``taskset -c 0 .venv/bin/python bench/papers_bench.py``).

    .venv/bin/python bench/papers_bench.py                       # on SQLite
    .venv/bin/python bench/papers_bench.py --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test        # a fresh database, dropped

Prints the figures and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marac import create_app, papers  # noqa: E402
from marac.domain import AgendaStatus, MeetingStatus, Role  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.models import AgendaItem, Meeting, User  # noqa: E402
from marac.present_meetings import MeetingRows, present_minutes  # noqa: E402
from marac.present_papers import recipients  # noqa: E402
from marac.services import papers as service  # noqa: E402

MARKING = "OFFICIAL-SENSITIVE"


def _meeting_bench() -> Any:
    spec = importlib.util.spec_from_file_location(
        "meeting_bench", ROOT / "bench" / "meeting_bench.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def approve(meeting_id: int, now: datetime) -> tuple[Meeting, User]:
    meeting = db.session.get(Meeting, meeting_id)
    chair = db.session.scalar(
        sa.select(User).where(User.role == Role.CHAIR).order_by(User.id).limit(1)
    )
    coordinator = db.session.scalar(
        sa.select(User).where(User.role == Role.COORDINATOR).order_by(User.id).limit(1)
    )
    db.session.execute(
        sa.update(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id)
        .values(status=AgendaStatus.HEARD, risk_summary="The risk is rising & <urgent>")
    )
    meeting.status = MeetingStatus.APPROVED
    meeting.chair_id = chair.id
    meeting.closed_at = now
    meeting.minutes_approved_at = now + timedelta(hours=1)
    meeting.minutes_approved_by_id = chair.id
    meeting.current_item_id = None
    db.session.commit()
    return meeting, coordinator


def measure(meeting: Meeting, coordinator: User, rounds: int) -> dict[str, Any]:
    totals, cpu_totals = [], []
    sizes: list[int] = []
    pages: list[int] = []
    for round_ in range(rounds):
        db.session.expire_all()
        started, cpu_started = time.perf_counter(), time.process_time()
        issued = service.issue_meeting_papers(
            db.session,
            meeting,
            user=coordinator,
            marking=MARKING,
            reissue_reason=f"benchmark round {round_}" if round_ else None,
        )
        db.session.commit()
        totals.append(time.perf_counter() - started)
        # The process's own CPU time (SQLite's work included): what waiting for a core on a
        # shared machine does not inflate.
        cpu_totals.append(time.process_time() - cpu_started)
        sizes = [d.size for d in issued]
        pages = [papers_pages(d.content) for d in issued]
    compile_ms, build_ms, each_ms = [], [], []
    area_title = "Benchmark"
    # As the service does: the meeting's rows read once, then each copy for its reader.
    db.session.expire_all()
    t0 = time.perf_counter()
    rows = MeetingRows.load(db.session, meeting)
    shared_ms = (time.perf_counter() - t0) * 1000
    layout = papers.shared_layout()
    layout.__enter__()
    for recipient in recipients(db.session, meeting):
        t0 = time.perf_counter()
        minutes = present_minutes(db.session, recipient.reader, meeting, rows)
        t1 = time.perf_counter()
        papers.minutes_pdf(
            papers.PaperHeading(
                title="Minutes and action plan",
                marking=MARKING,
                recipient=recipient.label,
                number="B-P2026-000000",
                issued_on=datetime.now(UTC).date(),
                meeting=area_title,
            ),
            minutes,
        )
        t2 = time.perf_counter()
        compile_ms.append((t1 - t0) * 1000)
        build_ms.append((t2 - t1) * 1000)
        each_ms.append((t2 - t0) * 1000)
    layout.__exit__(None, None, None)
    db.session.rollback()
    return {
        "documents": len(sizes),
        "issue_total_s": {
            "median": round(statistics.median(totals), 3),
            "min": round(min(totals), 3),
            "max": round(max(totals), 3),
            "rounds": rounds,
            "cpu_median": round(statistics.median(cpu_totals), 3),
            "cpu_min": round(min(cpu_totals), 3),
        },
        "meeting_rows_ms": round(shared_ms, 1),
        "per_pdf_ms": {
            "median": round(statistics.median(each_ms), 1),
            "max": round(max(each_ms), 1),
            "compile_median": round(statistics.median(compile_ms), 1),
            "build_median": round(statistics.median(build_ms), 1),
        },
        "pdf_kib": {
            "median": round(statistics.median(sizes) / 1024, 1),
            "max": round(max(sizes) / 1024, 1),
        },
        "pages": {"median": statistics.median(pages), "max": max(pages)},
    }


def papers_pages(content: bytes | None) -> int:
    import io

    import pypdf

    return len(pypdf.PdfReader(io.BytesIO(content or b"")).pages)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=2_000, help="cases in the country")
    parser.add_argument("--areas", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="times the papers are issued")
    parser.add_argument("--items", type=int, default=5, help="items per agency on each case")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="a PostgreSQL server; a fresh database is made")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    bench = _meeting_bench()
    bench.ITEMS_PER_AGENCY = args.items

    workdir = Path(tempfile.mkdtemp(prefix="marac-papers-bench-"))
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
        url = f"sqlite:///{workdir / 'papers-bench.sqlite3'}"

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        with app.app_context():
            db.create_all()
            meta = bench.generate(args.cases, args.areas, args.seed, now)
            bench.analyse()
            dialect = db.engine.dialect.name
            meeting, coordinator = approve(meta["meeting_id"], now)
            results = measure(meeting, coordinator, args.rounds)
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
        "benchmark": f"issuing the papers: 25 cases, 15 agencies x {args.items} items per case",
        "database": dialect,
        "date": now.isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {platform.processor()}".strip(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "meeting_items": meta["meeting_items"],
        **results,
    }
    print_report(report)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"papers-{dialect}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nWritten to {out}")
    return report


def print_report(report: dict[str, Any]) -> None:
    total, each = report["issue_total_s"], report["per_pdf_ms"]
    print(f"{report['benchmark']} on {report['database']}, {report['date']}")
    print(f"{report['meeting_items']:,} information items at the meeting")
    print(
        f"Issuing all {report['documents']} PDFs in one step: median {total['median']} s "
        f"(min {total['min']}, max {total['max']}, {total['rounds']} rounds; target under 3 s); "
        f"CPU median {total['cpu_median']} s, min {total['cpu_min']} s"
    )
    print(f"Load average at the end: {' / '.join(str(x) for x in report['load_average'])}")
    print(f"The meeting's rows, read once for every copy: {report['meeting_rows_ms']} ms")
    print(
        f"Per PDF: median {each['median']} ms (compiling the minutes for the reader "
        f"{each['compile_median']} ms, laying out the PDF {each['build_median']} ms), "
        f"slowest {each['max']} ms"
    )
    print(
        f"PDF size: median {report['pdf_kib']['median']} KiB, largest "
        f"{report['pdf_kib']['max']} KiB; pages: median {report['pages']['median']}, "
        f"most {report['pages']['max']}"
    )


if __name__ == "__main__":
    run()
