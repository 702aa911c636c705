"""Cases, who is in them, which agencies work with whom, and what agencies know."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.domain import (
    CaseRole,
    CaseStatus,
    Classification,
    InvolvementKind,
    ItemNature,
    ItemSource,
)
from marac.extensions import db
from marac.models.agencies import Agency, Area, User
from marac.models.base import Timestamped, Versioned, enum_type, utcnow
from marac.models.people import Person


class Case(Timestamped, Versioned, db.Model):
    __tablename__ = "marac_case"
    __table_args__ = (sa.Index("ix_marac_case_area_status", "area_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"))
    reference: Mapped[str] = mapped_column(sa.String(32), unique=True)
    status: Mapped[CaseStatus] = mapped_column(enum_type(CaseStatus), default=CaseStatus.REFERRED)
    referring_agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    referred_on: Mapped[date] = mapped_column(sa.Date)
    closed_on: Mapped[date | None] = mapped_column(sa.Date)
    # When and where the case was last heard: filled when a meeting that heard it closes, and
    # the only record of hearings from before meetings were kept here. The repeat rule reads
    # the meetings and these through marac.eligibility.last_hearing.
    heard_on: Mapped[date | None] = mapped_column(sa.Date)
    heard_at: Mapped[str | None] = mapped_column(sa.String(160))

    area: Mapped[Area] = relationship()
    referring_agency: Mapped[Agency | None] = relationship()
    members: Mapped[list[CasePerson]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CasePerson.id"
    )

    def __repr__(self) -> str:
        return f"<Case {self.reference}>"


class CaseReferenceCounter(db.Model):
    """The last case number given out in one area in one year ("NM-2026-0042" -> 42).

    Referrals take the next number by incrementing this row in the database, which hands the
    numbers out one at a time, so referrals saved at the same instant never share a reference
    (``marac.services.referrals.next_reference``).
    """

    __tablename__ = "case_reference_counter"

    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column()


class CasePerson(db.Model):
    __tablename__ = "case_person"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "person_id", name="uq_case_person_case_person"),
        # One victim per case: a partial unique index, understood by SQLite and PostgreSQL.
        sa.Index(
            "uq_case_person_one_victim",
            "case_id",
            unique=True,
            sqlite_where=sa.text("role = 'victim'"),
            postgresql_where=sa.text("role = 'victim'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("marac_case.id"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    role: Mapped[CaseRole] = mapped_column(enum_type(CaseRole))

    case: Mapped[Case] = relationship(back_populates="members")
    person: Mapped[Person] = relationship()


class Involvement(Timestamped, Versioned, db.Model):
    """An agency working with a person, optionally through a named worker."""

    __tablename__ = "involvement"
    __table_args__ = (sa.Index("ix_involvement_agency_person", "agency_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    kind: Mapped[InvolvementKind] = mapped_column(enum_type(InvolvementKind))
    started_on: Mapped[date] = mapped_column(sa.Date)
    ended_on: Mapped[date | None] = mapped_column(sa.Date)

    agency: Mapped[Agency] = relationship()
    person: Mapped[Person] = relationship()
    worker: Mapped[User | None] = relationship()


class InformationItem(Versioned, db.Model):
    """One thing an agency knows about a case, with where it came from and who it is for."""

    __tablename__ = "information_item"
    __table_args__ = (
        sa.CheckConstraint(
            "classification <> 'agency_only' OR withheld_reason IS NOT NULL",
            name="agency_only_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("marac_case.id"), index=True)
    # None: about the household as a whole.
    about_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[ItemSource] = mapped_column(enum_type(ItemSource))
    nature: Mapped[ItemNature] = mapped_column(enum_type(ItemNature))
    classification: Mapped[Classification] = mapped_column(enum_type(Classification))
    # Shared with the meeting when an agency holds something it will not share.
    withheld_reason: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The agenda item it was recorded for (research before a meeting, or at the meeting): what
    # the minutes list as shared. None for what was recorded outside any meeting.
    agenda_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agenda_item.id"), index=True)

    case: Mapped[Case] = relationship()
    about_person: Mapped[Person | None] = relationship()
    recorded_by_agency: Mapped[Agency] = relationship()
    recorded_by: Mapped[User | None] = relationship()
