"""The second factor, recovery codes, lock-out, rate limit and confirming it is you."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marac import clock, twofactor
from marac.domain import Role
from marac.extensions import db
from marac.models import AuditEntry, RecoveryCode, SignInState, User
from marac.security import CONFIRMED_AT, PENDING_ENROLMENT
from marac.web.access import REAUTH_ATTR

from .conftest import (
    PASSWORD,
    TOTP_SECRET,
    csrf_token,
    fresh_code,
    login,
    post_form,
)

REFUSED = "The username, password or code is not right."


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def _state(user: User) -> SignInState:
    db.session.expire_all()
    return db.session.get(SignInState, user.id)


def _code_now(secret: str = TOTP_SECRET) -> str:
    return twofactor.current_code(secret, datetime.now(UTC))


def _enrol(client: FlaskClient, user: User) -> tuple[str, list[str]]:
    """Password, then the enrolment page, then a code from the shown key: returns codes."""
    response = login(client, user.username, code="")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/enrol")
    page = client.get("/login/enrol").get_data(as_text=True)
    secret = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page).group(1)
    secret = secret.replace(" ", "")
    done = post_form(client, "/login/enrol", {"code": _code_now(secret)}, "/login/enrol")
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z2-9-]{19})</code></li>", done.get_data(as_text=True))
    return secret, codes


# --- enrolment ---------------------------------------------------------------------------------


def test_first_sign_in_enrols_the_app_by_qr_code(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(username="newbie", enrolled=False)
    assert login(client, "newbie", code="").headers["Location"] == "/login/enrol"
    # Not signed in yet: the password alone opens nothing.
    assert client.get("/cases/").status_code == 302

    page = client.get("/login/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    svg = re.search(r"<svg[^>]*class=\"qr\".*?</svg>", html, re.S)
    assert svg, "the QR code is drawn on the page as SVG"
    assert "style=" not in svg.group(0) and "<script" not in svg.group(0)
    assert "otpauth" not in html  # the key is drawn and printed, not linked
    # A reload shows the same key, so a scan made before it still works.
    again = client.get("/login/enrol").get_data(as_text=True)
    key = re.search(r'<code class="secret-key">([^<]+)</code>', html).group(1)
    assert key in again

    wrong = post_form(client, "/login/enrol", {"code": "000000"}, "/login/enrol")
    assert wrong.status_code == 400
    assert "That code is not right." in wrong.get_data(as_text=True)
    assert not _state(user).enrolled

    secret = key.replace(" ", "")
    done = post_form(client, "/login/enrol", {"code": _code_now(secret)}, "/login/enrol")
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9-]{19})</code></li>", done.get_data(as_text=True))
    assert len(codes) == twofactor.RECOVERY_CODE_COUNT == len(set(codes))
    assert client.get("/cases/").status_code == 200  # signed in now
    assert _state(user).enrolled and _state(user).totp_secret == secret

    # Only hashes are stored: no code appears in the table in any form.
    stored = db.session.scalars(sa.select(RecoveryCode).where(RecoveryCode.user_id == user.id))
    dump = " ".join(f"{r.lookup} {r.code_hash}" for r in stored)
    for code in codes:
        plain = code.replace("-", "")
        assert plain not in dump and code not in dump
        assert plain[:4] in dump
    assert [e.action for e in _audit("two_factor.enrolled")] == ["two_factor.enrolled"]


def test_enrolment_needs_a_password_accepted_moments_before(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(username="newbie", enrolled=False)
    assert client.get("/login/enrol").headers["Location"] == "/login"
    assert post_form(client, "/login/enrol", {"code": "123456"}, "/login").status_code == 302
    login(client, "newbie", code="")
    with client.session_transaction() as session:
        pending = dict(session[PENDING_ENROLMENT])
        pending["at"] = (datetime.now(UTC) - timedelta(minutes=11)).isoformat()
        session[PENDING_ENROLMENT] = pending
    assert client.get("/login/enrol").headers["Location"] == "/login"


def test_an_enrolled_account_cannot_enrol_again(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(username="rep")
    # A right password without a code is simply refused: no way round the second factor.
    response = login(client, "rep", code="")
    assert response.status_code == 401 and REFUSED in response.get_data(as_text=True)
    assert client.get("/login/enrol").headers["Location"] == "/login"


# --- signing in with the code ------------------------------------------------------------------


def test_the_code_is_required_and_checked(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(username="rep")
    wrong = login(client, "rep", code="000000" if _code_now() != "000000" else "111111")
    assert wrong.status_code == 401
    assert REFUSED in wrong.get_data(as_text=True)
    assert client.get("/cases/").status_code == 302
    assert login(client, "rep").status_code == 302
    assert client.get("/cases/").status_code == 200
    details = [e.detail for e in _audit("login.failed")]
    assert details == ["wrong or reused code"]


def test_a_code_is_accepted_once(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user(username="rep")
    code = fresh_code(client.application, "rep")
    assert login(client, "rep", code=code).status_code == 302
    post_form(client, "/logout", {}, "/cases/")
    replay = login(client, "rep", code=code)
    assert replay.status_code == 401
    assert client.get("/cases/").status_code == 302


def test_a_recovery_code_signs_in_once(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user(username="newbie", enrolled=False)
    _secret, codes = _enrol(client, user)
    post_form(client, "/logout", {}, "/cases/")

    first = login(client, "newbie", code=codes[3].upper().replace("-", " "))
    assert first.status_code == 302
    assert "9 left" in client.get("/cases/").get_data(as_text=True)
    post_form(client, "/logout", {}, "/cases/")
    assert login(client, "newbie", code=codes[3]).status_code == 401
    assert [e.detail for e in _audit("login")][-1] == "with a recovery code"


def test_new_recovery_codes_replace_the_old_ones(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(username="newbie", enrolled=False)
    _secret, old = _enrol(client, user)
    fresh = post_form(client, "/account/recovery-codes", {}, "/account")
    assert fresh.status_code == 200
    new = re.findall(r"<li><code>([a-z2-9-]{19})</code></li>", fresh.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    post_form(client, "/logout", {}, "/cases/")
    assert login(client, "newbie", code=old[0]).status_code == 401
    assert login(client, "newbie", code=new[0]).status_code == 302


# --- lock-out and rate limit -------------------------------------------------------------------


def test_repeated_failures_lock_the_account_for_a_while(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(username="rep")
    limit = app.config["MARAC_LOGIN_LOCK_AFTER"]
    for _ in range(limit - 1):
        assert login(client, "rep", "not the password").status_code == 401
    assert _state(user).locked_until is None
    assert (
        login(client, "rep", code="000000" if _code_now() != "000000" else "1").status_code == 401
    )
    locked_until = _state(user).locked_until
    assert locked_until is not None
    locked_until = clock.as_utc(locked_until)
    minutes = app.config["MARAC_LOGIN_LOCK_MINUTES"]
    assert (
        timedelta(minutes=minutes - 1)
        < locked_until - datetime.now(UTC)
        <= timedelta(minutes=minutes)
    )
    # Even the right password and code are refused while it lasts, with the same message.
    refused = login(client, "rep")
    assert refused.status_code == 401 and REFUSED in refused.get_data(as_text=True)
    assert _audit("login.failed")[-1].detail == "account locked"
    assert any("locked for" in (e.detail or "") for e in _audit("login.failed"))

    state = _state(user)
    state.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert login(client, "rep").status_code == 302


def test_sign_in_attempts_are_limited_per_address(
    another_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    make_user(username="rep")
    limited = another_app(RATELIMIT_ENABLED=True, MARAC_LOGIN_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    answers = [login(client, "nobody", "wrong").status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]
    page = login(client, "rep")
    assert page.status_code == 429  # the right answer too, from this address, for now
    assert "Too many attempts" in page.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # only attempts are counted
    other = limited.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert login(other, "rep").status_code == 302


# --- confirming it is you ----------------------------------------------------------------------


SENSITIVE = {
    "people.merge",
    "people.undo",
    "admin.reset_second_factor",
    "auth.new_recovery_codes",
    # Downloads of the quarterly return leave the service: exports.
    "reports.return_csv",
    "reports.return_pdf",
    "papers.issue",
    # Opening a confidential item to another agency, and closing it again.
    "overrides.new",
    "overrides.revoke",
}


def test_the_most_sensitive_routes_ask_for_a_recent_sign_in(app: Flask) -> None:
    marked = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, REAUTH_ATTR, False)
    }
    assert marked == SENSITIVE


def _age_confirmation(client: FlaskClient, minutes: int) -> None:
    with client.session_transaction() as session:
        session[CONFIRMED_AT] = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def test_an_old_sign_in_must_be_confirmed_with_both_factors(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(username="rep")
    login(client, "rep")
    assert client.get("/account").status_code == 200
    token = csrf_token(client, "/account")
    # Just signed in: no second asking.
    assert client.post("/account/recovery-codes", data={"csrf_token": token}).status_code == 200
    _age_confirmation(client, app.config["MARAC_REAUTH_MINUTES"] + 1)
    asked = client.post("/account/recovery-codes", data={"csrf_token": token})
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/confirm?next=/account"
    codes_before = db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)))

    page = client.get(asked.headers["Location"])
    assert "Confirm it is you" in page.get_data(as_text=True)
    wrong = post_form(
        client, "/confirm?next=/account", {"password": "nope", "code": "123456"}, "/account"
    )
    assert wrong.status_code == 401
    right = post_form(
        client,
        "/confirm?next=/account",
        {"password": PASSWORD, "code": fresh_code(app, "rep")},
        "/account",
    )
    assert right.status_code == 303 and right.headers["Location"] == "/account"
    assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == codes_before
    assert client.post("/account/recovery-codes", data={"csrf_token": token}).status_code == 200
    assert [e.action for e in _audit("reauth")] == ["reauth"]
    assert [e.detail for e in _audit("reauth.failed")] == ["wrong password"]


def test_htmx_is_told_to_load_the_confirm_page(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(username="rep")
    login(client, "rep")
    token = csrf_token(client, "/account")
    _age_confirmation(client, 60)
    response = client.post(
        "/account/recovery-codes", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/confirm?next=")


def test_failing_to_confirm_too_often_signs_out(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(username="rep")
    login(client, "rep")
    for attempt in range(app.config["MARAC_LOGIN_LOCK_AFTER"]):
        response = post_form(client, "/confirm", {"password": "nope", "code": "1"}, "/account")
        last = attempt == app.config["MARAC_LOGIN_LOCK_AFTER"] - 1
        assert response.status_code == (303 if last else 401)
    assert response.headers["Location"] == "/login"
    assert client.get("/cases/").status_code == 302
    assert _state(user).locked_until is not None


# --- administrators ----------------------------------------------------------------------------


@pytest.fixture
def admin(client: FlaskClient, make_agency, make_user):  # noqa: ANN001
    team = make_agency()
    boss = make_user(Role.ADMINISTRATOR, team, username="boss")
    login(client, "boss")
    return client, team, boss


def test_administrator_disables_an_account_and_ends_its_sessions(
    app: Flask, admin, make_user: Callable[..., User]
) -> None:  # noqa: ANN001
    client, team, _boss = admin
    user = make_user(Role.AGENCY_REP, team, username="leaver")
    theirs = app.test_client()
    login(theirs, "leaver")
    assert theirs.get("/cases/").status_code == 200
    done = post_form(client, f"/admin/users/{user.id}/disable", {}, f"/admin/users/{user.id}")
    assert done.status_code == 303
    assert theirs.get("/cases/").status_code == 302
    assert login(theirs, "leaver").status_code == 401
    assert [e.object_id for e in _audit("user.disable")] == [user.id]


def test_administrator_resets_a_lost_second_factor(
    app: Flask, admin, make_user: Callable[..., User]
) -> None:  # noqa: ANN001
    client, team, _boss = admin
    user = make_user(Role.AGENCY_REP, team, username="lost")
    theirs = app.test_client()
    login(theirs, "lost")
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "has set up an authenticator app" in page
    done = post_form(
        client, f"/admin/users/{user.id}/reset-second-factor", {}, f"/admin/users/{user.id}"
    )
    assert done.status_code == 303
    assert theirs.get("/cases/").status_code == 302
    assert not _state(user).enrolled and _state(user).totp_secret is None
    # The old app's code no longer works; the password leads to enrolling again.
    assert login(theirs, "lost").headers["Location"] == "/login/enrol"
    assert [e.object_id for e in _audit("user.second_factor_reset")] == [user.id]


# --- the demo ----------------------------------------------------------------------------------


def test_demo_code_prints_a_demo_users_current_code(
    app: Flask, tmp_path: Path, make_user: Callable[..., User]
) -> None:
    make_user(username="chair")
    make_user(username="not-in-the-demo")
    runner = app.test_cli_runner()
    app.instance_path = str(tmp_path)
    refused = runner.invoke(args=["demo-code", "chair"])
    assert refused.exit_code != 0 and "not a demo instance" in refused.output

    (tmp_path / "demo_password").write_text("demo")
    result = runner.invoke(args=["demo-code", "chair"])
    assert result.exit_code == 0, result.output
    printed = result.output.split()[0]
    now = datetime.now(UTC)
    step = twofactor.step_at(now)
    assert printed in {twofactor.code_for_step(TOTP_SECRET, s) for s in (step, step + 1)}
    assert runner.invoke(args=["demo-code", "not-in-the-demo"]).exit_code != 0


def test_behind_a_proxy_the_clients_address_is_counted(
    another_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    proxied = another_app(
        RATELIMIT_ENABLED=True,
        MARAC_LOGIN_RATE_LIMIT="2 per minute",
        MARAC_PROXY_HOPS=1,
    )
    first = proxied.test_client()
    first.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
    assert [login(first, "nobody", "x").status_code for _ in range(3)] == [401, 401, 429]
    second = proxied.test_client()
    second.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.2"
    assert login(second, "nobody", "x").status_code == 401
    assert _audit("login.failed")[-1].remote_addr == "198.51.100.2"
