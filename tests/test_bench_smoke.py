"""The benchmarks still run at a tiny size: the network's (a tiny synthetic country, a few
networks, the scan) and the actions' (whose query counts stay flat)."""

from __future__ import annotations

import importlib.util
import json
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
