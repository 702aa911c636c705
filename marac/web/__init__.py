"""The web layer: one blueprint per domain, each route declaring its access rule."""

from __future__ import annotations

from datetime import date

from flask import Flask

from marac.domain import Role
from marac.web import (
    access,
    actions,
    admin,
    auth,
    cases,
    errors,
    involvements,
    main,
    network,
    people,
    referrals,
)
from marac.web.forms import flat_errors


def register_blueprints(app: Flask) -> None:
    app.before_request(access.refuse_undeclared_routes)
    for blueprint in (
        main.bp,
        auth.bp,
        cases.bp,
        actions.bp,
        network.bp,
        involvements.bp,
        admin.bp,
        referrals.bp,
        people.bp,
    ):
        app.register_blueprint(blueprint)
    errors.register(app)
    # A global, not a context value: imported macros (the error summary) do not see the context.
    app.jinja_env.globals["form_errors"] = flat_errors

    @app.context_processor
    def template_globals() -> dict[str, object]:
        return {
            "protective_marking": app.config["MARAC_PROTECTIVE_MARKING"],
            "Role": Role,
            "today": date.today(),
        }
