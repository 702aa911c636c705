"""Leak tests over the demo: for every demo user, every page and fragment they can reach.

The expected answer comes from seeds/demo-canaries.toml, written by hand. For each user the whole
text of every response (raw HTML, so attributes and comments count too) is searched for every
canary: the ones the user may not see must be absent, and the ones they may see must be present
(which also proves the pages were really fetched and filled).
"""

from __future__ import annotations

import io
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdf
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marac.config import PROJECT_ROOT
from marac.domain import OPEN_MEETING_STATUSES
from marac.extensions import db
from marac.models import (
    AgendaItem,
    Case,
    Meeting,
    OutboxEmail,
    PartnerContactRecord,
    ProgrammeRecord,
)
from marac.seeding import read_demo

from .conftest import csrf_token, login, page_text

CANARY_FILE = PROJECT_ROOT / "seeds" / "demo-canaries.toml"


def read_canary_table(path: Path = CANARY_FILE) -> dict[str, frozenset[str]]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    groups = data["groups"]

    def expand(entries: list[str]) -> frozenset[str]:
        users: set[str] = set()
        for entry in entries:
            users.update(groups[entry[1:]] if entry.startswith("@") else [entry])
        return frozenset(users)

    table = {token: expand(users) for token, users in data["canaries"].items()}
    table.update({name: expand(users) for name, users in data["identities"].items()})
    return table


CANARIES = read_canary_table()
DOWNLOAD_LINK = re.compile(r'href="/papers/(\d+)"')


def pdf_text(content: bytes) -> str:
    """Every page's text, each run of whitespace (a line wrapped in a table cell) one space."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


# Names typed into the referral form: every demo person whose identity the table holds, and some
# whose cases are not yet open to most users (so offering them would leak).
TYPED_NAMES = [
    ("Megan", "Thorne", "1991-07-02"),
    ("Meghan", "Thorn", ""),
    ("Ruby", "Thorne", ""),
    ("Carol", "Thorne", ""),
    ("Sophie", "Ashdown", ""),
    ("Sophie", "Calder", "1989-11-30"),
    ("Leo", "Calder", ""),
    ("Hannah", "Pryce", ""),
    ("Kieran", "Ashdown", ""),
    ("Jasmine", "Reed", ""),
    ("Amira", "Qureshi", ""),
    ("Naomi", "Price", ""),
    ("Olivia", "Penn", ""),
    # The network's people: a step-child in 0101, and Kieran's new partner and half-brother, who
    # are in no case (only the coordinator and the chair may be offered them).
    ("Alfie", "Thorne", ""),
    ("Jade", "Whitlow", "1994-06-18"),
    ("Dean", "Haworth", ""),
]
TYPED_ROWS = ("victim", "people-0")


def referral_payload(token: str, given: str, family: str, dob: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "officer_name": "Officer",
        "incident_on": "2026-11-20",
        "police_callouts": "1",
        "people-0-role": "perpetrator",
        "people-0-relationship": "partner",
        "checklist-very_frightened": "yes",
    }
    for row in TYPED_ROWS:
        data.update(
            {f"{row}-given_name": given, f"{row}-family_name": family, f"{row}-date_of_birth": dob}
        )
    return data


@dataclass(frozen=True)
class DemoMeeting:
    meeting_id: int
    still_open: bool
    item_ids: tuple[int, ...]


@pytest.fixture(scope="session")
def demo_meetings(demo_app: Flask) -> list[DemoMeeting]:
    with demo_app.app_context():
        meetings = db.session.scalars(sa.select(Meeting).order_by(Meeting.id)).all()
        return [
            DemoMeeting(
                m.id,
                m.status in OPEN_MEETING_STATUSES,
                tuple(
                    db.session.scalars(
                        sa.select(AgendaItem.id)
                        .where(AgendaItem.meeting_id == m.id)
                        .order_by(AgendaItem.id)
                    )
                ),
            )
            for m in meetings
        ]


# Every page of the actions area, with each view and filter that changes what is listed.
ACTION_PAGES = [
    "/actions/",
    "/actions/?show=overdue",
    "/actions/?show=done",
    "/actions/?show=open",
    "/actions/?days=60",
    "/actions/due",
    "/actions/due?mine=y",
    "/actions/coordinator",
    "/actions/coordinator?show=stale",
    "/actions/coordinator?show=not_completed",
    "/actions/coordinator?show=stale&since=2099-01-01",
    "/actions/children",
    "/actions/children?show=all",
    "/actions/children?show=uncovered",
    "/actions/police",
    "/actions/police?show=all",
    "/actions/police?show=uncovered",
    "/actions/outbox",
]


@pytest.fixture(scope="session")
def demo_programme_ids(demo_app: Flask) -> list[int]:
    with demo_app.app_context():
        return list(db.session.scalars(sa.select(ProgrammeRecord.id).order_by(ProgrammeRecord.id)))


@pytest.fixture(scope="session")
def demo_partner_contact_ids(demo_app: Flask) -> list[int]:
    with demo_app.app_context():
        return list(
            db.session.scalars(sa.select(PartnerContactRecord.id).order_by(PartnerContactRecord.id))
        )


def programme_and_partner_contact_pages(
    client: FlaskClient, programme_ids: list[int], partner_contact_ids: list[int]
) -> list[tuple[str, dict[str, str]]]:
    """Every page of programmes and partner contact, as a page and as an htmx request."""
    paths = ["/programmes/", "/partner-contact/"]
    paths += [f"/programmes/{record_id}" for record_id in programme_ids]
    for record_id in partner_contact_ids:
        paths += [
            f"/partner-contact/{record_id}",
            f"/partner-contact/{record_id}/handover",
            f"/partner-contact/{record_id}/table",
        ]
    return [(path, headers) for path in paths for headers in ({}, {"HX-Request": "true"})]


def everything_seen_by(
    client: FlaskClient,
    case_ids: list[int],
    merge_pairs: list[tuple[int, int]],
    action_ids: list[tuple[int, int]],
    programme_ids: list[int] = (),  # type: ignore[assignment]
    partner_contact_ids: list[int] = (),  # type: ignore[assignment]
    meetings: list[DemoMeeting] = (),  # type: ignore[assignment]
) -> tuple[str, Counter[int]]:
    """The raw text of every page and fragment a signed-in user can reach, and status counts."""
    pages: list[str] = []
    statuses: Counter[int] = Counter()

    def keep(response: Any) -> None:
        statuses[response.status_code] += 1
        pages.append(page_text(response))

    def fetch(path: str, **headers: str) -> None:
        keep(client.get(path, headers=headers))

    def keep_pdf(response: Any) -> None:
        """A PDF's text as pypdf extracts it; any other answer (404) as it is."""
        statuses[response.status_code] += 1
        if response.mimetype == "application/pdf":
            pages.append(pdf_text(response.data))
        else:
            pages.append(page_text(response))

    fetch("/cases/")
    fetch("/cases/", **{"HX-Request": "true"})
    for page in range(2, 4):
        fetch(f"/cases/?page={page}")
    for case_id in case_ids:
        fetch(f"/cases/{case_id}")
        fetch(f"/cases/{case_id}", **{"HX-Request": "true"})
        # The network's text list and picture, as a fragment and on their own, and the
        # agencies involved; the case page above includes all of them too.
        fetch(f"/cases/{case_id}/network", **{"HX-Request": "true"})
        fetch(f"/cases/{case_id}/network.svg")
        fetch(f"/cases/{case_id}/agencies", **{"HX-Request": "true"})
        # The case page's actions section on its own.
        fetch(f"/actions/cases/{case_id}", **{"HX-Request": "true"})

    # Referrals: the form, its fragments (live score, live matches, and the no-JavaScript check
    # for people already known), the queue, possible duplicates and merges.
    fetch("/referrals/new")
    token = csrf_token(client, "/referrals/new")
    htmx = {"HX-Request": "true", "X-CSRFToken": token}
    for given, family, dob in TYPED_NAMES:
        data = referral_payload(token, given, family, dob)
        keep(client.post("/referrals/new", data={**data, "action": "check"}))
        keep(client.post("/referrals/new/matches", data={**data, "row": "victim"}, headers=htmx))
    keep(
        client.post("/referrals/new/score", data=referral_payload(token, "", "", ""), headers=htmx)
    )
    fetch("/referrals/")
    fetch("/referrals/", **{"HX-Request": "true"})
    for status in ("referred", "eligible", "not_eligible", "listed"):
        fetch(f"/referrals/?status={status}")
    fetch("/referrals/?duplicates=1&repeat=1")
    fetch("/people/duplicates")
    fetch("/people/merges")
    for kept, duplicate in merge_pairs:
        fetch(f"/people/merge/{kept}/{duplicate}")

    # Actions: every dashboard and view, and each action's own page.
    for path in ACTION_PAGES:
        fetch(path)
        fetch(path, **{"HX-Request": "true"})
    for case_id, action_id in action_ids:
        fetch(f"/actions/cases/{case_id}/{action_id}")

    # Programmes and partner contact: the lists, every record, the handover and tabling screens.
    for path, headers in programme_and_partner_contact_pages(
        client, list(programme_ids), list(partner_contact_ids)
    ):
        fetch(path, **headers)

    # Meetings: the list, each agenda (page and fragment), research for each case, the minutes and
    # the police's crime list of closed meetings; for open ones the confidentiality statement,
    # then the live screen (with the forms for each case) and the polled feed.
    fetch("/meetings/")
    for meeting in meetings:
        base = f"/meetings/{meeting.meeting_id}"
        fetch(base)
        fetch(base, **{"HX-Request": "true"})
        for item_id in meeting.item_ids:
            fetch(f"{base}/research/{item_id}")
            fetch(f"{base}/research/{item_id}", **{"HX-Request": "true"})
        if meeting.still_open:
            fetch(f"{base}/live")  # the statement, before accepting it
            accepted = client.post(
                f"{base}/live/accept",
                data={"csrf_token": csrf_token(client, "/"), "kind": "member", "accept": "y"},
            )
            statuses[accepted.status_code if accepted.status_code != 303 else 200] += 1
            fetch(f"{base}/live")
            for item_id in meeting.item_ids:
                fetch(f"{base}/live?item={item_id}")
            fetch(f"{base}/live/feed", **{"HX-Request": "true"})
        else:
            fetch(f"{base}/minutes")
            fetch(f"{base}/crimes")
            # The papers: the page, and every copy it offers this user to download.
            papers_page = client.get(f"{base}/papers")
            keep(papers_page)
            for document_id in sorted(set(DOWNLOAD_LINK.findall(page_text(papers_page)))):
                keep_pdf(client.get(f"/papers/{document_id}"))
        # The agenda as a PDF, made for this user.
        keep_pdf(client.get(f"{base}/agenda.pdf"))
    # Each case's action plan as a PDF, made for this user.
    for case_id in case_ids:
        keep_pdf(client.get(f"/cases/{case_id}/action-plan.pdf"))
    return "\n".join(pages), statuses


def network_outputs(client: FlaskClient, case_ids: list[int]) -> str:
    """Only what the network produces: its page, fragment and picture, for every case."""
    pages = []
    for case_id in case_ids:
        for path, headers in (
            (f"/cases/{case_id}/network", {}),
            (f"/cases/{case_id}/network", {"HX-Request": "true"}),
            (f"/cases/{case_id}/network.svg", {}),
        ):
            response = client.get(path, headers=headers)
            assert response.status_code in (200, 404), (path, response.status_code)
            pages.append(page_text(response))
    return "\n".join(pages)


def test_the_table_names_only_demo_users(demo_usernames: list[str]) -> None:
    named = set().union(*CANARIES.values())
    assert named <= set(demo_usernames), named - set(demo_usernames)


def test_every_canary_in_the_table_is_in_the_demo_data() -> None:
    demo_text = (PROJECT_ROOT / "seeds" / "demo.toml").read_text()
    tokens = {t for t in CANARIES if t.startswith("CNY")}
    # Every canary in the table is in the data, and every canary in the data has a line.
    assert set(re.findall(r"CNY[A-Z]\d\d", demo_text)) == tokens


def test_case_and_action_pages_leak_nothing_to_any_demo_user(
    demo_app: Flask,
    demo_usernames: list[str],
    demo_case_ids: list[int],
    demo_merge_pairs: list[tuple[int, int]],
    demo_action_ids: list[tuple[int, int]],
    demo_programme_ids: list[int],
    demo_partner_contact_ids: list[int],
    demo_meetings: list[DemoMeeting],
) -> None:
    assert demo_merge_pairs, "the demo must raise a possible duplicate for the merge pages"
    assert demo_programme_ids and len(demo_partner_contact_ids) == 4
    assert any(m.still_open and m.item_ids for m in demo_meetings), "a meeting under way"
    assert any(not m.still_open and m.item_ids for m in demo_meetings), "minutes to read"
    failures: list[str] = []
    for username in demo_usernames:
        client = demo_app.test_client()
        assert login(client, username).status_code == 302, username
        text, statuses = everything_seen_by(
            client,
            demo_case_ids,
            demo_merge_pairs,
            demo_action_ids,
            demo_programme_ids,
            demo_partner_contact_ids,
            demo_meetings,
        )
        # 403: the queue, duplicates and merges, or a dashboard, not open to this user (never 500).
        unexpected = set(statuses) - {200, 403, 404}
        if unexpected:
            failures.append(f"{username}: answers {sorted(unexpected)}")
        for canary, allowed in CANARIES.items():
            present = canary in text
            if present and username not in allowed:
                failures.append(f"LEAK: {username} can see {canary}")
            if not present and username in allowed:
                failures.append(f"MISSING: {username} should see {canary} but does not")
    assert not failures, "\n".join(failures)


def test_name_search_never_confirms_a_hidden_person(demo_app: Flask) -> None:
    """The programme may not learn who his partners are by searching their names."""
    client = demo_app.test_client()
    login(client, "programme")
    token = csrf_token(client, "/cases/")
    for name in ("Megan", "Thorne", "Sophie", "Calder", "Hannah", "Ruby", "Carol"):
        response = client.post("/cases/", data={"q": name, "csrf_token": token})
        text = page_text(response)
        assert "0 cases" in text, name
        assert "NM-2026-0101" not in text and "NM-2026-0102" not in text, name
    found = client.post("/cases/", data={"q": "Ashdown", "csrf_token": token})
    assert "3 cases" in page_text(found)


def _signed_in(demo_app: Flask, username: str) -> FlaskClient:
    client = demo_app.test_client()
    assert login(client, username).status_code == 302, username
    return client


def test_a_partners_worker_never_learns_who_the_other_partners_are(
    demo_app: Flask, demo_case_ids: list[int]
) -> None:
    """pc1 works with Megan: she learns that Kieran has other partners, never who or where."""
    text = network_outputs(_signed_in(demo_app, "pc1"), demo_case_ids)
    for hidden in (
        "Sophie Calder",
        "Hannah Pryce",
        "Jade Whitlow",
        "Sophie",
        "Hannah",
        "Jade",
        "Calder",
        "Pryce",
        "Leo",
        "20 Dec 2025",  # Sophie's separation date
        "15 May 2024",  # Hannah's
        "CNYA03",
        "CNYA04",
        "CNYN01",
        "NM-2026-0102",  # their cases, which pc1 may not open
        "NM-2025-0140",
        "Kit Bramley",  # the other partners' workers
        "Lou Penrose",
    ):
        assert hidden not in text, hidden
    assert "Another partner 1" in text and "Another partner 3" in text
    assert "2 other cases you cannot open" in text


def test_the_programme_never_sees_a_partner_or_where_she_is(
    demo_app: Flask, demo_case_ids: list[int]
) -> None:
    text = network_outputs(_signed_in(demo_app, "programme"), demo_case_ids)
    partners = ("Megan", "Thorne", "Sophie", "Calder", "Hannah", "Pryce", "Jade", "Whitlow")
    others = ("Ruby", "Alfie", "Leo", "Carol", "Dean", "Haworth", "Another partner", "A child")
    # Whether she is his partner or ex-partner, when she left, who else works with her.
    words = ("ex-partner", "separated", "Harbour", "IDVA", "Probation", "partner contact")
    addresses = ("CNYA02", "CNYP02", "CNYT02", "CNYA03", "CNYP03", "CNYA04", "CNYN01")
    for hidden in partners + others + words + addresses:
        assert hidden not in text, hidden
    for shown in ("Kieran Ashdown", "The victim", "The victim in NM-2026-0102"):
        assert shown in text, shown


def demo_person_names() -> set[str]:
    """Every name of every person in the demo: full names, aliases, given and family names."""
    data = read_demo()
    people = list(data["people"])
    for case in data["cases"]:
        for member in [case["victim"], *case.get("perpetrators", []), *case.get("children", [])]:
            if isinstance(member, dict):
                people.append(member)
    names: set[str] = set()
    for person in people:
        names |= {f"{person['given']} {person['family']}", person["given"], person["family"]}
        names |= set(person.get("aliases", []))
    return names


def test_reminder_emails_carry_no_case_detail(demo_app: Flask) -> None:
    with demo_app.app_context():
        messages = db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)).all()
        recipients = {m.recipient.split("@")[0] for m in messages}
        bodies = [(m.subject, m.body) for m in messages]
    # Worked out by hand from seeds/demo.toml: the users whose agency has an open action due
    # within 7 days or overdue, in a case they may open (pc3, programme, probation, housing
    # and idva have none; the administrator gets no reminders).
    assert recipients == {
        "chair",
        "police",
        "reviewer-police",
        "csc",
        "reviewer-cp",
        "education",
        "mentalhealth",
        "pc1",
        "pc2",
    }
    names = demo_person_names()
    assert "Kieran Ashdown" in names and "Ella" in names  # the list is really filled
    for subject, body in bodies:
        text = f"{subject}\n{body}"
        assert "CNY" not in text
        assert not re.search(r"\b[A-Z]{2}-\d{4}-\d{4}\b", text), text
        for name in names:
            assert not re.search(rf"\b{re.escape(name)}\b", text), name
        assert "https://marac.example/actions/due" in body
        assert re.fullmatch(r"You have \d+ actions? due or overdue", subject)


def test_the_outbox_is_for_the_administrator(demo_app: Flask) -> None:
    admin = demo_app.test_client()
    login(admin, "admin")
    page = page_text(admin.get("/actions/outbox"))
    assert "police@northmere.example" in page and "You have 2 actions due or overdue" in page
    coordinator = demo_app.test_client()
    login(coordinator, "coordinator")
    assert coordinator.get("/actions/outbox").status_code == 403


def test_the_programme_never_learns_of_another_agencys_action(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "programme")
    action_pages = []
    for path in ["/actions/", "/actions/?show=open", "/actions/due", "/actions/?show=done"]:
        action_pages.append(page_text(client.get(path)))
    case_pages = []
    for case_id in _kieran_case_ids(demo_app):
        case_pages.append(page_text(client.get(f"/cases/{case_id}")))
        action_pages.append(
            page_text(client.get(f"/actions/cases/{case_id}", headers={"HX-Request": "true"}))
        )
    actions_text = "\n".join(action_pages)
    assert "CNYK04" in actions_text  # its own action
    # Not even a summary: an action for her would tell him she has help.
    assert not re.search(r"Action for [A-Z][^<&]* \(due \d", "\n".join(case_pages + action_pages))
    # No other agency is named in the actions section or on the dashboards (the owner choices
    # offer only its own agency and staff).
    for agency in ("Northmere Police", "Harbour", "IDVA Service", "Children's Social Care"):
        assert agency not in actions_text, agency


def _kieran_case_ids(demo_app: Flask) -> list[int]:
    with demo_app.app_context():
        return list(
            db.session.scalars(
                sa.select(Case.id).where(
                    Case.reference.in_(["NM-2026-0101", "NM-2026-0102", "NM-2025-0140"])
                )
            )
        )


REPORT_QUARTERS = ("2026-q3", "2026-q4", "2025-q1")
REFERENCE = re.compile(r"\b(NM|SV)-\d{4}-\d{4}\b")


def test_reports_and_their_downloads_carry_nothing_about_anyone(
    demo_app: Flask, demo_usernames: list[str]
) -> None:
    """Every demo user, the dashboard, the return and both downloads of every area: no canary
    ever, no case reference, and in the files (which leave the service) no name of anyone."""
    from pypdf import PdfReader

    from marac.models import Area

    with demo_app.app_context():
        areas = dict(db.session.execute(sa.select(Area.code, Area.id)).all())
    names = demo_person_names()
    readers = {"coordinator", "chair", "southvale"}
    fetched_files = 0
    for username in demo_usernames:
        client = _signed_in(demo_app, username)
        for code, area_id in areas.items():
            base = f"/areas/{area_id}/reports"
            paths = [base, f"{base}/settings"]
            for quarter in REPORT_QUARTERS:
                paths += [f"{base}/return?quarter={quarter}"]
                paths += [f"{base}/return.{kind}?quarter={quarter}" for kind in ("csv", "pdf")]
            for path in paths:
                response = client.get(path)
                body = response.get_data()
                own_area = (code == "SV") == (username == "southvale")
                if response.status_code != 200:
                    assert response.status_code in (403, 404), (username, path)
                    assert not own_area or username not in readers or "settings" in path
                    continue
                assert own_area, (username, path)
                if response.mimetype == "application/pdf":
                    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
                else:
                    text = page_text(response)
                for canary in CANARIES:
                    if canary.startswith("CNY"):
                        assert canary not in text, (username, path, canary)
                assert not REFERENCE.search(text), (username, path)
                if response.mimetype in ("application/pdf", "text/csv"):
                    fetched_files += 1
                    for name in names:
                        assert not re.search(rf"\b{re.escape(name)}\b", text), (username, name)
    # The coordinator and the chair of Northmere, and Southvale's coordinator: six files each.
    assert fetched_files == 3 * 2 * len(REPORT_QUARTERS)


# Equality monitoring on the case page of NM-2026-0101, by hand from seeds/demo.toml: the
# police referred it; Megan's named workers are `idva` (IDVA) and `pc1` (partner contact).
MEGAN_ANSWER, KIERAN_ANSWER = "Bisexual", "Straight or heterosexual"
SEE_MEGANS = {"coordinator", "chair", "police", "reviewer-police", "idva", "pc1"}
SEE_KIERANS = {"coordinator", "chair", "police", "reviewer-police"}


def test_equality_answers_reach_only_those_who_need_them(
    demo_app: Flask, demo_usernames: list[str]
) -> None:
    with demo_app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.reference == "NM-2026-0101"))
    opened = 0
    for username in demo_usernames:
        client = _signed_in(demo_app, username)
        response = client.get(f"/cases/{case_id}")
        page = page_text(response)
        if response.status_code == 404:
            assert username not in SEE_MEGANS | SEE_KIERANS, username
            continue
        opened += 1
        assert (MEGAN_ANSWER in page) is (username in SEE_MEGANS), username
        assert (KIERAN_ANSWER in page) is (username in SEE_KIERANS), username
        assert ("Equality monitoring" in page) is (username in SEE_MEGANS), username
    assert opened > len(SEE_MEGANS)
