"""Signing in and out, sessions and their timeouts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from marac.domain import Role
from marac.extensions import db
from marac.models import AuditEntry, User
from marac.security import SIGNED_IN_AT

from .conftest import PASSWORD, login, post_form


def _audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_login_page_is_served(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<label class="field__label" for="username">Username</label>' in text
    assert 'autocomplete="current-password"' in text


def test_login_and_logout(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user(Role.AGENCY_REP, username="rep")
    response = login(client, "rep")
    assert response.status_code == 302
    assert response.headers["Location"] == "/cases/"
    assert client.get("/cases/").status_code == 200

    response = post_form(client, "/logout", {}, token_from="/cases/")
    assert response.status_code == 302
    assert client.get("/cases/").status_code == 302  # back to the login page
    assert _audit_actions() == ["login", "logout"]
    assert db.session.get(User, user.id) is not None


def test_administrators_land_on_their_screen(client: FlaskClient, make_user) -> None:  # noqa: ANN001
    make_user(Role.ADMINISTRATOR, username="boss")
    assert login(client, "boss").headers["Location"] == "/admin/users"


def test_bad_password_is_refused_with_one_message(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(username="rep")
    response = login(client, "rep", "wrong password entirely")
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "The username, password or code is not right." in text
    assert 'value="rep"' in text  # what was typed is kept (the password is not)
    assert "wrong password entirely" not in text
    unknown = login(client, "nobody", "wrong password entirely")
    assert unknown.status_code == 401
    assert "The username, password or code is not right." in unknown.get_data(as_text=True)
    assert client.get("/cases/").status_code == 302
    assert _audit_actions() == ["login.failed", "login.failed"]


def test_empty_form_gets_field_messages(client: FlaskClient) -> None:
    response = post_form(client, "/login", {"username": "", "password": ""})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter your username." in text and "Enter your password." in text


def test_disabled_account_cannot_sign_in(client: FlaskClient, make_user) -> None:  # noqa: ANN001
    make_user(username="gone", is_enabled=False)
    assert login(client, "gone").status_code == 401
    assert _audit_actions() == ["login.refused"]


def test_disabling_an_agency_stops_its_users(client: FlaskClient, make_user, make_agency) -> None:  # noqa: ANN001
    agency = make_agency()
    make_user(username="member", agency=agency)
    agency.is_active = False
    db.session.commit()
    assert login(client, "member").status_code == 401


def test_password_is_rehashed_when_parameters_change(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, salt_len=8).hash(PASSWORD)
    user = make_user(username="rep", password_hash=old)
    assert login(client, "rep").status_code == 302
    db.session.expire_all()
    new_hash = db.session.get(User, user.id).password_hash
    assert new_hash != old
    assert PasswordHasher().verify(new_hash, PASSWORD)


def test_ending_sessions_signs_the_user_out(client: FlaskClient, make_user) -> None:  # noqa: ANN001
    user = make_user(username="rep")
    login(client, "rep")
    assert client.get("/cases/").status_code == 200
    db.session.get(User, user.id).end_sessions()
    db.session.commit()
    assert client.get("/cases/").status_code == 302


def test_absolute_session_timeout(app: Flask, client: FlaskClient, make_user) -> None:  # noqa: ANN001
    make_user(username="rep")
    login(client, "rep")
    with client.session_transaction() as session:
        too_old = datetime.now(UTC) - timedelta(
            hours=app.config["MARAC_SESSION_ABSOLUTE_HOURS"], minutes=1
        )
        session[SIGNED_IN_AT] = too_old.isoformat()
    response = client.get("/cases/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/cases/").status_code == 302


def test_idle_timeout_is_enforced_by_the_signed_cookie(
    app: Flask, client: FlaskClient, make_user
) -> None:  # noqa: ANN001
    make_user(username="rep")
    login(client, "rep")
    assert client.get("/cases/").status_code == 200
    app.permanent_session_lifetime = timedelta(seconds=-1)
    assert client.get("/cases/").status_code == 302


def test_session_cookie_flags(client: FlaskClient, make_user) -> None:  # noqa: ANN001
    make_user(username="rep")
    response = login(client, "rep")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_next_only_goes_to_this_site(client: FlaskClient, make_user) -> None:  # noqa: ANN001
    make_user(username="rep")
    from .conftest import csrf_token, fresh_code

    for target, expected in [
        ("/cases/", "/cases/"),
        ("https://evil.example/", "/cases/"),
        ("//evil.example/", "/cases/"),
        ("/\\evil.example", "/cases/"),
        ("javascript:alert(1)", "/cases/"),
    ]:
        token = csrf_token(client)
        response = client.post(
            "/login",
            query_string={"next": target},
            data={
                "username": "rep",
                "password": PASSWORD,
                "code": fresh_code(client.application, "rep"),
                "csrf_token": token,
            },
        )
        assert response.headers["Location"] == expected, target
        post_form(client, "/logout", {}, token_from="/cases/")


def test_signed_in_user_visiting_login_goes_home(client: FlaskClient, make_user) -> None:  # noqa: ANN001
    make_user(username="rep")
    login(client, "rep")
    assert client.get("/login").headers["Location"] == "/cases/"


def test_htmx_request_after_session_end_is_told_to_reload_login(
    client: FlaskClient,
    make_user,  # noqa: ANN001
) -> None:
    make_user(username="rep")
    response = client.get("/cases/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_deployment_defaults_are_fifteen_minutes_idle_and_ten_hours_absolute(
    tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    from marac import config

    for name in ("MARAC_SESSION_IDLE_MINUTES", "MARAC_SESSION_ABSOLUTE_HOURS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARAC_SECRET_KEY", "x" * 32)
    settings = config.from_environment(tmp_path)
    assert settings["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=15)
    assert settings["MARAC_SESSION_ABSOLUTE_HOURS"] == 10
    monkeypatch.setenv("MARAC_SESSION_IDLE_MINUTES", "5")
    assert config.from_environment(tmp_path)["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=5)


def test_idle_timeout_counts_from_the_last_request_not_the_sign_in(
    client: FlaskClient, make_user, monkeypatch
) -> None:  # noqa: ANN001
    """Used every 14 minutes the session lives on; 16 minutes without a request end it."""
    from itsdangerous import TimestampSigner

    real = TimestampSigner.get_timestamp
    offset = {"seconds": 0}
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: real(self) + offset["seconds"]
    )
    make_user(username="rep")
    login(client, "rep")
    for _ in range(3):  # 42 minutes in all, never 15 idle
        offset["seconds"] += 14 * 60
        assert client.get("/cases/").status_code == 200
    offset["seconds"] += 16 * 60
    response = client.get("/cases/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_password_is_rehashed_when_the_configured_parameters_change(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(username="rep")
    before = db.session.get(User, user.id).password_hash
    assert login(client, "rep").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before  # same parameters: kept
    client.post("/logout", data={})
    app.config["MARAC_ARGON2"] = {"time_cost": 2, "memory_cost": 16, "parallelism": 1}
    client2 = app.test_client()
    assert login(client2, "rep", code=None).status_code == 302
    db.session.expire_all()
    after = db.session.get(User, user.id).password_hash
    assert after != before and "t=2" in after and "m=16" in after
    assert PasswordHasher().verify(after, PASSWORD)
