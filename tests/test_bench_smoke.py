"""The actions benchmark still runs (at a tiny size), and its query counts stay flat."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from marac.config import PROJECT_ROOT


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
