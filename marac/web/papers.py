"""Papers: issuing a meeting's PDFs, downloading your agency's copy, the agenda and a case's action
plan as PDFs, and checking whether a file is a document the service issued.

Issuing asks for a recent sign-in (both factors) and is audited; every download and every PDF
made on demand is recorded and audited. A document the viewer may not read answers 404, exactly
as one that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from marac import clock, policy
from marac.domain import MeetingStatus, Role
from marac.extensions import db
from marac.models import Case, IssuedDocument, Meeting, User
from marac.present_meetings import summarise
from marac.present_papers import facts_of, meeting_documents
from marac.services import papers as service
from marac.services.papers import PapersProblem
from marac.viewer import CaseLinks, Viewer
from marac.web.access import case_route, current_viewer, meeting_route, recent_sign_in, signed_in
from marac.web.htmx import render

bp = Blueprint("papers", __name__)

# A meeting's papers are far smaller; anything larger is not one of ours (and the request limit,
# MAX_CONTENT_LENGTH, stops larger uploads before they are read).
UPLOAD_LIMIT = 2 * 1024 * 1024


class IssueForm(FlaskForm):
    reason = TextAreaField(
        "What was corrected (only when issuing again)",
        validators=[Optional(), Length(max=service.REASON_LIMIT)],
        description=(
            "Issuing again makes new documents with new numbers; the copies issued before are "
            "marked superseded and can no longer be downloaded."
        ),
    )


class VerifyForm(FlaskForm):
    document = FileField("The PDF to check")


def _me() -> User:
    return current_user._get_current_object()


def _marking() -> str:
    return current_app.config["MARAC_PROTECTIVE_MARKING"]


def _pdf(content: bytes, number: str) -> Response:
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{number}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- a meeting's papers ------------------------------------------------------------------------


def _papers_page(meeting: Meeting, viewer: Viewer, form: IssueForm, status: int = 200) -> Response:
    documents = meeting_documents(db.session, viewer, meeting)
    may_issue = policy.may_issue_papers(viewer, meeting.area_id).full
    return render(
        "papers/meeting.html",
        "papers/meeting.html",
        status_code=status,
        meeting=summarise(db.session, meeting),
        current=[d for d in documents if d.superseded_at is None],
        superseded=[d for d in documents if d.superseded_at is not None],
        may_issue=may_issue,
        approved=meeting.status is MeetingStatus.APPROVED,
        form=form,
    )


@bp.route("/meetings/<int:meeting_id>/papers")
@meeting_route
def meeting_papers(meeting: Meeting, viewer: Viewer) -> Response:
    return _papers_page(meeting, viewer, IssueForm(formdata=None))


def _meeting_of_area(meeting_id: int) -> tuple[Meeting, Viewer]:
    viewer = current_viewer()
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not policy.may_see_meetings(viewer, meeting.area_id).full:
        abort(404)
    return meeting, viewer


@bp.route("/meetings/<int:meeting_id>/papers", methods=["POST"])
@signed_in(Role.COORDINATOR)
@recent_sign_in()
def issue(meeting_id: int) -> Response:
    meeting, viewer = _meeting_of_area(meeting_id)
    if not policy.may_issue_papers(viewer, meeting.area_id).full:
        abort(403)
    form = IssueForm()
    if not form.validate():
        return _papers_page(meeting, viewer, form, 400)
    try:
        issued = service.issue_meeting_papers(
            db.session,
            meeting,
            user=_me(),
            marking=_marking(),
            reissue_reason=form.reason.data,
        )
    except PapersProblem as problem:
        if problem.field == "reason":
            form.reason.errors = [str(problem)]
            return _papers_page(meeting, viewer, form, 400)
        flash(str(problem), "error")
        return redirect(url_for("papers.meeting_papers", meeting_id=meeting.id), code=303)
    flash(
        f"{len(issued)} documents issued. Each agency downloads its own copy from this page.",
        "success",
    )
    return redirect(url_for("papers.meeting_papers", meeting_id=meeting.id), code=303)


@bp.route("/papers/<int:document_id>")
@signed_in()
def download(document_id: int) -> Response:
    viewer = current_viewer()
    document = db.session.get(IssuedDocument, document_id)
    if document is None or not policy.may_read_document(viewer, facts_of(document)).full:
        abort(404)
    if document.superseded_at is not None:
        day = f"{clock.local(document.superseded_at):%d %B %Y}"
        if service.replacement_exists(db.session, document):
            message = f"Document {document.number} was superseded on {day}: download the new copy."
        else:
            message = (
                f"Document {document.number} was withdrawn on {day}: it may hold information no "
                "longer shared with your agency. The coordinator will issue the papers again."
            )
        flash(message, "error")
        if document.meeting_id is not None:
            return redirect(
                url_for("papers.meeting_papers", meeting_id=document.meeting_id), code=303
            )
        abort(404)
    try:
        content = service.download(db.session, document, user=_me())
    except PapersProblem:
        abort(404)
    return _pdf(content, document.number or "document")


# --- made on demand ----------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/agenda.pdf")
@meeting_route
def agenda(meeting: Meeting, viewer: Viewer) -> Response:
    document, content = service.agenda_document(
        db.session, viewer, meeting, user=_me(), marking=_marking()
    )
    return _pdf(content, document.number or "agenda")


@bp.route("/cases/<int:case_id>/action-plan.pdf")
@case_route
def action_plan(case: Case, viewer: Viewer, links: CaseLinks) -> Response:
    document, content = service.action_plan_document(
        db.session, viewer, case, links, user=_me(), marking=_marking()
    )
    return _pdf(content, document.number or "action-plan")


# --- is this file one of ours? -----------------------------------------------------------------


@bp.route("/papers/verify", methods=["GET", "POST"])
@signed_in()
def verify() -> Response:
    viewer = current_viewer()
    if not policy.may_verify_documents(viewer).full:
        abort(403)
    form = VerifyForm(formdata=None) if request.method == "GET" else VerifyForm()
    result = None
    status = 200
    if request.method == "POST":
        problem = None
        content = b""
        upload = form.document.data
        if not form.validate():
            problem = None  # the CSRF error is shown by the summary
            status = 400
        elif upload is None or not getattr(upload, "filename", ""):
            problem = "Choose the PDF file to check."
        else:
            content = upload.read(UPLOAD_LIMIT + 1)
            if len(content) > UPLOAD_LIMIT:
                problem = "That file is larger than any document the service issues (2 MB)."
            elif not content.startswith(service.PDF_MAGIC):
                problem = "That file is not a PDF. Choose the PDF document to check."
        if problem:
            form.document.errors = [problem]
            status = 400
        elif status == 200:
            result = service.verify(db.session, viewer, content, user=_me())
    return render(
        "papers/verify.html", "papers/verify.html", status_code=status, form=form, result=result
    )
