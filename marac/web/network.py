"""The network around a case (picture, text list, findings) and the area's serial-perpetrator scan.

Every view builds its network through ``network_context``, which the case page reuses, so the
page, the fragment and the picture on its own can never drift apart.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template

from marac import audit, graph, policy
from marac.domain import CaseRole, Role
from marac.extensions import db
from marac.models import Case, CasePerson
from marac.network_svg import draw, svg_document
from marac.present import person_names
from marac.present_network import present_network
from marac.viewer import CaseLinks, Viewer
from marac.web.access import case_route, current_viewer, signed_in
from marac.web.htmx import render

bp = Blueprint("network", __name__)

SCAN_PAGE_SIZE = 200


def network_context(
    case: Case, viewer: Viewer, links: CaseLinks, today: date | None = None
) -> dict[str, Any]:
    """The presented network of the case for this viewer, and its picture."""
    today = today or date.today()
    neighbourhood = graph.build_neighbourhood(db.session, today=today, case_id=case.id)
    network = present_network(db.session, viewer, links, neighbourhood, case.reference)
    return {"network": network, "network_svg": draw(network)}


@bp.route("/cases/<int:case_id>/network")
@case_route
def show(case: Case, viewer: Viewer, links: CaseLinks) -> Response:
    audit.record_view("case.network_view", object_type="case", object_id=case.id)
    return render(
        "network/page.html", "network/_network.html", **network_context(case, viewer, links)
    )


@bp.route("/cases/<int:case_id>/network.svg")
@case_route
def picture(case: Case, viewer: Viewer, links: CaseLinks) -> Response:
    audit.record_view("case.network_view", object_type="case", object_id=case.id, detail="picture")
    network = network_context(case, viewer, links)["network"]
    return Response(svg_document(network), mimetype="image/svg+xml")


@bp.route("/network/serial-perpetrators")
@signed_in(Role.COORDINATOR, Role.CHAIR)
def serial_perpetrators() -> str:
    viewer = current_viewer()
    if not policy.may_scan_area(viewer, viewer.area_id).full:
        abort(403)
    rows = graph.serial_perpetrator_scan(db.session, area_id=viewer.area_id)
    shown = rows[:SCAN_PAGE_SIZE]
    ids = [row.person_id for row in shown]
    names = person_names(db.session, ids)
    cases: dict[int, list[tuple[int, str]]] = {pid: [] for pid in ids}
    if ids:
        for pid, case_id, reference in db.session.execute(
            sa.select(CasePerson.person_id, Case.id, Case.reference)
            .join(Case, Case.id == CasePerson.case_id)
            .where(
                CasePerson.person_id.in_(ids),
                CasePerson.role == CaseRole.PERPETRATOR,
                Case.area_id == viewer.area_id,
            )
            .order_by(Case.reference)
        ):
            cases[pid].append((case_id, reference))
    audit.record("network.serial_scan", detail=f"{len(rows)} found")
    return render_template(
        "network/serial.html",
        rows=[(row, names[row.person_id], cases[row.person_id]) for row in shown],
        total=len(rows),
    )
