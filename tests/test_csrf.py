"""Every state-changing request needs the CSRF token: from a form field or, for htmx, a header."""

from __future__ import annotations

from flask.testing import FlaskClient

from marac.domain import Role

from .conftest import PASSWORD, csrf_token, login


def test_login_without_token_is_refused(client: FlaskClient, make_user) -> None:  # noqa: ANN001
    make_user(username="rep")
    response = client.post("/login", data={"username": "rep", "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/cases/").status_code == 302


def test_logout_without_token_is_refused(client: FlaskClient, make_user) -> None:  # noqa: ANN001
    make_user(username="rep")
    login(client, "rep")
    assert client.post("/logout").status_code == 400
    assert client.get("/cases/").status_code == 200


def test_token_from_another_session_is_refused(app, make_user) -> None:  # noqa: ANN001
    make_user(username="rep")
    first, second = app.test_client(), app.test_client()
    token = csrf_token(first)
    response = second.post(
        "/login", data={"username": "rep", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 400


def test_htmx_sends_the_token_as_a_header(client: FlaskClient, make_user) -> None:  # noqa: ANN001
    make_user(Role.ADMINISTRATOR, username="boss")
    login(client, "boss")
    token = csrf_token(client, "/admin/agencies")
    refused = client.post("/cases/", data={"q": "x"}, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    accepted = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert accepted.status_code == 302
