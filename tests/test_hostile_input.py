"""Hostile input to every form and endpoint: never a 500, a clear message, nothing stored corrupt.

Every POST route of the URL map (read from the route truth table, so that a new route is
covered as soon as it has its row) is sent generated values by hypothesis, as a user who may
use it: very long text, control characters with NUL, HTML and script, SQL fragments, dates
that do not exist, ids that do not exist or do not fit in any integer, wrong types, and
missing fields. The field names are read from the service's own pages, so each form's fields
are hit. Every GET route that answers that user gets the same in its query string. Afterwards
no text column of the database holds a control character.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marac.extensions import db
from marac.web.input import CONTROL_CHARACTERS, without_control_characters
from tests.test_route_truth_table import (  # noqa: F401 - world is a fixture
    TABLE,
    G,
    World,
    _client_for,
    _rules,
    _url,
    world,
)

# Changes that lock users out of the rest of the run: the world's police agency made inactive
# (the chair and the representative belong to it), and confirming it is you with wrong values
# (which locks the account and signs it out).
RUN_LAST = {("admin.edit_agency", "POST"), ("auth.confirm", "POST")}
# Users in the order they are tried: the first who may use a route sends to it.
PREFERRED = (
    "chair",
    "coordinator",
    "support_worker",
    "programme",
    "agency_rep",
    "administrator",
    "reviewer",
    "other_agency",
    "other_area",
)
USABLE = (200, 400, 409, G)
# Sign-out ends the session the rest of the run needs; the sign-in form is exercised by
# tests/test_signin.py with its own wrong values (and would lock the account here).
NOT_SENT = {("auth.logout", "POST"), ("auth.login", "POST"), ("auth.enrol", "POST")}

# How a refusal shows itself: a message beside a field, a summary, or the error page.
MESSAGE = re.compile(
    r'class="field__error"|class="error-summary"|class="error-block"'
    r'|class="alert alert--\w+" role="(?:alert|status)">\s*\S'
)

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "before\x00after",
        "\x01\x02\x1b[31m\x7f",
        "line\r\nbreak\ttab",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(1)",
        "' OR '1'='1",
        "1; DROP TABLE person; --",
        "%00",
        "../../../../etc/passwd",
        "{{7*7}}",
        "\u202etxt.exe",
        "ｓｃｒｉｐｔ",
        "Zoë Ångström-Ólafsdóttir",
        "2026-02-30",
        "2026-13-01",
        "0000-00-00",
        "31/12/2026",
        "99999-01-01",
        "yesterday",
        "-1",
        "0",
        "1.5",
        "1e308",
        "NaN",
        "Infinity",
        str(2**31),
        str(2**63),
        str(10**30),
        "-" + str(10**30),
        "true",
        "null",
        "[]",
        "{}",
        "on",
        "y",
    ]
)
# Words with control characters inside: stored, they must have lost them (and kept the rest).
CONTROLLED = st.sampled_from(
    ["before\x00after", "bell\x07ring", "esc\x1b[31mred", "<script>\x00alert(1)</script>"]
)
VALUES = st.one_of(
    CONTROLLED,
    HOSTILE_TEXT,
    st.text(max_size=40),  # any characters, control characters included
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.dates().map(lambda d: d.isoformat()),
    # Very long: beyond every field's limit, well within the request size limit.
    st.builds(
        lambda s, n: s * n, st.sampled_from(["x", "é", "<b>", "\x00a"]), st.integers(1000, 60_000)
    ),
)

EXAMPLES = 12
# Query strings are read by fewer lines of code (filters, views, paging).
QUERY_EXAMPLES = 6
# Signs that a generated value was stored: what is left of them once cleaned.
STORED_MARKS = ("beforeafter", "bellring", "esc[31mred", "<script>alert(1)</script>")


class _Forms(HTMLParser):
    """The forms of a page: where each posts, and a value for each field that a person filling
    it in would send (the option chosen, the box ticked, some words in an empty text box)."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.forms: dict[str, dict[str, str]] = {}
        self.current: dict[str, str] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            target = a.get("action") or a.get("hx-post") or self.page_path
            self.current = self.forms.setdefault(urlsplit(target).path, {})
        elif self.current is None:
            return
        elif tag == "option":
            if (
                self.select
                and a.get("value")
                and (self.select not in self.current or "selected" in a)
            ):
                self.current[self.select] = a["value"]
        elif not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            name = a["name"]
            if kind in ("checkbox", "radio"):
                if name not in self.current or "checked" in a:
                    self.current[name] = a.get("value", "y")
            elif kind == "hidden":
                self.current[name] = a.get("value", "")
            elif kind == "date":
                self.current[name] = a.get("value") or date.today().isoformat()
            elif kind == "number":
                self.current[name] = a.get("value") or "1"
            elif kind not in ("submit", "button"):
                self.current[name] = a.get("value") or "Typed words"
        elif tag == "select":
            self.select = a["name"]
        elif tag == "textarea":
            self.textarea = a["name"]
            self.current[a["name"]] = "Typed words"

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def _harvest_forms(app: Flask, w: World) -> dict[str, dict[str, str]]:
    """Every form on every page the world's users can open, by the path it posts to."""
    forms: dict[str, dict[str, str]] = {}
    rules = _rules(app)
    for viewer in PREFERRED:
        client, _ = _client_for(app, w, viewer)
        for (endpoint, method), answers in TABLE.items():
            if method != "GET" or endpoint == "static":
                continue
            if answers[_column(viewer)] != 200:
                continue
            path = _url(rules[(endpoint, method)], w)
            response = client.get(path)
            if response.mimetype != "text/html":
                continue  # a download: CSV, PDF
            parser = _Forms(path)
            parser.feed(response.get_data(as_text=True))
            for target, fields in parser.forms.items():
                forms.setdefault(target, {}).update(fields)
    return forms


def _column(viewer: str) -> int:
    from tests.test_route_truth_table import VIEWERS

    return VIEWERS.index(viewer)


def _sender(endpoint: str, method: str) -> str | None:
    answers = TABLE[(endpoint, method)]
    for viewer in PREFERRED:
        if answers[_column(viewer)] in USABLE:
            return viewer
    return None


def _hammer(  # noqa: PLR0913 - one route, as one user
    client: Any,
    token: str,
    method: str,
    endpoint: str,
    viewer: str,
    url: str,
    strategy: st.SearchStrategy[dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> int:
    """Send generated values to one route; returns how many requests were sent."""
    sent = 0

    @settings(
        max_examples=EXAMPLES if method == "POST" else QUERY_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(values=strategy)
    def send(values: dict[str, str]) -> None:
        nonlocal sent
        caplog.clear()
        if method == "POST":
            # Forms with a prefix carry their token as "<prefix>-csrf_token": this session's.
            data = {k: token if k.endswith("csrf_token") else v for k, v in values.items()}
            data["csrf_token"] = token
            response = client.post(url, data=data, headers={"X-CSRFToken": token})
        else:
            response = client.get(url, query_string=values)
        sent += 1
        text = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        assert response.status_code < 500, (
            f"{method} {endpoint} as {viewer}: {response.status_code} for {values!r}\n"
            + "\n".join(r.getMessage() + str(r.exc_text or "") for r in caplog.records)
        )
        if response.status_code == 400 and response.mimetype == "text/html":
            assert MESSAGE.search(text), f"{method} {endpoint}: a 400 without a message {values!r}"

    send()
    return sent


def test_no_route_answers_500_to_hostile_input(
    app: Flask,
    world: World,  # noqa: F811 - the truth table's fixture
    caplog: pytest.LogCaptureFixture,
) -> None:
    rules = _rules(app)
    forms_by_path = _harvest_forms(app, world)
    field_names = sorted(
        {n for fields in forms_by_path.values() for n in fields if not n.endswith("csrf_token")}
    )
    assert len(field_names) > 40, field_names  # the forms were found
    clients: dict[str, tuple[Any, str]] = {}
    failures: list[str] = []
    sent = 0

    def form_values(path: str) -> st.SearchStrategy[dict[str, str]]:
        """The form as a person would fill it in, with one to three fields hostile or left
        out; for a route whose form is not on any page, hostile values for any field."""
        base = forms_by_path.get(path) or {}
        names = sorted(name for name in base if not name.endswith("csrf_token"))
        if not names:
            return st.dictionaries(st.sampled_from(field_names), VALUES, max_size=8).map(
                lambda values: {**base, **values}
            )
        return st.tuples(
            st.dictionaries(st.sampled_from(names), VALUES, min_size=1, max_size=3),
            st.lists(st.sampled_from(names), max_size=1),
        ).map(lambda pair: {k: v for k, v in {**base, **pair[0]}.items() if k not in pair[1]})

    with_a_form = 0
    queries = st.dictionaries(
        st.sampled_from([*field_names, "view", "page", "status", "date", "q", "agency"]),
        VALUES,
        max_size=6,
    )

    order = sorted(TABLE, key=lambda route: (route in RUN_LAST, route))
    for endpoint, method in order:
        if (endpoint, method) in NOT_SENT or endpoint == "static":
            continue
        viewer = _sender(endpoint, method)
        if viewer is None:
            continue
        if viewer not in clients:
            clients[viewer] = _client_for(app, world, viewer)
        client, token = clients[viewer]
        url = _url(rules[(endpoint, method)], world)
        with_a_form += bool(method == "POST" and forms_by_path.get(url))

        strategy = form_values(url) if method == "POST" else queries
        try:
            with caplog.at_level(logging.ERROR):
                sent += _hammer(client, token, method, endpoint, viewer, url, strategy, caplog)
        except AssertionError as failure:
            failures.append(str(failure)[:3000])

    assert not failures, "\n\n".join(failures)
    assert sent > 400
    assert with_a_form > 25, "the forms of most POST routes were found on the pages"

    # Nothing stored carries a control character (a NUL would not even reach PostgreSQL).
    found = []
    hostile_stored = 0
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text)]
            if not columns:
                continue
            for row in connection.execute(sa.select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if not isinstance(value, str):
                        continue
                    if CONTROL_CHARACTERS.search(value):
                        found.append(f"{table.name}.{column.name}: {value[:60]!r}")
                    hostile_stored += any(mark in value for mark in STORED_MARKS)
    assert not found, found[:10]
    # The forms did accept generated values, so the check above looked at some.
    assert hostile_stored > 0


def test_control_characters_are_removed_and_the_rest_kept(client) -> None:  # noqa: ANN001
    assert without_control_characters("a\x00b\x01c\x7fd\te\nf\rg") == "abcd\te\nf\rg"
    from marac.web.input import CleanMultiDict

    cleaned = CleanMultiDict([("na\x00me", "Zo\x00ë"), ("name", "<b>\x1b")])
    assert cleaned.getlist("name") == ["Zoë", "<b>"]


def test_every_post_route_refuses_a_request_without_its_token(
    app: Flask,
    world: World,  # noqa: F811 - the truth table's fixture
) -> None:
    """Wapiti took a prefixed token ("allocate-csrf_token") for none: every POST route, sent
    its form without any token by a user who may use it, is refused before it acts."""
    rules = _rules(app)
    forms_by_path = _harvest_forms(app, world)
    clients: dict[str, Any] = {}
    checked = 0
    for endpoint, method in sorted(TABLE):
        if method != "POST" or (endpoint, method) in RUN_LAST:
            continue
        viewer = _sender(endpoint, method)
        if viewer is None:
            continue
        clients.setdefault(viewer, _client_for(app, world, viewer)[0])
        url = _url(rules[(endpoint, method)], world)
        form = {k: v for k, v in forms_by_path.get(url, {}).items() if not k.endswith("csrf_token")}
        response = clients[viewer].post(url, data=form)
        assert response.status_code == 400, (endpoint, response.status_code)
        assert "This form has expired" in response.get_data(as_text=True), endpoint
        checked += 1
    assert checked >= 45
