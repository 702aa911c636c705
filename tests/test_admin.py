"""Administration of agencies and users: validation, conflicts, area boundaries, audit."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marac.domain import AgencyKind, AgencySide, Role
from marac.extensions import db
from marac.models import Agency, AuditEntry, User

from .conftest import login, post_form


@pytest.fixture
def admin_client(client: FlaskClient, make_area, make_agency, make_user):  # noqa: ANN001
    area = make_area()
    team = make_agency(area, AgencyKind.OTHER, name="Area Team")
    admin = make_user(Role.ADMINISTRATOR, team, username="boss")
    login(client, "boss")
    return client, area, team, admin


def _version(html: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)


def test_non_administrators_are_refused(client, make_user) -> None:  # noqa: ANN001
    for role in Role:
        if role is Role.ADMINISTRATOR:
            continue
        user = make_user(role)
        fresh = client.application.test_client()
        login(fresh, user.username)
        assert fresh.get("/admin/users").status_code == 403, role
        assert fresh.get("/admin/agencies").status_code == 403, role


def test_add_and_edit_an_agency(admin_client) -> None:  # noqa: ANN001
    client, area, _team, _admin = admin_client
    response = post_form(
        client,
        "/admin/agencies/new",
        {
            "name": "Northfold Housing",
            "kind": "housing",
            "side": "neutral",
            "is_active": "y",
        },
        token_from="/admin/agencies/new",
    )
    assert response.status_code == 302
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == "Northfold Housing"))
    assert agency.kind is AgencyKind.HOUSING and agency.area_id == area.id

    page = client.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)
    response = post_form(
        client,
        f"/admin/agencies/{agency.id}",
        {
            "name": "Northfold Housing Options",
            "kind": "housing",
            "side": "neutral",
            "version": _version(page),
        },
        token_from="/admin/agencies",
    )
    assert response.status_code == 302
    db.session.expire_all()
    agency = db.session.get(Agency, agency.id)
    assert agency.name == "Northfold Housing Options" and agency.is_active is False
    details = db.session.scalars(
        sa.select(AuditEntry.detail).where(AuditEntry.action == "agency.update")
    ).all()
    assert details == ["is_active, name"]


def test_bad_agency_input_keeps_what_was_typed(admin_client) -> None:  # noqa: ANN001
    client, _area, _team, _admin = admin_client
    response = post_form(
        client,
        "/admin/agencies/new",
        {
            "name": "",
            "kind": "not-a-kind",
            "side": "neutral",
        },
        token_from="/admin/agencies/new",
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter the agency&#39;s name." in text
    assert "Not a valid choice" in text
    duplicate = post_form(
        client,
        "/admin/agencies/new",
        {
            "name": "Area Team",
            "kind": "other",
            "side": "neutral",
        },
        token_from="/admin/agencies/new",
    )
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.get_data(as_text=True)


def test_stale_agency_edit_gets_409_and_keeps_the_typing(admin_client) -> None:  # noqa: ANN001
    client, _area, team, _admin = admin_client
    page = client.get(f"/admin/agencies/{team.id}").get_data(as_text=True)
    version = _version(page)
    # Someone else saves first.
    team = db.session.get(Agency, team.id)
    team.name = "Area Team (renamed by a colleague)"
    db.session.commit()
    response = post_form(
        client,
        f"/admin/agencies/{team.id}",
        {
            "name": "My careful new name",
            "kind": "other",
            "side": "neutral",
            "is_active": "y",
            "version": version,
        },
        token_from="/admin/agencies",
    )
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "My careful new name" in text
    assert "Area Team (renamed by a colleague)" in text
    db.session.expire_all()
    assert db.session.get(Agency, team.id).name == "Area Team (renamed by a colleague)"
    # Saving again, deliberately, with the version the conflict page carried, succeeds.
    again = post_form(
        client,
        f"/admin/agencies/{team.id}",
        {
            "name": "My careful new name",
            "kind": "other",
            "side": "neutral",
            "is_active": "y",
            "version": _version(text),
        },
        token_from="/admin/agencies",
    )
    assert again.status_code == 302


def test_add_a_user_and_change_their_role(admin_client) -> None:  # noqa: ANN001
    client, _area, team, _admin = admin_client
    response = post_form(
        client,
        "/admin/users/new",
        {
            "username": "New.Worker",
            "display_name": "Ash Newman",
            "email": "ash@example.org",
            "agency_id": str(team.id),
            "role": "coordinator",
            "is_enabled": "y",
            "password": "a long enough passphrase",
        },
        token_from="/admin/users/new",
    )
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "new.worker"))
    assert user.role is Role.COORDINATOR

    fresh = client.application.test_client()
    assert login(fresh, "new.worker", "a long enough passphrase").status_code == 302

    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "a long enough passphrase" not in page
    response = post_form(
        client,
        f"/admin/users/{user.id}",
        {
            "username": "new.worker",
            "display_name": "Ash Newman",
            "email": "",
            "agency_id": str(team.id),
            "role": "chair",
            "version": _version(page),
        },
        token_from="/admin/users",
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.role is Role.CHAIR and user.is_enabled is False
    # Disabling the account ended the new user's session.
    assert fresh.get("/cases/").status_code == 302
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.object_type == "user")
    ).all()
    assert "user.create" in actions and "user.update" in actions


def test_user_form_refuses_unsafe_combinations(admin_client, make_agency) -> None:  # noqa: ANN001
    client, area, team, admin = admin_client
    programme = make_agency(area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING)
    police = make_agency(area, AgencyKind.POLICE, AgencySide.NEUTRAL)
    base = {
        "display_name": "Sam Example",
        "is_enabled": "y",
        "password": "a long enough passphrase",
    }
    cases = [
        (
            {"username": "prog.chair", "agency_id": str(programme.id), "role": "chair"},
            "Staff of a perpetrator-facing agency can only be agency representatives.",
        ),
        (
            {"username": "police.idva", "agency_id": str(police.id), "role": "support_worker"},
            "IDVA and partner-contact workers belong to a victim-facing agency.",
        ),
        (
            {"username": "boss", "agency_id": str(team.id), "role": "coordinator"},
            "This username is taken.",
        ),
        (
            {"username": "x", "agency_id": str(team.id), "role": "coordinator"},
            "Use 3 to 64 lower-case letters",
        ),
        (
            {
                "username": "short.pass",
                "agency_id": str(team.id),
                "role": "coordinator",
                "password": "short",
            },
            "Use at least 12 characters.",
        ),
        (
            {"username": "no.agency", "agency_id": "999999", "role": "coordinator"},
            "Not a valid choice",
        ),
    ]
    for fields, message in cases:
        response = post_form(
            client, "/admin/users/new", {**base, **fields}, token_from="/admin/users/new"
        )
        assert response.status_code == 400, fields
        text = response.get_data(as_text=True)
        assert message in text, fields
        assert 'value="Sam Example"' in text  # what was typed is kept
    # An administrator cannot lock themselves out.
    page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    response = post_form(
        client,
        f"/admin/users/{admin.id}",
        {
            "username": "boss",
            "display_name": "Boss",
            "agency_id": str(team.id),
            "role": "coordinator",
            "is_enabled": "y",
            "version": _version(page),
        },
        token_from="/admin/users",
    )
    assert response.status_code == 400
    assert "You cannot remove your own administrator access." in response.get_data(as_text=True)


def test_another_areas_records_are_not_found(
    admin_client, make_area, make_agency, make_user
) -> None:  # noqa: ANN001
    client, _area, _team, _admin = admin_client
    elsewhere = make_agency(make_area())
    stranger = make_user(Role.AGENCY_REP, elsewhere)
    assert client.get(f"/admin/agencies/{elsewhere.id}").status_code == 404
    assert client.get(f"/admin/users/{stranger.id}").status_code == 404
    assert stranger.username not in client.get("/admin/users").get_data(as_text=True)
    response = post_form(
        client, f"/admin/users/{stranger.id}/end-sessions", {}, token_from="/admin/users"
    )
    assert response.status_code == 404


def test_end_sessions(admin_client, make_user) -> None:  # noqa: ANN001
    client, _area, team, _admin = admin_client
    user = make_user(Role.COORDINATOR, team, username="signed.in")
    other = client.application.test_client()
    login(other, "signed.in")
    assert other.get("/cases/").status_code == 200
    response = post_form(
        client, f"/admin/users/{user.id}/end-sessions", {}, token_from="/admin/users"
    )
    assert response.status_code == 302
    assert other.get("/cases/").status_code == 302
