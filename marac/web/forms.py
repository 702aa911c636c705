"""Small helpers shared by the forms of every blueprint."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice

from marac.domain import Labelled


def enum_choices(enum_cls: type[Labelled], blank: str | None = None) -> list[SelectChoice]:
    """Options for a select: each value with its plain-English label, optionally a blank first."""
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(member.value, member.label) for member in enum_cls]


def id_choices(pairs: Iterable[tuple[int, str]]) -> list[SelectChoice]:
    return [SelectChoice(str(key), label) for key, label in pairs]
