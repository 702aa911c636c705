"""What every request's form fields and query string go through before any view reads them.

Control characters have no place in anything typed into this service, and some cannot be stored
at all: PostgreSQL refuses a NUL byte in text, and SQLite would keep it and cut the text short
wherever it is shown. They come from pasting out of other systems, or from someone probing. They
are removed here, once, for every form and query string, so that no field can forget: tabs, line
breaks and carriage returns stay (text areas need them); every other C0 control character and
DEL goes. Values are otherwise kept exactly as sent: lengths, dates and choices are the forms'
business, and their messages say what is wrong.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def without_control_characters(value: str) -> str:
    return CONTROL_CHARACTERS.sub("", value)


class CleanMultiDict(ImmutableMultiDict):
    """Request parameters with control characters removed from every key and text value."""

    def __init__(self, mapping: Any = None) -> None:
        raw = MultiDict(mapping) if mapping is not None else MultiDict()
        super().__init__(
            [
                (
                    without_control_characters(key),
                    without_control_characters(value) if isinstance(value, str) else value,
                )
                for key, value in raw.items(multi=True)
            ]
        )


class CleanRequest(Request):
    parameter_storage_class = CleanMultiDict
