"""Small helpers shared by the forms of every blueprint."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice

from marac.domain import Labelled


def enum_choices(enum_cls: type[Labelled], blank: str | None = None) -> list[SelectChoice]:
    """Options for a select: each value with its plain-English label, optionally a blank first."""
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(member.value, member.label) for member in enum_cls]


def id_choices(pairs: Iterable[tuple[int, str]]) -> list[SelectChoice]:
    return [SelectChoice(str(key), label) for key, label in pairs]


def flat_errors(form: Any, context: str = "") -> list[tuple[str, str, list[str]]]:
    """Every field with errors, nested forms included, as (id, label, messages), in page order.

    Labels of nested fields carry their group ("The victim: First name") so the error summary
    says which person a message is about.
    """
    found: list[tuple[str, str, list[str]]] = []
    for field in form:
        if field.type == "FormField":
            found += flat_errors(field.form, f"{context}{field.label.text}: ")
        elif field.type == "FieldList":
            for number, entry in enumerate(field.entries, start=1):
                if entry.type == "FormField":
                    found += flat_errors(entry.form, f"{context}{field.label.text} {number}: ")
                elif entry.errors:
                    found.append((entry.id, f"{context}{field.label.text} {number}", entry.errors))
        elif field.errors:
            label = field.label.text if field.type != "CSRFTokenField" else ""
            found.append((field.id, f"{context}{label}", list(field.errors)))
    return found
