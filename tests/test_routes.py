"""Every route declares who may use it, and refuses anyone not signed in."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marac.web.access import ACCESS_ATTR, BUILT_IN_PUBLIC_ENDPOINTS

# The routes anyone may reach: the sign-in page, the front door (which only redirects), the
# health check, and Flask's static files. Adding a public route means adding it here.
# Enrolling the second factor comes before signing in; without a password accepted moments
# before in the same session it only sends the visitor back to sign in (tests/test_signin.py).
PUBLIC = {"auth.login", "auth.enrol", "main.index", "main.health", "static"}


def _sample_url(rule) -> str:  # noqa: ANN001
    url = rule.rule
    for argument in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{argument}>", "1", url)
    return url


def _routes(app: Flask) -> list:
    return [rule for rule in app.url_map.iter_rules()]


def test_every_route_declares_its_access_rule(app: Flask) -> None:
    undeclared = []
    for rule in _routes(app):
        if rule.endpoint in BUILT_IN_PUBLIC_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, ACCESS_ATTR, None) is None:
            undeclared.append(rule.endpoint)
    assert undeclared == []


def test_public_routes_are_exactly_the_listed_ones(app: Flask) -> None:
    public = {
        rule.endpoint
        for rule in _routes(app)
        if rule.endpoint in BUILT_IN_PUBLIC_ENDPOINTS
        or getattr(app.view_functions[rule.endpoint], ACCESS_ATTR) == "public"
    }
    assert public == PUBLIC


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_route_refuses_an_anonymous_user(
    app: Flask, client: FlaskClient, method: str
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # reach the access check itself, not the CSRF check
    checked = 0
    for rule in _routes(app):
        if rule.endpoint in PUBLIC or method not in rule.methods:
            continue
        response = client.open(_sample_url(rule), method=method)
        assert response.status_code == 302, (rule.rule, method, response.status_code)
        assert response.headers["Location"].startswith("/login"), rule.rule
        checked += 1
    assert checked >= 5


def test_a_route_without_a_declaration_is_never_run(app: Flask, client: FlaskClient) -> None:
    ran = []

    def forgotten() -> str:
        ran.append(True)
        return "case data"

    app.add_url_rule("/forgotten", "forgotten", forgotten)
    response = client.get("/forgotten")
    assert response.status_code == 403
    assert ran == []
