"""The front door and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, redirect, url_for
from flask_login import current_user

from marac.extensions import db
from marac.web.access import public
from marac.web.auth import home_for

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    return redirect(url_for("auth.login"))


@bp.route("/healthz")
@public
def health() -> tuple[dict[str, str], int]:
    """For load balancers: says whether the database answers, and nothing else."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
