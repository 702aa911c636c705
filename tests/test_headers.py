"""Browser-facing protections on every response: a strict CSP with a fresh nonce, no inline
script or style anywhere, framing refused, no referrer, HSTS over HTTPS, no case data in URLs,
and htmx's history cache off.

The pages are the leak test's crawl of the demo (every page and fragment a user can reach),
seen through Flask's ``request_finished`` signal so that headers and URLs are checked too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask, request, request_finished
from flask.testing import FlaskClient

from .conftest import login
from .test_leaks import everything_seen_by

# Query-string keys the service may put in a URL: views, filters, dates, ids and paging. None of
# them can carry a name, an address or anything typed about a person.
URL_KEYS = {
    "show",
    "days",
    "mine",
    "since",
    "status",
    "page",
    "per_page",
    "agency",
    "period_from",
    "period_to",
    "repeat",
    "duplicates",
    "next",
}
SAFE_VALUE = re.compile(r"^[a-z0-9_\-/]*$")


@dataclass
class Seen:
    path: str
    query: list[tuple[str, str]]
    status: int
    headers: dict[str, str]
    html: str


@pytest.fixture
def seen(demo_app: Flask) -> Iterator[list[Seen]]:
    responses: list[Seen] = []

    def record(sender: Flask, response: Any, **_: Any) -> None:
        html = ""
        if response.mimetype == "text/html" and not response.is_streamed:
            html = response.get_data(as_text=True)
        responses.append(
            Seen(
                request.path,
                parse_qsl(request.query_string.decode()),
                response.status_code,
                dict(response.headers),
                html,
            )
        )

    request_finished.connect(record, demo_app)
    yield responses
    request_finished.disconnect(record, demo_app)


def _crawl(demo_app: Flask, username: str, case_ids, merge_pairs, action_ids) -> FlaskClient:  # noqa: ANN001, F811
    client = demo_app.test_client()
    assert login(client, username).status_code == 302
    everything_seen_by(client, case_ids, merge_pairs, action_ids)
    for path in ("/admin/users", "/admin/agencies", "/account", "/login"):
        client.get(path)
    return client


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.forms: list[dict[str, str | None]] = []
        self.get_form_fields: list[str] = []
        self._in_get_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "form":
            self._in_get_form = (attributes.get("method") or "get").lower() == "get"
        elif tag in ("input", "select", "textarea") and self._in_get_form:
            if attributes.get("name"):
                self.get_form_fields.append(attributes["name"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_get_form = False


def _nonce(csp: str) -> str:
    match = re.search(r"script-src 'nonce-([A-Za-z0-9_\-]+)' 'strict-dynamic'", csp)
    assert match, csp
    assert f"style-src 'self' 'nonce-{match.group(1)}'" in csp
    return match.group(1)


# The chair reaches the most pages, the programme the fewest case pages with the most refusals,
# the administrator the administration pages.
@pytest.mark.parametrize("username", ["chair", "programme", "admin"])
def test_every_page_has_a_strict_policy_and_no_inline_code(
    demo_app: Flask,
    seen: list[Seen],
    username: str,
    demo_case_ids: list[int],
    demo_merge_pairs: list[tuple[int, int]],
    demo_action_ids: list[tuple[int, int]],
) -> None:
    _crawl(demo_app, username, demo_case_ids, demo_merge_pairs, demo_action_ids)
    pages = [s for s in seen if s.html]
    assert len(pages) > 50
    nonces: set[str] = set()
    problems: list[str] = []
    for page in pages:
        headers = page.headers
        csp = headers.get("Content-Security-Policy", "")
        nonce = _nonce(csp)
        nonces.add(nonce)
        for needed in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"):
            if needed not in csp:
                problems.append(f"{page.path}: CSP without {needed}")
        if headers.get("Referrer-Policy") != "no-referrer":
            problems.append(f"{page.path}: Referrer-Policy {headers.get('Referrer-Policy')}")
        if headers.get("X-Frame-Options") != "DENY" or "no-store" not in headers.get(
            "Cache-Control", ""
        ):
            problems.append(f"{page.path}: framing or caching headers missing")
        if "Strict-Transport-Security" in headers:
            problems.append(f"{page.path}: HSTS over plain HTTP")
        parser = _Tags()
        parser.feed(page.html)
        for tag, attrs in parser.tags:
            if tag == "script" and (not attrs.get("src") or attrs.get("nonce") != nonce):
                problems.append(f"{page.path}: script without src or this response's nonce")
            if tag == "style":
                problems.append(f"{page.path}: inline <style>")
            if "style" in attrs:
                problems.append(f"{page.path}: style attribute on <{tag}>")
            handlers = [name for name in attrs if name.startswith("on")]
            if handlers:
                problems.append(f"{page.path}: event handler attribute {handlers} on <{tag}>")
            for name in (
                *("href", "src", "action", "hx-get", "hx-post", "formaction"),
                *("data-hx-get", "data-hx-post"),
            ):
                value = (attrs.get(name) or "").strip().lower()
                if value.startswith("javascript:"):
                    problems.append(f"{page.path}: javascript: URL")
                if name in ("href", "action", "hx-get", "data-hx-get") and value:
                    problems.extend(_url_problems(page.path, attrs.get(name) or ""))
            if tag == "link" and attrs.get("rel") == "stylesheet" and attrs.get("nonce") != nonce:
                problems.append(f"{page.path}: style sheet without this response's nonce")
        for field in parser.get_form_fields:
            if field not in URL_KEYS:
                problems.append(f"{page.path}: a GET form sends {field!r} in the URL")
    # Every URL the crawl itself asked for, fragments and pictures included.
    assert any(response.query for response in seen)
    for response in seen:
        for key, value in response.query:
            if key not in URL_KEYS or (key != "next" and not SAFE_VALUE.match(value.lower())):
                problems.append(f"{response.path}: requested with {key}={value!r}")
    assert not problems, "\n".join(sorted(set(problems))[:40])
    # A fresh nonce for every response.
    assert len(nonces) == len(pages)


def _url_problems(where: str, url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.netloc or parts.scheme in ("http", "https"):
        return []  # another site's page carries nothing of ours
    problems = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in URL_KEYS:
            problems.append(f"{where}: link with {key!r} in its query string: {url}")
        elif key != "next" and not SAFE_VALUE.match(value.lower()):
            problems.append(f"{where}: link with free text in {key!r}: {url}")
    return problems


def test_a_name_in_the_query_string_is_not_searched_for(
    demo_app: Flask,
) -> None:
    client = demo_app.test_client()
    login(client, "chair")
    everyone = client.get("/cases/").get_data(as_text=True)
    with_name = client.get("/cases/?q=Thorne").get_data(as_text=True)
    count = re.compile(r'<h2 id="results-title" class="results-count">([^<]+)</h2>')
    assert count.search(with_name).group(1) == count.search(everyone).group(1)
    token = re.search(r'name="csrf-token" content="([^"]+)"', everyone).group(1)
    posted = client.post("/cases/", data={"q": "Thorne", "csrf_token": token})
    assert count.search(posted.get_data(as_text=True)).group(1) != count.search(everyone).group(1)


def test_htmx_keeps_no_history_in_the_browser(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1)
    assert '"historyCacheSize": 0' in config
    assert '"allowEval": false' in config and '"selfRequestsOnly": true' in config
    assert 'data-hx-history="false"' in html
    assert re.search(r"\shx-history=", html) is None  # only the valid data- form


def test_hsts_only_over_https(another_app: Callable[..., Flask]) -> None:
    app = another_app(MARAC_HSTS=True)
    client = app.test_client()
    secure = client.get("/login", base_url="https://marac.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    plain = client.get("/login")
    assert "Strict-Transport-Security" not in plain.headers


def test_each_response_gets_its_own_nonce(client: FlaskClient) -> None:
    first, second = client.get("/login"), client.get("/login")
    one = _nonce(first.headers["Content-Security-Policy"])
    two = _nonce(second.headers["Content-Security-Policy"])
    assert one != two and len(one) >= 22
    assert f'nonce="{one}"' in first.get_data(as_text=True)
    assert one not in second.get_data(as_text=True)


def test_the_url_check_catches_names_and_free_text() -> None:
    assert _url_problems("p", "/cases/?q=Megan+Thorne")
    assert _url_problems("p", "/actions/?show=Megan Thorne")
    assert not _url_problems("p", "/actions/?show=overdue&page=2&since=2026-01-01")
    assert not _url_problems("p", "https://example.org/?q=anything")
