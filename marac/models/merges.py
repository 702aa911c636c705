"""Merges of two person records, kept so that each can be undone exactly."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.extensions import db
from marac.models.agencies import User
from marac.models.base import utcnow
from marac.models.people import Person


class PersonMerge(db.Model):
    """A coordinator merged ``duplicate`` into ``kept``. Undone, never deleted."""

    __tablename__ = "person_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), index=True)
    kept_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    duplicate_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    # The alias added to the kept record carrying the duplicate's name; removed on undo.
    added_alias_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person_alias.id", ondelete="SET NULL")
    )
    # What stayed with the duplicate record and why, in words (never values).
    not_moved: Mapped[str | None] = mapped_column(sa.Text)
    # The equality questions (person columns, comma-separated) the kept record had not answered
    # and took from the duplicate; undoing the merge empties exactly these.
    filled_answers: Mapped[str | None] = mapped_column(sa.Text)
    merged_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    merged_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    undone_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    undone_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    kept: Mapped[Person] = relationship(foreign_keys=[kept_id])
    duplicate: Mapped[Person] = relationship(foreign_keys=[duplicate_id])
    merged_by: Mapped[User] = relationship(foreign_keys=[merged_by_id])
    undone_by: Mapped[User | None] = relationship(foreign_keys=[undone_by_id])
    moves: Mapped[list[PersonMergeMove]] = relationship(
        back_populates="merge", cascade="all, delete-orphan", order_by="PersonMergeMove.id"
    )


class PersonMergeMove(db.Model):
    """One row whose person column was moved from the duplicate to the kept record."""

    __tablename__ = "person_merge_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    merge_id: Mapped[int] = mapped_column(sa.ForeignKey("person_merge.id"), index=True)
    table_name: Mapped[str] = mapped_column(sa.String(64))
    column_name: Mapped[str] = mapped_column(sa.String(64))
    row_id: Mapped[int] = mapped_column()

    merge: Mapped[PersonMerge] = relationship(back_populates="moves")
