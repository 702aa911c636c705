"""Without JavaScript the service still works for reading and for the forms (htmx improves
them, it is not needed); the live meeting says that it keeps up only with JavaScript, and shows
the meeting as it stands."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from marac import clock
from marac.domain import MeetingStatus
from marac.extensions import db
from marac.models import Meeting

from .conftest import LiveServer, sign_in


def _no_script_page(new_page: Any) -> Any:
    page = new_page(java_script_enabled=False)
    return page


def test_reading_a_case_without_javascript(live_server: LiveServer, new_page: Any) -> None:
    page = _no_script_page(new_page)
    sign_in(page, "chair")
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_role("link", name="NM-2026-0101").first.click()
    assert "NM-2026-0101" in page.get_by_role("heading", level=1).inner_text()
    main = page.locator("main").inner_text()
    # The sections htmx would refresh are in the page as served.
    assert "Megan Thorne" in main and "Kieran Ashdown" in main
    assert page.locator("#actions").count() == 1
    assert "Serve the bail conditions notice" in page.locator("#actions").inner_text()
    # The network, which htmx fetches after the page, is a link away.
    page.get_by_role("link", name="Open the network around case NM-2026-0101").click()
    assert "Kieran Ashdown" in page.locator("main").inner_text()
    assert page.locator("main svg, main img").count() >= 1


def test_a_referral_without_javascript(live_server: LiveServer, new_page: Any) -> None:
    page = _no_script_page(new_page)
    sign_in(page, "health")
    page.get_by_role("link", name="Make a referral").click()
    token = uuid.uuid4().hex[:6]
    victim = page.get_by_role("group", name="The victim")
    victim.get_by_label("First name", exact=True).fill("Meghan")
    victim.get_by_label("Last name", exact=True).fill("Thorn")
    # The search for people already known is a button of the form without JavaScript.
    page.get_by_role("button", name="Check for people already known").click()
    victim = page.get_by_role("group", name="The victim")
    offer = victim.get_by_role("group", name="Is this someone already known?")
    assert "Megan Thorne" in offer.inner_text()
    assert victim.get_by_label("First name", exact=True).input_value() == "Meghan"
    victim.get_by_label("First name", exact=True).fill(f"Meghan{token}")
    victim.get_by_label("Last name", exact=True).fill("Thornley")
    offer.get_by_label("None of these: record a new person").check()

    person = page.get_by_role("group", name=re.compile("^Person 1"))
    person.get_by_label("First name", exact=True).fill(f"Rowan{token}")
    person.get_by_label("Last name", exact=True).fill("Hale")
    page.get_by_label("Referring officer").fill("Dr Sam Ives")
    with live_server.app.app_context():
        incident = clock.service_today() - timedelta(days=1)
    page.get_by_label("Date of the latest incident").fill(incident.isoformat())
    page.get_by_label("Police call-outs for domestic abuse in the last 12 months").fill("0")
    page.get_by_label("I am referring on professional judgement").check()
    page.get_by_label("Why, in your professional judgement, she is at high risk").fill(
        "She described threats to kill and is 30 weeks pregnant."
    )
    for question in (
        "Does she know about this referral?",
        "Has she agreed to the referral and to information being shared?",
    ):
        page.get_by_role("group", name=question).get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save the referral").click()
    saved = page.locator(".alert--success", has_text="saved")
    assert re.search(r"Referral \S+ saved\. Status: Eligible", saved.inner_text())


def test_the_live_meeting_without_javascript(live_server: LiveServer, new_page: Any) -> None:
    with live_server.app.app_context():
        meeting_id = db.session.scalar(
            sa.select(Meeting.id).where(Meeting.status == MeetingStatus.IN_PROGRESS)
        )
    page = _no_script_page(new_page)
    sign_in(page, "csc")
    page.goto(f"/meetings/{meeting_id}/live")
    page.get_by_label("I accept the confidentiality statement").check()
    page.get_by_role("button", name="Join the meeting").click()
    notice = page.locator("#no-live-updates")
    assert notice.is_visible()
    assert "only with JavaScript" in notice.inner_text()
    # The meeting as it stands: the case under discussion and its information.
    feed = page.locator("#live-feed")
    assert "Now: NM-2026-0102" in feed.inner_text()

    text = f"Leo's school reports he was collected by his father on Friday ({uuid.uuid4().hex[:8]})"
    form = page.locator("#contribute-info")
    form.get_by_label("What your agency holds").fill(text)
    form.get_by_role("button", name="Record the information").click()
    # Sent back to the meeting, which now shows it.
    page.locator("#live-feed", has_text=text).wait_for()
    assert page.locator("#no-live-updates").is_visible()
