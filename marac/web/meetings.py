"""Meetings: scheduling, the agenda, research, the live meeting and the minutes.

Every URL of the area is here. Each route loads the meeting (``meeting_route``: users of its area
only), then each agenda case through ``load_case`` (404 for a case the viewer may not open), then
asks ``marac.policy`` before it shows or changes anything. Nothing about a case is shown at the
live meeting before the viewer has accepted the confidentiality statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from marac import clock, policy
from marac.domain import (
    OPEN_MEETING_STATUSES,
    AgendaStatus,
    AttendanceKind,
    CaseRole,
    CaseStatus,
    Classification,
    ItemNature,
    ItemSource,
    MeetingFrequency,
    MeetingStatus,
    Role,
)
from marac.extensions import db
from marac.models import Agency, AgendaItem, Case, Meeting, User
from marac.present import ROLE_ORDER, person_names
from marac.present_meetings import (
    PresentedAgendaCase,
    agenda_items,
    attendance,
    meeting_list,
    offers,
    present_agenda,
    present_agenda_case,
    present_minutes,
    present_voice,
    summarise,
)
from marac.services import actions as action_service
from marac.services import meetings as service
from marac.services.meetings import MeetingProblem, StaleRecord
from marac.viewer import CaseLinks, Viewer, links_for_case
from marac.web import actions as action_views
from marac.web.access import current_viewer, load_case, meeting_route, signed_in
from marac.web.forms import enum_choices, id_choices
from marac.web.htmx import render, wants_fragment
from marac.wording import vagueness_warning

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

# How often other attendees' screens ask for news; the live feed answers 204 when there is none.
POLL_SECONDS = 3
TEXT_LIMIT = 4000

CONFIDENTIALITY_STATEMENT = (
    "Everything shared at this meeting is confidential to the agencies at the MARAC. It is shared "
    "only to keep the people discussed safe. I will not record, copy or pass on anything I hear "
    "or see except through my agency's own secure records and the actions agreed here, and I "
    "will tell the chair at once if I know anyone discussed."
)


def _text(label: str, required: str | None = None, hint: str | None = None) -> TextAreaField:
    validators: list[Any] = [DataRequired(required)] if required else [Optional()]
    validators.append(Length(max=TEXT_LIMIT, message=f"Use at most {TEXT_LIMIT:,} characters."))
    return TextAreaField(label, validators=validators, description=hint)


# --- forms ------------------------------------------------------------------------------------


class ScheduleForm(FlaskForm):
    first_on = DateField("Date of the first meeting", validators=[DataRequired("Enter a date.")])
    at = TimeField("Start time", default=time(10, 0), validators=[DataRequired("Enter a time.")])
    frequency = SelectField(
        "How often",
        choices=enum_choices(MeetingFrequency),
        default=MeetingFrequency.MONTHLY.value,
    )
    count = IntegerField(
        "How many meetings",
        default=6,
        validators=[
            InputRequired("Enter how many."),
            NumberRange(1, service.MAX_SERIES, f"Between 1 and {service.MAX_SERIES}."),
        ],
        description="An emergency meeting is always one meeting.",
    )
    cutoff_days = IntegerField(
        "Referral cut-off (days before the meeting)",
        default=7,
        validators=[InputRequired("Enter the days."), NumberRange(0, 60, "Between 0 and 60.")],
    )
    capacity = IntegerField(
        "Cases per meeting",
        default=16,
        validators=[InputRequired("Enter the capacity."), NumberRange(1, 60, "Between 1 and 60.")],
    )
    minutes_per_case = IntegerField(
        "Minutes per case",
        default=12,
        validators=[InputRequired("Enter the minutes."), NumberRange(1, 120, "Between 1 and 120.")],
    )
    chair_id = SelectField("Chair", validators=[Optional()])


class AddCaseForm(FlaskForm):
    case_id = SelectField("Case to list", validators=[DataRequired("Choose a case.")])


class MoveForm(FlaskForm):
    to_meeting_id = SelectField("Move to", validators=[DataRequired("Choose a later meeting.")])
    reason = _text("Reason", required="Say why the case is moved.")


class InformationForm(FlaskForm):
    about = SelectField("About")
    text = _text(
        "What your agency holds",
        required="Write what your agency holds.",
        hint="One piece of information. Dates and facts as your records show them.",
    )
    source = SelectField("Where it came from", choices=enum_choices(ItemSource))
    nature = RadioField(
        "Fact or opinion", choices=enum_choices(ItemNature), default=ItemNature.FACT.value
    )
    classification = SelectField("Who may see it")
    withheld_reason = _text(
        "Reason for not sharing",
        hint="Needed when your agency holds it but will not share it. The meeting sees the reason.",
    )


class VoiceForm(FlaskForm):
    views = _text(
        "Her views",
        required="Write her views, in her words where you can.",
        hint="Her account of the risk.",
    )
    wishes = _text("Her wishes", hint="What she wants to happen, and what she does not.")
    may_share = _text(
        "What she agrees may be shared with the meeting",
        hint="Every agency that may open the case reads this; programmes never do.",
    )
    version = HiddenField()


class AcceptForm(FlaskForm):
    kind = RadioField(
        "I am here", choices=enum_choices(AttendanceKind), default=AttendanceKind.MEMBER.value
    )
    accept = BooleanField(
        "I accept the confidentiality statement",
        validators=[DataRequired("Accept the statement to join the meeting.")],
    )


class VersionForm(FlaskForm):
    version = HiddenField()


class CurrentForm(VersionForm):
    item_id = HiddenField()


class SummaryForm(FlaskForm):
    risk_summary = _text("Summary of risks")
    review_next = BooleanField("Review this case at the next meeting")
    version = HiddenField()


class CrimeForm(FlaskForm):
    description = _text(
        "Crime disclosed",
        required="Describe the crime disclosed.",
        hint="For the police's list. Say what, when, and who disclosed it.",
    )


class ApologyForm(FlaskForm):
    agency_id = SelectField("Agency sending apologies", validators=[DataRequired("Choose one.")])


# --- helpers ----------------------------------------------------------------------------------


def _me() -> User:
    return current_user._get_current_object()


def _require_runner(viewer: Viewer, meeting: Meeting) -> None:
    if not policy.may_run_meeting(viewer, meeting.area_id).full:
        abort(403)


def _id(raw: str | None) -> int | None:
    """An id typed or sent in a form or query: None unless it could be a row's id."""
    from marac.web import LARGEST_ID

    raw = (raw or "").strip()
    if not raw.isdigit() or len(raw) > 10 or int(raw) > LARGEST_ID:
        return None
    return int(raw)


def _version(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        return -1


def _add_error(form: FlaskForm, name: str, message: str) -> None:
    action_views._add_error(form, name, message)


def _has_errors(form: FlaskForm) -> bool:
    return any(f.errors for f in form)


def _load_item(
    viewer: Viewer, meeting: Meeting, item_id: int
) -> tuple[AgendaItem, Case, CaseLinks]:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    case, links = load_case(viewer, item.case_id)
    return item, case, links


def _agency_choices(meeting: Meeting) -> list[SelectChoice]:
    rows = db.session.execute(
        sa.select(Agency.id, Agency.name)
        .where(Agency.area_id == meeting.area_id, Agency.is_active)
        .order_by(Agency.name)
    )
    return [SelectChoice("", "Choose an agency"), *id_choices((r.id, r.name) for r in rows)]


# --- the meetings of the area ----------------------------------------------------------------


@bp.route("/")
@signed_in()
def index() -> Response:
    viewer = current_viewer()
    if not policy.may_see_meetings(viewer, viewer.area_id).full:
        abort(403)
    today = clock.service_today()
    start = clock.local_start_of(today)
    base = sa.select(Meeting).where(Meeting.area_id == viewer.area_id)
    upcoming = db.session.scalars(
        base.where(Meeting.starts_at >= start).order_by(Meeting.starts_at).limit(24)
    ).all()
    past = db.session.scalars(
        base.where(Meeting.starts_at < start).order_by(Meeting.starts_at.desc()).limit(24)
    ).all()
    return render(
        "meetings/index.html",
        "meetings/index.html",
        upcoming=meeting_list(db.session, viewer, upcoming),
        past=meeting_list(db.session, viewer, past),
        offers=offers(db.session, viewer, viewer.area_id, today),
        may_run=policy.may_run_meeting(viewer, viewer.area_id).full,
    )


def _chair_choices(area_id: int) -> list[SelectChoice]:
    rows = db.session.execute(
        sa.select(User.id, User.display_name)
        .join(Agency, Agency.id == User.agency_id)
        .where(Agency.area_id == area_id, User.role == Role.CHAIR, User.is_enabled)
        .order_by(User.display_name)
    )
    return [SelectChoice("", "Not yet chosen"), *id_choices((r.id, r.display_name) for r in rows)]


@bp.route("/schedule", methods=["GET", "POST"])
@signed_in()
def schedule() -> Response:
    viewer = current_viewer()
    if not policy.may_run_meeting(viewer, viewer.area_id).full:
        abort(403)
    form = ScheduleForm() if request.method == "POST" else ScheduleForm(formdata=None)
    form.chair_id.choices = _chair_choices(viewer.area_id)
    if request.method == "POST" and form.validate():
        chair = db.session.get(User, int(form.chair_id.data)) if form.chair_id.data else None
        try:
            meetings = service.schedule_meetings(
                db.session,
                area_id=viewer.area_id,
                first_on=form.first_on.data,
                at=form.at.data,
                frequency=MeetingFrequency(form.frequency.data),
                count=form.count.data,
                cutoff_days=form.cutoff_days.data,
                capacity=form.capacity.data,
                minutes_per_case=form.minutes_per_case.data,
                chair=chair,
                created_by=_me(),
            )
        except MeetingProblem as problem:
            _add_error(form, problem.field, problem.message)
        else:
            flash(
                f"{len(meetings)} meeting{'s' if len(meetings) != 1 else ''} scheduled.", "success"
            )
            return redirect(url_for("meetings.index"), code=303)
    status = 400 if request.method == "POST" else 200
    return render("meetings/schedule.html", "meetings/schedule.html", status_code=status, form=form)


# --- one meeting and its agenda --------------------------------------------------------------


def _listable_choices(meeting: Meeting) -> list[SelectChoice]:
    """Eligible referrals, and heard cases whose last hearing asked for a review, not already
    listed for a meeting still to come (the service refuses anything else with a reason)."""
    from marac.models import CasePerson, Person

    later = sa.orm.aliased(AgendaItem)
    review_asked = sa.exists(
        sa.select(1).where(
            AgendaItem.case_id == Case.id,
            AgendaItem.status == AgendaStatus.HEARD,
            AgendaItem.review_next.is_(True),
            ~sa.exists(
                sa.select(1).where(later.case_id == AgendaItem.case_id, later.id > AgendaItem.id)
            ),
        )
    )
    rows = db.session.execute(
        sa.select(Case.id, Case.reference, Case.status, Person.given_name, Person.family_name)
        .outerjoin(
            CasePerson,
            sa.and_(CasePerson.case_id == Case.id, CasePerson.role == CaseRole.VICTIM),
        )
        .outerjoin(Person, Person.id == CasePerson.person_id)
        .where(
            Case.area_id == meeting.area_id,
            sa.or_(
                Case.status == CaseStatus.ELIGIBLE,
                sa.and_(Case.status == CaseStatus.HEARD, review_asked),
            ),
            ~sa.exists(
                sa.select(1).where(
                    AgendaItem.case_id == Case.id,
                    AgendaItem.status == AgendaStatus.LISTED,
                    AgendaItem.meeting_id.in_(
                        sa.select(Meeting.id).where(Meeting.status.in_(OPEN_MEETING_STATUSES))
                    ),
                )
            ),
        )
        .order_by(Case.status, Case.referred_on, Case.id)
        .limit(500)
    )
    choices = [SelectChoice("", "Choose a case")]
    for r in rows:
        victim = f", {r.given_name} {r.family_name}" if r.given_name else ""
        why = "eligible" if r.status is CaseStatus.ELIGIBLE else "heard: review asked"
        choices.append(SelectChoice(str(r.id), f"{r.reference}{victim} ({why})"))
    return choices


def _later_meetings(meeting: Meeting) -> list[SelectChoice]:
    later = db.session.scalars(
        sa.select(Meeting)
        .where(
            Meeting.area_id == meeting.area_id,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > meeting.starts_at,
        )
        .order_by(Meeting.starts_at)
        .limit(24)
    ).all()
    listed = meeting_list(db.session, current_viewer(), later)
    return [SelectChoice("", "Choose a meeting")] + [
        SelectChoice(str(s.meeting_id), f"{s.title} ({s.listed} of {s.capacity} cases)")
        for s in listed
    ]


def _meeting_page(
    meeting: Meeting,
    viewer: Viewer,
    status: int = 200,
    add_form: AddCaseForm | None = None,
    move_forms: dict[int, MoveForm] | None = None,
) -> Response:
    may_run = policy.may_run_meeting(viewer, meeting.area_id).full
    if may_run and add_form is None:
        add_form = AddCaseForm(formdata=None)
    if add_form is not None:
        add_form.case_id.choices = _listable_choices(meeting)
    later = _later_meetings(meeting) if may_run else []
    move_forms = move_forms or {}
    for move in move_forms.values():
        move.to_meeting_id.choices = later
    return render(
        "meetings/show.html",
        "meetings/_agenda.html",
        status_code=status,
        meeting=summarise(db.session, meeting),
        agenda=present_agenda(db.session, viewer, meeting),
        may_run=may_run,
        may_list=may_run and meeting.status is MeetingStatus.SCHEDULED,
        may_see_crimes=policy.may_see_crime_list(viewer, meeting.area_id).full,
        add_form=add_form if may_run else None,
        move_forms=move_forms,
        later=later,
        offered=offers(db.session, viewer, meeting.area_id, clock.service_today()),
    )


@bp.route("/<int:meeting_id>")
@meeting_route
def show(meeting: Meeting, viewer: Viewer) -> Response:
    return _meeting_page(meeting, viewer)


@bp.route("/<int:meeting_id>/agenda", methods=["POST"])
@meeting_route
def add_case(meeting: Meeting, viewer: Viewer) -> Response:
    _require_runner(viewer, meeting)
    if meeting.status is not MeetingStatus.SCHEDULED:
        # The form is not on the page once the meeting has started: say so above it.
        flash("Cases are listed only for meetings still to come.", "error")
        return _meeting_page(meeting, viewer, 400)
    form = AddCaseForm()
    form.case_id.choices = _listable_choices(meeting)
    # A case offered on the page may have been listed elsewhere meanwhile: accept any id of the
    # area and let the service say why it cannot be listed.
    form.case_id.validate_choice = False
    if form.validate():
        case_id = _id(form.case_id.data)
        case = db.session.get(Case, case_id) if case_id else None
        if case is None or case.area_id != meeting.area_id:
            _add_error(form, "case_id", "Choose a case of this area.")
        else:
            try:
                service.add_to_agenda(db.session, meeting, case, user=_me())
            except MeetingProblem as problem:
                _add_error(form, "case_id", problem.message)
            else:
                flash(f"{case.reference} listed.", "success")
                return redirect(url_for("meetings.show", meeting_id=meeting.id), code=303)
    return _meeting_page(meeting, viewer, 400, add_form=form)


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/up", methods=["POST"])
@meeting_route
def shift_up(meeting: Meeting, viewer: Viewer, item_id: int) -> Response:
    return _shift(meeting, viewer, item_id, -1)


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/down", methods=["POST"])
@meeting_route
def shift_down(meeting: Meeting, viewer: Viewer, item_id: int) -> Response:
    return _shift(meeting, viewer, item_id, 1)


def _shift(meeting: Meeting, viewer: Viewer, item_id: int, step: int) -> Response:
    _require_runner(viewer, meeting)
    item, _case, _links = _load_item(viewer, meeting, item_id)
    try:
        service.shift_item(db.session, item, step, user=_me())
    except MeetingProblem as problem:
        flash(problem.message, "error")
    return redirect(url_for("meetings.show", meeting_id=meeting.id, _anchor="agenda"), code=303)


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/move", methods=["POST"])
@meeting_route
def move(meeting: Meeting, viewer: Viewer, item_id: int) -> Response:
    _require_runner(viewer, meeting)
    item, case, _links = _load_item(viewer, meeting, item_id)
    if meeting.status is not MeetingStatus.SCHEDULED:
        flash("The meeting has started: the case cannot be moved.", "error")
        return _meeting_page(meeting, viewer, 400)
    form = MoveForm(prefix=f"move-{item.id}")
    form.to_meeting_id.choices = _later_meetings(meeting)
    if form.validate():
        target = db.session.get(Meeting, int(form.to_meeting_id.data))
        try:
            service.move_item(db.session, item, target, reason=form.reason.data, user=_me())
        except MeetingProblem as problem:
            _add_error(
                form, "reason" if problem.field == "reason" else "to_meeting_id", problem.message
            )
        else:
            flash(f"{case.reference} moved.", "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id), code=303)
    return _meeting_page(meeting, viewer, 400, move_forms={item.id: form})


# --- research ---------------------------------------------------------------------------------


def _about_choices(viewer: Viewer, links: CaseLinks) -> list[SelectChoice]:
    visible = [
        pid for pid in links.roles if not policy.person_identity(viewer, links, pid).withheld
    ]
    names = person_names(
        db.session, [p for p in visible if policy.person_identity(viewer, links, p).full]
    )
    choices = [SelectChoice("", "The household")]
    for pid in sorted(visible, key=lambda p: (ROLE_ORDER[links.roles[p]], names.get(p, ""))):
        decision = policy.person_identity(viewer, links, pid)
        label = names[pid] if decision.full else (decision.summary or "Someone")
        choices.append(SelectChoice(str(pid), f"{label} ({links.roles[pid].label.lower()})"))
    return choices


def _classification_choices(viewer: Viewer, links: CaseLinks) -> list[SelectChoice]:
    return [
        SelectChoice(c.value, c.label)
        for c in Classification
        if policy.may_record_information(viewer, links, c).full
    ]


def _information_form(viewer: Viewer, links: CaseLinks, submitted: bool) -> InformationForm:
    form = (
        InformationForm(prefix="info")
        if submitted
        else InformationForm(prefix="info", formdata=None)
    )
    form.about.choices = _about_choices(viewer, links)
    form.classification.choices = _classification_choices(viewer, links)
    if not submitted:
        form.classification.data = Classification.MARAC.value
    return form


def _voice_form(
    viewer: Viewer, links: CaseLinks, item: AgendaItem, submitted: bool
) -> VoiceForm | None:
    if not policy.may_record_victim_voice(viewer, links).full:
        return None
    if submitted:
        return VoiceForm(prefix="voice")
    form = VoiceForm(prefix="voice", formdata=None)
    voice = present_voice(db.session, viewer, links, item.id)
    if voice is not None and voice.recorded and voice.views is not None:
        form.views.data, form.wishes.data, form.may_share.data = (
            voice.views,
            voice.wishes,
            voice.may_share,
        )
        form.version.data = str(voice.version)
    else:
        form.version.data = "0"
    return form


@dataclass
class ResearchPage:
    meeting_id: int
    case: PresentedAgendaCase
    info_form: InformationForm | None
    voice_form: VoiceForm | None
    notice: str | None = None
    voice_conflict: bool = False
    origin: str = "research"


def _research_response(
    meeting: Meeting,
    viewer: Viewer,
    item: AgendaItem,
    case: Case,
    links: CaseLinks,
    status: int = 200,
    fragment: str = "meetings/_research.html",
    **extra: Any,
) -> Response:
    total = len(agenda_items(db.session, meeting.id, include_moved=False))
    presented = present_agenda_case(db.session, viewer, meeting, item, case, links, total)
    page = ResearchPage(
        meeting_id=meeting.id,
        case=presented,
        info_form=extra.pop("info_form", None) or _information_form(viewer, links, False),
        voice_form=extra.pop("voice_form", None) or _voice_form(viewer, links, item, False),
        **extra,
    )
    return render(
        "meetings/research.html",
        fragment,
        status_code=status,
        meeting=summarise(db.session, meeting),
        research=page,
        open_meeting=meeting.status in OPEN_MEETING_STATUSES,
    )


@bp.route("/<int:meeting_id>/research/<int:item_id>")
@meeting_route
def research(meeting: Meeting, viewer: Viewer, item_id: int) -> Response:
    item, case, links = _load_item(viewer, meeting, item_id)
    return _research_response(meeting, viewer, item, case, links)


@bp.route("/<int:meeting_id>/items/<int:item_id>/information", methods=["POST"])
@meeting_route
def add_information(meeting: Meeting, viewer: Viewer, item_id: int) -> Response:
    item, case, links = _load_item(viewer, meeting, item_id)
    live = request.form.get("origin") == "live"
    if live and not service.has_accepted(db.session, meeting.id, viewer.user_id):
        abort(403)
    form = _information_form(viewer, links, submitted=True)
    if form.validate():
        about = int(form.about.data) if form.about.data else None
        try:
            service.record_information(
                db.session,
                item,
                service.ItemInput(
                    about_person_id=about,
                    text=form.text.data,
                    source=ItemSource(form.source.data),
                    nature=ItemNature(form.nature.data),
                    classification=Classification(form.classification.data),
                    withheld_reason=form.withheld_reason.data,
                ),
                user=_me(),
            )
        except MeetingProblem as problem:
            _add_error(form, problem.field, problem.message)
        else:
            return _contributed(
                meeting, viewer, item, case, links, live, "Information recorded.", "info"
            )
    if live:
        return _live_response(
            meeting,
            viewer,
            item.id,
            400,
            forms={"info": form},
            fragment="info" if wants_fragment() else None,
        )
    return _research_response(meeting, viewer, item, case, links, 400, info_form=form)


def _contributed(
    meeting: Meeting,
    viewer: Viewer,
    item: AgendaItem,
    case: Case,
    links: CaseLinks,
    live: bool,
    message: str,
    which: str,
) -> Response:
    """After a contribution: htmx gets the emptied form with a notice (and the feed is told to
    refresh at once); a browser is sent back to the page it came from."""
    if wants_fragment():
        if live:
            response = _live_response(
                meeting, viewer, item.id, notices={which: message}, fragment=which
            )
        else:
            response = _research_response(meeting, viewer, item, case, links, notice=message)
        response.headers["HX-Trigger"] = "meeting-changed"
        return response
    flash(message, "success")
    if live:
        return redirect(url_for("meetings.live", meeting_id=meeting.id, item=item.id), code=303)
    return redirect(url_for("meetings.research", meeting_id=meeting.id, item_id=item.id), code=303)


@bp.route("/<int:meeting_id>/items/<int:item_id>/voice", methods=["POST"])
@meeting_route
def record_voice(meeting: Meeting, viewer: Viewer, item_id: int) -> Response:
    item, case, links = _load_item(viewer, meeting, item_id)
    if not policy.may_record_victim_voice(viewer, links).full:
        abort(403)
    form = _voice_form(viewer, links, item, submitted=True)
    if form.validate():
        try:
            service.record_victim_voice(
                db.session,
                item,
                views=form.views.data,
                wishes=form.wishes.data,
                may_share=form.may_share.data,
                user=_me(),
                expected_version=_version(form.version.data),
            )
            db.session.flush()
        except MeetingProblem as problem:
            _add_error(form, problem.field, problem.message)
        except (StaleRecord, StaleDataError):
            db.session.rollback()
            item, case, links = _load_item(viewer, meeting, item_id)
            current = present_voice(db.session, viewer, links, item.id)
            form.version.data = str(current.version if current else 0)
            return _research_response(
                meeting, viewer, item, case, links, 409, voice_form=form, voice_conflict=True
            )
        else:
            return _contributed(
                meeting, viewer, item, case, links, False, "Her voice is recorded.", "voice"
            )
    return _research_response(meeting, viewer, item, case, links, 400, voice_form=form)


# --- the live meeting -------------------------------------------------------------------------


@dataclass
class LivePage:
    meeting_id: int
    may_run: bool
    # The case the contribution forms are for (the one under discussion unless chosen).
    form_item_id: int | None
    form_case_reference: str | None
    forms: dict[str, Any] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    vague_warning: str | None = None
    summary_conflict: bool = False
    # The summary as someone else saved it, shown beside what this person typed.
    conflict_text: str | None = None


def _feed_context(
    meeting: Meeting, viewer: Viewer, form_item_id: int | None, with_agenda: bool = False
) -> dict[str, Any]:
    """What the feed shows (the case under discussion, attendance), and with ``with_agenda`` the
    agenda the live page lists for the chair. The feed itself never builds the whole agenda."""
    items = agenda_items(db.session, meeting.id, include_moved=False)
    current: PresentedAgendaCase | None = None
    current_hidden = False
    item = next((i for i in items if i.id == meeting.current_item_id), None)
    if item is not None:
        case = db.session.get(Case, item.case_id)
        links = links_for_case(db.session, viewer, case)
        if policy.case_access(viewer, links).full:
            total = len(items)
            current = present_agenda_case(db.session, viewer, meeting, item, case, links, total)
        else:
            current_hidden = True
    attendees, apologies = attendance(db.session, meeting.id)
    context = {
        "meeting": summarise(db.session, meeting, len(items)),
        "current": current,
        "current_hidden": current_hidden,
        "current_position": item.position if item is not None else None,
        "attendees": attendees,
        "apologies": apologies,
        "may_run": policy.may_run_meeting(viewer, meeting.area_id).full,
        "form_item_id": form_item_id,
        "poll_seconds": POLL_SECONDS,
    }
    if with_agenda:
        context["agenda"] = present_agenda(db.session, viewer, meeting, items)
    return context


def _live_forms(
    meeting: Meeting, viewer: Viewer, item: AgendaItem, case: Case, links: CaseLinks
) -> dict[str, Any]:
    forms: dict[str, Any] = {"info": _information_form(viewer, links, False)}
    action_form = action_views._action_form(viewer, links, case, submitted=False)
    if action_form is not None:
        forms["action"] = action_form
    forms["crime"] = CrimeForm(prefix="crime", formdata=None)
    if policy.may_run_meeting(viewer, meeting.area_id).full:
        summary = SummaryForm(prefix="summary", formdata=None)
        summary.risk_summary.data = item.risk_summary
        summary.review_next.data = item.review_next
        summary.version.data = str(item.version)
        forms["summary"] = summary
    return forms


def _live_response(
    meeting: Meeting,
    viewer: Viewer,
    form_item_id: int | None,
    status: int = 200,
    forms: dict[str, Any] | None = None,
    notices: dict[str, str] | None = None,
    fragment: str | None = None,
    **extra: Any,
) -> Response:
    may_run = policy.may_run_meeting(viewer, meeting.area_id).full
    page = LivePage(
        meeting_id=meeting.id,
        may_run=may_run,
        form_item_id=None,
        form_case_reference=None,
        notices=notices or {},
        **extra,
    )
    chosen = form_item_id or meeting.current_item_id
    if chosen is not None and meeting.status in OPEN_MEETING_STATUSES:
        item = db.session.get(AgendaItem, chosen)
        if (
            item is not None
            and item.meeting_id == meeting.id
            and item.status is not AgendaStatus.MOVED
        ):
            case = db.session.get(Case, item.case_id)
            links = links_for_case(db.session, viewer, case)
            if policy.case_access(viewer, links).full:
                page.form_item_id = item.id
                page.form_case_reference = case.reference
                page.forms = {**_live_forms(meeting, viewer, item, case, links), **(forms or {})}
    context = _feed_context(meeting, viewer, page.form_item_id, with_agenda=True)
    if may_run:
        context["current_form"] = CurrentForm(formdata=None)
        apology = ApologyForm(prefix="apology", formdata=None)
        apology.agency_id.choices = _agency_choices(meeting)
        context["apology_form"] = apology
    template = f"meetings/_live_{fragment}.html" if fragment else "meetings/live.html"
    return render("meetings/live.html", template, status_code=status, live=page, **context)


def _gate(meeting: Meeting, viewer: Viewer) -> Response | None:
    """The confidentiality statement, until this user has accepted it for this meeting."""
    if service.has_accepted(db.session, meeting.id, viewer.user_id):
        return None
    return _accept_page(meeting, AcceptForm(formdata=None))


def _accept_page(meeting: Meeting, form: AcceptForm, status: int = 200) -> Response:
    return render(
        "meetings/accept.html",
        "meetings/accept.html",
        status_code=status,
        meeting=summarise(db.session, meeting),
        form=form,
        statement=CONFIDENTIALITY_STATEMENT,
    )


@bp.route("/<int:meeting_id>/live")
@meeting_route
def live(meeting: Meeting, viewer: Viewer) -> Response:
    if meeting.status not in OPEN_MEETING_STATUSES:
        return redirect(url_for("meetings.minutes", meeting_id=meeting.id), code=303)
    gate = _gate(meeting, viewer)
    if gate is not None:
        return gate
    return _live_response(meeting, viewer, _id(request.args.get("item")))


@bp.route("/<int:meeting_id>/live/accept", methods=["POST"])
@meeting_route
def accept(meeting: Meeting, viewer: Viewer) -> Response:
    form = AcceptForm()
    if form.validate():
        try:
            service.accept_confidentiality(
                db.session, meeting, user=_me(), kind=AttendanceKind(form.kind.data)
            )
        except MeetingProblem as problem:
            _add_error(form, "kind", problem.message)
        else:
            return redirect(url_for("meetings.live", meeting_id=meeting.id), code=303)
    return _accept_page(meeting, form, 400)


@bp.route("/<int:meeting_id>/live/feed")
@meeting_route
def feed(meeting: Meeting, viewer: Viewer) -> Response:
    """What other attendees' screens poll: 204 when nothing changed since ``seen``."""
    if not service.has_accepted(db.session, meeting.id, viewer.user_id):
        abort(403)
    seen = request.args.get("seen", "")
    if seen.isdigit() and int(seen) == meeting.revision:
        response = Response(status=204)
        response.vary.add("HX-Request")
        return response
    context = _feed_context(meeting, viewer, _id(request.args.get("item")))
    return render("meetings/_live_feed.html", "meetings/_live_feed.html", **context)


@bp.route("/<int:meeting_id>/live/current", methods=["POST"])
@meeting_route
def take_case(meeting: Meeting, viewer: Viewer) -> Response:
    _require_runner(viewer, meeting)
    if not service.has_accepted(db.session, meeting.id, viewer.user_id):
        abort(403)
    form = CurrentForm()
    item_id = _id(form.item_id.data)
    if not form.validate() or item_id is None:
        abort(400)
    item, _case, _links = _load_item(viewer, meeting, item_id)
    try:
        service.open_item(
            db.session, meeting, item, user=_me(), expected_version=_version(form.version.data)
        )
        db.session.flush()
    except MeetingProblem as problem:
        flash(problem.message, "error")
    except (StaleRecord, StaleDataError):
        db.session.rollback()
        flash("Someone else moved the meeting on first. This is where it is now.", "error")
        return _live_response(db.session.get(Meeting, meeting.id), viewer, None, 409)
    return redirect(url_for("meetings.live", meeting_id=meeting.id), code=303)


def _live_item(
    meeting: Meeting, viewer: Viewer, item_id: int
) -> tuple[AgendaItem, Case, CaseLinks]:
    if not service.has_accepted(db.session, meeting.id, viewer.user_id):
        abort(403)
    return _load_item(viewer, meeting, item_id)


@bp.route("/<int:meeting_id>/live/<int:item_id>/actions", methods=["POST"])
@meeting_route
def propose_action(meeting: Meeting, viewer: Viewer, item_id: int) -> Response:
    item, case, links = _live_item(meeting, viewer, item_id)
    if meeting.status not in OPEN_MEETING_STATUSES:
        abort(409)
    form = action_views._action_form(viewer, links, case, submitted=True)
    if form is None:
        abort(403)
    valid = form.validate()
    owner_agency, owner_user, subject, person_id = action_views._resolve_choices(
        form, viewer, links
    )
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
                agenda_item_id=item.id,
            )
        except action_service.ActionProblem as problem:
            _add_error(form, problem.field, problem.message)
        else:
            service.touch(db.session, meeting.id)
            return _contributed(
                meeting, viewer, item, case, links, True, "Action agreed.", "action"
            )
    # A vague wording is a warning, not an error: 200, with the box to confirm it.
    return _live_response(
        meeting,
        viewer,
        item.id,
        400 if _has_errors(form) else 200,
        forms={"action": form},
        vague_warning=warning,
        fragment="action" if wants_fragment() else None,
    )


@bp.route("/<int:meeting_id>/live/<int:item_id>/summary", methods=["POST"])
@meeting_route
def save_summary(meeting: Meeting, viewer: Viewer, item_id: int) -> Response:
    _require_runner(viewer, meeting)
    item, case, links = _live_item(meeting, viewer, item_id)
    form = SummaryForm(prefix="summary")
    if form.validate():
        try:
            service.save_risk_summary(
                db.session,
                item,
                text=form.risk_summary.data,
                review_next=bool(form.review_next.data),
                user=_me(),
                expected_version=_version(form.version.data),
            )
            db.session.flush()
        except MeetingProblem as problem:
            _add_error(form, "risk_summary", problem.message)
        except (StaleRecord, StaleDataError):
            # Nothing saved: the current summary is shown, and what this person typed is kept.
            db.session.rollback()
            meeting = db.session.get(Meeting, meeting.id)
            current = db.session.get(AgendaItem, item_id)
            form.version.data = str(current.version)
            return _live_response(
                meeting,
                viewer,
                item_id,
                409,
                forms={"summary": form},
                summary_conflict=True,
                fragment="summary" if wants_fragment() else None,
                conflict_text=current.risk_summary,
            )
        else:
            return _contributed(
                meeting, viewer, item, case, links, True, "Summary saved.", "summary"
            )
    return _live_response(
        meeting,
        viewer,
        item_id,
        400,
        forms={"summary": form},
        fragment="summary" if wants_fragment() else None,
    )


@bp.route("/<int:meeting_id>/live/<int:item_id>/crimes", methods=["POST"])
@meeting_route
def record_crime(meeting: Meeting, viewer: Viewer, item_id: int) -> Response:
    item, case, links = _live_item(meeting, viewer, item_id)
    form = CrimeForm(prefix="crime")
    if form.validate():
        try:
            service.record_crime(db.session, item, description=form.description.data, user=_me())
        except MeetingProblem as problem:
            _add_error(form, "description", problem.message)
        else:
            return _contributed(
                meeting, viewer, item, case, links, True, "Crime recorded for the police.", "crime"
            )
    return _live_response(
        meeting,
        viewer,
        item_id,
        400,
        forms={"crime": form},
        fragment="crime" if wants_fragment() else None,
    )


@bp.route("/<int:meeting_id>/live/apologies", methods=["POST"])
@meeting_route
def apologies(meeting: Meeting, viewer: Viewer) -> Response:
    _require_runner(viewer, meeting)
    form = ApologyForm(prefix="apology")
    form.agency_id.choices = _agency_choices(meeting)
    if form.validate():
        agency = db.session.get(Agency, int(form.agency_id.data))
        try:
            service.record_apology(db.session, meeting, agency, user=_me())
        except MeetingProblem as problem:
            flash(problem.message, "error")
        else:
            flash(f"Apologies recorded from {agency.name}.", "success")
    else:
        flash("Choose the agency sending apologies.", "error")
    return redirect(url_for("meetings.live", meeting_id=meeting.id, _anchor="attendance"), code=303)


@bp.route("/<int:meeting_id>/live/close", methods=["POST"])
@meeting_route
def close(meeting: Meeting, viewer: Viewer) -> Response:
    _require_runner(viewer, meeting)
    form = VersionForm()
    if not form.validate():
        abort(400)
    area = meeting.area.name
    try:
        service.close_meeting(
            db.session,
            meeting,
            title=service.meeting_title(meeting, area),
            user=_me(),
            expected_version=_version(form.version.data),
        )
        db.session.flush()
    except MeetingProblem as problem:
        flash(problem.message, "error")
        return redirect(url_for("meetings.live", meeting_id=meeting.id), code=303)
    except (StaleRecord, StaleDataError):
        db.session.rollback()
        flash("Someone else changed the meeting first. Check it and close it again.", "error")
        return redirect(url_for("meetings.live", meeting_id=meeting.id), code=303)
    flash("The meeting is closed. The minutes are ready for the chair to approve.", "success")
    return redirect(url_for("meetings.minutes", meeting_id=meeting.id), code=303)


# --- after the meeting ------------------------------------------------------------------------


@bp.route("/<int:meeting_id>/minutes")
@meeting_route
def minutes(meeting: Meeting, viewer: Viewer) -> Response:
    if meeting.status in OPEN_MEETING_STATUSES:
        flash("The minutes are compiled when the meeting closes.", "info")
        return redirect(url_for("meetings.show", meeting_id=meeting.id), code=303)
    return render(
        "meetings/minutes.html",
        "meetings/minutes.html",
        minutes=present_minutes(db.session, viewer, meeting),
        may_approve=policy.may_approve_minutes(viewer, meeting.area_id).full
        and meeting.status is MeetingStatus.CLOSED,
        approve_form=VersionForm(formdata=None),
    )


@bp.route("/<int:meeting_id>/minutes/approve", methods=["POST"])
@meeting_route
def approve(meeting: Meeting, viewer: Viewer) -> Response:
    if not policy.may_approve_minutes(viewer, meeting.area_id).full:
        abort(403)
    form = VersionForm()
    if not form.validate():
        abort(400)
    try:
        service.approve_minutes(
            db.session, meeting, user=_me(), expected_version=_version(form.version.data)
        )
        db.session.flush()
    except MeetingProblem as problem:
        flash(problem.message, "error")
    except (StaleRecord, StaleDataError):
        db.session.rollback()
        flash(
            "Someone else changed the meeting first. Check the minutes and approve again.", "error"
        )
    else:
        flash("Minutes approved.", "success")
    return redirect(url_for("meetings.minutes", meeting_id=meeting.id), code=303)


@bp.route("/<int:meeting_id>/crimes")
@meeting_route
def crimes(meeting: Meeting, viewer: Viewer) -> Response:
    """The police's list of crimes disclosed at the meeting: only cases they may open."""
    if not policy.may_see_crime_list(viewer, meeting.area_id).full:
        abort(403)
    items = agenda_items(db.session, meeting.id, include_moved=False)
    agenda = present_agenda(db.session, viewer, meeting, items)
    by_id = {i.id: i for i in items}
    listed = []
    for row in agenda.rows:
        item = by_id[row.item_id]
        case = db.session.get(Case, item.case_id)
        links = links_for_case(db.session, viewer, case)
        presented = present_agenda_case(db.session, viewer, meeting, item, case, links, len(items))
        if presented.crimes:
            listed.append(presented)
    return render(
        "meetings/crimes.html",
        "meetings/crimes.html",
        meeting=summarise(db.session, meeting, len(items)),
        cases=listed,
    )
