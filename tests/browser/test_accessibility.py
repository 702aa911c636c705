"""Accessibility: every page of the demo, as each kind of user, checked with axe-core against
the WCAG 2.0, 2.1 and 2.2 A and AA rules; and keyboard use of the busiest screens."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from marac.domain import MeetingStatus
from marac.extensions import db
from marac.models import Meeting

from .conftest import LiveServer, sign_in
from .walk import Crawl, describe, page_endpoints


def test_every_page_passes_axe(demo_walk: Crawl) -> None:
    assert len(demo_walk.pages) > 60
    failing = [w for w in demo_walk.pages if w.violations]
    assert not failing, f"{len(failing)} pages with violations:\n{describe(failing)}"


FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outlined = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadowed = s.boxShadow && s.boxShadow !== 'none';
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'),
    text: (el.innerText || el.value || '').trim().slice(0, 60),
    visible: outlined || shadowed,
  };
}"""


def tab_to(page: Any, matches: str, limit: int = 150, back: bool = False) -> None:
    """Presses Tab (Shift+Tab with ``back``) until the focused element matches the CSS
    selector, checking on every stop that the focus can be seen."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focused = page.evaluate(FOCUS_STYLE)
        assert focused is not None, f"focus left the page at {page.url}"
        assert focused["visible"], f"no visible focus on {focused}"
        if page.evaluate("s => document.activeElement.matches(s)", matches):
            return
    raise AssertionError(f"{matches} not reached with the keyboard")


def test_the_referral_form_by_keyboard_alone(live_server: LiveServer, new_page: Any) -> None:
    page = new_page()
    sign_in(page, "police")
    page.goto("/referrals/new")
    tab_to(page, "#victim-given_name")
    page.keyboard.type("Meghan")
    tab_to(page, "#victim-family_name")
    page.keyboard.type("Thorn")
    page.locator("#matches-victim fieldset").wait_for()
    # Choosing her: the offer's radio buttons are reached with Tab, chosen with Space.
    tab_to(page, "#matches-victim input[type=radio]")
    page.keyboard.press("Space")
    assert page.locator("#matches-victim input[type=radio]").first.is_checked()

    # A radio group is one Tab stop; the arrow keys move within it, as in every browser.
    tab_to(page, "#checklist input[type=radio]")
    first_row = page.locator("#checklist tbody tr").first
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    assert first_row.get_by_label("Yes", exact=True).is_checked()
    page.locator("#eligibility .score", has_text="Score: 1 of").wait_for()

    tab_to(page, "button[value=save]")
    page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    summary.wait_for()
    # The summary's links lead to the fields, and the typed name was kept.
    assert page.locator("#victim-given_name").input_value() == "Meghan"
    tab_to(page, ".error-summary a", back=False)
    target = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "id => location.hash === id || document.activeElement.id === id.slice(1)", arg=target
    )


def test_the_live_meeting_by_keyboard_alone(live_server: LiveServer, new_page: Any) -> None:
    with live_server.app.app_context():
        meeting_id = db.session.scalar(
            sa.select(Meeting.id).where(Meeting.status == MeetingStatus.IN_PROGRESS)
        )
    page = new_page()
    sign_in(page, "probation")
    page.goto(f"/meetings/{meeting_id}/live")
    tab_to(page, "input[type=checkbox]")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]:not(.button--quiet)")
    page.keyboard.press("Enter")
    # Joined, the screen offers the forms for the case under discussion.
    page.wait_for_selector("#live-feed")
    page.wait_for_selector("#contribute-info")
    page.evaluate("window.notReloaded = true")

    text = f"Known to probation under a different surname ({uuid.uuid4().hex[:8]})"
    tab_to(page, "#contribute-info textarea")
    page.keyboard.type(text)
    tab_to(page, "#contribute-info button[type=submit]")
    page.keyboard.press("Enter")
    page.locator("#contribute-info .alert--success").wait_for()
    page.locator("#live-feed", has_text=text).wait_for()
    assert page.evaluate("window.notReloaded") is True


def test_the_walk_reaches_every_page_of_the_service(
    demo_walk: Crawl, live_server: LiveServer
) -> None:
    reached = {w.endpoint for w in demo_walk.pages}
    reached |= demo_walk.redirects | demo_walk.fragments | demo_walk.downloads
    missing = page_endpoints(live_server.app) - reached
    assert not missing, f"no walk reached: {sorted(missing)}"
