"""Benchmark: the audit chain. What sealing costs a commit, how writers in parallel fare, and how
long ``marac audit-verify`` takes over a long trail.

- seal: transactions of one entry each, committed one after another: commits per second, and the
  same without the chain (entries with no seal) for comparison;
- parallel: N threads committing at once (the head row puts them in one order): commits/s;
- verify: the whole chain walked and rehashed, after bulk-loading a trail of ``--entries``
  sealed entries (default 1,000,000).

    .venv/bin/python bench/audit_bench.py                     # SQLite in a temporary folder
    .venv/bin/python bench/audit_bench.py --entries 20000     # a quick run
    .venv/bin/python bench/audit_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Figures are printed and written as JSON to bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marac import audit, audit_chain, create_app  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.models import AuditChainHead, AuditEntry  # noqa: E402


def _database(url: str | None, folder: Path) -> tuple[str, str | None]:
    if not url:
        return f"sqlite:///{folder / 'audit-bench.sqlite3'}", None
    server = make_url(url)
    name = f"marac_bench_audit_{uuid.uuid4().hex[:8]}"
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


def _commits(count: int, sealed: bool) -> float:
    start = time.perf_counter()
    for n in range(count):
        entry = audit.record("bench.view", object_type="case", object_id=n)
        if not sealed:
            # As the trail was before the chain: an entry with no place and no hash.
            entry.entry_hash = "-"
        db.session.commit()
    return count / (time.perf_counter() - start)


def _parallel(app: Any, threads: int, each: int) -> float:
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        with app.app_context():
            barrier.wait()
            for n in range(each):
                audit.record("bench.parallel", object_type="case", object_id=n)
                db.session.commit()
            db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    return threads * each / (time.perf_counter() - start)


def _bulk_trail(entries: int) -> None:
    """A long sealed trail, inserted in batches (hashes computed as the service would)."""
    head = db.session.get(AuditChainHead, 1)
    seq, prev = head.length, head.last_hash
    at = datetime(2026, 1, 1, tzinfo=UTC)
    table = AuditEntry.__table__
    batch: list[dict[str, Any]] = []
    for n in range(entries):
        seq += 1
        row = {
            "seq": seq,
            "at": at + timedelta(seconds=n),
            "user_id": None,
            "agency_id": None,
            "action": "bench.bulk",
            "object_type": "case",
            "object_id": n % 50_000,
            "detail": None,
            "remote_addr": "127.0.0.1",
        }
        row["prev_hash"] = prev
        row["entry_hash"] = prev = audit_chain.entry_hash(_Row(row), prev)
        batch.append(row)
        if len(batch) == 20_000:
            db.session.execute(table.insert(), batch)
            batch.clear()
    if batch:
        db.session.execute(table.insert(), batch)
    db.session.execute(
        sa.update(AuditChainHead).where(AuditChainHead.id == 1).values(length=seq, last_hash=prev)
    )
    db.session.commit()


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url, name = _database(args.database_url, Path(folder))
        try:
            app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
            with app.app_context():
                db.create_all()
                plain = _commits(args.commits, sealed=False)
                sealed = _commits(args.commits, sealed=True)
                parallel = _parallel(app, args.threads, max(1, args.commits // args.threads))
                load_start = time.perf_counter()
                _bulk_trail(args.entries)
                load_s = time.perf_counter() - load_start
                start = time.perf_counter()
                result = audit.verify_chain(db.session)
                verify_s = time.perf_counter() - start
                assert result.problems == [e for e in result.problems or [] if "never" in e]
                db.session.remove()
                db.engine.dispose()
        finally:
            _drop(args.database_url, name)
    report = {
        "database": make_url(url).get_backend_name(),
        "commits_per_s_without_chain": round(plain, 1),
        "commits_per_s_sealed": round(sealed, 1),
        f"commits_per_s_{args.threads}_threads_sealed": round(parallel, 1),
        "verify": {
            "entries": result.checked,
            "seconds": round(verify_s, 2),
            "entries_per_s": round(result.checked / verify_s),
        },
        "bulk_load_seconds": round(load_s, 1),
    }
    print(json.dumps(report, indent=2))
    output = args.output or ROOT / "bench" / "results" / f"audit-{report['database']}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
