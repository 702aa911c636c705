"""A walk over the demo in the browser, as each kind of user: every page they can reach by
following links, checked with axe-core where it stands, its HTML kept as served.

One walk serves the accessibility test and the HTML validation test (``demo_walk`` in
conftest.py), so the pages are fetched once. The walk follows links from the home page (so it
meets the pages as people do) and visits a few pages no link leads to; a test checks that every
GET route of the service was reached by someone, so a new screen cannot escape the checks.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from werkzeug.exceptions import HTTPException

# WCAG 2.0, 2.1 and 2.2, levels A and AA: the rules the service is held to.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
# Routes that answer something other than a page: a picture, the health check, files.
NOT_PAGES = {"static", "main.health", "network.picture"}
# Links never followed: they act, or leave the service.
NEVER_FOLLOW = re.compile(r"^/(static/|logout)")


@dataclass
class WalkedPage:
    role: str
    url: str
    endpoint: str
    html: str  # as served (or, for a state reached with htmx, the document as it then stands)
    violations: list[dict[str, Any]] = field(default_factory=list)
    state: str = ""  # what was done on the page before checking it, if anything


def axe_script() -> str:
    from axe_playwright_python import sync_playwright as axe_module

    return (Path(axe_module.__file__).parent / "axe.min.js").read_text()


def check_with_axe(page: Any, script: str) -> list[dict[str, Any]]:
    """axe-core's violations of the WCAG A and AA rules on the page as it stands now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(script)
    # Folded sections count too: open them so that their content is checked.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
        "resultTypes: ['violations', 'incomplete']})",
        AXE_TAGS,
    )
    found = [
        {
            "id": v["id"],
            "impact": v.get("impact"),
            "help": v["help"],
            "nodes": [
                {"target": n["target"], "summary": n.get("failureSummary", "")[:300]}
                for n in v["nodes"][:5]
            ],
        }
        for v in result["violations"]
    ]
    # axe leaves text of exactly its background's colour "to review" (it is sometimes a way of
    # hiding text); on these pages it is always text nobody can read.
    unreadable = [
        {"target": n["target"], "summary": "text the same colour as its background"}
        for v in result["incomplete"]
        if v["id"] == "color-contrast"
        for n in v["nodes"]
        if any((c.get("data") or {}).get("contrastRatio") == 1 for c in n.get("any", []))
    ]
    if unreadable:
        found.append(
            {
                "id": "color-contrast",
                "impact": "serious",
                "help": "Text must be readable against its background",
                "nodes": unreadable[:5],
            }
        )
    return found


def endpoint_of(app: Flask, url: str) -> str | None:
    parts = urlsplit(url)
    adapter = app.url_map.bind("127.0.0.1")
    try:
        endpoint, _ = adapter.match(parts.path, method="GET")
    except HTTPException:
        return None
    return endpoint


def page_endpoints(app: Flask) -> set[str]:
    """Every route a browser may GET that answers with a page."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and rule.endpoint not in NOT_PAGES
    }


@dataclass
class Crawl:
    pages: list[WalkedPage] = field(default_factory=list)
    # Routes met that answer with a redirect, or with a fragment of the page that linked to
    # them (the page includes the fragment's first state, so the fragment is checked there).
    redirects: set[str] = field(default_factory=set)
    fragments: set[str] = field(default_factory=set)
    downloads: set[str] = field(default_factory=set)


def crawl(
    page: Any,
    app: Flask,
    role: str,
    script: str,
    start: list[str],
    per_endpoint: int,
    extra: tuple[str, ...] = (),
) -> Crawl:
    """Breadth first from ``start``, at most ``per_endpoint`` pages of each route, following
    links and the URLs htmx fetches; ``extra`` pages are visited whatever the count."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    queue = deque([*extra, *start])
    always = set(extra)
    seen_urls: set[str] = set()
    taken: dict[str, int] = {}
    fetched_by_htmx: set[str] = set()
    found = Crawl()
    while queue:
        url = queue.popleft()
        if url in seen_urls or NEVER_FOLLOW.match(url):
            continue
        seen_urls.add(url)
        endpoint = endpoint_of(app, url)
        if endpoint is None or endpoint in NOT_PAGES:
            continue
        if taken.get(endpoint, 0) >= per_endpoint and url not in always:
            continue
        if url in fetched_by_htmx:
            answer = page.request.get(url, headers={"HX-Request": "true"})
            if answer.ok:
                found.fragments.add(endpoint)
            if answer.status == 204 or "<html" not in answer.text()[:500].lower():
                continue  # a fragment (the page that fetches it includes its first state)
        try:
            response = page.goto(url)
        except PlaywrightError as error:
            if "Download is starting" not in str(error):
                raise
            found.downloads.add(endpoint)  # a file (CSV, PDF), not a page
            continue
        if response is None or not response.ok:
            continue  # refused (403/404): not a page this user has
        if not response.headers.get("content-type", "").startswith("text/html"):
            found.downloads.add(endpoint)
            continue
        if urlsplit(page.url).path != urlsplit(url).path:
            found.redirects.add(endpoint)
            continue  # the page it leads to is reached on its own
        body = response.text()
        if "<html" not in body[:500].lower():
            found.fragments.add(endpoint)
            continue
        taken[endpoint] = taken.get(endpoint, 0) + 1
        found.pages.append(WalkedPage(role, url, endpoint, body, check_with_axe(page, script)))
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        fetches = page.eval_on_selector_all(
            "[hx-get], [data-hx-get]",
            "els => els.map(e => e.getAttribute('hx-get') || e.getAttribute('data-hx-get'))",
        )
        for href, by_htmx in [(h, False) for h in links] + [(h, True) for h in fetches]:
            parts = urlsplit(href)
            if parts.scheme and f"{parts.scheme}://{parts.netloc}" != origin:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target.startswith("/") and target not in seen_urls:
                queue.append(target)
                if by_htmx:
                    fetched_by_htmx.add(target)
    return found


def describe(walked: list[WalkedPage]) -> str:
    """The violations, one line per rule and page, for a failing assertion."""
    lines = []
    for w in walked:
        for v in w.violations:
            targets = "; ".join(
                f"{' '.join(map(str, n['target']))}: {n['summary']}" for n in v["nodes"]
            )
            lines.append(
                f"{w.role} {w.url}{' ' + w.state if w.state else ''}: {v['id']} "
                f"({v['impact']}) {v['help']} -- {targets}"
            )
    return "\n".join(lines)


# --- states reached by doing something on a page (htmx answers, refused forms) ---------------


def _state(page: Any, role: str, endpoint: str, state: str, script: str) -> WalkedPage:
    return WalkedPage(role, page.url, endpoint, page.content(), check_with_axe(page, script), state)


def signed_out_states(page: Any, script: str, wrong_code: str) -> list[WalkedPage]:
    page.goto("/login")
    page.get_by_label("Username").fill("housing")
    page.get_by_label("Password").fill("not the password")
    page.get_by_label("Code").fill(wrong_code)
    page.get_by_role("button", name="Sign in").click()
    page.locator(".error-summary").wait_for()
    return [_state(page, "signed out", "auth.login", "refused", script)]


def referral_states(page: Any, role: str, script: str) -> list[WalkedPage]:
    """The referral form with a known person offered and the score moved, then refused."""
    page.goto("/referrals/new")
    victim = page.get_by_role("group", name="The victim")
    victim.get_by_label("First name", exact=True).press_sequentially("Meghan")
    victim.get_by_label("Last name", exact=True).press_sequentially("Thorn")
    victim.locator(".matches fieldset").wait_for()
    page.locator("#checklist tbody tr").first.get_by_label("Yes", exact=True).check()
    page.locator("#eligibility .score", has_text="Score: 1 of").wait_for()
    states = [_state(page, role, "referrals.new", "person offered, score moved", script)]
    page.get_by_role("button", name="Save the referral").click()
    page.locator(".error-summary").wait_for()
    states.append(_state(page, role, "referrals.new", "refused", script))
    return states


def live_meeting_states(page: Any, role: str, script: str, meeting_id: int) -> list[WalkedPage]:
    """The live meeting once the statement is accepted, with the forms for the current case."""
    page.goto(f"/meetings/{meeting_id}/live")
    page.locator("#live-feed, #statement").first.wait_for()
    if page.locator("#statement").count():
        page.get_by_label("I accept the confidentiality statement").check()
        page.get_by_role("button", name="Join the meeting").click()
    page.wait_for_selector("#live-feed")
    link = page.get_by_role("link", name="Add information or actions for")
    if link.count():
        link.click()
        page.wait_for_selector("#contribute-info")
    states = [_state(page, role, "meetings.live", "joined, forms open", script)]
    # A refused contribution answers with the form and its messages, swapped in by htmx.
    record = page.locator("#contribute-info").get_by_role("button", name="Record the information")
    assert record.count() == 1, f"{role} has no form to add information"
    record.click()
    page.locator("#contribute-info .error-summary").wait_for()
    states.append(_state(page, role, "meetings.live", "contribution refused", script))
    return states


def first_sign_in_states(page: Any, script: str, username: str, password: str) -> list[WalkedPage]:
    """A new account's first sign-in: the password, then the page that sets up the app."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/enrol" in url)
    states = [_state(page, "new starter", "auth.enrol", "setting up the app", script)]
    page.get_by_role("button", name="Confirm and sign in").click()
    page.locator(".error-summary").wait_for()
    states.append(_state(page, "new starter", "auth.enrol", "no code given", script))
    return states
