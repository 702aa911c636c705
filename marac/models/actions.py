"""Agreed actions on a case, their status history, and the outbox of reminder emails."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.domain import ActionStatus, ActionSubject
from marac.extensions import db
from marac.models.agencies import Agency, User
from marac.models.base import Timestamped, Versioned, enum_type, utcnow
from marac.models.cases import Case
from marac.models.people import Person


class Action(Timestamped, Versioned, db.Model):
    """One SMART action: one owner agency, whom it is about, what will be done, by when.

    ``area_id`` repeats the case's area (cases never move area) so that the dashboards of one
    area read one index range instead of joining every action in the country to its case.
    """

    __tablename__ = "action"
    __table_args__ = (
        # My agency's actions: due soon, overdue, done.
        sa.Index("ix_action_owner_status_due", "owner_agency_id", "status", "due_on"),
        # The coordinator's overdue list and the reviewers' lists, one area at a time.
        # (owner_agency_id and case_id last: counted by agency without reading the rows.)
        sa.Index(
            "ix_action_area_status_due", "area_id", "status", "due_on", "owner_agency_id", "case_id"
        ),
        sa.Index("ix_action_area_subject_status_due", "area_id", "subject", "status", "due_on"),
        # Actions not updated since a date.
        sa.Index("ix_action_area_status_updated", "area_id", "status", "updated_at"),
        # The case page, and "cases with no action about a child / about him".
        sa.Index("ix_action_case_subject", "case_id", "subject"),
        sa.CheckConstraint(
            "(subject = 'household') = (subject_person_id IS NULL)",
            name="person_subject_names_a_person",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("marac_case.id"))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"))
    owner_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    # A named person of the owner agency, optional.
    owner_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    subject: Mapped[ActionSubject] = mapped_column(enum_type(ActionSubject))
    # None for the household; otherwise a person of the case with the subject's role. Indexed
    # because merging two person records moves every row that points at the duplicate.
    subject_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    # A calendar date: "overdue" is judged against today in the service's time zone.
    due_on: Mapped[date] = mapped_column(sa.Date)
    shared_in_detail: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus), default=ActionStatus.OPEN)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The agenda item at which it was agreed; the minutes list it there.
    agenda_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agenda_item.id"), index=True)

    case: Mapped[Case] = relationship()
    owner_agency: Mapped[Agency] = relationship()
    owner_user: Mapped[User | None] = relationship(foreign_keys=[owner_user_id])
    subject_person: Mapped[Person | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    history: Mapped[list[ActionStatusChange]] = relationship(
        back_populates="action",
        order_by="ActionStatusChange.changed_at, ActionStatusChange.id",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Action {self.id}>"


class ActionStatusChange(db.Model):
    """One change of an action's status, with the note that explains it. Never edited."""

    __tablename__ = "action_status_change"
    __table_args__ = (
        # Actions marked not completed in a period, and the agencies that did it repeatedly:
        # one area's range, with the action ids in the index itself.
        sa.Index(
            "ix_action_status_change_area_to_at", "area_id", "to_status", "changed_at", "action_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id"), index=True)
    # The action's area (actions never move area), repeated so that one area's changes in a
    # period are read without looking up every change's action in the country.
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"))
    # None for the action's creation.
    from_status: Mapped[ActionStatus | None] = mapped_column(
        enum_type(ActionStatus, name="from_actionstatus")
    )
    to_status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus))
    note: Mapped[str | None] = mapped_column(sa.Text)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    action: Mapped[Action] = relationship(back_populates="history")
    changed_by: Mapped[User | None] = relationship()


class OutboxEmail(db.Model):
    """An email waiting to be sent (or sent). Bodies never carry case detail: only a link.

    ``dedupe_key`` makes queueing idempotent, e.g. one reminder per user per day.
    """

    __tablename__ = "outbox_email"
    __table_args__ = (sa.Index("ix_outbox_email_unsent", "sent_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    recipient_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id"), index=True
    )
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    dedupe_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    recipient_user: Mapped[User | None] = relationship()
