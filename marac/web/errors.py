"""Error pages: a clear message in plain English, never a stack trace, never a 500 for bad input."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from marac.extensions import db
from marac.web.htmx import wants_fragment

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("That request could not be understood", "Check what you entered and try again."),
    401: ("Please sign in", "Your session has ended or you have not signed in."),
    403: ("Not open to you", "Your role or agency does not give you access to this page."),
    404: ("Not found", "There is nothing here, or it is not open to you."),
    405: ("Not allowed", "This page cannot be used that way."),
    409: (
        "Someone else changed this first",
        "Nothing you entered was saved. Reload to see the latest version.",
    ),
    413: ("Too large", "What you sent is larger than the service accepts."),
    429: ("Too many attempts", "Please wait a little and try again."),
    500: ("Something went wrong", "Nothing was saved. The problem has been logged."),
}


def _render(status: int, detail: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, message=detail or message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return _render(
            400,
            "This form has expired or did not come from this service. "
            "Go back, reload the page and try again.",
        )

    @app.errorhandler(StaleDataError)
    def stale(error: StaleDataError) -> tuple[str, int]:
        db.session.rollback()
        return _render(409)

    @app.errorhandler(DataError)
    def bad_data(error: DataError) -> tuple[str, int]:
        # The database refused a value the forms should have caught: a clear 400, not a 500.
        db.session.rollback()
        log.warning("database refused a value: %s", error.orig)
        return _render(400)

    @app.errorhandler(OverflowError)
    def too_large(error: OverflowError) -> tuple[str, int]:
        # A number or date beyond what the database or the calendar holds (SQLite's integers
        # stop at 2**63): the forms should have refused it; a clear 400 all the same.
        db.session.rollback()
        log.warning("value too large: %s", error)
        return _render(400, "A number or date you entered is too large. Check it and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        if error.code is None or error.code < 400:
            return error.get_response()
        return _render(error.code)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        log.exception("unhandled error")
        return _render(500)
