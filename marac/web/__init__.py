"""The web layer: one blueprint per domain, each route declaring its access rule."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from markupsafe import Markup, escape
from werkzeug.routing import IntegerConverter

from marac import clock
from marac.domain import Role
from marac.web import (
    access,
    actions,
    admin,
    audit_trail,
    auth,
    cases,
    errors,
    involvements,
    main,
    meetings,
    network,
    overrides,
    papers,
    partner_contact,
    people,
    programmes,
    referrals,
    reports,
    retention,
)
from marac.web.forms import flat_errors

# Ids are 32-bit integers in every database the service runs on.
LARGEST_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in every URL. An id larger than any row can have reads as 0, which no row
    has, so that the view answers exactly as for any other id that does not exist, instead of
    the database failing on it (SQLite on integers over 64 bits, PostgreSQL over 32)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= LARGEST_ID else 0


def register_blueprints(app: Flask) -> None:
    # Before any route is added: converters are bound when a rule is.
    app.url_map.converters["int"] = IdConverter
    app.before_request(access.refuse_undeclared_routes)
    for blueprint in (
        main.bp,
        auth.bp,
        cases.bp,
        actions.bp,
        network.bp,
        involvements.bp,
        admin.bp,
        audit_trail.bp,
        referrals.bp,
        people.bp,
        programmes.bp,
        partner_contact.bp,
        meetings.bp,
        reports.bp,
        papers.bp,
        overrides.bp,
        retention.bp,
    ):
        app.register_blueprint(blueprint)
    errors.register(app)
    # A global, not a context value: imported macros (the error summary) do not see the context.
    app.jinja_env.globals["form_errors"] = flat_errors
    # _macros.html exports it as ``date``: pages show dozens of dates, and a Python function
    # costs a fraction of a macro call.
    app.jinja_env.globals["time_tag"] = time_tag

    @app.context_processor
    def template_globals() -> dict[str, object]:
        return {
            "menu": _menu(),
            "protective_marking": app.config["MARAC_PROTECTIVE_MARKING"],
            "Role": Role,
            "today": clock.service_today(),
        }


def time_tag(day: date | datetime | None) -> Markup | str:
    """A date for people and machines: <time datetime="2026-11-24">24 Nov 2026</time>."""
    if not day:
        return "Not known"
    shown = f"{day.day} {day.strftime('%b %Y')}"
    return Markup(f'<time datetime="{escape(day.isoformat())}">{escape(shown)}</time>')  # noqa: S704


def _menu() -> dict[str, bool]:
    """Which of the menu's policy-governed entries the signed-in user may open."""
    from flask_login import current_user

    from marac import policy

    if not current_user or not current_user.is_authenticated:
        return {}
    viewer = access.current_viewer()
    return {
        "programmes": policy.may_list_programmes(viewer).full,
        "partner_contact": policy.may_see_partner_contact_list(viewer).full,
        "reports": policy.may_see_reports(viewer, viewer.area_id).full,
        "report_settings": policy.may_edit_report_settings(viewer, viewer.area_id).full,
        "retention": policy.may_review_retention(viewer, viewer.area_id).full,
        "area_id": viewer.area_id,
    }
