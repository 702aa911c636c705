"""Risk checklists are data: one TOML file per checklist under ``seeds/checklists/``.

Each file has a key, a title, a threshold (the number of "yes" answers that makes a referral
visibly high risk) and its factors. An area names the checklist its referrals use.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from marac.config import PROJECT_ROOT
from marac.domain import ChecklistAnswer

CHECKLIST_DIR = PROJECT_ROOT / "seeds" / "checklists"
DEFAULT_CHECKLIST = "default"
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Factor:
    key: str
    question: str


@dataclass(frozen=True)
class Checklist:
    key: str
    title: str
    threshold: int
    factors: tuple[Factor, ...]

    @property
    def factor_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.factors)

    def score(self, answers: Mapping[str, ChecklistAnswer]) -> int:
        """The count of "yes" answers to this checklist's factors. Nothing else counts."""
        return sum(1 for f in self.factors if answers.get(f.key) is ChecklistAnswer.YES)


class ChecklistError(ValueError):
    pass


def parse_checklist(path: Path) -> Checklist:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    key = data.get("key")
    if not isinstance(key, str) or not _KEY.match(key) or key != path.stem:
        raise ChecklistError(f"{path.name}: key must match the file name")
    factors = tuple(Factor(str(f["key"]), str(f["question"])) for f in data.get("factors", []))
    keys = [f.key for f in factors]
    if not factors or len(set(keys)) != len(keys) or not all(_KEY.match(k) for k in keys):
        raise ChecklistError(f"{path.name}: factors need unique keys")
    threshold = data.get("threshold")
    if not isinstance(threshold, int) or not 1 <= threshold <= len(factors):
        raise ChecklistError(f"{path.name}: threshold must be between 1 and the factor count")
    return Checklist(key, str(data.get("title", key)), threshold, factors)


@cache
def _load(key: str, directory: Path) -> Checklist:
    return parse_checklist(directory / f"{key}.toml")


def get_checklist(key: str | None, directory: Path = CHECKLIST_DIR) -> Checklist:
    """The named checklist; an unknown or malformed name is an error, never a silent default."""
    key = key or DEFAULT_CHECKLIST
    if not _KEY.match(key) or not (directory / f"{key}.toml").is_file():
        raise ChecklistError(f"there is no checklist called {key!r}")
    return _load(key, directory)


def available_checklists(directory: Path = CHECKLIST_DIR) -> list[Checklist]:
    return [get_checklist(path.stem, directory) for path in sorted(directory.glob("*.toml"))]
