"""The live meeting in two browsers: what one attendee adds reaches the chair without a reload."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from marac.domain import MeetingStatus
from marac.extensions import db
from marac.models import Meeting

from .conftest import LiveServer, sign_in


def _meeting_under_way(live_server: LiveServer) -> int:
    with live_server.app.app_context():
        return db.session.scalar(
            sa.select(Meeting.id).where(Meeting.status == MeetingStatus.IN_PROGRESS)
        )


def _join(page: Any, meeting_id: int) -> None:
    """Opens the live meeting, accepting the confidentiality statement if not yet accepted."""
    page.goto(f"/meetings/{meeting_id}/live")
    page.locator("#live-feed, #statement").first.wait_for()
    if page.locator("#statement").count():
        assert page.locator("#live-feed").count() == 0
        page.get_by_label("I accept the confidentiality statement").check()
        page.get_by_role("button", name="Join the meeting").click()
    page.wait_for_selector("#live-feed")


def test_an_item_added_by_a_representative_appears_on_the_chairs_screen(
    live_server: LiveServer, new_page: Any
) -> None:
    meeting_id = _meeting_under_way(live_server)
    chair = new_page()
    sign_in(chair, "chair")
    _join(chair, meeting_id)
    assert "Now: NM-2026-0102" in chair.inner_text("#live-feed")
    # Marks this page: a reload would lose the mark.
    chair.evaluate("window.notReloaded = true")

    police = new_page()
    sign_in(police, "police")
    _join(police, meeting_id)
    text = f"Seen at her former workplace again on Monday ({uuid.uuid4().hex[:8]})"
    form = police.locator("#contribute-info")
    form.get_by_label("What your agency holds").fill(text)
    form.get_by_role("button", name="Record the information").click()
    police.locator("#contribute-info .alert--success").wait_for()
    assert form.get_by_label("What your agency holds").input_value() == ""

    chair.locator("#live-feed", has_text=text).wait_for()
    assert chair.evaluate("window.notReloaded") is True


def _contribute_information(page: Any, text: str) -> None:
    form = page.locator("#contribute-info")
    form.get_by_label("What your agency holds").fill(text)
    form.get_by_role("button", name="Record the information").click()
    page.locator("#contribute-info .alert--success").wait_for()


def test_a_chair_and_two_representatives_see_each_others_additions_live(
    live_server: LiveServer, new_page: Any
) -> None:
    """Information and actions from two agencies reach the chair and each other without a
    reload; each screen shows an action as its viewer may see it."""
    meeting_id = _meeting_under_way(live_server)
    token = uuid.uuid4().hex[:8]
    screens = {}
    for username in ("chair", "police", "health"):
        page = new_page()
        sign_in(page, username)
        _join(page, meeting_id)
        # Each representative opens the forms for the case under discussion.
        if page.get_by_role("link", name="Add information or actions for").count():
            page.get_by_role("link", name="Add information or actions for").click()
            page.wait_for_selector("#contribute-info")
        page.evaluate("window.notReloaded = true")
        screens[username] = page

    police_info = f"Attended her address on Sunday after a 999 call ({token})"
    health_info = f"Missed two antenatal appointments this month ({token})"
    _contribute_information(screens["police"], police_info)
    _contribute_information(screens["health"], health_info)

    summaries = "#live-feed li:has-text('Action for Northmere Police')"
    owed_before = screens["health"].locator(summaries).count()
    police = screens["police"]
    action = police.locator("#contribute-action")
    action.get_by_label("Owner agency").select_option(label="Northmere Police")
    action_text = f"Fit a panic alarm at her address by Friday ({token})"
    action.get_by_label("What will be done").fill(action_text)
    due = police.evaluate("new Date(Date.now() + 7 * 864e5).toISOString().slice(0, 10)")
    action.get_by_label("Due date").fill(due)
    action.get_by_role("button", name="Agree the action").click()
    police.locator("#contribute-action .alert--success").wait_for()

    for username, page in screens.items():
        feed = page.locator("#live-feed")
        feed.filter(has_text=police_info).wait_for()
        feed.filter(has_text=health_info).wait_for()
        assert page.evaluate("window.notReloaded") is True, username
    # The police and the chair read the action; health knows only that the police owe one.
    for username in ("chair", "police"):
        screens[username].locator("#live-feed", has_text=action_text).wait_for()
    health_feed = screens["health"].locator("#live-feed")
    # One more summary than before the police agreed theirs.
    screens["health"].locator(summaries).nth(owed_before).wait_for()
    assert action_text not in health_feed.inner_text()
    assert token in health_feed.inner_text()  # her own and the police's information, above


def test_the_case_timer_counts_hours_and_minutes_against_the_time_allowed(
    live_server: LiveServer, new_page: Any
) -> None:
    meeting_id = _meeting_under_way(live_server)
    chair = new_page()
    chair.clock.install()  # the browser's clock, moved below; the server's is untouched
    sign_in(chair, "chair")
    _join(chair, meeting_id)
    timer = chair.locator("[data-timer-start]")
    started = datetime.fromisoformat(timer.get_attribute("data-timer-start"))
    assert timer.get_attribute("data-timer-allowed") == "12"
    # The browser's clock is moved; the page then counts from the case's own start time.
    for after, expected in (
        (timedelta(minutes=5), "5 minutes used of 12 minutes allowed."),
        (
            timedelta(minutes=13),
            "13 minutes used of 12 minutes allowed. Over time by 1 minute.",
        ),
        (
            timedelta(hours=12, minutes=44),
            "12 hours 44 minutes used of 12 minutes allowed. Over time by 12 hours 32 minutes.",
        ),
    ):
        chair.clock.set_fixed_time(started + after)
        chair.evaluate("document.dispatchEvent(new Event('htmx:afterSwap'))")
        assert timer.inner_text() == expected
