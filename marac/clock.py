"""Today's date where the service is, not where the server is.

Due dates are calendar dates. Whether an action is overdue or due soon is judged against today in
the service's time zone (``MARAC_TIMEZONE``, default Europe/London), never the server's UTC date:
at 00:30 on a summer morning in London it is already tomorrow there while UTC is still on today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Europe/London"
DUE_SOON_DAYS = 7


def utc_now() -> datetime:
    """The one place the service reads the clock (tests replace it)."""
    return datetime.now(UTC)


def service_timezone() -> ZoneInfo:
    name = DEFAULT_TIMEZONE
    if has_app_context():
        name = current_app.config.get("MARAC_TIMEZONE") or DEFAULT_TIMEZONE
    return ZoneInfo(name)


def today_in(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or utc_now()).astimezone(zone).date()


def service_today(now: datetime | None = None) -> date:
    return today_in(service_timezone(), now)


def is_overdue(due_on: date, still_open: bool, today: date) -> bool:
    """Overdue from the day after the due date: an action due today is not yet late."""
    return still_open and due_on < today


def due_soon_until(today: date, days: int = DUE_SOON_DAYS) -> date:
    """The last due date that counts as "due within ``days`` days" (today included)."""
    return today + timedelta(days=days)


def is_due_soon(due_on: date, still_open: bool, today: date, days: int = DUE_SOON_DAYS) -> bool:
    return still_open and today <= due_on <= due_soon_until(today, days)


def as_utc(moment: datetime) -> datetime:
    """SQLite gives back stored times without their zone; they are stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(moment: datetime) -> datetime:
    """A stored time in the service's time zone, for people to read."""
    return as_utc(moment).astimezone(service_timezone())


def local_start_of(day: date) -> datetime:
    """The first moment of ``day`` in the service's time zone, in UTC for storing and comparing."""
    return datetime.combine(day, datetime.min.time(), tzinfo=service_timezone()).astimezone(UTC)
