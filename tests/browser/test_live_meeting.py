"""The live meeting in two browsers: what one attendee adds reaches the chair without a reload."""

from __future__ import annotations

import uuid
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
