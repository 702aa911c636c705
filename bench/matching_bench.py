"""Benchmark: match candidates for a typed name over N synthetic people (default 1,000,000).

Generates people with Zipf-like name frequencies, spelling variants and some aliases, bulk
inserts them with SQLAlchemy Core into a throwaway SQLite file (or the PostgreSQL database
given by --database-url), builds the match keys with the same functions the service uses, then
times ``marac.matching.find_candidates`` for a few hundred typed names (with typos, other
forms, swapped names), with and without a date of birth. Prints median and p95 and writes JSON
to bench/results/.

    .venv/bin/python bench/matching_bench.py                 # 1,000,000 people
    .venv/bin/python bench/matching_bench.py --people 20000  # quick
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIVEN = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence "
    "Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper "
    "Matilda Ruby Emilia Maya Millie Isabelle Eva Luna Jessica Esme Arabella Megan Hannah Chloe "
    "Lauren Rebecca Sarah Laura Emma Jasmine Amy Zoe Gemma Naomi Kerry Donna Tracey Michelle "
    "Nicola Samantha Stacey Hayley Leanne Kirsty Claire Lisa Karen Joanne Helen Amira Priti "
    "Noah Muhammad George Oliver Leo Arthur Oscar Theodore Freddie Theo Henry Archie Alfie "
    "Charlie Jack Jacob Thomas William Joshua James Daniel Samuel Joseph Edward Harry Lucas "
    "Isaac Finley Max Adam Ryan Kieran Liam Connor Callum Jordan Kyle Dean Wayne Gary Craig "
    "Lee Mark Paul Steven Stephen Robert John Michael David Andrew Christopher Anthony Richard "
    "Matthew Shane Keith Neil Ross Marcus Martin Ethan Lewis Gavin Vikram Omar Tomasz"
).split()
FAMILY = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen "
    "James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook "
    "Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall "
    "Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray "
    "Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd "
    "Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed "
    "Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford "
    "Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton "
    "O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson "
    "Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry "
    "Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson "
    "Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson "
    "Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson "
    "Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin "
    "Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson "
    "Ashdown Thorne Calder Pryce Okafor Hale Marsh Colby Qureshi Varney Benning Fenwick Grieve"
).split()


def zipf_weights(n: int) -> list[float]:
    return [1.0 / (rank + 1) ** 0.9 for rank in range(n)]


def misspell(name: str, rng: random.Random) -> str:
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    return name[:i] + rng.choice("aeiounrst") + name[i + 1 :]


def generate(n: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    given_w, family_w = zipf_weights(len(GIVEN)), zipf_weights(len(FAMILY))
    givens = rng.choices(GIVEN, given_w, k=n)
    families = rng.choices(FAMILY, family_w, k=n)
    start = date(1940, 1, 1)
    people, aliases = [], []
    now = datetime.now(UTC)
    for i in range(n):
        given, family = givens[i], families[i]
        # About 3% are recorded with a spelling variant, so the vocabulary grows as it would.
        if rng.random() < 0.03:
            family = misspell(family, rng)
        dob = start + timedelta(days=rng.randrange(0, 365 * 70)) if rng.random() < 0.9 else None
        people.append(
            {
                "id": i + 1,
                "area_id": 1,
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "gender": "not_known",
                "created_at": now,
                "version": 1,
            }
        )
        if rng.random() < 0.05:
            aliases.append({"person_id": i + 1, "name": f"{rng.choice(GIVEN)} {family}"})
    return people, aliases


def typed_queries(people: list[dict], count: int, seed: int = 11) -> list[tuple]:
    """What someone types for a known person: as recorded, misspelt, a short form, swapped."""
    from marac.matching import other_forms

    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    queries = []
    for person in rng.sample(people, count):
        given, family = person["given_name"], person["family_name"]
        style = rng.randrange(4)
        if style == 1:
            family = misspell(family, rng)
        elif style == 2:
            forms = sorted(other_forms(given.lower()) - {given.lower()})
            given = rng.choice(forms).title() if forms else misspell(given, rng)
        elif style == 3:
            given, family = family, given
        queries.append((given, family, person["date_of_birth"]))
    return queries


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="marac-bench-")
    url = args.database_url or f"sqlite:///{os.path.join(workdir, 'bench.sqlite3')}"
    os.environ.setdefault("MARAC_INSTANCE_PATH", workdir)
    from marac import create_app, matching
    from marac.extensions import db
    from marac.models import Area, Person, PersonAlias

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    results: dict[str, object] = {}
    with app.app_context():
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        people, aliases = generate(args.people)
        t1 = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(Area),
                [{"id": 1, "code": "BM", "name": "Bench", "created_at": datetime.now(UTC)}],
            )
            for start in range(0, len(people), 50_000):
                conn.execute(sa.insert(Person), people[start : start + 50_000])
            if aliases:
                conn.execute(sa.insert(PersonAlias), aliases)
        t2 = time.perf_counter()
        with db.engine.begin() as conn:
            matching.rebuild_all(conn, batch=20_000)
        t3 = time.perf_counter()
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
        print(
            f"people: {args.people:,}  aliases: {len(aliases):,}  database: "
            f"{db.engine.dialect.name}"
        )
        print(f"generate {t1 - t0:.1f} s, insert {t2 - t1:.1f} s, match keys {t3 - t2:.1f} s")

        queries = typed_queries(people, args.queries)
        allowed = sa.true()  # the coordinator's view: every match in the area
        for label, with_dob in (("without date of birth", False), ("with date of birth", True)):
            times, found, hits, crowded = [], [], 0, 0
            for given, family, dob in queries:
                query = matching.Query(given, family, dob if with_dob else None)
                started = time.perf_counter()
                result = matching.find_candidates(db.session, 1, query, allowed=allowed)
                times.append((time.perf_counter() - started) * 1000)
                candidates = result.candidates
                crowded += result.crowded
                found.append(len(candidates))
                hits += bool(candidates)
            median, p95 = statistics.median(times), percentile(times, 95)
            print(
                f"{label}: median {median:.1f} ms, p95 {p95:.1f} ms, max {max(times):.1f} ms; "
                f"queries with a candidate {hits}/{len(times)}; "
                f"mean candidates {statistics.mean(found):.1f}; name shared by more than "
                f"{matching.CANDIDATE_CAP} people: {crowded}"
            )
            results[label] = {
                "median_ms": round(median, 2),
                "p95_ms": round(p95, 2),
                "max_ms": round(max(times), 2),
                "queries": len(times),
                "with_candidates": hits,
                "crowded": crowded,
            }
        db.session.remove()
        db.engine.dispose()

    results.update(
        {
            "people": args.people,
            "aliases": len(aliases),
            "database": url.split(":", 1)[0],
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
            "python": platform.python_version(),
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "timings_s": {
                "generate": round(t1 - t0, 1),
                "insert": round(t2 - t1, 1),
                "match_keys": round(t3 - t2, 1),
            },
        }
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"matching-{args.people}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"written {path.relative_to(ROOT)}")
    if not args.keep and not args.database_url:
        for name in os.listdir(workdir):
            os.remove(os.path.join(workdir, name))
        os.rmdir(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
