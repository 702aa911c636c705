"""Search keys for finding likely existing people, and possible duplicates awaiting triage.

``marac.matching`` keeps these up to date whenever a person or an alias changes; nothing else
writes them. They hold normalised names only (never contact details).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.extensions import db
from marac.models.agencies import User
from marac.models.base import utcnow
from marac.models.people import Person


class PersonName(db.Model):
    """One name a person is known by (their own or an alias), normalised for lookup."""

    __tablename__ = "person_name"
    __table_args__ = (
        # Covering: a name search filtered by date of birth never reads the table itself.
        sa.Index(
            "ix_person_name_lookup",
            "area_id",
            "family_key",
            "given_key",
            "date_of_birth",
            "person_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"))
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    given_key: Mapped[str] = mapped_column(sa.String(100))
    family_key: Mapped[str] = mapped_column(sa.String(100))
    # The person's date of birth, copied here so that a search with one stays in the index.
    date_of_birth: Mapped[date | None] = mapped_column(sa.Date)


class NameVariantKey(db.Model):
    """The vocabulary of names in use, by the keys that find them from a typed name: each
    one-letter deletion and two phonetic codes. Append-only: a stale entry only widens a search,
    and the candidate scoring decides."""

    __tablename__ = "name_variant_key"
    __table_args__ = ({"sqlite_with_rowid": False},)

    key: Mapped[str] = mapped_column(sa.String(110), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)


class PossibleDuplicate(db.Model):
    """A person created by a referral who looks like someone already known, for triage."""

    __tablename__ = "possible_duplicate"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "candidate_id", name="uq_possible_duplicate_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    reasons: Mapped[str] = mapped_column(sa.String(400))
    found_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Set when a coordinator said they are different people, or merged them.
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    resolution: Mapped[str | None] = mapped_column(sa.String(40))

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    candidate: Mapped[Person] = relationship(foreign_keys=[candidate_id])
    resolved_by: Mapped[User | None] = relationship()
