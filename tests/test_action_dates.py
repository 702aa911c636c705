"""Due dates are calendar dates judged against today where the service is (Europe/London by
default), across midnight, the clock changes, month ends and leap years. And vague wording."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from marac import clock
from marac.wording import vagueness_warning

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("utc", "london_day"),
    [
        # Summer time (UTC+1): half past eleven at night in UTC is already tomorrow in London.
        (datetime(2026, 7, 14, 23, 30, tzinfo=UTC), date(2026, 7, 15)),
        (datetime(2026, 7, 14, 22, 59, tzinfo=UTC), date(2026, 7, 14)),
        # Winter (UTC+0): the same day.
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2026, 12, 31)),
        # The night the clocks go forward (29 March 2026, 01:00 UTC).
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 28, 23, 59, tzinfo=UTC), date(2026, 3, 28)),
        # The night before the clocks go back (25 October 2026, 01:00 UTC): 23:30 UTC on the
        # 24th is 00:30 on the 25th in London.
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),
        # Month and year ends in summer time.
        (datetime(2026, 8, 31, 23, 15, tzinfo=UTC), date(2026, 9, 1)),
    ],
)
def test_today_is_the_date_in_london(utc: datetime, london_day: date) -> None:
    assert clock.today_in(LONDON, utc) == london_day


def test_another_time_zone_can_be_configured(app, monkeypatch) -> None:  # noqa: ANN001
    moment = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert clock.service_today(moment) == date(2026, 1, 10)
    app.config["MARAC_TIMEZONE"] = "Pacific/Auckland"  # UTC+13 in January
    assert clock.service_today(moment) == date(2026, 1, 11)


@pytest.mark.parametrize(
    ("due", "today", "still_open", "overdue"),
    [
        (date(2027, 1, 31), date(2027, 1, 31), True, False),  # due today: not yet late
        (date(2027, 1, 31), date(2027, 2, 1), True, True),  # the next morning it is
        (date(2027, 1, 31), date(2027, 2, 1), False, False),  # done actions are never late
        (date(2028, 2, 29), date(2028, 3, 1), True, True),
        (date(2028, 2, 29), date(2028, 2, 29), True, False),
        (date(2026, 12, 31), date(2027, 1, 1), True, True),
    ],
)
def test_overdue(due: date, today: date, still_open: bool, overdue: bool) -> None:
    assert clock.is_overdue(due, still_open, today) is overdue


@pytest.mark.parametrize(
    ("today", "due", "soon"),
    [
        # "Due within 7 days" from 25 January runs to 1 February.
        (date(2027, 1, 25), date(2027, 1, 31), True),
        (date(2027, 1, 25), date(2027, 2, 1), True),
        (date(2027, 1, 25), date(2027, 2, 2), False),
        # Across February in an ordinary year: 25 February to 4 March.
        (date(2027, 2, 25), date(2027, 3, 4), True),
        (date(2027, 2, 25), date(2027, 3, 5), False),
        # In a leap year the window holds 29 February and ends on 3 March.
        (date(2028, 2, 25), date(2028, 2, 29), True),
        (date(2028, 2, 25), date(2028, 3, 3), True),
        (date(2028, 2, 25), date(2028, 3, 4), False),
        # Today counts; yesterday is overdue, not due soon.
        (date(2027, 1, 31), date(2027, 1, 31), True),
        (date(2027, 2, 1), date(2027, 1, 31), False),
    ],
)
def test_due_soon(today: date, due: date, soon: bool) -> None:
    assert clock.is_due_soon(due, True, today) is soon
    assert clock.is_due_soon(due, False, today) is False


@pytest.mark.parametrize(
    ("text", "vague"),
    [
        ("Monitor the situation", True),
        ("Be aware of the risk to the children", True),
        ("Police to note", True),
        ("Consider a referral", True),  # "referral" is a noun: still no step
        ("The situation at home", True),
        ("Refer her to the sanctuary scheme", False),
        ("Referred to the MASH on Monday", False),
        ("Phone her weekly at her safe times", False),
        ("Logging every call-out against the address", False),
        ("Monitor attendance and report absences to the chair", False),
    ],
)
def test_vague_wording_is_caught(text: str, vague: bool) -> None:
    assert (vagueness_warning(text) is not None) is vague, text


def test_action_labels_do_not_relabel_case_roles() -> None:
    from marac.domain import ActionStatus, ActionSubject, CaseRole

    assert [r.label for r in CaseRole] == ["Victim", "Perpetrator", "Child", "Other adult"]
    assert ActionSubject.CHILD.label == "A child"
    assert ActionSubject.HOUSEHOLD.label == "The household"
    assert ActionStatus.NOT_DONE_BY_AGENCY.label == (
        "Could not be done: not completed by the agency"
    )


def test_london_is_found_without_the_system_time_zone_database(monkeypatch) -> None:  # noqa: ANN001
    """The tzdata package (a dependency) answers when the machine has no zoneinfo directory."""
    import zoneinfo

    zoneinfo.reset_tzpath(to=[])  # as on a machine without /usr/share/zoneinfo
    try:
        zone = zoneinfo.ZoneInfo.no_cache("Europe/London")
        monkeypatch.setattr(clock, "ZoneInfo", zoneinfo.ZoneInfo.no_cache)
        summer_night = datetime(2026, 7, 14, 23, 30, tzinfo=UTC)
        assert clock.today_in(zone, summer_night) == date(2026, 7, 15)
        assert clock.service_today(summer_night) == date(2026, 7, 15)
    finally:
        zoneinfo.reset_tzpath()
