"""Database behaviour every request relies on: SQLite settings and one commit per request."""

from __future__ import annotations

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine

from marac import audit
from marac.extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # WAL lets readers go on while one writer commits; the busy timeout makes a second writer
    # wait its turn instead of failing at once.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.execute("PRAGMA synchronous = NORMAL")
    # 64 MiB of page cache per connection instead of SQLite's 2 MiB: lists that look up one case
    # per row (the action dashboards) read from memory instead of asking the OS for each page.
    cursor.execute("PRAGMA cache_size = -65536")
    cursor.close()


def configure(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite" and not event.contains(
            engine, "connect", _sqlite_pragmas
        ):
            event.listen(engine, "connect", _sqlite_pragmas)

    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        # Services flush; the request commits once, and only when it succeeded.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
            audit.keep_views_after_rollback(db.session)
        return response
