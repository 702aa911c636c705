"""The main journeys through the service, in Chromium, as the people who make them.

Each test works on the shared live demo and writes text of its own (a fresh token), so that it
does not depend on what another test did, nor on the order the tests run in.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from marac import clock
from marac.extensions import db
from marac.models import Person, ProgrammeRecord

from ..conftest import PASSWORD, fresh_code
from .conftest import LiveServer, sign_in


def _today(live_server: LiveServer) -> date:
    with live_server.app.app_context():
        return clock.service_today()


def _token() -> str:
    return uuid.uuid4().hex[:6]


def test_signing_in_needs_the_code_and_a_wrong_code_is_refused(
    live_server: LiveServer, new_page: Any
) -> None:
    page = new_page()
    page.goto("/cases/")
    assert "/login" in page.url  # sent to sign in, not shown the cases

    page.get_by_label("Username").fill("housing")
    page.get_by_label("Password").fill(PASSWORD)
    right = fresh_code(live_server.app, "housing")
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    page.get_by_label("Code").fill(wrong)
    page.get_by_role("button", name="Sign in").click()
    page.locator(".error-summary").wait_for()
    assert "/login" in page.url
    code_field = page.get_by_label("Code")
    assert code_field.get_attribute("aria-invalid") == "true"
    # The message is tied to the field, and the username is kept; the password never is.
    described = code_field.get_attribute("aria-describedby") or ""
    error_id = next(part for part in described.split() if part.endswith("-error"))
    assert "not right" in page.locator(f"#{error_id}").inner_text()
    assert page.get_by_label("Username").input_value() == "housing"
    assert page.get_by_label("Password").input_value() == ""

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code").fill(fresh_code(live_server.app, "housing"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    assert page.get_by_role("button", name="Sign out").is_visible()
    page.goto("/cases/")
    assert page.get_by_role("heading", level=1).inner_text().strip() != "Sign in"


def _score(page: Any) -> int:
    text = page.locator("#eligibility .score").inner_text()
    match = re.search(r"Score: (\d+) of", text)
    assert match, text
    return int(match.group(1))


def _wait_for_score(page: Any, wanted: int) -> None:
    page.locator("#eligibility .score", has_text=f"Score: {wanted} of").wait_for()


def test_a_referral_scores_live_offers_a_known_person_and_is_listed_for_a_meeting(
    live_server: LiveServer, new_page: Any
) -> None:
    police = new_page()
    sign_in(police, "police")
    police.get_by_role("link", name="Make a referral").click()
    police.get_by_role("heading", name="Make a referral to the MARAC").wait_for()
    police.evaluate("window.notReloaded = true")

    victim = police.locator("fieldset", has=police.locator("legend", has_text="The victim"))
    # A misspelling of someone already known: she is offered, with the reason why.
    # Typed key by key: the search runs when typing pauses.
    victim.get_by_label("First name", exact=True).press_sequentially("Meghan")
    victim.get_by_label("Last name", exact=True).press_sequentially("Thorn")
    offer = victim.locator(".matches fieldset", has_text="Is this someone already known?")
    offer.wait_for()
    assert "Megan Thorne" in offer.inner_text()
    assert "Why offered" in offer.inner_text()
    # This referral is about someone else who happens to have a similar name.
    token = _token()
    victim.get_by_label("First name", exact=True).fill("")
    victim.get_by_label("First name", exact=True).press_sequentially(f"Meghan{token}")
    victim.get_by_label("Last name", exact=True).fill("")
    victim.get_by_label("Last name", exact=True).press_sequentially("Thornbury")
    victim.locator(".matches", has_text="No one you may see matches this name").wait_for()

    # The score follows the checklist as it is answered, without a reload.
    assert _score(police) == 0
    rows = police.locator("#checklist tbody tr")
    for index in range(3):
        rows.nth(index).get_by_label("Yes", exact=True).check()
    _wait_for_score(police, 3)
    # Quick changes in a row: the score shows the last of them, never an older answer.
    rows.nth(3).get_by_label("Don't know").check()
    rows.nth(1).get_by_label("No", exact=True).check()
    _wait_for_score(police, 2)
    assert "never count as yes" in police.locator("#eligibility").inner_text()

    police.get_by_label(
        "Police call-outs for domestic abuse in the last 12 months"
    ).press_sequentially("3")
    police.locator("#eligibility", has_text="Potential escalation: met").wait_for()

    person = police.locator("fieldset", has=police.locator("legend", has_text="Person 1"))
    person.get_by_label("Role in the case").select_option(label="Perpetrator")
    person.get_by_label("First name", exact=True).fill(f"Dorian{token}")
    person.get_by_label("Last name", exact=True).fill("Vale")
    person.get_by_label("Relationship to the victim").select_option(label="Her partner")
    police.get_by_label("Referring officer").fill("PC Ash Morrow")
    police.get_by_label("Date of the latest incident").fill(
        (_today(live_server) - timedelta(days=2)).isoformat()
    )
    for question in (
        "Does she know about this referral?",
        "Has she agreed to the referral and to information being shared?",
    ):
        police.get_by_role("group", name=question).get_by_label("Yes", exact=True).check()
    assert police.evaluate("window.notReloaded") is True
    police.get_by_role("button", name="Save the referral").click()
    saved = police.locator(".alert--success", has_text="saved")
    saved.wait_for()
    match = re.search(r"Referral (\S+) saved\. Status: Eligible", saved.inner_text())
    assert match, saved.inner_text()
    reference = match.group(1)

    # The coordinator lists it for the next meeting, from that meeting's page.
    coordinator = new_page()
    sign_in(coordinator, "coordinator")
    coordinator.get_by_role("link", name="Meetings", exact=True).click()
    coordinator.locator("main a[href^='/meetings/']", has_text="December").first.click()
    choose = coordinator.get_by_label("Case to list")
    option = choose.locator("option", has_text=reference)
    assert option.count() == 1
    choose.select_option(value=option.get_attribute("value"))
    coordinator.get_by_role("button", name="List the case").click()
    agenda = coordinator.locator("#agenda table")
    agenda.locator("tr", has_text=reference).wait_for()
    assert f"Meghan{token} Thornbury" in agenda.locator("tr", has_text=reference).inner_text()


def test_a_reviewer_sees_what_is_overdue(live_server: LiveServer, new_page: Any) -> None:
    today = _today(live_server)
    page = new_page()
    sign_in(page, "reviewer-cp")
    page.get_by_role("link", name="Actions", exact=True).click()
    page.locator("main").get_by_role("link", name="Children").click()
    page.get_by_role("heading", name="Children: actions and gaps").wait_for()
    rows = page.locator("#action-results tbody tr")
    overdue = [row for row in rows.all() if "Overdue" in row.inner_text()]
    assert overdue, "the demo has child actions past their due date"
    for row in rows.all():
        due = date.fromisoformat(row.locator("time").first.get_attribute("datetime") or "")
        # Said in words beside the date, never by colour alone.
        assert ("Overdue" in row.inner_text()) == (due < today), row.inner_text()

    # The reviewer's own agency's overdue work, one step away.
    page.get_by_role("link", name="My agency's actions").click()
    page.locator("#action-results").get_by_role("link", name=re.compile("^Overdue")).click()
    page.wait_for_url(re.compile(r"show=overdue"))
    listed = page.locator("#action-results tbody tr")
    assert listed.count() >= 1
    for row in listed.all():
        due = date.fromisoformat(row.locator("time").first.get_attribute("datetime") or "")
        assert due < today and "Overdue" in row.inner_text()


def test_a_drop_out_recorded_by_the_programme_reaches_her_worker(
    live_server: LiveServer, new_page: Any
) -> None:
    today = _today(live_server)
    with live_server.app.app_context():
        record_id = db.session.scalar(
            sa.select(ProgrammeRecord.id)
            .join(Person, Person.id == ProgrammeRecord.person_id)
            .where(Person.given_name == "Kieran", Person.family_name == "Ashdown")
        )
    assert record_id is not None

    programme = new_page()
    sign_in(programme, "programme")
    programme.get_by_role("link", name="Programmes").click()
    programme.locator(f"main a[href='/programmes/{record_id}']").first.click()
    status_form = programme.locator("form[action$='/status']")
    # He came back, then left again today: the drop-out is the change that raises risk.
    for status, on in (("Attending", today - timedelta(days=1)), ("Dropped out", today)):
        status_form.get_by_label("New status").select_option(label=status)
        status_form.get_by_label("Date of the change").fill(on.isoformat())
        status_form.get_by_role("button", name="Record the change").click()
        programme.locator(".alert--success").wait_for()
        assert status in programme.locator(".facts").inner_text()
    # The programme worker is told a task was given, never to whom or about whom.
    assert "partner-contact workers" in programme.locator(".alert--success").inner_text()

    wording = f"Programme status: dropped out on {today.day} {today.strftime('%B %Y')}"
    worker = new_page()
    sign_in(worker, "pc1")
    worker.get_by_role("link", name="Partner contact").click()
    tasks = worker.locator(
        "section", has=worker.get_by_role("heading", name=re.compile("Open tasks"))
    )
    task = tasks.locator("tr", has_text=wording)
    task.wait_for()
    assert task.count() == 1
    assert "Megan Thorne" in task.inner_text()

    # The survivor whose partner contact goes on without a new task sees none.
    other = new_page()
    sign_in(other, "pc3")
    other.get_by_role("link", name="Partner contact").click()
    assert other.locator("tr", has_text=wording).count() == 0


def test_the_coordinator_issues_papers_and_an_agency_downloads_only_its_own(
    live_server: LiveServer, new_page: Any, tmp_path: Any
) -> None:
    from pypdf import PdfReader

    from ..test_leaks import CANARIES

    coordinator = new_page()
    sign_in(coordinator, "coordinator")
    coordinator.get_by_role("link", name="Meetings", exact=True).click()
    coordinator.get_by_role("link", name="Northmere MARAC, 23 September 2026").click()
    coordinator.locator("main").get_by_role("link", name="Papers", exact=True).click()
    # Issued already (by another test or the walk): a correction issues them again.
    if coordinator.get_by_role("button", name="Issue new papers and supersede these").count():
        coordinator.get_by_label("What was corrected").fill(
            f"A correction to the action plan ({_token()})"
        )
        coordinator.get_by_role("button", name="Issue new papers and supersede these").click()
    else:
        coordinator.get_by_role("button", name="Issue the papers").click()
    issued = coordinator.locator(".alert--success", has_text="documents issued")
    issued.wait_for()
    papers_url = coordinator.url
    issued_table = coordinator.locator(
        "section", has=coordinator.get_by_role("heading", name="Issued papers")
    )
    recipients = {
        row.locator("td").nth(1).inner_text().strip()
        for row in issued_table.locator("tbody tr").all()
    }
    assert "Northmere Police" in recipients and len(recipients) > 2

    police = new_page(accept_downloads=True)
    sign_in(police, "police")
    police.goto(papers_url)
    table = police.locator("section", has=police.get_by_role("heading", name="Issued papers"))
    own = table.locator("tbody tr", has_text="Northmere Police")
    assert own.count() == 1
    # Other agencies' copies are not even listed to the police.
    assert table.locator("tbody tr").count() == 1
    others = recipients - {"Northmere Police"}
    assert not [name for name in others if name in table.inner_text()]
    number = own.locator("td").first.inner_text().strip()
    with police.expect_download() as download:
        own.get_by_role("link", name=re.compile(f"^Download {re.escape(number)}")).click()
    path = tmp_path / "police.pdf"
    download.value.save_as(path)
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert "OFFICIAL-SENSITIVE" in text and "Northmere Police" in text and number in text
    withheld = sorted(token for token, users in CANARIES.items() if "police" not in users)
    assert withheld and not [token for token in withheld if token in text]
