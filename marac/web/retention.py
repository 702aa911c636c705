"""Retention review: the area's closed cases and partner-contact records past the retention
period, before deletion.

The lists hold references, record numbers, agencies and dates only. Deleting is done by the
service's operator with ``marac retention-delete`` (a dry run unless ``--confirm``), never from
a page: it cannot be undone, and it is run against a backup plan (docs/security.md, "Data
retention").
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from marac import audit, clock, policy
from marac.domain import Role
from marac.extensions import db
from marac.services import retention
from marac.web.access import current_viewer, signed_in

bp = Blueprint("retention", __name__)

LIST_LIMIT = 500


@bp.route("/retention")
@signed_in(Role.COORDINATOR, Role.ADMINISTRATOR)
def index() -> str:
    viewer = current_viewer()
    if not policy.may_review_retention(viewer, viewer.area_id).full:
        abort(403)
    years = int(current_app.config["MARAC_RETENTION_YEARS"])
    today = clock.service_today()
    total, cases = retention.due_for_review(db.session, viewer.area_id, today, years, LIST_LIMIT)
    record_total, records = retention.pc_records_for_review(
        db.session, viewer.area_id, today, years, LIST_LIMIT
    )
    audit.record(
        "retention.review",
        object_type="area",
        object_id=viewer.area_id,
        detail=(
            f"{total} cases and {record_total} partner-contact records past {years} years listed"
        ),
    )
    return render_template(
        "retention/index.html",
        years=years,
        cutoff=retention.retention_cutoff(today, years),
        total=total,
        cases=cases,
        record_total=record_total,
        records=records,
    )
