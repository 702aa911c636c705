"""Printing: the record, with its protective marking, without the controls."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from marac.domain import MeetingStatus
from marac.extensions import db
from marac.models import Case, Meeting

from .conftest import LiveServer, sign_in


def _shown(page: Any, selector: str) -> bool:
    return page.locator(selector).first.is_visible()


def test_a_case_and_the_live_meeting_print_without_their_controls(
    live_server: LiveServer, new_page: Any
) -> None:
    with live_server.app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.reference == "NM-2026-0101"))
        meeting_id = db.session.scalar(
            sa.select(Meeting.id).where(Meeting.status == MeetingStatus.IN_PROGRESS)
        )
    page = new_page()
    sign_in(page, "chair")
    page.goto(f"/meetings/{meeting_id}/live")
    if page.locator("#statement").count():
        page.get_by_label("I accept the confidentiality statement").check()
        page.get_by_role("button", name="Join the meeting").click()
    page.wait_for_selector("#contribute-info")
    for selector in ("nav[aria-label=Main]", "#contribute-info form", "#chair"):
        assert _shown(page, selector), f"{selector} is on the screen"

    page.emulate_media(media="print")
    for selector in ("nav[aria-label=Main]", "#contribute-info form", "#chair", ".who"):
        assert not _shown(page, selector), f"{selector} would be printed"
    assert _shown(page, "#live-feed")
    assert "Now: NM-2026-0102" in page.locator("#live-feed").inner_text()
    assert page.locator(".marking").first.inner_text().strip() == "OFFICIAL-SENSITIVE"
    assert _shown(page, ".marking")

    page.goto(f"/cases/{case_id}")
    assert _shown(page, "main h1") and _shown(page, ".site-footer .marking")
    assert not _shown(page, "form[method=post]")
