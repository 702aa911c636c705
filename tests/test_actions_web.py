"""Actions on the web: adding and updating them, history, conflicts, the dashboards and their
filters, query counts, and the reminder outbox."""

from __future__ import annotations

import re
import smtplib
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from marac import clock
from marac.domain import (
    ActionStatus,
    ActionSubject,
    AgencyKind,
    AgencySide,
    CaseRole,
    CaseStatus,
    InvolvementKind,
    Role,
)
from marac.extensions import db
from marac.models import Action, ActionStatusChange, AuditEntry, OutboxEmail
from marac.services import reminders

from .conftest import count_queries, csrf_token

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)


class World:
    pass


@pytest.fixture
def w(make_area, make_agency, make_user, make_person, make_case, involve):  # noqa: ANN001
    """One area: police, children's social care, health, a programme and the MARAC team; a heard
    case with a victim, a man the programme works with and a child."""
    w = World()
    w.area = make_area(code="TA")
    w.police = make_agency(w.area, AgencyKind.POLICE, name="Testshire Police")
    w.csc = make_agency(w.area, AgencyKind.CHILDRENS_SOCIAL_CARE, name="Testshire CSC")
    w.health = make_agency(w.area, AgencyKind.HEALTH, name="Testshire Health")
    w.programme = make_agency(
        w.area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, name="Pathway"
    )
    w.team = make_agency(w.area, AgencyKind.OTHER, name="MARAC Team")
    w.rep = make_user(Role.AGENCY_REP, w.police, username="rep", email="rep@t.example")
    w.rep2 = make_user(Role.AGENCY_REP, w.police, username="rep2")
    w.health_rep = make_user(Role.AGENCY_REP, w.health, username="healthrep")
    w.cp = make_user(Role.REVIEWER, w.csc, username="cp", email="cp@t.example")
    w.pl = make_user(Role.REVIEWER, w.police, username="pl")
    w.coordinator = make_user(Role.COORDINATOR, w.team, username="coord")
    w.chair = make_user(Role.CHAIR, w.police, username="chair")
    w.worker = make_user(Role.AGENCY_REP, w.programme, username="prog")
    w.victim = make_person(w.area, given="Alys", family="Marrow")
    w.man = make_person(w.area, given="Bryn", family="Cotter")
    w.child = make_person(w.area, given="Cai", family="Marrow")
    w.case = make_case(
        w.area, w.victim, (w.man,), (w.child,), status=CaseStatus.HEARD, referring_agency=w.police
    )
    involve(w.programme, w.man, InvolvementKind.PERPETRATOR_PROGRAMME)
    return w


def add_action(
    case,  # noqa: ANN001
    agency,  # noqa: ANN001
    text: str = "Visit the address",
    due: date = TODAY + timedelta(days=3),
    subject: ActionSubject = ActionSubject.HOUSEHOLD,
    person=None,  # noqa: ANN001
    status: ActionStatus = ActionStatus.OPEN,
    shared: bool = False,
    updated: datetime = NOW - timedelta(days=1),
) -> Action:
    action = Action(
        case_id=case.id,
        area_id=case.area_id,
        owner_agency_id=agency.id,
        subject=subject,
        subject_person_id=person.id if person else None,
        text=text,
        due_on=due,
        shared_in_detail=shared,
        status=status,
        updated_at=updated,
    )
    db.session.add(action)
    db.session.commit()
    return action


def new_action_form(w: World, **fields: str) -> dict[str, str]:
    return {
        "owner_agency_id": str(w.police.id),
        "owner_user_id": "",
        "subject": str(w.man.id),
        "text": "Serve the bail notice on him",
        "due_on": "2026-12-01",
        **fields,
    }


def post(client, path: str, data: dict, **headers: str):  # noqa: ANN001, ANN201
    token = csrf_token(client, "/actions/")
    return client.post(path, data={**data, "csrf_token": token}, headers=headers)


# --- adding an action ------------------------------------------------------------------------


def test_an_action_is_added_with_its_history_and_audit(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w.rep)
    data = new_action_form(w, owner_user_id=str(w.rep2.id), shared_in_detail="y")
    response = post(client, f"/actions/cases/{w.case.id}", data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{w.case.id}#actions")
    action = db.session.scalar(sa.select(Action))
    assert (action.owner_agency_id, action.owner_user_id) == (w.police.id, w.rep2.id)
    assert (action.subject, action.subject_person_id) == (ActionSubject.PERPETRATOR, w.man.id)
    assert action.due_on == date(2026, 12, 1) and action.shared_in_detail
    assert action.status is ActionStatus.OPEN and action.created_by_id == w.rep.id
    history = db.session.scalars(sa.select(ActionStatusChange)).all()
    assert [(h.from_status, h.to_status, h.changed_by_id) for h in history] == [
        (None, ActionStatus.OPEN, w.rep.id)
    ]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "action.create"))
    assert entry.user_id == w.rep.id and "bail" not in entry.detail
    page = client.get(f"/cases/{w.case.id}").get_data(as_text=True)
    assert "Serve the bail notice on him" in page and "Bryn Cotter" in page


def test_owner_and_due_date_are_required_and_typing_is_kept(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w.rep)
    data = new_action_form(w, owner_agency_id="", due_on="", text="Phone the school on Monday")
    response = post(client, f"/actions/cases/{w.case.id}", data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Choose the agency that will do it." in text
    assert "Enter the due date." in text
    assert "Phone the school on Monday" in text
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 0


def test_a_due_date_in_the_past_is_refused(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w.rep)
    response = post(client, f"/actions/cases/{w.case.id}", new_action_form(w, due_on="2026-11-23"))
    assert response.status_code == 400
    assert "The due date must be today or later." in response.get_data(as_text=True)
    today = post(client, f"/actions/cases/{w.case.id}", new_action_form(w, due_on="2026-11-24"))
    assert today.status_code == 303


def test_vague_wording_warns_and_can_be_confirmed(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w.rep)
    data = new_action_form(w, text="Monitor the situation")
    warned = post(client, f"/actions/cases/{w.case.id}", data)
    assert warned.status_code == 200
    page = warned.get_data(as_text=True)
    assert "describes an attitude, not a step" in page and "Monitor the situation" in page
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 0
    confirmed = post(client, f"/actions/cases/{w.case.id}", {**data, "confirm_vague": "y"})
    assert confirmed.status_code == 303
    assert db.session.scalar(sa.select(Action.text)) == "Monitor the situation"


def test_htmx_gets_the_section_back_with_errors_or_the_new_action(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w.rep)
    hx = {"HX-Request": "true"}
    bad = post(client, f"/actions/cases/{w.case.id}", new_action_form(w, due_on=""), **hx)
    assert bad.status_code == 400
    assert bad.get_data(as_text=True).lstrip().startswith('<section id="actions"')
    good = post(client, f"/actions/cases/{w.case.id}", new_action_form(w), **hx)
    assert good.status_code == 200
    fragment = good.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="actions"') and "<html" not in fragment
    assert "Action added." in fragment and "Serve the bail notice on him" in fragment


def test_the_programme_adds_actions_only_for_itself(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w.worker)
    page = client.get(f"/cases/{w.case.id}").get_data(as_text=True)
    # Its choices name only itself and the people it may see.
    assert "Testshire Police" not in page and "Cai Marrow" not in page and "Alys" not in page
    refused = post(client, f"/actions/cases/{w.case.id}", new_action_form(w))
    assert refused.status_code == 400
    data = new_action_form(w, owner_agency_id=str(w.programme.id))
    assert post(client, f"/actions/cases/{w.case.id}", data).status_code == 303


def test_a_case_not_open_to_the_user_is_not_found(client, signed_in, w, make_person, make_case):  # noqa: ANN001
    unlisted = make_case(w.area, make_person(w.area), status=CaseStatus.REFERRED)
    signed_in(w.health_rep)
    assert post(client, f"/actions/cases/{unlisted.id}", new_action_form(w)).status_code == 404
    assert client.get(f"/actions/cases/{unlisted.id}").status_code == 404


# --- status changes --------------------------------------------------------------------------


def test_status_changes_are_kept_with_who_when_and_note(client, signed_in, w) -> None:  # noqa: ANN001
    action = add_action(w.case, w.police)
    signed_in(w.rep)
    path = f"/actions/cases/{w.case.id}/{action.id}/status"
    first = post(client, path, {"status": "in_progress", "note": "Booked", "version": "1"})
    assert first.status_code == 303
    needs_note = post(client, path, {"status": "not_done_by_agency", "note": "", "version": "2"})
    assert needs_note.status_code == 400
    assert "Say why in the note." in needs_note.get_data(as_text=True)
    second = post(client, path, {"status": "done", "note": "Served", "version": "2"})
    assert second.status_code == 303
    db.session.expire_all()
    changes = db.session.scalars(
        sa.select(ActionStatusChange).order_by(ActionStatusChange.id)
    ).all()
    assert [(c.from_status, c.to_status, c.note, c.changed_by_id) for c in changes] == [
        (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, "Booked", w.rep.id),
        (ActionStatus.IN_PROGRESS, ActionStatus.DONE, "Served", w.rep.id),
    ]
    page = client.get(f"/actions/cases/{w.case.id}/{action.id}").get_data(as_text=True)
    assert "Booked" in page and "Served" in page and "Test User" in page and "24 Nov 2026" in page


def test_a_stale_status_change_gets_409_and_keeps_the_note(client, signed_in, w) -> None:  # noqa: ANN001
    action = add_action(w.case, w.police)
    signed_in(w.rep)
    path = f"/actions/cases/{w.case.id}/{action.id}/status"
    assert (
        post(client, path, {"status": "in_progress", "note": "", "version": "1"}).status_code == 303
    )
    stale = post(client, path, {"status": "done", "note": "My typed note", "version": "1"})
    assert stale.status_code == 409
    text = stale.get_data(as_text=True)
    assert "Someone else changed this action" in text and "My typed note" in text
    assert 'name="version" value="2"' in text
    db.session.expire_all()
    assert db.session.get(Action, action.id).status is ActionStatus.IN_PROGRESS


def test_only_the_owner_agency_and_the_chair_change_the_status(client, signed_in, w) -> None:  # noqa: ANN001
    action = add_action(w.case, w.police, shared=True)
    path = f"/actions/cases/{w.case.id}/{action.id}/status"
    data = {"status": "done", "note": "x", "version": "1"}
    signed_in(w.health_rep)
    assert post(client, path, data).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/actions/")})
    signed_in(w.coordinator)
    assert post(client, path, data).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/actions/")})
    signed_in(w.chair)
    assert post(client, path, data).status_code == 303


def test_others_see_a_summary_and_the_programme_nothing(client, signed_in, w) -> None:  # noqa: ANN001
    action = add_action(w.case, w.police, text="SECRET STEP", due=date(2026, 12, 12))
    signed_in(w.coordinator)
    page = client.get(f"/cases/{w.case.id}").get_data(as_text=True)
    assert "Action for Testshire Police (due 12 December 2026)" in page
    assert "SECRET STEP" not in page
    detail = client.get(f"/actions/cases/{w.case.id}/{action.id}").get_data(as_text=True)
    assert "SECRET STEP" not in detail and "Action for Testshire Police" in detail
    client.post("/logout", data={"csrf_token": csrf_token(client, "/actions/")})
    signed_in(w.worker)
    page = client.get(f"/cases/{w.case.id}").get_data(as_text=True)
    assert "Action for Testshire Police" not in page and "SECRET STEP" not in page
    assert client.get(f"/actions/cases/{w.case.id}/{action.id}").status_code == 404


def test_case_page_lists_open_actions_first_oldest_due_first(client, signed_in, w) -> None:  # noqa: ANN001
    add_action(w.case, w.police, "Later open", due=TODAY + timedelta(days=9))
    add_action(
        w.case, w.police, "Done one", due=TODAY - timedelta(days=30), status=ActionStatus.DONE
    )
    add_action(w.case, w.police, "Overdue open", due=TODAY - timedelta(days=2))
    add_action(w.case, w.police, "Soon open", due=TODAY + timedelta(days=1))
    signed_in(w.rep)
    page = client.get(f"/cases/{w.case.id}").get_data(as_text=True)
    order = [page.index(t) for t in ("Overdue open", "Soon open", "Later open", "Done one")]
    assert order == sorted(order)
    assert "Overdue</span>" in page


def test_case_page_query_count_does_not_grow_with_actions(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w.rep)
    for n in range(2):
        add_action(
            w.case,
            [w.police, w.health][n % 2],
            f"Visit {n}",
            person=w.child,
            subject=ActionSubject.CHILD,
        )
    with count_queries() as few:
        client.get(f"/cases/{w.case.id}")
    for n in range(20):
        add_action(
            w.case,
            [w.police, w.health][n % 2],
            f"Visit more {n}",
            person=w.child,
            subject=ActionSubject.CHILD,
        )
    with count_queries() as many:
        text = client.get(f"/cases/{w.case.id}").get_data(as_text=True)
    assert "Visit more 18" in text
    assert many.count == few.count, (few.count, many.count)


# --- dashboards ------------------------------------------------------------------------------


def test_dashboards_are_refused_to_the_wrong_roles(client, signed_in, w) -> None:  # noqa: ANN001
    signed_in(w.rep)
    assert client.get("/actions/").status_code == 200
    assert client.get("/actions/due").status_code == 200
    for path in ("/actions/coordinator", "/actions/children", "/actions/police", "/actions/outbox"):
        assert client.get(path).status_code == 403, path


def test_my_agency_due_soon_overdue_and_done(client, signed_in, w) -> None:  # noqa: ANN001
    add_action(w.case, w.police, "Due in three days", due=TODAY + timedelta(days=3))
    add_action(w.case, w.police, "Due in nine days", due=TODAY + timedelta(days=9))
    add_action(w.case, w.police, "Two days late", due=TODAY - timedelta(days=2))
    add_action(
        w.case, w.police, "Finished", due=TODAY - timedelta(days=2), status=ActionStatus.DONE
    )
    add_action(w.case, w.health, "Health's own", due=TODAY + timedelta(days=1))
    signed_in(w.rep)
    soon = client.get("/actions/").get_data(as_text=True)
    assert "Due in three days" in soon and "Due in nine days" not in soon
    assert "Health's own" not in soon and "Two days late" not in soon
    assert re.search(r"Due soon <span class=\"count\">1</span>", soon)
    assert re.search(r"Overdue <span class=\"count\">1</span>", soon)
    assert re.search(r"Done <span class=\"count\">1</span>", soon)
    wider = client.get("/actions/?days=10").get_data(as_text=True)
    assert "Due in nine days" in wider
    assert "Two days late" in client.get("/actions/?show=overdue").get_data(as_text=True)
    assert "Finished" in client.get("/actions/?show=done").get_data(as_text=True)
    bad = client.get("/actions/?days=400&show=nonsense")
    assert bad.status_code == 400 and "Choose between 1 and 60 days." in bad.get_data(as_text=True)


def test_my_agency_tab_counts_are_each_their_own(client, signed_in, w) -> None:  # noqa: ANN001
    """The three open tabs are counted in one statement: each count must stay its own."""
    for days in (1, 3):
        add_action(w.case, w.police, f"Due in {days} days", due=TODAY + timedelta(days=days))
    for days in (2, 4, 6):
        add_action(w.case, w.police, f"{days} days late", due=TODAY - timedelta(days=days))
    add_action(w.case, w.police, "Due next month", due=TODAY + timedelta(days=30))
    add_action(w.case, w.health, "Health's own late", due=TODAY - timedelta(days=1))
    signed_in(w.rep)
    page = client.get("/actions/").get_data(as_text=True)
    assert re.search(r"Due soon <span class=\"count\">2</span>", page)
    assert re.search(r"Overdue <span class=\"count\">3</span>", page)
    assert re.search(r"All open <span class=\"count\">6</span>", page)
    assert re.search(r"Done <span class=\"count\">0</span>", page)


def test_overdue_is_judged_in_london_not_utc(client, signed_in, w, monkeypatch) -> None:  # noqa: ANN001
    add_action(w.case, w.police, "Due on the fourteenth", due=date(2026, 7, 14))
    signed_in(w.rep)
    # 23:30 UTC on 14 July is 00:30 on 15 July in London: the action is now overdue.
    monkeypatch.setattr(clock, "utc_now", lambda: datetime(2026, 7, 14, 23, 30, tzinfo=UTC))
    assert "Due on the fourteenth" in client.get("/actions/?show=overdue").get_data(as_text=True)
    monkeypatch.setattr(clock, "utc_now", lambda: datetime(2026, 7, 14, 22, 30, tzinfo=UTC))
    assert "Due on the fourteenth" not in client.get("/actions/?show=overdue").get_data(
        as_text=True
    )


def test_coordinator_overdue_by_agency_stale_and_repeated_non_completion(
    client,
    signed_in,
    w,  # noqa: ANN001
) -> None:
    late = TODAY - timedelta(days=3)
    add_action(w.case, w.police, "Police late 1", due=late)
    add_action(w.case, w.police, "Police late 2", due=late)
    add_action(w.case, w.health, "Health late", due=late, updated=NOW - timedelta(days=40))
    for n, days_ago in enumerate((10, 20, 300)):
        a = add_action(
            w.case,
            w.csc if n < 2 else w.health,
            f"Not done {n}",
            status=ActionStatus.NOT_DONE_BY_AGENCY,
        )
        db.session.add(
            ActionStatusChange(
                action_id=a.id,
                area_id=a.area_id,
                from_status=ActionStatus.OPEN,
                to_status=ActionStatus.NOT_DONE_BY_AGENCY,
                note="n",
                changed_at=NOW - timedelta(days=days_ago),
            )
        )
    db.session.commit()
    signed_in(w.coordinator)
    page = client.get("/actions/coordinator").get_data(as_text=True)
    by_agency = page[page.index("Overdue by agency") : page.index("Repeated non-completion")]
    assert re.search(r"Testshire Police</a></td><td>2<", by_agency)
    assert re.search(r"Testshire Health</a></td><td>1<", by_agency)
    repeated = page[page.index("Repeated non-completion") : page.index("<h2>Actions</h2>")]
    # Children's social care twice in the last six months; health once, and long ago.
    assert "Testshire CSC" in repeated and "Testshire Health" not in repeated
    # The coordinator reads none of the texts: summaries only.
    assert "Police late 1" not in page and "Action for Testshire Police" in page
    stale = client.get("/actions/coordinator?show=stale").get_data(as_text=True)
    assert stale.count("Action for Testshire Health") == 1
    assert "Action for Testshire Police" not in stale
    later = client.get("/actions/coordinator?show=stale&since=2026-11-24").get_data(as_text=True)
    assert later.count("Action for Testshire Police") == 2
    long_period = client.get(
        "/actions/coordinator?period_from=2025-01-01&period_to=2026-11-24"
    ).get_data(as_text=True)
    repeated = long_period[long_period.index("Repeated non-completion") :]
    assert "Testshire CSC" in repeated
    backwards = client.get("/actions/coordinator?period_from=2026-11-24&period_to=2026-01-01")
    assert backwards.status_code == 400


def test_child_protection_reviewer_views(client, signed_in, w, make_person, make_case) -> None:  # noqa: ANN001
    add_action(
        w.case, w.health, "Health visit for Cai", subject=ActionSubject.CHILD, person=w.child
    )
    add_action(
        w.case, w.police, "Police about him", subject=ActionSubject.PERPETRATOR, person=w.man
    )
    bare = make_case(
        w.area,
        make_person(w.area, given="Dee"),
        (make_person(w.area),),
        (make_person(w.area, given="Eli"),),
        status=CaseStatus.HEARD,
    )
    no_children = make_case(w.area, make_person(w.area), status=CaseStatus.HEARD)
    closed = make_case(
        w.area, make_person(w.area), (), (make_person(w.area),), status=CaseStatus.CLOSED
    )
    signed_in(w.cp)
    page = client.get("/actions/children").get_data(as_text=True)
    # Another agency's action about a child is in full for the child-protection reviewer.
    assert "Health visit for Cai" in page and "Police about him" not in page
    gaps = client.get("/actions/children?show=uncovered").get_data(as_text=True)
    assert bare.reference in gaps
    for covered in (w.case, no_children, closed):
        assert covered.reference not in gaps


def test_police_liaison_reviewer_views(client, signed_in, w, make_person, make_case) -> None:  # noqa: ANN001
    add_action(w.case, w.police, "Police visit", subject=ActionSubject.VICTIM, person=w.victim)
    add_action(
        w.case, w.health, "Health about him", subject=ActionSubject.PERPETRATOR, person=w.man
    )
    add_action(w.case, w.health, "Health about her", subject=ActionSubject.VICTIM, person=w.victim)
    bare = make_case(w.area, make_person(w.area), (make_person(w.area),), status=CaseStatus.LISTED)
    cancelled_only = make_case(
        w.area, make_person(w.area), (make_person(w.area),), status=CaseStatus.LISTED
    )
    man = next(m.person_id for m in cancelled_only.members if m.role is CaseRole.PERPETRATOR)
    db.session.add(
        Action(
            case_id=cancelled_only.id,
            area_id=w.area.id,
            owner_agency_id=w.police.id,
            subject=ActionSubject.PERPETRATOR,
            subject_person_id=man,
            text="x",
            due_on=TODAY,
            status=ActionStatus.CANCELLED,
        )
    )
    db.session.commit()
    signed_in(w.pl)
    page = client.get("/actions/police").get_data(as_text=True)
    assert "Police visit" in page
    assert "Health about" not in page and "Action for Testshire Health" not in page
    gaps = client.get("/actions/police?show=uncovered").get_data(as_text=True)
    assert bare.reference in gaps and cancelled_only.reference in gaps
    assert w.case.reference not in gaps


@pytest.mark.parametrize(
    ("user", "paths"),
    [
        ("rep", ["/actions/?show=open", "/actions/due"]),
        ("coordinator", ["/actions/coordinator", "/actions/coordinator?show=stale"]),
        ("cp", ["/actions/children?show=all", "/actions/children?show=uncovered"]),
        ("pl", ["/actions/police?show=all", "/actions/police?show=uncovered"]),
    ],
)
def test_dashboard_query_count_does_not_grow_with_the_page(
    client,
    signed_in,
    w,
    make_person,
    make_case,
    user,
    paths,  # noqa: ANN001
) -> None:
    def add(n: int) -> None:
        for i in range(n):
            case = make_case(
                w.area,
                make_person(w.area),
                (make_person(w.area),),
                (make_person(w.area),),
                status=CaseStatus.HEARD,
            )
            child = next(m.person_id for m in case.members if m.role is CaseRole.CHILD)
            for agency in (w.police, w.health):
                db.session.add(
                    Action(
                        case_id=case.id,
                        area_id=w.area.id,
                        owner_agency_id=agency.id,
                        subject=ActionSubject.CHILD,
                        subject_person_id=child,
                        text=f"Step {i}",
                        due_on=TODAY + timedelta(days=(i % 5) - 2),
                        shared_in_detail=i % 2 == 0,
                        updated_at=NOW - timedelta(days=40),
                    )
                )
        db.session.commit()

    signed_in(getattr(w, user))
    add(2)
    few = {}
    for path in paths:
        with count_queries() as counted:
            assert client.get(f"{path}{'&' if '?' in path else '?'}per_page=10").status_code == 200
        few[path] = counted.count
    add(30)
    for path in paths:
        with count_queries() as counted:
            assert client.get(f"{path}{'&' if '?' in path else '?'}per_page=50").status_code == 200
        assert counted.count == few[path], (path, few[path], counted.count)


# --- reminders -------------------------------------------------------------------------------


def test_reminders_are_queued_once_a_day_without_case_detail(app, w) -> None:  # noqa: ANN001
    add_action(w.case, w.police, "Bryn Cotter secret step", due=TODAY + timedelta(days=2))
    add_action(
        w.case,
        w.csc,
        "Cai Marrow plan",
        due=TODAY - timedelta(days=1),
        subject=ActionSubject.CHILD,
        person=w.child,
    )
    add_action(w.case, w.health, "Far away", due=TODAY + timedelta(days=30))
    assert reminders.queue_reminders(db.session, "https://m.example", TODAY) == 2
    assert reminders.queue_reminders(db.session, "https://m.example", TODAY) == 0
    db.session.commit()
    messages = {m.recipient: m for m in db.session.scalars(sa.select(OutboxEmail))}
    # rep (police) and cp (children's social care) have email addresses; the rest do not.
    assert set(messages) == {"rep@t.example", "cp@t.example"}
    for message in messages.values():
        assert message.subject == "You have 1 action due or overdue"
        assert "https://m.example/actions/due" in message.body
        for secret in ("Bryn", "Cotter", "Cai", "Marrow", "secret", "plan", w.case.reference):
            assert secret not in message.body and secret not in message.subject
    assert (
        reminders.queue_reminders(db.session, "https://m.example", TODAY + timedelta(days=1)) == 2
    )


class FakeSMTP:
    sent: list = []
    refuse: bool = False

    def __init__(self, host: str, port: int, timeout: int) -> None:
        self.host = host

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def starttls(self, context: object) -> None:
        return None

    def login(self, user: str, password: str) -> None:
        return None

    def send_message(self, message: object) -> None:
        if FakeSMTP.refuse:
            raise smtplib.SMTPRecipientsRefused({"x": (550, b"no")})
        FakeSMTP.sent.append(message)


def test_send_email_leaves_mail_queued_without_a_server_and_delivers_with_one(app, w) -> None:  # noqa: ANN001
    add_action(w.case, w.police, due=TODAY)
    reminders.queue_reminders(db.session, "https://m.example", TODAY)
    none = reminders.send_queued(db.session, {"MARAC_SMTP_HOST": None}, FakeSMTP)
    assert (none.configured, none.waiting) == (False, 1)
    config = {"MARAC_SMTP_HOST": "mail.internal", "MARAC_SMTP_FROM": "marac@t.example"}
    FakeSMTP.sent, FakeSMTP.refuse = [], True
    failed = reminders.send_queued(db.session, config, FakeSMTP)
    message = db.session.scalar(sa.select(OutboxEmail))
    assert (failed.sent, failed.failed, message.attempts) == (0, 1, 1)
    assert message.sent_at is None and "SMTPRecipientsRefused" in message.last_error
    FakeSMTP.refuse = False
    done = reminders.send_queued(db.session, config, FakeSMTP)
    assert (done.sent, message.attempts, message.last_error) == (1, 2, None)
    assert message.sent_at is not None and FakeSMTP.sent[0]["To"] == "rep@t.example"
    assert reminders.send_queued(db.session, config, FakeSMTP).sent == 0


def test_counts_of_long_lists_stop_at_the_cap(client, signed_in, w, monkeypatch) -> None:  # noqa: ANN001
    from marac import dashboards

    monkeypatch.setattr(dashboards, "COUNT_CAP", 3)
    for n in range(6):
        add_action(
            w.case,
            w.police,
            f"Old {n}",
            due=TODAY - timedelta(days=n + 1),
            status=ActionStatus.DONE,
        )
    signed_in(w.rep)
    page = client.get("/actions/?show=done&per_page=10").get_data(as_text=True)
    assert re.search(r"Done <span class=\"count\">3\+</span>", page)
    assert "3+ actions, page 1" in page and "Next page" in page
    assert all(f"Old {n}" in page for n in range(6))
