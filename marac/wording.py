"""Catches vague actions: text that names no concrete step. A warning, never a refusal.

The words live in ``seeds/action-wording.toml`` so that an area can add its own.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from marac.config import PROJECT_ROOT

WORDING_FILE = PROJECT_ROOT / "seeds" / "action-wording.toml"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_VOWELS = set("aeiou")


@dataclass(frozen=True)
class Wording:
    concrete_forms: frozenset[str]
    vague_phrases: tuple[str, ...]


def _forms(verb: str) -> set[str]:
    """The verb and its common inflections: refer -> refers, referred, referring."""
    forms = {verb, verb + "s", verb + "es", verb + "ed", verb + "d", verb + "ing"}
    if verb.endswith("e"):
        forms.add(verb[:-1] + "ing")
    if verb.endswith("y") and verb[-2:-1] not in _VOWELS:
        forms |= {verb[:-1] + "ies", verb[:-1] + "ied"}
    # A final consonant after one vowel is doubled: refer -> referred, log -> logged.
    if len(verb) >= 3 and verb[-1] not in _VOWELS | {"w", "x", "y"} and verb[-2] in _VOWELS:
        if verb[-3] not in _VOWELS:
            forms |= {verb + verb[-1] + "ed", verb + verb[-1] + "ing"}
    return forms


@cache
def load_wording(path: Path = WORDING_FILE) -> Wording:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    forms: set[str] = set()
    for verb in data["concrete_verbs"]:
        forms |= _forms(verb.strip().lower())
    vague = tuple(sorted({w.strip().lower() for w in data["vague_words"]}, key=len, reverse=True))
    return Wording(frozenset(forms), vague)


def vagueness_warning(text: str, wording: Wording | None = None) -> str | None:
    """Why the text may not name a concrete step, or None when it does."""
    wording = wording or load_wording()
    lowered = (text or "").lower()
    words = _WORD.findall(lowered)
    if not words:
        return None
    if any(word in wording.concrete_forms for word in words):
        return None
    padded = " " + " ".join(words) + " "
    found = [phrase for phrase in wording.vague_phrases if f" {phrase} " in padded]
    if found:
        return (
            f"\u201c{found[0].capitalize()}\u201d describes an attitude, not a step. Say what "
            "will be done, for example \u201cphone her weekly\u201d or \u201crefer to the "
            "sanctuary scheme\u201d."
        )
    return (
        "This names no concrete step. Start with what will be done, for example \u201cvisit\u201d, "
        "\u201crefer\u201d, \u201cphone\u201d or \u201cchange\u201d."
    )
