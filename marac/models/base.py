"""Column helpers shared by every model family."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_type(enum_cls: type[StrEnum], name: str | None = None) -> sa.Enum:
    """Store the enumeration's value as text with a CHECK constraint, portable to every database.

    ``name`` names the CHECK constraint; a table with two columns of one enumeration needs a
    second name (PostgreSQL wants constraint names unique within a table).
    """
    return sa.Enum(
        enum_cls,
        values_callable=lambda members: [member.value for member in members],
        native_enum=False,
        create_constraint=True,
        length=40,
        name=name or enum_cls.__name__.lower(),
        validate_strings=True,
    )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class Versioned:
    """Optimistic concurrency: a stale write raises StaleDataError, which routes turn into 409."""

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}
