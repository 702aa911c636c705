"""Referrals: who referred a case, the risk checklist answers, and why it is (not) eligible."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.domain import ChecklistAnswer, Criterion
from marac.extensions import db
from marac.models.agencies import Agency, User
from marac.models.base import enum_type, utcnow
from marac.models.cases import Case


class Referral(db.Model):
    """One referral, which created one case. Sensitive text (the professional judgement and the
    reason for sharing without consent) is read only after ``marac.policy.referral_detail``."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("marac_case.id"), unique=True)
    referring_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    referred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    officer_name: Mapped[str] = mapped_column(sa.String(120))
    officer_contact: Mapped[str | None] = mapped_column(sa.String(200))
    # The date of the incident that prompted the referral: the repeat rule counts from it.
    incident_on: Mapped[date] = mapped_column(sa.Date)
    checklist_key: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[int] = mapped_column()
    threshold: Mapped[int] = mapped_column()
    police_callouts: Mapped[int] = mapped_column()
    professional_judgement: Mapped[str | None] = mapped_column(sa.Text)
    # None: not recorded. Never read as "no".
    victim_aware: Mapped[bool | None] = mapped_column()
    consent_given: Mapped[bool | None] = mapped_column()
    no_consent_reason: Mapped[str | None] = mapped_column(sa.Text)
    eligible: Mapped[bool] = mapped_column()
    # The victim's earlier case that makes this a repeat, found by the system.
    repeat_of_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("marac_case.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    repeat_of: Mapped[Case | None] = relationship(foreign_keys=[repeat_of_case_id])
    referring_agency: Mapped[Agency] = relationship()
    referred_by: Mapped[User | None] = relationship()
    answers: Mapped[list[ReferralAnswer]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralAnswer.id"
    )
    criteria: Mapped[list[ReferralCriterion]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralCriterion.id"
    )


class ReferralAnswer(db.Model):
    """The answer to one factor of the checklist named by the referral."""

    __tablename__ = "referral_answer"
    __table_args__ = (
        sa.UniqueConstraint("referral_id", "factor_key", name="uq_referral_answer_factor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referral.id"))
    factor_key: Mapped[str] = mapped_column(sa.String(64))
    answer: Mapped[ChecklistAnswer] = mapped_column(enum_type(ChecklistAnswer))

    referral: Mapped[Referral] = relationship(back_populates="answers")


class ReferralCriterion(db.Model):
    """Whether one criterion was met when the referral was made, and why, in words."""

    __tablename__ = "referral_criterion"
    __table_args__ = (
        sa.UniqueConstraint("referral_id", "criterion", name="uq_referral_criterion_criterion"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referral.id"))
    criterion: Mapped[Criterion] = mapped_column(enum_type(Criterion))
    met: Mapped[bool] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.Text)

    referral: Mapped[Referral] = relationship(back_populates="criteria")
