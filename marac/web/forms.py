"""Small helpers shared by the forms of every blueprint."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select, html_params

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


class FastSelect(Select):
    """wtforms' select widget giving the same HTML, its options written in one pass.

    The stock widget builds each option's attributes through ``html_params`` (a sort and a
    ``Markup.format`` per attribute); the case page's agency and worker lists made that a tenth
    of the page's time. Grouped, multiple and ``render_kw`` options go the stock way.
    """

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        if self.multiple or field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for choice in field._iter_choices_normalized():
            if choice.render_kw:
                html.append(self.render_option(choice))
                continue
            value = str(choice.value) if isinstance(choice.value, bool) else choice.value
            label = escape(choice.label or choice.value)
            selected = "selected " if choice.selected else ""
            html.append(f'<option {selected}value="{escape(value)}">{label}</option>')
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704 - each value and label is escaped above
