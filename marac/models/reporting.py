"""An area's settings for its reports: the figures the dashboard measures the MARAC against."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marac.extensions import db
from marac.models.base import Versioned, utcnow


class AreaReportSettings(Versioned, db.Model):
    """One row per area, made the first time someone saves it. Nothing here is about a person."""

    __tablename__ = "area_report_settings"
    __table_args__ = (
        sa.CheckConstraint(
            "adult_female_population IS NULL OR adult_female_population > 0",
            name="population_positive",
        ),
        sa.CheckConstraint("idva_fte IS NULL OR idva_fte >= 0", name="idva_fte_not_negative"),
    )

    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), primary_key=True)
    # Women aged 16 and over living in the area (the recommended volume is per 10,000 of them).
    adult_female_population: Mapped[int | None] = mapped_column()
    # Full-time-equivalent IDVAs working in the area (about 100 cases a year each).
    idva_fte: Mapped[float | None] = mapped_column(sa.Float)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
