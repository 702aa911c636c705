"""The app as gunicorn serves it, plus one page for the load test only: the floor of a case page.

``/bench/case-floor/<id>`` does what every view of a case must do before it shows anything (the
signed-in user, the viewer's links to the case, the policy's decision to open it, the sealed
audit entry of the view, the page frame with its navigation) and shows only the reference.
``bench/load.py`` serves it beside the real pages, so that the figures say how much of the case
page's cost is that floor and how much is the case itself. It is never part of the service:
``marac:create_app()`` has no such route.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from marac import audit, create_app
from marac.web.access import case_route

app = create_app()
_FLOOR_SOURCE = (
    '{% extends "base.html" %}{% block title %}Case {{ reference }}{% endblock %}'
    "{% block content %}<h1>Case {{ reference }}</h1>{% endblock %}"
)
_FLOOR = app.jinja_env.from_string(_FLOOR_SOURCE)


@case_route
def case_floor(case: Any, viewer: Any, links: Any) -> str:
    audit.record_view("case.view", object_type="case", object_id=case.id)
    return render_template(_FLOOR, reference=case.reference)


app.add_url_rule("/bench/case-floor/<int:case_id>", "bench_case_floor", case_floor)
