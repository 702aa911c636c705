"""Areas (one MARAC each), the agencies that sit at it, and their users."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.domain import AgencyKind, AgencySide, Role
from marac.extensions import db
from marac.models.base import Timestamped, Versioned, enum_type
from marac.models.signin import SignInState


class Area(Timestamped, db.Model):
    __tablename__ = "area"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    # Short code used in case references, e.g. "NM" gives NM-2026-0001.
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    # Which risk checklist the area's referrals use: a file seeds/checklists/<key>.toml.
    checklist_key: Mapped[str] = mapped_column(
        sa.String(64), default="default", server_default="default"
    )

    agencies: Mapped[list[Agency]] = relationship(back_populates="area", order_by="Agency.name")

    def __repr__(self) -> str:
        return f"<Area {self.code}>"


class Agency(Timestamped, Versioned, db.Model):
    __tablename__ = "agency"
    __table_args__ = (sa.UniqueConstraint("area_id", "name", name="uq_agency_area_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    kind: Mapped[AgencyKind] = mapped_column(enum_type(AgencyKind))
    side: Mapped[AgencySide] = mapped_column(enum_type(AgencySide))
    is_active: Mapped[bool] = mapped_column(default=True)

    area: Mapped[Area] = relationship(back_populates="agencies")
    users: Mapped[list[User]] = relationship(back_populates="agency", order_by="User.display_name")

    def __repr__(self) -> str:
        return f"<Agency {self.name}>"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Timestamped, Versioned, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # The login session carries this token, not the id: replacing it signs the user out everywhere.
    session_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )

    agency: Mapped[Agency] = relationship(back_populates="users")
    sign_in: Mapped[SignInState | None] = relationship(
        lazy="joined", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled and self.agency.is_active

    def get_id(self) -> str:
        return self.session_token

    def end_sessions(self) -> None:
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.username}>"
