"""Reports of one area: the quarterly data return (on screen, CSV, PDF), the dashboard, and the
area's settings they read. Every route loads the area named in the URL (another area's is "not
found", like one that does not exist) and asks ``marac.policy`` before it counts anything."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DecimalField, HiddenField, IntegerField, StringField
from wtforms.validators import NumberRange, Optional, ValidationError

from marac import audit, clock, policy, report_files, reporting
from marac.extensions import db, login_manager
from marac.models import Area, AreaReportSettings
from marac.present_reports import dashboard_charts
from marac.reporting import Quarter
from marac.viewer import Viewer
from marac.web.access import _declare, current_viewer, recent_sign_in
from marac.web.htmx import render

bp = Blueprint("reports", __name__, url_prefix="/areas/<int:area_id>")


def area_route(decide: Callable[[Viewer, int], policy.Decision]) -> Callable:
    """Loads the area named by ``area_id``: another area's, or none, is 404 (areas cannot be
    probed); the policy's ``decide`` then gives 403 or runs the view with ``area`` and
    ``viewer``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, area_id: int, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            viewer = current_viewer()
            area = db.session.get(Area, area_id)
            if area is None or area.id != viewer.area_id:
                abort(404)
            if not decide(viewer, area.id).full:
                abort(403)
            return view(*args, area=area, viewer=viewer, **kwargs)

        _declare(wrapper, "area")
        return wrapper

    return decorate


def _quarter() -> Quarter:
    """The quarter asked for, or the last complete one. Anything unreadable is refused."""
    text = request.args.get("quarter")
    if text is None:
        return Quarter.containing(clock.service_today()).previous
    quarter = Quarter.parse(text)
    if quarter is None:
        abort(400, description='Choose a quarter such as "2026-q3".')
    return quarter


class QuarterForm(FlaskForm):
    """The quarter the return page shows, asked for in the address (a GET form: nothing changes,
    so there is no CSRF token to carry)."""

    class Meta:
        csrf = False

    quarter = StringField(
        "Quarter",
        description='The year and the quarter, such as "2026-q3" (July to September 2026).',
    )

    def validate_quarter(self, field: StringField) -> None:
        if Quarter.parse(field.data) is None:
            raise ValidationError(
                'Enter a year from 2000 to 2100 and a quarter from 1 to 4, such as "2026-q3".'
            )


def _marking() -> str:
    return current_app.config["MARAC_PROTECTIVE_MARKING"]


@bp.route("/reports")
@area_route(policy.may_see_reports)
def dashboard(area: Area, viewer: Viewer) -> Response:
    figures = reporting.count_dashboard(db.session, area.id, clock.service_today())
    audit.record("report.dashboard_view", object_type="area", object_id=area.id)
    return render(
        "reports/dashboard.html",
        "reports/dashboard.html",
        area=area,
        figures=figures,
        charts=dashboard_charts(figures),
        may_edit_settings=policy.may_edit_report_settings(viewer, area.id).full,
        quarter=Quarter.containing(clock.service_today()).previous,
    )


@bp.route("/reports/return")
@area_route(policy.may_see_reports)
def data_return(area: Area, viewer: Viewer) -> Response:
    form = QuarterForm(request.args)
    if "quarter" not in request.args:
        form.quarter.data = Quarter.containing(clock.service_today()).previous.key
    elif not form.validate():
        # What was typed stays in the box, with the message beside it.
        return render(
            "reports/return.html",
            "reports/return.html",
            status_code=400,
            area=area,
            form=form,
            quarter=None,
        )
    quarter = Quarter.parse(form.quarter.data)
    assert quarter is not None  # validated above
    form.quarter.data = quarter.key
    counted = reporting.count_return(db.session, area.id, area.name, quarter)
    audit.record("report.return_view", object_type="area", object_id=area.id, detail=quarter.key)
    return render(
        "reports/return.html",
        "reports/return.html",
        area=area,
        counted=counted,
        published=reporting.publish(counted),
        quarter=quarter,
        form=form,
    )


def _download(area: Area, kind: str, mimetype: str, build: Callable) -> Response:
    quarter = _quarter()
    published = reporting.publish(reporting.count_return(db.session, area.id, area.name, quarter))
    body = build(published, _marking())
    digest = hashlib.sha256(body).hexdigest()
    audit.record(
        f"report.return_download_{kind}",
        object_type="area",
        object_id=area.id,
        detail=f"{quarter.key}; {published.suppressed} cells suppressed; sha256 {digest}",
    )
    response = Response(body, mimetype=mimetype)
    filename = f"marac-return-{area.code}-{quarter.key}.{kind}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/reports/return.csv")
@area_route(policy.may_see_reports)
@recent_sign_in()
def return_csv(area: Area, viewer: Viewer) -> Response:
    return _download(area, "csv", "text/csv", report_files.return_csv)


@bp.route("/reports/return.pdf")
@area_route(policy.may_see_reports)
@recent_sign_in()
def return_pdf(area: Area, viewer: Viewer) -> Response:
    return _download(area, "pdf", "application/pdf", report_files.return_pdf)


class SettingsForm(FlaskForm):
    adult_female_population = IntegerField(
        "Women aged 16 and over living in the area",
        validators=[
            Optional(),
            NumberRange(min=1, max=100_000_000, message="Enter a whole number above 0."),
        ],
    )
    idva_fte = DecimalField(
        "Full-time-equivalent IDVAs working in the area",
        places=1,
        validators=[
            Optional(),
            NumberRange(min=0, max=10_000, message="Enter a number from 0, for example 4.5."),
        ],
    )
    version = HiddenField()


@bp.route("/reports/settings", methods=["GET", "POST"])
@area_route(policy.may_edit_report_settings)
def settings(area: Area, viewer: Viewer) -> Response:
    row = db.session.get(AreaReportSettings, area.id)
    form = SettingsForm()
    conflict = False
    if request.method == "GET":
        if row is not None:
            form.adult_female_population.data = row.adult_female_population
            form.idva_fte.data = row.idva_fte
        form.version.data = str(row.version if row else 0)
    elif form.validate_on_submit():
        if (form.version.data or "") != str(row.version if row else 0):
            conflict = True
        else:
            if row is None:
                row = AreaReportSettings(area_id=area.id)
                db.session.add(row)
            row.adult_female_population = form.adult_female_population.data
            row.idva_fte = float(form.idva_fte.data) if form.idva_fte.data is not None else None
            row.updated_at = clock.utc_now()
            row.updated_by_id = viewer.user_id
            try:
                db.session.flush()
            except (StaleDataError, IntegrityError):
                # Someone saved first (or made the row first).
                db.session.rollback()
                row = db.session.get(AreaReportSettings, area.id)
                conflict = True
            else:
                audit.record(
                    "report.settings_change",
                    object_type="area",
                    object_id=area.id,
                    detail=(
                        f"adult female population {row.adult_female_population}; "
                        f"IDVA FTE {row.idva_fte}"
                    ),
                )
                flash("The area's settings are saved.", "success")
                target = (
                    "reports.dashboard"
                    if policy.may_see_reports(viewer, area.id).full
                    else "reports.settings"
                )
                return redirect(url_for(target, area_id=area.id), code=303)
    if conflict:
        form.version.data = str(row.version if row else 0)
    status = 409 if conflict else (400 if request.method == "POST" else 200)
    return render(
        "reports/settings.html",
        "reports/settings.html",
        status_code=status,
        area=area,
        form=form,
        current=row,
        conflict=conflict,
    )
