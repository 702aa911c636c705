"""Valid HTML: every page of the demo, as each kind of user sees it (the accessibility walk's
pages as served, and the states reached with htmx as the document then stands), checked by the
Nu HTML Checker in one run. ``.ci/run`` installs the checker; without Java or the checker the
test is skipped, saying why."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .walk import Crawl

VNU_JAR = Path(
    os.environ.get(
        "MARAC_VNU_JAR",
        Path.home()
        / ".cache"
        / "marac-vnu"
        / "node_modules"
        / "vnu-jar"
        / "build"
        / "dist"
        / "vnu.jar",
    )
)


def _file_name(index: int, role: str, url: str, state: str) -> str:
    label = re.sub(r"[^a-z0-9]+", "-", f"{role} {url.split('//', 1)[-1]} {state}".lower())
    return f"{index:04d}-{label.strip('-')[:120]}.html"


@pytest.fixture(scope="session")
def vnu() -> list[str]:
    """The checker's command; set up before the walk (same scope, listed first), so that a
    skip costs nothing."""
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        pytest.skip(
            f"the Nu HTML Checker needs Java and {VNU_JAR} "
            "(.ci/run installs both; or npm install vnu-jar and set MARAC_VNU_JAR)"
        )
    return [java, "-jar", str(VNU_JAR)]


def test_every_page_is_valid_html(vnu: list[str], demo_walk: Crawl, tmp_path: Path) -> None:
    names: dict[str, str] = {}
    for index, walked in enumerate(demo_walk.pages):
        name = _file_name(index, walked.role, walked.url, walked.state)
        (tmp_path / name).write_text(walked.html, encoding="utf-8")
        names[name] = f"{walked.role} {walked.url} {walked.state}".strip()
    assert len(names) > 60
    run = subprocess.run(
        [*vnu, "--errors-only", "--format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(run.stderr or run.stdout or '{"messages": []}')
    errors = [m for m in report["messages"] if m.get("type") == "error"]
    problems = sorted(
        {
            f"{names.get(Path(m.get('url', '')).name, m.get('url'))}: line {m.get('lastLine')}: "
            f"{m.get('message')}"
            for m in errors
        }
    )
    assert run.returncode == 0 and not errors, f"{len(errors)} errors:\n" + "\n".join(
        problems[:2000]
    )
