"""Meetings: the agenda, who attended, the victim's voice, crimes disclosed, and the minutes.

The minutes are not stored as text: they are compiled for each reader from these rows (and the
information items and actions linked to an agenda item), so the disclosure policy decides what
each agency's copy holds.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.domain import AgendaStatus, AttendanceKind, MeetingKind, MeetingStatus
from marac.extensions import db
from marac.models.agencies import Agency, Area, User
from marac.models.base import Timestamped, Versioned, enum_type, utcnow
from marac.models.cases import Case

DEFAULT_CAPACITY = 16
DEFAULT_MINUTES_PER_CASE = 12


class Meeting(Timestamped, Versioned, db.Model):
    """One sitting of an area's MARAC.

    ``revision`` counts every change a live screen must show; screens that poll ask for it first
    and are answered "nothing new" without any rendering when it has not moved. It is raised by a
    plain UPDATE (``marac.services.meetings.touch``), not through the version check, so that two
    people adding information at once never refuse each other.
    """

    __tablename__ = "meeting"
    __table_args__ = (
        sa.Index("ix_meeting_area_starts", "area_id", "starts_at"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("minutes_per_case > 0", name="minutes_per_case_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"))
    kind: Mapped[MeetingKind] = mapped_column(enum_type(MeetingKind), default=MeetingKind.REGULAR)
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # Referrals received after this day wait for the next meeting.
    referral_cutoff_on: Mapped[date] = mapped_column(sa.Date)
    capacity: Mapped[int] = mapped_column(default=DEFAULT_CAPACITY)
    minutes_per_case: Mapped[int] = mapped_column(default=DEFAULT_MINUTES_PER_CASE)
    status: Mapped[MeetingStatus] = mapped_column(
        enum_type(MeetingStatus), default=MeetingStatus.SCHEDULED
    )
    chair_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # The agenda item being discussed. No foreign key: an agenda item already points at its
    # meeting, and a key each way would make the two tables depend on each other.
    current_item_id: Mapped[int | None] = mapped_column()
    revision: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    minutes_approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    minutes_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    area: Mapped[Area] = relationship()
    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])
    minutes_approved_by: Mapped[User | None] = relationship(foreign_keys=[minutes_approved_by_id])

    def __repr__(self) -> str:
        return f"<Meeting {self.id}>"


class AgendaItem(Timestamped, Versioned, db.Model):
    """A case listed for a meeting, in order; the chair's summary of risks is written here.

    A case is listed at most once per meeting. Moving it to a later meeting keeps this row (as
    moved, with the reason) and lists it again there.
    """

    __tablename__ = "agenda_item"
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "case_id", name="uq_agenda_item_meeting_case"),
        sa.Index("ix_agenda_item_meeting_position", "meeting_id", "position"),
        # A victim's last hearing (marac.eligibility.last_hearing) and "is it listed already".
        sa.Index("ix_agenda_item_case_status", "case_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("marac_case.id"))
    position: Mapped[int] = mapped_column()
    status: Mapped[AgendaStatus] = mapped_column(
        enum_type(AgendaStatus), default=AgendaStatus.LISTED
    )
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    moved_to_meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting.id"))
    move_reason: Mapped[str | None] = mapped_column(sa.Text)
    # When the chair first opened the case at the meeting: the per-case timer counts from here.
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    risk_summary: Mapped[str | None] = mapped_column(sa.Text)
    # Listed again at the next meeting to review the actions.
    review_next: Mapped[bool] = mapped_column(default=False)

    meeting: Mapped[Meeting] = relationship(foreign_keys=[meeting_id])
    case: Mapped[Case] = relationship()
    moved_to: Mapped[Meeting | None] = relationship(foreign_keys=[moved_to_meeting_id])


class VictimVoice(Versioned, db.Model):
    """Her views and wishes for one agenda item, told to her own worker, and what she agrees
    may be shared with the meeting. The policy reads the first as survivor confidential."""

    __tablename__ = "victim_voice"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(sa.ForeignKey("agenda_item.id"), unique=True)
    views: Mapped[str] = mapped_column(sa.Text)
    wishes: Mapped[str | None] = mapped_column(sa.Text)
    may_share: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_by_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    recorded_by: Mapped[User | None] = relationship()
    recorded_by_agency: Mapped[Agency] = relationship()


class Attendance(db.Model):
    """Someone at a meeting, with the time they accepted the confidentiality statement.

    Nothing about a case is shown at the meeting to anyone without this row.
    """

    __tablename__ = "attendance"
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "user_id", name="uq_attendance_meeting_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    kind: Mapped[AttendanceKind] = mapped_column(enum_type(AttendanceKind))
    accepted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()
    agency: Mapped[Agency] = relationship()


class Apology(db.Model):
    """An agency that sent apologies to a meeting, recorded by the chair or the coordinator."""

    __tablename__ = "apology"
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "agency_id", name="uq_apology_meeting_agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id"))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    agency: Mapped[Agency] = relationship()


class CrimeDisclosure(db.Model):
    """A crime disclosed while a case was discussed: a separate list for the police."""

    __tablename__ = "crime_disclosure"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(sa.ForeignKey("agenda_item.id"), index=True)
    description: Mapped[str] = mapped_column(sa.Text)
    disclosed_by_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    agenda_item: Mapped[AgendaItem] = relationship()
    disclosed_by_agency: Mapped[Agency] = relationship()
    recorded_by: Mapped[User | None] = relationship()
