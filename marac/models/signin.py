"""What signing in needs beyond the password: the second factor, recovery codes, lock-outs.

Kept apart from ``User`` on purpose: every sign-in writes here (the last code used, failures),
and those writes must not bump the account's version and turn an administrator's edit of the
account into a false "someone else changed this first".
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marac import sealing
from marac.extensions import db
from marac.models.base import utcnow


class SignInState(db.Model):
    __tablename__ = "sign_in_state"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    # The base32 TOTP secret (RFC 6238), sealed with the data key (marac.sealing); read and set
    # through ``totp_secret``. Set when enrolment starts, trusted once confirmed.
    totp_secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The last 30-second step whose code was accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Failures in a row (password or code); reset by a success or when a lock starts.
    failed_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def totp_secret(self) -> str | None:
        return None if self.totp_secret_sealed is None else sealing.unseal(self.totp_secret_sealed)

    @totp_secret.setter
    def totp_secret(self, secret: str | None) -> None:
        self.totp_secret_sealed = None if secret is None else sealing.seal(secret)

    @property
    def enrolled(self) -> bool:
        return self.totp_secret_sealed is not None and self.totp_confirmed_at is not None


class RecoveryCode(db.Model):
    """A one-time code for signing in without the authenticator app. Only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # The first characters of the code, kept in clear so that one hash is checked, not ten.
    lookup: Mapped[str] = mapped_column(sa.String(8))
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
