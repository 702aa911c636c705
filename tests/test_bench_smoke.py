"""The benchmarks still run at a tiny size: the network's (a tiny synthetic country, a few
networks, the scan) and the actions' (whose query counts stay flat)."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path

from marac.config import PROJECT_ROOT


def test_network_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "network_bench", PROJECT_ROOT / "bench" / "network_bench.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up there
    spec.loader.exec_module(bench)
    output = tmp_path / "network.json"
    result = bench.main(["--people", "600", "--samples", "4", "--output", str(output)])
    assert json.loads(output.read_text()) == result
    assert result["data"]["people"] == 600
    assert result["data"]["relationships"] == 1200
    assert result["data"]["cases"] == 180
    network = result["network_of_one_case"]
    assert network["samples"] == 4 and network["total"]["median_ms"] > 0
    # A fixed, small number of queries per network, whatever the data.
    assert 5 <= network["queries_per_network"]["min"] <= network["queries_per_network"]["max"] <= 25
    assert result["serial_perpetrator_scan"]["serial_perpetrators"] > 0


def test_actions_benchmark_runs_at_a_tiny_size(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    spec = importlib.util.spec_from_file_location(
        "actions_bench", PROJECT_ROOT / "bench" / "actions_bench.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = bench.run(["--actions", "800", "--areas", "2", "--runs", "2", "--out", str(tmp_path)])
    assert report["rows"]["action"] == 800
    assert len(report["pages"]) == len(bench.PAGES)
    for page in report["pages"]:
        few, many = page["per_page_25"], page["per_page_100"]
        assert few["queries"] == many["queries"], page
    assert (tmp_path / "actions-sqlite-800.json").exists()
    assert "median ms" in capsys.readouterr().out


def test_meeting_benchmark_runs_at_a_tiny_size(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    spec = importlib.util.spec_from_file_location(
        "meeting_bench", PROJECT_ROOT / "bench" / "meeting_bench.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = bench.run(["--cases", "60", "--areas", "2", "--rounds", "1", "--out", str(tmp_path)])
    assert report["meeting_items"] == 25 * 15 * 5
    assert report["feed_changed"]["requests"] == 30
    # "Nothing new" costs the same few queries whoever asks; an update costs what the viewer's
    # agency may see (a programme is shown less), never a query per item.
    unchanged, changed = report["feed_unchanged"], report["feed_changed"]
    assert unchanged["queries"] == unchanged["queries_min"] <= 6
    assert changed["queries"] <= 30 < report["meeting_items"]
    assert (tmp_path / "meeting-sqlite-60.json").exists()
    assert "live feed" in capsys.readouterr().out


def test_audit_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "audit_bench", PROJECT_ROOT / "bench" / "audit_bench.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    output = tmp_path / "audit.json"
    report = bench.main(
        ["--entries", "300", "--commits", "10", "--threads", "2", "--output", str(output)]
    )
    assert json.loads(output.read_text()) == report
    # 10 sealed one by one, 10 by two threads, 300 loaded: the whole chain verifies.
    assert report["verify"]["entries"] == 320
    assert report["commits_per_s_sealed"] > 0


def test_reporting_benchmark_runs_at_a_tiny_size(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    spec = importlib.util.spec_from_file_location(
        "reporting_bench", PROJECT_ROOT / "bench" / "reporting_bench.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = bench.run(["--cases", "400", "--areas", "3", "--runs", "1", "--out", str(tmp_path)])
    assert report["data"]["cases"] == 400
    for figures in report["figures"].values():
        # A fixed number of aggregate queries, however many cases and meetings.
        assert figures["return"]["queries"] == 2
        assert figures["dashboard"]["queries"] <= 6
        assert figures["publish"]["queries"] == 0
    assert (tmp_path / "reporting-sqlite-400.json").exists()
    assert "dashboard" in capsys.readouterr().out


def test_generator_writes_a_consistent_dataset_of_the_published_shape(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "generate", PROJECT_ROOT / "bench" / "generate.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up there
    spec.loader.exec_module(bench)
    path = tmp_path / "generated.sqlite3"
    report = bench.main(["--database-url", f"sqlite:///{path}", "--scale", "0.005"])
    counts = report["counts"]
    assert counts["person"] == 5000 and counts["relationship"] == 10_000
    assert counts["marac_case"] == 1500 and counts["meeting"] == 50
    # Means of the random counts land near the asked-for totals.
    assert 0.9 * 15_000 < counts["information_item"] < 1.1 * 15_000
    assert 0.85 * 5000 < counts["action"] < 1.1 * 5000
    assert 0.25 < report["repeat_share"] < 0.37
    assert 1.0 < report["children_per_case"] < 1.4
    assert 12 < counts["agenda_item"] / counts["meeting"] < 20
    connection = sqlite3.connect(path)
    try:
        # Written with foreign keys unchecked for speed: every reference must still hold.
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        male, victims = connection.execute(
            "SELECT sum(p.gender = 'male'), count(*) FROM case_person cp "
            "JOIN person p ON p.id = cp.person_id WHERE cp.role = 'victim'"
        ).fetchone()
        assert 0.02 < male / victims < 0.12
        partners = [
            n
            for (n,) in connection.execute(
                "SELECT count(DISTINCT victim.person_id) FROM case_person perp "
                "JOIN case_person victim ON victim.case_id = perp.case_id "
                "AND victim.role = 'victim' WHERE perp.role = 'perpetrator' "
                "GROUP BY perp.person_id"
            )
        ]
        serial = sum(1 for n in partners if n >= 2)
        assert 0 < serial < 0.25 * len(partners) and max(partners) <= 5
        # One meeting per area is live today, with its agenda and its attendees.
        live = connection.execute(
            "SELECT count(*) FROM meeting WHERE status = 'in_progress'"
        ).fetchone()[0]
        assert live == report["counts"]["area"]
    finally:
        connection.close()


def test_page_benchmark_runs_at_a_tiny_size(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    spec = importlib.util.spec_from_file_location("run_bench", PROJECT_ROOT / "bench" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    database = tmp_path / "pages.sqlite3"
    bench.generate.main(["--database-url", f"sqlite:///{database}", "--scale", "0.002"])
    (report,) = bench.main(
        [
            "--database-url",
            f"sqlite:///{database}",
            "--areas",
            "2",
            "--cases",
            "4",
            "--out",
            str(tmp_path),
        ]
    )
    pages = {row["page"]: row for row in report["pages"]}
    for label in (
        "case page",
        "agency action dashboard",
        "coordinator: overdue actions",
        "referral matching",
        "network of one case",
        "live meeting update",
    ):
        assert pages[label]["requests"] > 0, label
        assert pages[label]["median_ms"] > 0 and pages[label]["queries_max"] > 0, label
    # Papers issued twice in each area's latest approved meeting, each issue checked.
    assert pages["issue a meeting's papers"]["requests"] == 4
    # The coordinator opens every case of the area: none of those requests is refused.
    assert pages["case page"]["requests"] >= 4
    assert report["sizes"]["marac_case"] == 600
    assert list(tmp_path.glob("run-sqlite-600-*.json"))
    assert "median ms" in capsys.readouterr().out


def test_papers_benchmark_runs_at_a_tiny_size(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    spec = importlib.util.spec_from_file_location(
        "papers_bench", PROJECT_ROOT / "bench" / "papers_bench.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = bench.run(
        ["--cases", "60", "--areas", "2", "--items", "1", "--rounds", "1", "--out", str(tmp_path)]
    )
    # One copy for each of the 15 agencies that attended, and the chair's.
    assert report["documents"] == 16
    assert report["issue_total_s"]["median"] > 0
    assert report["per_pdf_ms"]["median"] > 0
    assert (tmp_path / "papers-sqlite.json").exists()
    assert "Issuing all 16 PDFs in one step" in capsys.readouterr().out
