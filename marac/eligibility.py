"""Whether a referral is eligible for the MARAC, criterion by criterion, with the reason in words.

Any one criterion is enough:

- visible high risk: at least the checklist's threshold of "yes" answers (14 of 24 on the
  default checklist). "Don't know" and "not asked" are never counted as "yes";
- potential escalation: 3 or more police call-outs for domestic abuse in the last 12 months;
- professional judgement: the referrer's concern, with a written reason (required);
- repeat: the new incident happened within 12 months (365 days, the 365th day included) of the
  victim's last MARAC hearing. The checklist threshold does not apply to a repeat.

A referral that meets none is still saved, as not eligible, with the reasons shown. The reasons
stored here never quote the referrer's words or her answers: they are safe to show to everyone
who may read the referral's summary (see ``marac.policy.referral_summary``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac.domain import CaseRole, Criterion
from marac.policy import long_date

ESCALATION_CALLOUTS = 3
REPEAT_WINDOW_DAYS = 365


@dataclass(frozen=True)
class Hearing:
    """The victim's most recent hearing: the repeat rule's only input from other cases."""

    case_id: int
    reference: str
    heard_on: date
    heard_at: str | None


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    met: bool
    reason: str


@dataclass(frozen=True)
class Eligibility:
    results: tuple[CriterionResult, ...]
    repeat_of: Hearing | None = None

    @property
    def eligible(self) -> bool:
        return any(r.met for r in self.results)

    @property
    def met(self) -> tuple[Criterion, ...]:
        return tuple(r.criterion for r in self.results if r.met)


def visible_high_risk(score: int, threshold: int, factor_count: int) -> CriterionResult:
    met = score >= threshold
    verb = "meets" if met else "is below"
    return CriterionResult(
        Criterion.VISIBLE_HIGH_RISK,
        met,
        f"{score} of {factor_count} risk factors answered yes; {verb} the threshold of "
        f"{threshold}.",
    )


def potential_escalation(police_callouts: int | None) -> CriterionResult:
    count = police_callouts or 0
    met = count >= ESCALATION_CALLOUTS
    noun = "call-out" if count == 1 else "call-outs"
    verb = "meets" if met else "is below"
    return CriterionResult(
        Criterion.POTENTIAL_ESCALATION,
        met,
        f"{count} police {noun} for domestic abuse in the last 12 months; {verb} the "
        f"{ESCALATION_CALLOUTS} needed.",
    )


def professional_judgement(reason: str | None) -> CriterionResult:
    if reason and reason.strip():
        return CriterionResult(
            Criterion.PROFESSIONAL_JUDGEMENT,
            True,
            "The referrer gave a written reason of professional judgement.",
        )
    return CriterionResult(
        Criterion.PROFESSIONAL_JUDGEMENT, False, "No professional judgement was given."
    )


def is_repeat(incident_on: date, last_heard_on: date) -> bool:
    """Within 12 months of the last hearing: 0 to 365 days after it, both ends included."""
    return 0 <= (incident_on - last_heard_on).days <= REPEAT_WINDOW_DAYS


def repeat(incident_on: date, last: Hearing | None) -> CriterionResult:
    if last is None:
        return CriterionResult(
            Criterion.REPEAT, False, "The victim has not been heard at a MARAC before."
        )
    where = f" at {last.heard_at}" if last.heard_at else ""
    heard = f"last heard {long_date(last.heard_on)}{where} ({last.reference})"
    if is_repeat(incident_on, last.heard_on):
        return CriterionResult(Criterion.REPEAT, True, f"Repeat: {heard}.")
    return CriterionResult(
        Criterion.REPEAT,
        False,
        f"Not a repeat: {heard}, more than 12 months before the incident.",
    )


def evaluate(
    *,
    score: int,
    threshold: int,
    factor_count: int,
    police_callouts: int | None,
    judgement: str | None,
    incident_on: date,
    last: Hearing | None,
) -> Eligibility:
    results = (
        visible_high_risk(score, threshold, factor_count),
        potential_escalation(police_callouts),
        professional_judgement(judgement),
        repeat(incident_on, last),
    )
    repeat_of = last if results[-1].met else None
    return Eligibility(results, repeat_of)


def last_hearing(
    session: Session, person_id: int, exclude_case_id: int | None = None
) -> Hearing | None:
    """The most recent hearing of a case in which the person was the victim.

    The one place the repeat rule learns about earlier hearings. A hearing is a meeting at which
    the case was heard (its agenda item marked heard); hearings from before meetings were kept in
    the service are read from ``Case.heard_on`` and ``Case.heard_at``. The latest of either wins.
    """
    from marac import clock
    from marac.domain import AgendaStatus
    from marac.models import AgendaItem, Area, Case, CasePerson, Meeting
    from marac.services.meetings import meeting_title

    as_victim = (
        sa.select(Case.id, Case.reference)
        .join(CasePerson, CasePerson.case_id == Case.id)
        .where(CasePerson.person_id == person_id, CasePerson.role == CaseRole.VICTIM)
    )
    if exclude_case_id is not None:
        as_victim = as_victim.where(Case.id != exclude_case_id)
    recorded = session.execute(
        as_victim.add_columns(Case.heard_on, Case.heard_at)
        .where(Case.heard_on.is_not(None))
        .order_by(Case.heard_on.desc(), Case.id.desc())
        .limit(1)
    ).first()
    at_meeting = session.execute(
        as_victim.add_columns(Meeting, Area.name)
        .join(AgendaItem, AgendaItem.case_id == Case.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(Area, Area.id == Meeting.area_id)
        .where(AgendaItem.status == AgendaStatus.HEARD)
        .order_by(Meeting.starts_at.desc(), Case.id.desc())
        .limit(1)
    ).first()
    hearings = []
    if recorded is not None:
        hearings.append(
            Hearing(recorded.id, recorded.reference, recorded.heard_on, recorded.heard_at)
        )
    if at_meeting is not None:
        meeting = at_meeting.Meeting
        hearings.append(
            Hearing(
                at_meeting.id,
                at_meeting.reference,
                clock.local(meeting.starts_at).date(),
                meeting_title(meeting, at_meeting.name),
            )
        )
    return max(hearings, key=lambda h: (h.heard_on, h.case_id), default=None)
