"""marac: coordination service for multi-agency risk assessment conferences."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from marac import config as marac_config

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides everything read from the environment."""
    instance_path = Path(
        os.environ.get("MARAC_INSTANCE_PATH") or marac_config.PROJECT_ROOT / "instance"
    ).resolve()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(marac_config.PROJECT_ROOT / "templates"),
        static_folder=str(marac_config.PROJECT_ROOT / "static"),
    )
    from marac.web.input import CleanRequest

    # Every form and query string loses its control characters before a view reads it.
    app.request_class = CleanRequest
    app.config.update(marac_config.BASE)
    overrides = dict(config or {})
    if overrides.get("TESTING"):
        app.config.update(marac_config.TESTING)
        if not overrides.get("SQLALCHEMY_DATABASE_URI"):
            raise ValueError("tests must name their own database")
    else:
        app.config.update(marac_config.from_environment(instance_path))
    app.config.update(overrides)
    hops = int(app.config.get("MARAC_PROXY_HOPS") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    from marac.extensions import csrf, db, htmx, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    from marac import database, matching, security
    from marac.web import register_blueprints

    database.configure(app)
    matching.install()
    security.configure(app)
    register_blueprints(app)

    from marac.cli import register_commands

    register_commands(app)
    return app
