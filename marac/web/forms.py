"""Small helpers shared by the forms of every blueprint."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice, SelectField
from wtforms.widgets import CheckboxInput, DateInput, Select, TextArea, TextInput

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


def attributes(**kwargs: Any) -> Markup:
    """wtforms' ``html_params``, giving the same HTML without a ``Markup.format`` per attribute
    (which made the attributes cost more than the rest of a field)."""
    parts = []
    for key, value in sorted(kwargs.items()):
        name = key.rstrip("_")
        if name.startswith(("data_", "aria_")):
            name = name.replace("_", "-")
        if value is True:
            parts.append(name)
        elif value is not False:
            parts.append(f'{escape(name)}="{escape(value).replace(_QUOTE, _ESCAPED_QUOTE)}"')
    return Markup(" ".join(parts))  # noqa: S704 - every name and value is escaped above


_QUOTE = Markup('"')
_ESCAPED_QUOTE = Markup("&quot;")


class FastTextInput(TextInput):
    html_params = staticmethod(attributes)


class FastDateInput(DateInput):
    html_params = staticmethod(attributes)


class FastCheckbox(CheckboxInput):
    html_params = staticmethod(attributes)


class FastTextArea(TextArea):
    """wtforms' textarea, its attributes written by ``attributes``."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        params = attributes(name=field.name, **kwargs)
        return Markup(f"<textarea {params}>\r\n{escape(field._value())}</textarea>")  # noqa: S704


class FastSelect(Select):
    """wtforms' select widget giving the same HTML, its options written in one pass.

    The stock widget makes two objects per option and builds each option's attributes through
    ``html_params``; the case page's agency and worker lists made that a tenth of the page's
    time. Grouped, multiple and ``render_kw`` options, and fields with choices of their own
    making, go the stock way.
    """

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        choices = (
            field._choices_from_input(field.choices) or []
            if type(field).iter_choices is SelectField.iter_choices
            else None
        )
        if (
            self.multiple
            or choices is None
            or any(c.optgroup is not None or c.render_kw for c in choices)
        ):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        html = [f"<select {attributes(name=field.name, **kwargs)}>"]
        coerce, data = field.coerce, field.data
        for choice in choices:
            value = str(choice.value) if isinstance(choice.value, bool) else choice.value
            label = escape(choice.label or choice.value)
            selected = "selected " if coerce(choice.value) == data else ""
            html.append(f'<option {selected}value="{escape(value)}">{label}</option>')
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704 - each value and label is escaped above
