"""Behaviour-change programme records: where a man stands, and what the programme recorded.

What crosses from here to his partners' workers is decided by ``marac.policy`` (the minimum:
status, attendance, a category of reason, "he disclosed violence on <date>"); the ``detail``
column (his words, the facilitator's notes) never leaves the programme and the chair.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.domain import ProgrammeEventKind, ProgrammeStatus, StatusReason
from marac.extensions import db
from marac.models.agencies import Agency, User
from marac.models.base import Timestamped, Versioned, enum_type
from marac.models.people import Person


class ProgrammeRecord(Timestamped, Versioned, db.Model):
    """One man in one programme agency's programme."""

    __tablename__ = "programme_record"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "agency_id", name="uq_programme_record_person_agency"),
        sa.Index("ix_programme_record_area_status", "area_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    status: Mapped[ProgrammeStatus] = mapped_column(
        enum_type(ProgrammeStatus), default=ProgrammeStatus.REFERRED
    )
    status_on: Mapped[date] = mapped_column(sa.Date)

    person: Mapped[Person] = relationship()
    agency: Mapped[Agency] = relationship()
    events: Mapped[list[ProgrammeEvent]] = relationship(
        back_populates="record",
        order_by="ProgrammeEvent.occurred_on.desc(), ProgrammeEvent.id.desc()",
    )


class ProgrammeEvent(Timestamped, db.Model):
    """A dated thing the programme recorded about him. Never edited: a correction is a new one."""

    __tablename__ = "programme_event"
    __table_args__ = (
        sa.Index("ix_programme_event_record_on", "record_id", "occurred_on"),
        sa.CheckConstraint("(kind = 'status') = (status IS NOT NULL)", name="status_for_status"),
        sa.CheckConstraint(
            "(kind = 'attendance') = (attended IS NOT NULL)", name="attended_for_attendance"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_record.id"))
    kind: Mapped[ProgrammeEventKind] = mapped_column(enum_type(ProgrammeEventKind))
    occurred_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[ProgrammeStatus | None] = mapped_column(enum_type(ProgrammeStatus))
    reason: Mapped[StatusReason | None] = mapped_column(enum_type(StatusReason))
    attended: Mapped[bool | None] = mapped_column()
    # His words, the facilitator's notes: the programme and the chair only.
    detail: Mapped[str | None] = mapped_column(sa.Text)
    # Whether his disclosure may be named as the source when risk is passed on, so that her
    # own account need not be.
    may_cite: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    record: Mapped[ProgrammeRecord] = relationship(back_populates="events")
    recorded_by: Mapped[User | None] = relationship()
