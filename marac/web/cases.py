"""Cases: the list an agency works from, and the case page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from marac import audit, policy
from marac.domain import CaseStatus
from marac.extensions import db
from marac.models import Case, CasePerson, Person, PersonAlias
from marac.present import CaseReads, case_rows, present_case
from marac.present_referrals import present_referral, referral_note
from marac.viewer import CaseLinks, Viewer, links_for_cases
from marac.web import actions, overrides
from marac.web.access import case_route, current_viewer, signed_in
from marac.web.forms import enum_choices
from marac.web.htmx import render
from marac.web.involvements import allocation_context

bp = Blueprint("cases", __name__, url_prefix="/cases")

PAGE_SIZE = 50


class CaseFilterForm(FlaskForm):
    class Meta:
        # Filtering changes nothing. A search sent by POST is still checked by the app-wide CSRF
        # protection, so the form needs no token field of its own.
        csrf = False

    status = SelectField(
        "Status",
        choices=enum_choices(CaseStatus, blank="Any status"),
        validators=[Optional()],
    )
    q = StringField(
        "Name or reference",
        validators=[Optional(), Length(max=100, message="Use at most 100 characters.")],
    )


def _page_number() -> int:
    try:
        return max(1, min(int(request.values.get("page", "1")), 10_000))
    except ValueError:
        return 1


def _matching_cases(viewer: Viewer, status: str, q: str) -> sa.Select:
    statement = sa.select(Case).where(policy.visible_cases_clause(viewer))
    if status:
        statement = statement.where(Case.status == CaseStatus(status))
    term = q.strip().lower()
    if term:
        full_name = sa.func.lower(Person.given_name + " " + Person.family_name)
        name_match = sa.exists(
            sa.select(1)
            .select_from(CasePerson)
            .join(Person, Person.id == CasePerson.person_id)
            .where(
                CasePerson.case_id == Case.id,
                policy.searchable_person_clause(viewer),
                sa.or_(
                    full_name.contains(term, autoescape=True),
                    sa.exists(
                        sa.select(1).where(
                            PersonAlias.person_id == Person.id,
                            sa.func.lower(PersonAlias.name).contains(term, autoescape=True),
                        )
                    ),
                ),
            )
        )
        statement = statement.where(
            sa.or_(sa.func.lower(Case.reference).startswith(term, autoescape=True), name_match)
        )
    return statement


def _filter_data() -> CombinedMultiDict:
    """The form's fields, with a name searched for taken only from a POST body.

    A ``q`` in the query string is ignored, so that no link, bookmark or log line can carry a
    person's name and still work (the pager's links carry only the status and page).
    """
    from_url = MultiDict((k, v) for k, v in request.args.items(multi=True) if k != "q")
    return CombinedMultiDict([request.form, from_url])


# Names are searched by POST so that they never appear in a URL, a server log or browser history.
@bp.route("/", methods=["GET", "POST"])
@signed_in()
def index() -> Response:
    viewer = current_viewer()
    form = CaseFilterForm(_filter_data())
    status = 400 if request.values and not form.validate() else 200
    chosen_status = form.status.data if not form.status.errors else ""
    term = (form.q.data or "") if not form.q.errors else ""
    statement = _matching_cases(viewer, chosen_status or "", term)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    page = _page_number()
    cases = db.session.scalars(
        statement.order_by(Case.referred_on.desc(), Case.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    links = links_for_cases(db.session, viewer, cases)
    rows = case_rows(db.session, viewer, cases, links)
    return render(
        "cases/index.html",
        "cases/_results.html",
        status_code=status,
        form=form,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


@bp.route("/<int:case_id>")
@case_route
def show(case: Case, viewer: Viewer, links: CaseLinks) -> Response:
    context = case_page_context(case, viewer, links)
    # Recorded once the page's reads are done, so that the entry is written once, sealed, at
    # commit (recorded first, the next read would flush it and sealing would rewrite the row).
    audit.record_view("case.view", object_type="case", object_id=case.id)
    return render("cases/show.html", "cases/show.html", **context)


def case_page_context(case: Case, viewer: Viewer, links: CaseLinks) -> dict[str, Any]:
    """Everything the case page shows; each section's own routes reuse its part.

    The network is not here: the page asks for it in a request of its own (``network.show``).
    """
    reads = CaseReads(db.session, links)
    referral = present_referral(db.session, viewer, case, links)
    return {
        "case": present_case(db.session, viewer, case, links, reads),
        "referral": referral,
        "referral_note": referral_note(viewer, links, referral),
        **allocation_context(case, viewer, links, reads=reads),
        "actions_panel": actions.case_panel(viewer, links, case, reads=reads),
        "overrides_panel": overrides.case_panel(db.session, viewer, links, case),
    }
