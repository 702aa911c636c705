"""People, their aliases, their (sensitive) contact details, and how they are related."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.domain import (
    Disability,
    EthnicGroup,
    Gender,
    RelationshipKind,
    SexualOrientation,
    TransHistory,
)
from marac.extensions import db
from marac.models.base import Timestamped, Versioned, enum_type


def _monitoring(enum_cls: type) -> Mapped:
    """An equality-monitoring answer: "not known" unless someone recorded one."""
    return mapped_column(
        enum_type(enum_cls), default=enum_cls.NOT_KNOWN, server_default=enum_cls.NOT_KNOWN.value
    )


class Person(Timestamped, Versioned, db.Model):
    __tablename__ = "person"
    __table_args__ = (
        sa.Index("ix_person_names", "family_name", "given_name"),
        # Match candidates by date of birth (marac.matching).
        sa.Index("ix_person_area_dob", "area_id", "date_of_birth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), index=True)
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100))
    date_of_birth: Mapped[date | None] = mapped_column(sa.Date)
    gender: Mapped[Gender] = mapped_column(enum_type(Gender), default=Gender.NOT_KNOWN)
    # Equality monitoring: special-category data. Shown only where
    # ``marac.policy.equality_details`` allows; counted, never listed, in the quarterly return.
    ethnic_group: Mapped[EthnicGroup] = _monitoring(EthnicGroup)
    sexual_orientation: Mapped[SexualOrientation] = _monitoring(SexualOrientation)
    trans_history: Mapped[TransHistory] = _monitoring(TransHistory)
    disability: Mapped[Disability] = _monitoring(Disability)

    aliases: Mapped[list[PersonAlias]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonAlias.id"
    )
    contact: Mapped[ContactDetails | None] = relationship(
        back_populates="person", cascade="all, delete-orphan", uselist=False
    )

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def __repr__(self) -> str:
        return f"<Person {self.id}>"


class PersonAlias(db.Model):
    __tablename__ = "person_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))

    person: Mapped[Person] = relationship(back_populates="aliases")


class ContactDetails(Versioned, db.Model):
    """Where a person lives and how to reach them safely.

    Kept apart from Person so that nothing loads it by accident: only ``marac.present`` reads it,
    and only after ``marac.policy`` has said the viewer may see it.
    """

    __tablename__ = "contact_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), unique=True)
    address: Mapped[str | None] = mapped_column(sa.Text)
    safe_phone: Mapped[str | None] = mapped_column(sa.String(64))
    # None means nobody has asked; never read as "no".
    safe_to_call: Mapped[bool | None] = mapped_column()
    safe_times: Mapped[str | None] = mapped_column(sa.String(200))
    may_leave_message: Mapped[bool | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # Who she fears, and who is and is not safe to speak to: as sensitive as the address.
    feared_people: Mapped[str | None] = mapped_column(sa.Text)
    safe_to_speak_to: Mapped[str | None] = mapped_column(sa.Text)
    not_safe_to_speak_to: Mapped[str | None] = mapped_column(sa.Text)

    person: Mapped[Person] = relationship(back_populates="contact")


class Relationship(Timestamped, Versioned, db.Model):
    """A link between two people. Parent kinds read "person is (step-)parent of other_person"."""

    __tablename__ = "relationship"
    __table_args__ = (
        sa.CheckConstraint("person_id <> other_person_id", name="not_self"),
        sa.UniqueConstraint("person_id", "other_person_id", "kind", name="uq_relationship_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    other_person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    kind: Mapped[RelationshipKind] = mapped_column(enum_type(RelationshipKind))
    started_on: Mapped[date | None] = mapped_column(sa.Date)
    separated_on: Mapped[date | None] = mapped_column(sa.Date)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    other_person: Mapped[Person] = relationship(foreign_keys=[other_person_id])
