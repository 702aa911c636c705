"""The one reader of htmx request headers: decides whether to answer with a page or a fragment."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template

from marac.extensions import htmx


def wants_fragment() -> bool:
    # A history restore asks for the whole page even though htmx sent it.
    return bool(htmx) and not htmx.history_restore_request


def render(
    page_template: str, fragment_template: str, status_code: int = 200, **context: Any
) -> Response:
    """The page for a normal request; for htmx, the fragment (a partial the page includes)."""
    template = fragment_template if wants_fragment() else page_template
    response = make_response(render_template(template, **context), status_code)
    response.vary.add("HX-Request")
    return response
