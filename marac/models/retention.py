"""What is left of a case deleted at the end of its retention period: no personal data."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marac.extensions import db
from marac.models.base import utcnow


class CaseTombstone(db.Model):
    """A deleted case's reference, dates and how much was deleted; never a name or a text.

    ``case_id`` is the deleted case's old number (no foreign key: the row is gone), so that
    audit entries about it can still be read against this one.
    """

    __tablename__ = "case_tombstone"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(unique=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), index=True)
    reference: Mapped[str] = mapped_column(sa.String(32), unique=True)
    referred_on: Mapped[date] = mapped_column(sa.Date)
    closed_on: Mapped[date] = mapped_column(sa.Date)
    deleted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    retention_years: Mapped[int] = mapped_column()
    # Rows deleted, by table, as "table: n" lines: counts only.
    counts: Mapped[str] = mapped_column(sa.Text)
