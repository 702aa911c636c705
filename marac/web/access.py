"""Load, check, act: the access rule every route declares, enforced before the view runs.

Each view is decorated with exactly one of ``public``, ``signed_in``, ``case_route`` or
``meeting_route``. A view without a declaration is refused (fail closed), and
tests/test_routes.py walks the URL map to prove every route has one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, current_app, flash, g, make_response, redirect, request, url_for
from flask_login import current_user

from marac import audit, clock, policy
from marac.domain import Role
from marac.extensions import db, htmx, login_manager
from marac.models import Case, Meeting, PartnerContactRecord, ProgrammeRecord
from marac.viewer import (
    CaseLinks,
    Viewer,
    links_for_case,
    partner_contact_facts,
    programme_facts,
    viewer_for,
)

ACCESS_ATTR = "_marac_access"
View = TypeVar("View", bound=Callable[..., Any])

# Flask's own static file route serves only files from static/, never data.
BUILT_IN_PUBLIC_ENDPOINTS = frozenset({"static"})


def _declare(view: Callable[..., Any], rule: str) -> None:
    setattr(view, ACCESS_ATTR, rule)


def public(view: View) -> View:
    _declare(view, "public")
    return view


def current_viewer() -> Viewer:
    if "viewer" not in g:
        g.viewer = viewer_for(current_user)
    return g.viewer


def signed_in(*roles: Role) -> Callable[[View], View]:
    """The user must be signed in and, when roles are named, hold one of them."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        _declare(wrapper, "signed_in")
        return wrapper  # type: ignore[return-value]

    return decorate


REAUTH_ATTR = "_marac_recent_sign_in"


def recent_sign_in(return_to: str | None = None) -> Callable[[View], View]:
    """The most sensitive actions ask for both factors again unless the user proved them lately.

    Use inside the access rule (``@signed_in(...)`` or ``@case_route`` above it). Without a recent
    confirmation (``MARAC_REAUTH_MINUTES``, signing in counts) the user is sent to confirm who
    they are and then brought back: to the same page for a GET, and for a POST to that URL's
    page if it has one, else to the endpoint ``return_to``. The POST itself is not replayed: the
    person sees the page again and chooses again.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from marac.security import recently_confirmed

            if recently_confirmed(current_app.config["MARAC_REAUTH_MINUTES"]):
                return view(*args, **kwargs)
            return _ask_to_confirm(return_to)

        setattr(wrapper, REAUTH_ATTR, True)
        return wrapper  # type: ignore[return-value]

    return decorate


def _ask_to_confirm(return_to: str | None) -> Any:
    if request.method == "GET":
        target: str | None = request.full_path.rstrip("?")
    elif request.url_rule is not None and "GET" in (request.url_rule.methods or ()):
        target = request.path
    else:
        target = url_for(return_to) if return_to else None
    flash("This needs you to confirm it is you: enter your password and a new code.", "info")
    location = url_for("auth.confirm", next=target)
    if htmx:
        response = make_response("", 401)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)


def case_route(view: View) -> View:
    """Loads the case named by ``case_id`` and lets the view run only if the policy opens it.

    The view receives ``case``, ``viewer`` and ``links``. A case that does not exist and a case the
    viewer may not open get the same 404, so ids cannot be probed.
    """

    @wraps(view)
    def wrapper(*args: Any, case_id: int, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        viewer = current_viewer()
        case, links = load_case(viewer, case_id)
        return view(*args, case=case, viewer=viewer, links=links, **kwargs)

    _declare(wrapper, "case")
    return wrapper  # type: ignore[return-value]


def meeting_route(view: View) -> View:
    """Loads the meeting named by ``meeting_id``; only users of its area (never an administrator)
    reach the view, which receives ``meeting`` and ``viewer``. Anyone else gets a 404."""

    @wraps(view)
    def wrapper(*args: Any, meeting_id: int, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        viewer = current_viewer()
        meeting = db.session.get(Meeting, meeting_id)
        if meeting is None or not policy.may_see_meetings(viewer, meeting.area_id).full:
            abort(404)
        return view(*args, meeting=meeting, viewer=viewer, **kwargs)

    _declare(wrapper, "meeting")
    return wrapper  # type: ignore[return-value]


def load_case(viewer: Viewer, case_id: int) -> tuple[Case, CaseLinks]:
    case = db.session.get(Case, case_id)
    if case is not None:
        links = links_for_case(db.session, viewer, case)
        decision = policy.case_access(viewer, links)
        if decision.full:
            return case, links
        audit.record("case.refused", object_type="case", object_id=case_id, detail=decision.reason)
        # The refusal is recorded even though the 404 rolls the request back.
        db.session.commit()
    abort(404)


def programme_route(view: View) -> View:
    """Loads the programme record named by ``programme_id``; the view runs only if the policy does
    not withhold it. It receives ``record``, ``viewer`` and ``decision``. Missing and refused get
    the same 404."""

    @wraps(view)
    def wrapper(*args: Any, programme_id: int, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        viewer = current_viewer()
        record = db.session.get(ProgrammeRecord, programme_id)
        if record is not None:
            decision = policy.programme_record(viewer, programme_facts(record))
            if not decision.withheld:
                return view(*args, record=record, viewer=viewer, decision=decision, **kwargs)
            _refused("programme_record", programme_id, decision.reason)
        abort(404)

    _declare(wrapper, "programme")
    return wrapper  # type: ignore[return-value]


def partner_contact_route(view: View) -> View:
    """Loads her partner-contact record named by ``partner_contact_id``; the view runs only if
    the policy does not withhold it. It receives ``record``, ``viewer``, ``facts`` and
    ``decision``."""

    @wraps(view)
    def wrapper(*args: Any, partner_contact_id: int, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        viewer = current_viewer()
        record = db.session.get(PartnerContactRecord, partner_contact_id)
        if record is not None:
            facts = partner_contact_facts(db.session, [record], clock.service_today())[record.id]
            decision = policy.partner_contact_record(viewer, facts)
            if not decision.withheld:
                return view(
                    *args, record=record, viewer=viewer, facts=facts, decision=decision, **kwargs
                )
            _refused("partner_contact_record", partner_contact_id, decision.reason)
        abort(404)

    _declare(wrapper, "partner_contact")
    return wrapper  # type: ignore[return-value]


def _refused(object_type: str, object_id: int, reason: str) -> None:
    audit.record(
        f"{object_type}.refused", object_type=object_type, object_id=object_id, detail=reason
    )
    # Kept even though the 404 rolls the request back.
    db.session.commit()


def refuse_undeclared_routes() -> None:
    """before_request: a view that declares no access rule is never run."""
    if request.endpoint is None or request.endpoint in BUILT_IN_PUBLIC_ENDPOINTS:
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, ACCESS_ATTR, None) is None:
        abort(403)


def first_or_404(statement: sa.Select[Any]) -> Any:
    result = db.session.scalar(statement)
    if result is None:
        abort(404)
    return result
