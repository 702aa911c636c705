"""Second-factor secrets are sealed at rest: a copy of the database does not give anyone's codes
without the data key, which lives apart from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pyotp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from marac import MIGRATIONS_DIR, clock, sealing
from marac.domain import AgencyKind, AgencySide, Role
from marac.extensions import db
from marac.models import Agency, Area, AuditEntry, SignInState, User
from marac.services import accounts

from .conftest import PASSWORD, TOTP_SECRET, DatabaseFactory, csrf_token, make_test_app

BEFORE_SEALING = "7a4c2e9b1d05"


def _stored(user_id: int) -> str | None:
    return db.session.scalar(
        sa.select(SignInState.__table__.c.totp_secret_sealed).where(SignInState.user_id == user_id)
    )


def test_the_database_holds_the_secret_sealed_and_only_the_key_opens_it(
    app: Flask, make_user: Callable
) -> None:
    user = make_user(Role.AGENCY_REP)
    stored = _stored(user.id)
    assert stored is not None
    assert TOTP_SECRET not in stored
    assert user.sign_in.totp_secret == TOTP_SECRET
    # Another instance's key opens nothing; an altered value is refused, not misread.
    with pytest.raises(sealing.SealBroken):
        sealing.unseal_with(Fernet.generate_key().decode(), stored)
    with pytest.raises(sealing.SealBroken):
        sealing.unseal(stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB"))
    # Sealing the same secret twice gives different values (nothing to compare across rows).
    assert sealing.seal(TOTP_SECRET) != sealing.seal(TOTP_SECRET)


def test_sign_in_under_another_data_key_is_refused_and_said_in_the_audit(
    app: Flask, client: FlaskClient, make_user: Callable
) -> None:
    user = make_user(Role.AGENCY_REP, username="keyless")
    app.config["MARAC_DATA_KEY"] = Fernet.generate_key().decode()
    response = client.post(
        "/login",
        data={
            "username": "keyless",
            "password": PASSWORD,
            "code": pyotp.TOTP(TOTP_SECRET).at(clock.utc_now()),
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 401  # the form again, refused; not a server error
    assert "keyless" in response.get_data(as_text=True)  # what was typed is kept
    failed = db.session.scalar(
        sa.select(AuditEntry.detail)
        .where(AuditEntry.action == "login.failed", AuditEntry.user_id == user.id)
        .order_by(AuditEntry.id.desc())
    )
    assert "cannot be opened with this service's data key" in failed


def test_the_migration_seals_existing_secrets_and_undoing_it_opens_them(
    databases: DatabaseFactory,
) -> None:
    app = make_test_app(databases.new("sealing"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        area = Area(code="SL", name="Sealing area")
        db.session.add(area)
        db.session.flush()
        agency = Agency(
            area_id=area.id, name="Sealing police", kind=AgencyKind.POLICE, side=AgencySide.NEUTRAL
        )
        db.session.add(agency)
        db.session.flush()
        user = User(
            username="sealed",
            display_name="Sealed User",
            role=Role.AGENCY_REP,
            agency_id=agency.id,
            password_hash=accounts.hash_password(PASSWORD),
        )
        user.sign_in = SignInState(
            totp_secret=TOTP_SECRET, totp_confirmed_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        db.session.add(user)
        db.session.commit()
        user_id = user.id
        sealed = _stored(user_id)
        assert sealed is not None and TOTP_SECRET not in sealed
        db.session.remove()  # its open transaction would hold the table the downgrade alters

        downgrade(directory=MIGRATIONS_DIR, revision=BEFORE_SEALING)
        with db.engine.connect() as connection:
            clear = connection.execute(
                sa.text("SELECT totp_secret FROM sign_in_state WHERE user_id = :id"),
                {"id": user_id},
            ).scalar()
        assert clear == TOTP_SECRET

        upgrade(directory=MIGRATIONS_DIR)
        db.session.expire_all()
        resealed = _stored(user_id)
        assert resealed is not None and TOTP_SECRET not in resealed
        assert db.session.get(User, user_id).sign_in.totp_secret == TOTP_SECRET
        assert accounts.sign_in_state(db.session.get(User, user_id)).enrolled
        db.session.remove()
        db.engine.dispose()
