"""The four criteria at their boundaries, the repeat rule's window, and the checklists as data.

Expected answers are written by hand from the rules in PRODUCT.md (The cycle, step 1).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from marac import eligibility
from marac.checklists import ChecklistError, available_checklists, get_checklist, parse_checklist
from marac.domain import ChecklistAnswer, Criterion
from marac.eligibility import Hearing

YES, NO = ChecklistAnswer.YES, ChecklistAnswer.NO
DONT_KNOW, NOT_ASKED = ChecklistAnswer.DONT_KNOW, ChecklistAnswer.NOT_ASKED
DEFAULT = get_checklist("default")


def answers(yes: int, rest: ChecklistAnswer = NO) -> dict[str, ChecklistAnswer]:
    keys = DEFAULT.factor_keys
    return {k: (YES if i < yes else rest) for i, k in enumerate(keys)}


def test_the_default_checklist_has_24_factors_and_threshold_14() -> None:
    assert len(DEFAULT.factors) == 24
    assert DEFAULT.threshold == 14


def test_a_second_checklist_differs_in_factors_and_threshold() -> None:
    young = get_checklist("young-people")
    assert (len(young.factors), young.threshold) == (12, 7)
    assert {c.key for c in available_checklists()} >= {"default", "young-people"}


@pytest.mark.parametrize(
    ("yes", "met"), [(0, False), (13, False), (14, True), (15, True), (24, True)]
)
def test_visible_high_risk_at_the_threshold(yes: int, met: bool) -> None:
    score = DEFAULT.score(answers(yes))
    assert score == yes
    assert eligibility.visible_high_risk(score, DEFAULT.threshold, 24).met is met


@pytest.mark.parametrize("unknown", [DONT_KNOW, NOT_ASKED])
def test_unknown_answers_never_count_as_yes(unknown: ChecklistAnswer) -> None:
    # 13 yes and 11 unknown: still 13, still below the threshold.
    assert DEFAULT.score(answers(13, rest=unknown)) == 13
    assert not eligibility.visible_high_risk(13, 14, 24).met
    # A missing answer is not a yes either, nor is an answer to a factor of another checklist.
    partial = {k: v for k, v in answers(14).items() if k != DEFAULT.factor_keys[0]}
    assert DEFAULT.score({**partial, "yp_injury": YES}) == 13


def test_the_threshold_belongs_to_the_checklist_file() -> None:
    young = get_checklist("young-people")
    six = {k: (YES if i < 6 else NO) for i, k in enumerate(young.factor_keys)}
    seven = {k: (YES if i < 7 else NO) for i, k in enumerate(young.factor_keys)}
    assert not eligibility.visible_high_risk(young.score(six), young.threshold, 12).met
    assert eligibility.visible_high_risk(young.score(seven), young.threshold, 12).met


@pytest.mark.parametrize(("callouts", "met"), [(0, False), (2, False), (3, True), (7, True)])
def test_potential_escalation_at_three_callouts(callouts: int, met: bool) -> None:
    result = eligibility.potential_escalation(callouts)
    assert result.met is met
    assert f"{callouts} police call-out" in result.reason


@pytest.mark.parametrize(
    ("reason", "met"), [(None, False), ("", False), ("   ", False), ("She is in danger", True)]
)
def test_professional_judgement_needs_a_written_reason(reason: str | None, met: bool) -> None:
    result = eligibility.professional_judgement(reason)
    assert result.met is met
    # The reason shown to every agency never quotes the referrer's words.
    assert "danger" not in result.reason


HEARD = date(2025, 3, 1)


@pytest.mark.parametrize(
    ("days_after", "repeat"),
    [(-1, False), (0, True), (364, True), (365, True), (366, False), (700, False)],
)
def test_repeat_within_twelve_months_of_the_last_hearing(days_after: int, repeat: bool) -> None:
    incident = HEARD + timedelta(days=days_after)
    last = Hearing(9, "NM-2025-0009", HEARD, "Northmere MARAC, March 2025")
    result = eligibility.repeat(incident, last)
    assert result.met is repeat
    assert "last heard 1 March 2025 at Northmere MARAC, March 2025 (NM-2025-0009)" in result.reason


def test_repeat_ignores_the_threshold_and_is_enough_alone() -> None:
    last = Hearing(9, "NM-2025-0009", HEARD, None)
    result = eligibility.evaluate(
        score=2,
        threshold=14,
        factor_count=24,
        police_callouts=0,
        judgement=None,
        incident_on=HEARD + timedelta(days=100),
        last=last,
    )
    assert result.eligible and result.met == (Criterion.REPEAT,)
    assert result.repeat_of == last


def test_a_referral_meeting_nothing_says_why_for_each_criterion() -> None:
    result = eligibility.evaluate(
        score=9,
        threshold=14,
        factor_count=24,
        police_callouts=0,
        judgement=None,
        incident_on=date(2026, 11, 1),
        last=None,
    )
    assert not result.eligible and result.repeat_of is None
    assert [r.reason for r in result.results] == [
        "9 of 24 risk factors answered yes; is below the threshold of 14.",
        "0 police call-outs for domestic abuse in the last 12 months; is below the 3 needed.",
        "No professional judgement was given.",
        "The victim has not been heard at a MARAC before.",
    ]


def test_last_hearing_is_the_latest_as_victim(
    app,
    make_area,
    make_person,
    make_case,  # noqa: ANN001
) -> None:
    from marac.extensions import db

    area = make_area()
    her, him = make_person(area, given="Her"), make_person(area, given="Him")
    old = make_case(area, her, (him,))
    recent = make_case(area, her, (him,))
    as_perpetrator = make_case(area, make_person(area), (her,))
    old.heard_on, recent.heard_on = date(2025, 1, 10), date(2025, 6, 1)
    recent.heard_at = "Northmere MARAC, June 2025"
    as_perpetrator.heard_on = date(2025, 12, 1)
    db.session.commit()
    found = eligibility.last_hearing(db.session, her.id)
    assert (found.case_id, found.heard_on, found.heard_at) == (
        recent.id,
        date(2025, 6, 1),
        "Northmere MARAC, June 2025",
    )
    assert eligibility.last_hearing(db.session, her.id, exclude_case_id=recent.id).case_id == old.id
    assert eligibility.last_hearing(db.session, him.id) is None


def test_last_hearing_comes_from_the_meetings_at_which_she_was_heard(
    app,
    make_area,
    make_person,
    make_case,  # noqa: ANN001
) -> None:
    from datetime import UTC, datetime

    from marac.domain import AgendaStatus, MeetingStatus
    from marac.extensions import db
    from marac.models import AgendaItem, Meeting

    area = make_area(name="Eastmere")
    her = make_person(area, given="Her")
    earlier = make_case(area, her)
    earlier.heard_on, earlier.heard_at = date(2025, 3, 1), "Recorded before meetings were kept"
    heard, listed = make_case(area, her), make_case(area, her)
    db.session.commit()

    def meeting(day: date, case, status: AgendaStatus) -> None:  # noqa: ANN001
        row = Meeting(
            area_id=area.id,
            starts_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
            referral_cutoff_on=day,
            status=MeetingStatus.APPROVED,
        )
        db.session.add(row)
        db.session.flush()
        db.session.add(AgendaItem(meeting_id=row.id, case_id=case.id, position=1, status=status))
        db.session.commit()

    meeting(date(2025, 11, 12), heard, AgendaStatus.HEARD)
    # Listed (or moved) is not heard, even at a later meeting.
    meeting(date(2026, 1, 14), listed, AgendaStatus.LISTED)
    found = eligibility.last_hearing(db.session, her.id)
    assert (found.case_id, found.heard_on, found.heard_at) == (
        heard.id,
        date(2025, 11, 12),
        "Eastmere MARAC, 12 November 2025",
    )
    # The case itself does not count as its own earlier hearing; an older record still does.
    older = eligibility.last_hearing(db.session, her.id, exclude_case_id=heard.id)
    assert (older.case_id, older.heard_on) == (earlier.id, date(2025, 3, 1))


def test_malformed_checklists_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('key = "bad"\nthreshold = 5\n[[factors]]\nkey = "a"\nquestion = "A?"\n')
    with pytest.raises(ChecklistError):
        parse_checklist(bad)
    with pytest.raises(ChecklistError):
        get_checklist("../default")
    with pytest.raises(ChecklistError):
        get_checklist("no-such-checklist")
