"""Referrals, the queue, match candidates and merges, presented for one viewer.

Like ``marac.present``: templates get these objects only, and sensitive referral text (the
professional-judgement reason, the reason for sharing without consent, each checklist answer)
is loaded only when ``policy.referral_detail`` opens it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import policy
from marac.checklists import ChecklistError, get_checklist
from marac.domain import ChecklistAnswer, Criterion
from marac.matching import Candidate
from marac.models import (
    Agency,
    Case,
    CasePerson,
    PossibleDuplicate,
    Referral,
    ReferralAnswer,
    ReferralCriterion,
)
from marac.present import CaseRow, case_rows
from marac.viewer import CaseLinks, Viewer, links_for_cases


@dataclass(frozen=True)
class PresentedCriterion:
    label: str
    met: bool
    reason: str


@dataclass(frozen=True)
class PresentedAnswer:
    question: str
    answer_label: str


@dataclass(frozen=True)
class PresentedReferralDetail:
    officer_name: str
    officer_contact: str | None
    answers: tuple[PresentedAnswer, ...]
    professional_judgement: str | None
    victim_aware: bool | None
    consent_given: bool | None
    no_consent_reason: str | None


@dataclass(frozen=True)
class PresentedReferral:
    eligible: bool
    incident_on: date
    checklist_title: str
    score: int
    threshold: int
    factor_count: int
    police_callouts: int
    criteria: tuple[PresentedCriterion, ...]
    # The earlier case that makes this a repeat, linked only when the viewer may open it.
    repeat_case_id: int | None
    detail: PresentedReferralDetail | None
    detail_note: str | None


# Said in place of the reason for referral. Which one is the policy's call: a viewer it withholds
# the referral from is never told whether a form exists.
REFERRAL_NOT_SHOWN = "Not shown to your agency."
NO_REFERRAL_RECORDED = "No referral form is recorded in the service for this case."


def referral_note(
    viewer: Viewer, links: CaseLinks, referral: PresentedReferral | None
) -> str | None:
    """What to say where no referral is presented: withheld, or none recorded."""
    if referral is not None:
        return None
    if not referral_summary_shown(viewer, links):
        return REFERRAL_NOT_SHOWN
    return NO_REFERRAL_RECORDED


def _answer_label(answer: ChecklistAnswer) -> str:
    return answer.label


_DETAIL_COLUMNS = (
    Referral.officer_name,
    Referral.officer_contact,
    Referral.professional_judgement,
    Referral.victim_aware,
    Referral.consent_given,
    Referral.no_consent_reason,
)


# Built once: the case page runs them on every view.
_SUMMARY_COLUMNS = (
    Referral.id,
    Referral.case_id,
    Referral.eligible,
    Referral.incident_on,
    Referral.checklist_key,
    Referral.score,
    Referral.threshold,
    Referral.police_callouts,
    Referral.repeat_of_case_id,
)
_IN_CASES = Referral.case_id.in_(sa.bindparam("case_ids", expanding=True))
_REFERRAL_SUMMARIES = sa.select(*_SUMMARY_COLUMNS).where(_IN_CASES)
_REFERRALS_IN_DETAIL = sa.select(*_SUMMARY_COLUMNS, *_DETAIL_COLUMNS).where(_IN_CASES)
_CRITERIA = (
    sa.select(ReferralCriterion)
    .where(ReferralCriterion.referral_id.in_(sa.bindparam("referral_ids", expanding=True)))
    .order_by(ReferralCriterion.id)
)
_ANSWERS = (
    sa.select(ReferralAnswer)
    .where(ReferralAnswer.referral_id.in_(sa.bindparam("referral_ids", expanding=True)))
    .order_by(ReferralAnswer.id)
)
_CASES = sa.select(Case).where(Case.id.in_(sa.bindparam("case_ids", expanding=True)))


def present_referral(
    session: Session, viewer: Viewer, case: Case, links: CaseLinks
) -> PresentedReferral | None:
    return present_referrals(session, viewer, {case.id: links}).get(case.id)


def present_referrals(
    session: Session, viewer: Viewer, links: Mapping[int, CaseLinks]
) -> dict[int, PresentedReferral]:
    """The referral of each case the policy shows it for, in a fixed number of queries
    whatever the number of cases. Cases left out: withheld, or no referral recorded."""
    shown = [
        case_id
        for case_id, case_links in links.items()
        if referral_summary_shown(viewer, case_links)
    ]
    if not shown:
        return {}
    detail_decisions = {
        case_id: policy.referral_detail(viewer, links[case_id]) for case_id in shown
    }
    opened = [case_id for case_id in shown if detail_decisions[case_id].full]
    closed = [case_id for case_id in shown if not detail_decisions[case_id].full]
    # Summary columns, and the sensitive ones only for the referrals the policy opens.
    rows: list[sa.Row] = []
    for case_ids, statement in ((opened, _REFERRALS_IN_DETAIL), (closed, _REFERRAL_SUMMARIES)):
        if case_ids:
            rows += session.execute(statement, {"case_ids": case_ids}).all()
    if not rows:
        return {}
    referral_ids = [row.id for row in rows]
    criteria: dict[int, list[PresentedCriterion]] = defaultdict(list)
    for criterion in session.scalars(_CRITERIA, {"referral_ids": referral_ids}):
        criteria[criterion.referral_id].append(
            PresentedCriterion(criterion.criterion.label, criterion.met, criterion.reason)
        )
    earlier_ids = {row.repeat_of_case_id for row in rows if row.repeat_of_case_id is not None}
    openable_earlier: set[int] = set()
    if earlier_ids:
        earlier = session.scalars(_CASES, {"case_ids": list(earlier_ids)}).all()
        for case_id, earlier_links in links_for_cases(session, viewer, earlier).items():
            if policy.case_access(viewer, earlier_links).full:
                openable_earlier.add(case_id)

    open_ids = [row.id for row in rows if detail_decisions[row.case_id].full]
    answers: dict[int, list[ReferralAnswer]] = defaultdict(list)
    if open_ids:
        for answer in session.scalars(_ANSWERS, {"referral_ids": open_ids}):
            answers[answer.referral_id].append(answer)

    presented = {}
    for row in rows:
        try:
            checklist = get_checklist(row.checklist_key)
        except ChecklistError:
            checklist = None
        detail_decision = detail_decisions[row.case_id]
        detail = None
        if detail_decision.full:
            referral = row
            questions = {f.key: f.question for f in checklist.factors} if checklist else {}
            detail = PresentedReferralDetail(
                officer_name=referral.officer_name,
                officer_contact=referral.officer_contact,
                answers=tuple(
                    PresentedAnswer(
                        questions.get(a.factor_key, a.factor_key), _answer_label(a.answer)
                    )
                    for a in answers[row.id]
                ),
                professional_judgement=referral.professional_judgement,
                victim_aware=referral.victim_aware,
                consent_given=referral.consent_given,
                no_consent_reason=referral.no_consent_reason,
            )
        presented[row.case_id] = PresentedReferral(
            eligible=row.eligible,
            incident_on=row.incident_on,
            checklist_title=checklist.title if checklist else row.checklist_key,
            score=row.score,
            threshold=row.threshold,
            factor_count=len(checklist.factors) if checklist else 0,
            police_callouts=row.police_callouts,
            criteria=tuple(criteria[row.id]),
            repeat_case_id=row.repeat_of_case_id
            if row.repeat_of_case_id in openable_earlier
            else None,
            detail=detail,
            detail_note=detail_decision.summary,
        )
    return presented


def referral_summary_shown(viewer: Viewer, links: CaseLinks) -> bool:
    return policy.referral_summary(viewer, links).full


# --- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    case: CaseRow
    referring_agency: str | None
    criteria_met: tuple[str, ...]
    repeat: bool
    possible_duplicates: int


def queue_rows(session: Session, viewer: Viewer, cases: Iterable[Case]) -> list[QueueRow]:
    """Rows for the coordinator's queue: a fixed number of queries whatever the page size."""
    cases = list(cases)
    if not cases:
        return []
    links = links_for_cases(session, viewer, cases)
    rows = case_rows(session, viewer, cases, links)
    ids = [c.id for c in cases]
    met: dict[int, list[str]] = defaultdict(list)
    for case_id, criterion in session.execute(
        sa.select(Referral.case_id, ReferralCriterion.criterion)
        .join(ReferralCriterion, ReferralCriterion.referral_id == Referral.id)
        .where(Referral.case_id.in_(ids), ReferralCriterion.met.is_(True))
        .order_by(ReferralCriterion.id)
    ):
        met[case_id].append(criterion)
    agencies: Mapping[int, str] = dict(
        session.execute(
            sa.select(Case.id, Agency.name)
            .join(Agency, Agency.id == Case.referring_agency_id)
            .where(Case.id.in_(ids))
        ).all()
    )
    duplicates = dict(
        session.execute(
            sa.select(CasePerson.case_id, sa.func.count(PossibleDuplicate.id))
            .join(PossibleDuplicate, PossibleDuplicate.person_id == CasePerson.person_id)
            .where(CasePerson.case_id.in_(ids), PossibleDuplicate.resolved_at.is_(None))
            .group_by(CasePerson.case_id)
        ).all()
    )
    by_id = {row.case_id: row for row in rows}
    result = []
    for case in cases:
        if case.id not in by_id:
            continue
        criteria = met.get(case.id, [])
        result.append(
            QueueRow(
                case=by_id[case.id],
                referring_agency=agencies.get(case.id)
                if policy.referral_source(viewer, links[case.id]).full
                else None,
                criteria_met=tuple(Criterion(c).label for c in criteria),
                repeat=Criterion.REPEAT in criteria,
                possible_duplicates=duplicates.get(case.id, 0),
            )
        )
    return result


# --- match candidates ------------------------------------------------------------------------


@dataclass(frozen=True)
class PresentedCandidate:
    person_id: int
    label: str
    date_of_birth: date | None
    aliases: tuple[str, ...]
    reasons: tuple[str, ...]
    # Cases the viewer may open in which this person is shown, as (case id, reference, role).
    cases: tuple[tuple[int, str, str], ...]


def present_candidates(
    session: Session, viewer: Viewer, candidates: Iterable[Candidate]
) -> list[PresentedCandidate]:
    """Candidates have already been filtered by policy.matchable_people_clause in SQL; each is
    checked again here with the single decision, and their cases are listed only where the
    viewer may open the case and see the person in it."""
    candidates = list(candidates)
    if not candidates:
        return []
    ids = [c.person_id for c in candidates]
    memberships = session.execute(
        sa.select(CasePerson.person_id, CasePerson.case_id).where(CasePerson.person_id.in_(ids))
    ).all()
    cases = {
        c.id: c
        for c in session.scalars(
            sa.select(Case).where(Case.id.in_({m.case_id for m in memberships}))
        )
    }
    links = links_for_cases(session, viewer, cases.values())
    by_person: dict[int, list[int]] = defaultdict(list)
    for person_id, case_id in memberships:
        by_person[person_id].append(case_id)
    presented = []
    for candidate in candidates:
        person_cases = [links[case_id] for case_id in by_person[candidate.person_id]]
        area_id = viewer.area_id  # candidates are searched within the viewer's area only
        if not policy.match_candidate(viewer, candidate.person_id, area_id, person_cases).full:
            continue
        shown = tuple(
            sorted(
                (
                    case_links.case_id,
                    cases[case_links.case_id].reference,
                    case_links.roles[candidate.person_id].label,
                )
                for case_links in person_cases
                if policy.person_identity(viewer, case_links, candidate.person_id).full
            )
        )
        presented.append(
            PresentedCandidate(
                person_id=candidate.person_id,
                label=candidate.full_name,
                date_of_birth=candidate.date_of_birth,
                aliases=candidate.aliases,
                reasons=candidate.reasons,
                cases=shown,
            )
        )
    return presented
