"""What a survivor has agreed to share, and recorded overrides. ``marac.policy`` reads both."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.domain import OverrideGround
from marac.extensions import db
from marac.models.agencies import Agency, User
from marac.models.base import Timestamped, Versioned, enum_type, utcnow


class SharingConsent(Timestamped, Versioned, db.Model):
    """A person's agreement that one agency may see her disclosures and/or contact details."""

    __tablename__ = "sharing_consent"
    __table_args__ = (sa.Index("ix_sharing_consent_agency_person", "agency_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    covers_disclosures: Mapped[bool] = mapped_column(default=False)
    covers_contact: Mapped[bool] = mapped_column(default=False)
    given_on: Mapped[date] = mapped_column(sa.Date)
    withdrawn_on: Mapped[date | None] = mapped_column(sa.Date)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    agency: Mapped[Agency] = relationship()


class DisclosureOverride(db.Model):
    """Opens one named item to one named agency, on a recorded ground. Revoked, never edited."""

    __tablename__ = "disclosure_override"
    __table_args__ = (
        # One standing override per item and agency: two people recording the same one at the
        # same moment get one row and a clear message, not two rows to revoke.
        sa.Index(
            "uq_disclosure_override_standing",
            "item_id",
            "agency_id",
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("information_item.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    ground: Mapped[OverrideGround] = mapped_column(enum_type(OverrideGround))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    revoke_reason: Mapped[str | None] = mapped_column(sa.Text)

    agency: Mapped[Agency] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
