"""Partner contact: a survivor's record with her partner-contact (PC) worker.

Everything here is hers. ``marac.policy.partner_contact_record`` opens it to her own named worker
and the chair; the coordinator learns only that it exists and what work is due; nothing about it
ever reaches a perpetrator-facing agency or another partner's worker.

The record is kept per survivor and PC agency, not per case: a partner in no MARAC case still
gets partner contact. Her named worker is the current partner-contact ``Involvement``; handing
her over changes that, and moves her open tasks.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.domain import ContactConsent, ContactMethod, ContactOutcome, PcTaskKind, PcTaskStatus
from marac.extensions import db
from marac.models.agencies import Agency, User
from marac.models.base import Timestamped, Versioned, enum_type, utcnow
from marac.models.people import Person
from marac.models.programmes import ProgrammeEvent

DEFAULT_CONTACT_EVERY_DAYS = 28


class PartnerContactRecord(Timestamped, Versioned, db.Model):
    __tablename__ = "partner_contact_record"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "agency_id", name="uq_partner_contact_person_agency"),
        # Contacts due, one area at a time.
        sa.Index("ix_partner_contact_area_next", "area_id", "closed_on", "next_contact_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    started_on: Mapped[date] = mapped_column(sa.Date)

    consent: Mapped[ContactConsent] = mapped_column(
        enum_type(ContactConsent), default=ContactConsent.NOT_ASKED
    )
    consent_on: Mapped[date | None] = mapped_column(sa.Date)
    # What she agrees may be shared, and with whom, in her words as recorded.
    sharing_agreed: Mapped[str | None] = mapped_column(sa.Text)

    # How to reach her safely: for her worker (and the chair) only.
    safe_phone: Mapped[str | None] = mapped_column(sa.String(64))
    safe_email: Mapped[str | None] = mapped_column(sa.String(254))
    safe_times: Mapped[str | None] = mapped_column(sa.String(200))
    may_leave_message: Mapped[bool | None] = mapped_column()

    # Her own account of risk, and her hopes and fears about his programme.
    risk_account: Mapped[str | None] = mapped_column(sa.Text)
    hopes_fears: Mapped[str | None] = mapped_column(sa.Text)
    safety_plan: Mapped[str | None] = mapped_column(sa.Text)
    safety_plan_on: Mapped[date | None] = mapped_column(sa.Date)

    # Planned contact: every so many days, weekly while stepped up after a drop-out or
    # suspension. ``next_contact_on`` is kept up to date so that "contacts due" is one range.
    contact_every_days: Mapped[int] = mapped_column(default=DEFAULT_CONTACT_EVERY_DAYS)
    stepped_up_until: Mapped[date | None] = mapped_column(sa.Date)
    last_contact_on: Mapped[date | None] = mapped_column(sa.Date)
    next_contact_on: Mapped[date | None] = mapped_column(sa.Date)

    # Closing is a decision with a reason, never automatic (not when he leaves the programme).
    closed_on: Mapped[date | None] = mapped_column(sa.Date)
    closed_reason: Mapped[str | None] = mapped_column(sa.Text)

    person: Mapped[Person] = relationship()
    agency: Mapped[Agency] = relationship()
    contacts: Mapped[list[PartnerContactEntry]] = relationship(
        back_populates="record",
        order_by="PartnerContactEntry.occurred_on.desc(), PartnerContactEntry.id.desc()",
    )
    children: Mapped[list[ChildImpact]] = relationship(
        back_populates="record", order_by="ChildImpact.id"
    )


class PartnerContactEntry(db.Model):
    """One contact (or attempt) with her: the contact log. Never edited."""

    __tablename__ = "partner_contact_entry"
    __table_args__ = (sa.Index("ix_partner_contact_entry_record", "record_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_contact_record.id"))
    occurred_on: Mapped[date] = mapped_column(sa.Date)
    method: Mapped[ContactMethod] = mapped_column(enum_type(ContactMethod))
    outcome: Mapped[ContactOutcome] = mapped_column(enum_type(ContactOutcome))
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    record: Mapped[PartnerContactRecord] = relationship(back_populates="contacts")
    recorded_by: Mapped[User | None] = relationship()


class ChildImpact(Versioned, db.Model):
    """For one child: what his abuse does to them, as assessed with her, and any plan."""

    __tablename__ = "child_impact"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_contact_record.id"), index=True)
    # The child as she names them; a person on record when known.
    child_name: Mapped[str] = mapped_column(sa.String(200))
    child_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    impact: Mapped[str] = mapped_column(sa.Text)
    plan: Mapped[str | None] = mapped_column(sa.Text)
    assessed_on: Mapped[date] = mapped_column(sa.Date)

    record: Mapped[PartnerContactRecord] = relationship(back_populates="children")


class PcTask(Timestamped, Versioned, db.Model):
    """Work for her PC worker after a programme event that raises risk."""

    __tablename__ = "pc_task"
    __table_args__ = (
        # A worker's open tasks by due date; the coordinator's by area.
        sa.Index("ix_pc_task_worker_status_due", "worker_id", "status", "due_on"),
        sa.Index("ix_pc_task_area_status_due", "area_id", "status", "due_on"),
        sa.UniqueConstraint("record_id", "event_id", name="uq_pc_task_record_event"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"))
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_contact_record.id"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_event.id"), index=True)
    # Her named PC worker when the task was made (moved on handover); None: nobody named yet.
    worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    kind: Mapped[PcTaskKind] = mapped_column(enum_type(PcTaskKind))
    due_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[PcTaskStatus] = mapped_column(enum_type(PcTaskStatus), default=PcTaskStatus.OPEN)
    done_on: Mapped[date | None] = mapped_column(sa.Date)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(sa.Text)

    record: Mapped[PartnerContactRecord] = relationship()
    event: Mapped[ProgrammeEvent] = relationship()
    worker: Mapped[User | None] = relationship(foreign_keys=[worker_id])
