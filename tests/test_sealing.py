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


# --- rotating the data key ---------------------------------------------------------------------


def _sign_in(client: FlaskClient, username: str) -> int:
    # Each code is accepted once: forget the last one used, as a phone shows the next.
    db.session.execute(
        sa.update(SignInState)
        .where(
            SignInState.user_id
            == sa.select(User.id).where(User.username == username).scalar_subquery()
        )
        .values(totp_last_step=None)
    )
    db.session.commit()
    return client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "code": pyotp.TOTP(TOTP_SECRET).at(clock.utc_now()),
            "csrf_token": csrf_token(client),
        },
    ).status_code


def test_rotating_the_key_keeps_every_second_factor_and_drops_the_old_key(
    app: Flask, make_user: Callable
) -> None:
    before = make_user(Role.AGENCY_REP, username="before-rotation")
    unopenable = make_user(Role.AGENCY_REP, username="other-instance")
    # A secret sealed by some other instance's key: no key of this service opens it.
    unopenable.sign_in.totp_secret_sealed = sealing.seal_with(
        Fernet.generate_key().decode(), TOTP_SECRET
    )
    db.session.commit()
    old_key, new_key = app.config["MARAC_DATA_KEY"], Fernet.generate_key().decode()
    old_stored = _stored(before.id)

    # Rolled out: the new key seals, the old one still opens what it sealed.
    app.config.update(MARAC_DATA_KEY=new_key, MARAC_DATA_KEY_PREVIOUS=(old_key,))
    assert _sign_in(app.test_client(), "before-rotation") == 302
    during = make_user(Role.AGENCY_REP, username="during-rotation")
    assert sealing.unseal_with(new_key, _stored(during.id)) == TOTP_SECRET

    result = app.test_cli_runner().invoke(args=["reseal-secrets"])
    assert result.exit_code == 1, result.output  # one secret no key opens: said, not hidden
    assert "sealed again with the current data key" in result.output
    assert f"user ids {unopenable.id}" in result.output
    db.session.expire_all()
    resealed = _stored(before.id)
    assert resealed != old_stored
    assert sealing.unseal_with(new_key, resealed) == TOTP_SECRET
    with pytest.raises(sealing.SealBroken):
        sealing.unseal_with(old_key, resealed)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "data_key.resealed"))
    assert entry is not None and "could not be opened with any key" in entry.detail
    assert TOTP_SECRET not in entry.detail

    # The old key dropped: everyone resealed still signs in.
    app.config.update(MARAC_DATA_KEY_PREVIOUS=())
    assert _sign_in(app.test_client(), "before-rotation") == 302
    assert _sign_in(app.test_client(), "during-rotation") == 302


def test_without_the_previous_key_the_old_secrets_do_not_open(
    app: Flask, make_user: Callable
) -> None:
    make_user(Role.AGENCY_REP, username="not-rolled")
    app.config.update(MARAC_DATA_KEY=Fernet.generate_key().decode(), MARAC_DATA_KEY_PREVIOUS=())
    assert _sign_in(app.test_client(), "not-rolled") == 401


def test_previous_keys_are_read_from_a_list_and_a_mistyped_one_is_refused() -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert sealing.previous_keys(f" {first}, {second} ") == (first, second)
    assert sealing.previous_keys("") == ()
    assert sealing.previous_keys(None) == ()
    with pytest.raises(ValueError, match="not a data key"):
        sealing.previous_keys(f"{first},not-a-key")


def test_a_new_data_key_is_printed_fresh_each_time(app: Flask) -> None:
    runner = app.test_cli_runner()
    keys = {runner.invoke(args=["new-data-key"]).output.strip() for _ in range(2)}
    assert len(keys) == 2
    for key in keys:
        assert sealing.unseal_with(key, sealing.seal_with(key, "x")) == "x"
