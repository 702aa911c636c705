"""Actions: the case page's actions section, the dashboards, the due list and the outbox.

Every URL of the area is here. Dashboards ask ``policy.may_see_dashboard``; every action on
them is presented through ``policy.action`` (``marac.present_actions``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from marac import clock, dashboards, policy
from marac.domain import (
    SUBJECT_FOR_ROLE,
    ActionDashboard,
    ActionStatus,
    ActionSubject,
    CaseRole,
    Role,
)
from marac.extensions import db
from marac.models import Action, Agency, Case, OutboxEmail, User
from marac.present import ROLE_ORDER, CaseReads, case_rows
from marac.present_actions import (
    PresentedAction,
    action_history,
    action_rows_statement,
    case_actions,
    present_action_rows,
    subject_label,
)
from marac.services import actions as action_service
from marac.viewer import CaseLinks, Viewer, links_for_cases
from marac.web.access import case_route, current_viewer, signed_in
from marac.web.forms import (
    FastCheckbox,
    FastDateInput,
    FastSelect,
    FastTextArea,
    enum_choices,
    id_choices,
)
from marac.web.htmx import render, wants_fragment
from marac.wording import vagueness_warning

bp = Blueprint("actions", __name__, url_prefix="/actions")

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
MAX_PAGE = 10_000


# --- forms ----------------------------------------------------------------------------------


class ActionForm(FlaskForm):
    owner_agency_id = SelectField(
        "Owner agency", widget=FastSelect(), description="The one agency that will do it."
    )
    owner_user_id = SelectField(
        "Named owner (optional)",
        widget=FastSelect(),
        description="Someone at the owner agency, if agreed.",
    )
    subject = SelectField("Who it protects or addresses", widget=FastSelect())
    text = TextAreaField(
        "What will be done",
        widget=FastTextArea(),
        validators=[
            DataRequired("Say what will be done."),
            Length(max=2000, message="Use at most 2,000 characters."),
        ],
        description="A concrete step, e.g. \u201cRefer to the sanctuary scheme\u201d.",
    )
    due_on = DateField(
        "Due date",
        widget=FastDateInput(),
        validators=[DataRequired("Enter the due date.")],
        description="Today or later.",
    )
    shared_in_detail = BooleanField(
        "Share the detail of this action with every agency", widget=FastCheckbox()
    )
    confirm_vague = BooleanField(
        "The wording is what was agreed: save it as it is", widget=FastCheckbox()
    )


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=enum_choices(ActionStatus))
    note = TextAreaField(
        "Note",
        validators=[Optional(), Length(max=2000, message="Use at most 2,000 characters.")],
    )
    version = HiddenField()


class DashboardFilters(FlaskForm):
    """Filters every dashboard understands; each uses the ones it needs."""

    class Meta:
        csrf = False  # reading only

    show = SelectField("Show", widget=FastSelect(), validators=[Optional()])
    days = IntegerField(
        "Due within (days)",
        default=clock.DUE_SOON_DAYS,
        validators=[Optional(), NumberRange(1, 60, "Choose between 1 and 60 days.")],
    )
    agency = SelectField("Agency", widget=FastSelect(), validators=[Optional()])
    since = DateField("Not updated since", validators=[Optional()])
    period_from = DateField("From", validators=[Optional()])
    period_to = DateField("To", validators=[Optional()])
    mine = BooleanField("Only actions named for me")
    per_page = SelectField(
        "Per page",
        widget=FastSelect(),
        choices=[SelectChoice(str(n), str(n)) for n in PAGE_SIZES],
        default=str(DEFAULT_PAGE_SIZE),
        validators=[Optional()],
    )


@dataclass
class Page:
    number: int
    size: int
    total: int

    @property
    def capped(self) -> bool:
        """The count stopped at its cap: there are more, and the last page is not known."""
        return self.total > dashboards.COUNT_CAP

    @property
    def pages(self) -> int:
        known = max(1, -(-self.total // self.size))
        return max(known, self.number + 1) if self.capped else known

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def _filters(show_choices: list[tuple[str, str]], agency_choices: list | None = None) -> Any:
    form = DashboardFilters(request.args)
    form.show.choices = _choices(show_choices)
    form.agency.choices = _choices(agency_choices or [("", "Every agency")])
    valid = form.validate() if request.args else True
    if not valid:
        for name in form.errors:
            getattr(form, name).data = getattr(form, name).default
    form.status_code = 200 if valid else 400
    return form


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), MAX_PAGE))
    except ValueError:
        return 1


def _page(form: Any, total: int) -> Page:
    size = int(form.per_page.data or DEFAULT_PAGE_SIZE)
    page = Page(number=_page_number(), size=size, total=total)
    page.number = min(page.number, page.pages)
    return page


@bp.app_template_filter("count_label")
def count_label(count: int) -> str:
    """1,234, or "1,000+" for a count that stopped at its cap."""
    if count > dashboards.COUNT_CAP:
        return f"{dashboards.COUNT_CAP:,}+"
    return f"{count:,}"


def _require_dashboard(viewer: Viewer, dashboard: ActionDashboard) -> None:
    if not policy.may_see_dashboard(viewer, dashboard).full:
        abort(403)


def _present_page(viewer: Viewer, statement: sa.Select, page: Page, today: date) -> list:
    rows = db.session.execute(statement.limit(page.size).offset(page.offset)).all()
    return present_action_rows(db.session, viewer, rows, today)


def _dashboards_for(viewer: Viewer) -> list[tuple[str, str]]:
    endpoints = {
        ActionDashboard.AGENCY: "actions.agency",
        ActionDashboard.DUE: "actions.due",
        ActionDashboard.COORDINATOR: "actions.coordinator",
        ActionDashboard.CHILD_PROTECTION: "actions.children",
        ActionDashboard.POLICE_LIAISON: "actions.police",
    }
    return [
        (endpoint, dashboard.label)
        for dashboard, endpoint in endpoints.items()
        if policy.may_see_dashboard(viewer, dashboard).full
    ]


def _dashboard(template: str, status: int, **context: Any) -> Response:
    return render(
        f"actions/{template}.html",
        f"actions/_{template}_results.html",
        status_code=status,
        dashboards=_dashboards_for(current_viewer()),
        **context,
    )


# --- my agency's actions --------------------------------------------------------------------

AGENCY_VIEW_LABELS = [
    ("due_soon", "Due soon"),
    ("overdue", "Overdue"),
    ("done", "Done"),
    ("open", "All open"),
]


@bp.route("/")
@signed_in()
def agency() -> Response:
    viewer = current_viewer()
    _require_dashboard(viewer, ActionDashboard.AGENCY)
    form = _filters(AGENCY_VIEW_LABELS)
    view = form.show.data if form.show.data in dashboards.AGENCY_VIEWS else "due_soon"
    days = form.days.data or clock.DUE_SOON_DAYS
    today = clock.service_today()
    open_counts, done_count = dashboards.agency_counts(viewer, today, days)
    due_soon, overdue, still_open = db.session.execute(open_counts).one()
    counts = {
        "due_soon": due_soon,
        "overdue": overdue,
        "done": db.session.scalar(done_count),
        "open": still_open,
    }
    page = _page(form, counts[view])
    actions = _present_page(viewer, dashboards.agency_view(viewer, view, today, days), page, today)
    return _dashboard(
        "agency",
        form.status_code,
        form=form,
        view=view,
        counts=counts,
        days=days,
        actions=actions,
        page=page,
        view_labels=dict(AGENCY_VIEW_LABELS),
    )


# --- the due list ---------------------------------------------------------------------------


@bp.route("/due")
@signed_in()
def due() -> Response:
    viewer = current_viewer()
    _require_dashboard(viewer, ActionDashboard.DUE)
    form = _filters([("", "")])
    today = clock.service_today()
    mine_only = bool(form.mine.data)
    statement = dashboards.due_view(viewer, today, mine_only)
    total = db.session.scalar(dashboards.count_of(statement))
    page = _page(form, total)
    actions = _present_page(viewer, statement, page, today)
    return _dashboard(
        "due", form.status_code, form=form, actions=actions, page=page, mine_only=mine_only
    )


# --- the coordinator's view across agencies -------------------------------------------------

COORDINATOR_VIEW_LABELS = [
    ("overdue", "Overdue"),
    ("stale", "Not updated"),
    ("not_completed", "Not completed by the agency"),
]
STALE_AFTER_DAYS = 28
NON_COMPLETION_PERIOD_DAYS = 182
REPEATED = 2


def _area_agency_choices(viewer: Viewer) -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(Agency.id, Agency.name)
        .where(Agency.area_id == viewer.area_id)
        .order_by(Agency.name)
    )
    return [("", "Every agency"), *((str(r.id), r.name) for r in rows)]


@bp.route("/coordinator")
@signed_in()
def coordinator() -> Response:
    viewer = current_viewer()
    _require_dashboard(viewer, ActionDashboard.COORDINATOR)
    form = _filters(COORDINATOR_VIEW_LABELS, _area_agency_choices(viewer))
    today = clock.service_today()
    view = form.show.data if form.show.data in dashboards.COORDINATOR_VIEWS else "overdue"
    since = form.since.data or today - timedelta(days=STALE_AFTER_DAYS)
    period_to = form.period_to.data or today
    period_from = form.period_from.data or period_to - timedelta(days=NON_COMPLETION_PERIOD_DAYS)
    if period_from > period_to:
        form.period_from.errors = ["The start of the period must be before its end."]
        form._errors = None  # WTForms caches the errors dict; the summary must include this one
        form.status_code = 400
        period_from = period_to - timedelta(days=NON_COMPLETION_PERIOD_DAYS)
    form.since.data, form.period_from.data, form.period_to.data = since, period_from, period_to

    conditions = {
        "overdue": dashboards.overdue_conditions(viewer, today),
        "stale": dashboards.stale_conditions(viewer, today, since),
        "not_completed": dashboards.not_completed_conditions(viewer, today, period_from, period_to),
    }
    overdue_by_agency = db.session.execute(dashboards.by_agency(conditions["overdue"])).all()
    repeated = db.session.execute(
        dashboards.by_agency(conditions["not_completed"], at_least=REPEATED)
    ).all()
    counts = {
        "overdue": sum(row.count for row in overdue_by_agency),
        "stale": db.session.scalar(dashboards.count_where(conditions["stale"])),
        "not_completed": db.session.scalar(dashboards.count_where(conditions["not_completed"])),
    }
    agency_id = int(form.agency.data) if form.agency.data else None
    statement = dashboards.listed(conditions[view], agency_id)
    if view == "stale":
        statement = statement.order_by(Action.updated_at, Action.id)
    else:
        statement = statement.order_by(Action.due_on, Action.id)
    # Without an agency chosen, the list's total is the count already made for its tab.
    total = (
        db.session.scalar(
            dashboards.count_where([*conditions[view], Action.owner_agency_id == agency_id])
        )
        if agency_id
        else counts[view]
    )
    page = _page(form, total)
    return _dashboard(
        "coordinator",
        form.status_code,
        form=form,
        view=view,
        view_labels=dict(COORDINATOR_VIEW_LABELS),
        overdue_by_agency=overdue_by_agency,
        repeated=repeated,
        repeated_threshold=REPEATED,
        counts=counts,
        since=since,
        period_from=period_from,
        period_to=period_to,
        actions=_present_page(viewer, statement, page, today),
        page=page,
    )


# --- the reviewers' views -------------------------------------------------------------------

REVIEW_VIEW_LABELS = [("open", "Open actions"), ("all", "All actions"), ("uncovered", "")]


def _review(
    viewer: Viewer,
    template: str,
    conditions_for: Any,
    role: CaseRole,
    subject: ActionSubject,
    uncovered_label: str,
) -> Response:
    labels = [("open", "Open actions"), ("all", "All actions"), ("uncovered", uncovered_label)]
    form = _filters(labels)
    today = clock.service_today()
    view = form.show.data if form.show.data in dict(labels) else "open"
    uncovered = dashboards.uncovered_cases(viewer, today, role, subject)
    cap = dashboards.COUNT_CAP
    uncovered_total = db.session.scalar(dashboards.count_of(uncovered, cap))
    open_total = db.session.scalar(dashboards.count_where(conditions_for(viewer, today, True), cap))
    all_total = db.session.scalar(dashboards.count_where(conditions_for(viewer, today, False), cap))
    totals = {"open": open_total, "all": all_total, "uncovered": uncovered_total}
    page = _page(form, totals[view])
    actions: list[PresentedAction] = []
    cases: list = []
    if view == "uncovered":
        rows = db.session.scalars(
            uncovered.order_by(Case.id.desc()).limit(page.size).offset(page.offset)
        ).all()
        cases = case_rows(
            db.session, viewer, rows, links_for_cases(db.session, viewer, rows, today)
        )
    else:
        statement = action_rows_statement().where(*conditions_for(viewer, today, view == "open"))
        actions = _present_page(viewer, statement.order_by(Action.due_on, Action.id), page, today)
    return _dashboard(
        template,
        form.status_code,
        form=form,
        view=view,
        view_labels=dict(labels),
        totals=totals,
        actions=actions,
        cases=cases,
        page=page,
    )


@bp.route("/children")
@signed_in()
def children() -> Response:
    viewer = current_viewer()
    _require_dashboard(viewer, ActionDashboard.CHILD_PROTECTION)
    return _review(
        viewer,
        "children",
        dashboards.child_action_conditions,
        CaseRole.CHILD,
        ActionSubject.CHILD,
        "Cases with children and no action for them",
    )


@bp.route("/police")
@signed_in()
def police() -> Response:
    viewer = current_viewer()
    _require_dashboard(viewer, ActionDashboard.POLICE_LIAISON)
    return _review(
        viewer,
        "police",
        dashboards.police_action_conditions,
        CaseRole.PERPETRATOR,
        ActionSubject.PERPETRATOR,
        "Cases with a perpetrator and no action about him",
    )


# --- the outbox (administrators) ------------------------------------------------------------


@bp.route("/outbox")
@signed_in(Role.ADMINISTRATOR)
def outbox() -> Response:
    viewer = current_viewer()
    if not policy.may_administer(viewer, viewer.area_id).full:
        abort(403)
    statement = (
        sa.select(OutboxEmail)
        .join(User, User.id == OutboxEmail.recipient_user_id)
        .join(Agency, Agency.id == User.agency_id)
        .where(Agency.area_id == viewer.area_id)
    )
    total = db.session.scalar(dashboards.count_of(statement))
    size = DEFAULT_PAGE_SIZE
    page = Page(number=min(_page_number(), max(1, -(-total // size))), size=size, total=total)
    messages = db.session.scalars(
        statement.order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
        .limit(page.size)
        .offset(page.offset)
    ).all()
    return render("actions/outbox.html", "actions/outbox.html", messages=messages, page=page)


# --- the case page's actions section ----------------------------------------------------------


@dataclass
class CasePanel:
    """Everything the case page's actions section shows; built in one place for every route."""

    case_id: int
    case_reference: str
    actions: list[PresentedAction]
    form: ActionForm | None
    vague_warning: str | None = None
    # Status forms carrying errors or a conflict, by action id; others start empty.
    status_forms: dict[int, StatusForm] = field(default_factory=dict)
    conflict_id: int | None = None
    # Said in the section itself after an htmx change (a flashed message would wait for a page).
    notice: str | None = None
    status_choices: list = field(default_factory=lambda: enum_choices(ActionStatus))


def _agency_choices_for(viewer: Viewer, reads: CaseReads) -> list:
    agencies = [a for a in reads.area_agencies() if a.is_active]
    if viewer.perpetrator_facing:
        agencies = [a for a in agencies if a.id == viewer.agency_id]
    return [SelectChoice("", "Choose an agency"), *id_choices((a.id, a.name) for a in agencies)]


def _owner_user_choices(viewer: Viewer, reads: CaseReads) -> list:
    """Named owners: by agency name, then by name within the agency (both as the database
    orders them: the agencies come by name, the users by name)."""
    agencies = {a.id: (rank, a.name) for rank, a in enumerate(reads.area_agencies())}
    users = [u for u in reads.area_users() if u.role != Role.ADMINISTRATOR]
    if viewer.perpetrator_facing:
        users = [u for u in users if u.agency_id == viewer.agency_id]
    users.sort(key=lambda u: agencies[u.agency_id][0])
    named = id_choices((u.id, f"{u.display_name} ({agencies[u.agency_id][1]})") for u in users)
    return [SelectChoice("", "No named owner"), *named]


def _subject_choices(viewer: Viewer, links: CaseLinks, reads: CaseReads) -> list:
    """The household, then each person the viewer may see, labelled as the policy allows."""
    visible = [
        pid for pid in links.roles if not policy.person_identity(viewer, links, pid).withheld
    ]
    names = reads.names(visible)
    choices = []
    for pid in sorted(visible, key=lambda p: (ROLE_ORDER[links.roles[p]], names.get(p, ""))):
        subject = SUBJECT_FOR_ROLE[links.roles[pid]]
        label = subject_label(viewer, links, subject, pid, names.get(pid))
        choices.append(SelectChoice(str(pid), f"{label} ({links.roles[pid].label.lower()})"))
    return [SelectChoice("household", ActionSubject.HOUSEHOLD.label), *choices]


def _action_form(
    viewer: Viewer,
    links: CaseLinks,
    case: Case,
    submitted: bool,
    reads: CaseReads | None = None,
) -> ActionForm | None:
    if not policy.may_create_action(viewer, links, viewer.agency_id).full:
        return None
    reads = reads or CaseReads(db.session, links)
    form = ActionForm() if submitted else ActionForm(formdata=None)
    form.owner_agency_id.choices = _agency_choices_for(viewer, reads)
    form.owner_user_id.choices = _owner_user_choices(viewer, reads)
    form.subject.choices = _subject_choices(viewer, links, reads)
    if not submitted:
        form.owner_agency_id.data = str(viewer.agency_id)
    return form


def case_panel(
    viewer: Viewer,
    links: CaseLinks,
    case: Case,
    form: ActionForm | None = None,
    reads: CaseReads | None = None,
    **extra: Any,
) -> CasePanel:
    """The actions section of a case page. ``cases.show`` and every route below use it."""
    today = clock.service_today()
    if form is None:
        form = _action_form(viewer, links, case, submitted=False, reads=reads)
    return CasePanel(
        case_id=case.id,
        case_reference=case.reference,
        actions=case_actions(db.session, viewer, links, case, today),
        form=form,
        **extra,
    )


def _panel_response(
    viewer: Viewer, links: CaseLinks, case: Case, status: int = 200, **extra: Any
) -> Response:
    panel = case_panel(viewer, links, case, **extra)
    return render(
        "actions/case.html",
        "actions/_case_actions.html",
        status_code=status,
        actions_panel=panel,
        case_reference=case.reference,
        case_id=case.id,
    )


def _done(viewer: Viewer, links: CaseLinks, case: Case, message: str) -> Response:
    """After a change: htmx gets the refreshed section, a browser is sent back to the case."""
    if wants_fragment():
        return _panel_response(viewer, links, case, notice=message)
    flash(message, "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="actions"), code=303)


def _reload(viewer: Viewer, case_id: int) -> tuple[Case, CaseLinks]:
    from marac.web.access import load_case

    return load_case(viewer, case_id)


@bp.route("/cases/<int:case_id>")
@case_route
def case_section(case: Case, viewer: Viewer, links: CaseLinks) -> Response:
    return _panel_response(viewer, links, case)


@bp.route("/cases/<int:case_id>", methods=["POST"])
@case_route
def create(case: Case, viewer: Viewer, links: CaseLinks) -> Response:
    form = _action_form(viewer, links, case, submitted=True)
    if form is None:
        abort(403)
    # Every check at once, so that the person sees all the problems in one go.
    valid = form.validate()
    owner_agency, owner_user, subject, person_id = _resolve_choices(form, viewer, links)
    warning = vagueness_warning(form.text.data or "") if valid else None
    if valid and not _has_errors(form) and (warning is None or form.confirm_vague.data):
        try:
            action_service.create_action(
                db.session,
                case=case,
                owner_agency=owner_agency,
                owner_user=owner_user,
                subject=subject,
                subject_person_id=person_id,
                text=form.text.data or "",
                due_on=form.due_on.data,
                shared_in_detail=bool(form.shared_in_detail.data),
                created_by=_me(),
            )
        except action_service.ActionProblem as problem:
            _add_error(form, problem.field, problem.message)
        else:
            return _done(viewer, links, case, "Action added.")
    # A vague wording is a warning, not an error: 200, with the box to confirm it.
    status = 400 if _has_errors(form) else 200
    return _panel_response(viewer, links, case, status, form=form, vague_warning=warning)


def _resolve_choices(
    form: ActionForm, viewer: Viewer, links: CaseLinks
) -> tuple[Agency | None, User | None, ActionSubject, int | None]:
    """Turns the chosen values into rows, adding a clear message to any field that is wrong.

    Values not among the choices were already refused by the form and are left alone here.
    """
    owner_agency = None
    if not form.owner_agency_id.errors:
        if not form.owner_agency_id.data:
            _add_error(form, "owner_agency_id", "Choose the agency that will do it.")
        else:
            owner_agency = db.session.get(Agency, int(form.owner_agency_id.data))
            if not policy.may_create_action(viewer, links, owner_agency.id).full:
                _add_error(form, "owner_agency_id", "You can add actions only for your agency.")
    owner_user = None
    if form.owner_user_id.data and not form.owner_user_id.errors:
        owner_user = db.session.get(User, int(form.owner_user_id.data))
        if owner_agency and owner_user.agency_id != owner_agency.id:
            _add_error(form, "owner_user_id", "The named owner must work for the owner agency.")
    subject, person_id = ActionSubject.HOUSEHOLD, None
    if form.subject.data not in (None, "household") and not form.subject.errors:
        person_id = int(form.subject.data)
        subject = SUBJECT_FOR_ROLE[links.roles[person_id]]
    return owner_agency, owner_user, subject, person_id


def _add_error(form: FlaskForm, name: str, message: str) -> None:
    field_errors = getattr(form, name).errors
    getattr(form, name).errors = [*field_errors, message]
    form._errors = None  # WTForms caches the errors dict; the summary must include this one


def _has_errors(form: FlaskForm) -> bool:
    return any(f.errors for f in form)


def _me() -> User | None:
    from flask_login import current_user

    return current_user._get_current_object() if current_user.is_authenticated else None


def _load_action(case: Case, action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None or action.case_id != case.id:
        abort(404)
    return action


def _action_decisions(
    viewer: Viewer, links: CaseLinks, action: Action
) -> tuple[policy.Decision, policy.Decision]:
    facts = policy.ActionFacts(
        id=action.id,
        owner_agency_id=action.owner_agency_id,
        owner_agency_name=action.owner_agency.name,
        subject=action.subject,
        shared_in_detail=action.shared_in_detail,
        due_on=action.due_on,
    )
    return policy.action(viewer, links, facts), policy.may_update_action(viewer, links, facts)


@bp.route("/cases/<int:case_id>/<int:action_id>")
@case_route
def show(case: Case, viewer: Viewer, links: CaseLinks, action_id: int) -> Response:
    action = _load_action(case, action_id)
    decision, _may_update = _action_decisions(viewer, links, action)
    if decision.withheld:
        abort(404)
    today = clock.service_today()
    row = db.session.execute(action_rows_statement().where(Action.id == action.id)).one()
    presented = present_action_rows(db.session, viewer, [row], today, {case.id: links})[0]
    history = action_history(db.session, action.id) if decision.full else []
    return render(
        "actions/show.html",
        "actions/_action.html",
        action=presented,
        history=history,
        case_reference=case.reference,
        case_id=case.id,
    )


@bp.route("/cases/<int:case_id>/<int:action_id>/status", methods=["POST"])
@case_route
def change_status(case: Case, viewer: Viewer, links: CaseLinks, action_id: int) -> Response:
    action = _load_action(case, action_id)
    decision, may_update = _action_decisions(viewer, links, action)
    if decision.withheld:
        abort(404)
    if not may_update.full:
        abort(403)
    form = StatusForm()
    if form.validate():
        try:
            expected = int(form.version.data or "0")
        except ValueError:
            expected = -1
        try:
            action_service.change_status(
                db.session,
                action,
                to_status=ActionStatus(form.status.data),
                note=form.note.data,
                user=_me(),
                expected_version=expected,
            )
            db.session.flush()
        except action_service.ActionProblem as problem:
            _add_error(form, problem.field, problem.message)
        except (action_service.StaleAction, StaleDataError):
            return _conflict(viewer, case, action_id, form)
        else:
            return _done(viewer, links, case, "Status saved.")
    return _panel_response(viewer, links, case, 400, status_forms={action_id: form})


def _conflict(viewer: Viewer, case: Case, action_id: int, form: StatusForm) -> Response:
    """Someone saved first: show the action as it is now, keep the typed note, save nothing."""
    db.session.rollback()
    case, links = _reload(viewer, case.id)
    current = db.session.get(Action, action_id)
    form.version.data = str(current.version)
    return _panel_response(
        viewer, links, case, 409, status_forms={action_id: form}, conflict_id=action_id
    )
