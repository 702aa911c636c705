"""Meetings: scheduling, the agenda (capacity, cut-off, listing once, moving), research and the
victim's voice, the confidentiality gate, the live meeting, concurrent edits, crimes, minutes."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time

import pypdf
import pytest
import sqlalchemy as sa

from marac import clock, papers, policy
from marac.domain import (
    ActionStatus,
    ActionSubject,
    AgencyKind,
    AgencySide,
    AgendaStatus,
    AttendanceKind,
    CaseStatus,
    Classification,
    Criterion,
    InvolvementKind,
    ItemNature,
    ItemSource,
    MeetingFrequency,
    MeetingStatus,
    Role,
)
from marac.extensions import db
from marac.models import (
    Action,
    AgendaItem,
    Attendance,
    AuditEntry,
    Case,
    CrimeDisclosure,
    InformationItem,
    Meeting,
    Referral,
    ReferralCriterion,
    VictimVoice,
)
from marac.present_meetings import MeetingRows, present_agenda_case, present_minutes
from marac.services import meetings as service
from marac.viewer import agency_reader, links_for_case, viewer_for

from .conftest import count_queries, csrf_token, login, page_text

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)


class World:
    pass


@pytest.fixture
def w(app, make_area, make_agency, make_user, make_person, make_case, involve):  # noqa: ANN001
    """One area: police, an IDVA service, children's social care, a programme and the team; a
    listed case (her IDVA is her named worker, the programme works with him) and an eligible one.
    """
    w = World()
    w.area = make_area(code="MA", name="Meadshire")
    w.team = make_agency(w.area, AgencyKind.OTHER, name="MARAC Team")
    w.police = make_agency(w.area, AgencyKind.POLICE, name="Meadshire Police")
    w.idva_agency = make_agency(
        w.area, AgencyKind.IDVA, AgencySide.VICTIM_FACING, name="Meadshire IDVA"
    )
    w.csc = make_agency(w.area, AgencyKind.CHILDRENS_SOCIAL_CARE, name="Meadshire CSC")
    w.programme = make_agency(
        w.area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, name="Pathway"
    )
    w.coordinator = make_user(Role.COORDINATOR, w.team, username="coord")
    w.chair = make_user(Role.CHAIR, w.police, username="chair")
    w.police_rep = make_user(Role.AGENCY_REP, w.police, username="police")
    w.csc_rep = make_user(Role.AGENCY_REP, w.csc, username="csc")
    w.idva = make_user(Role.SUPPORT_WORKER, w.idva_agency, username="idva")
    w.prog = make_user(Role.AGENCY_REP, w.programme, username="prog")
    w.victim = make_person(w.area, given="Ffion", family="Llewel", dob=date(1990, 4, 1))
    w.man = make_person(w.area, given="Gethin", family="Rowe", dob=date(1988, 2, 2))
    w.child = make_person(w.area, given="Heledd", family="Llewel", dob=date(2018, 3, 3))
    w.case = make_case(
        w.area,
        w.victim,
        (w.man,),
        (w.child,),
        status=CaseStatus.ELIGIBLE,
        referring_agency=w.police,
        referred_on=date(2026, 11, 10),
    )
    w.other_victim = make_person(w.area, given="Iola", family="Price")
    w.other = make_case(
        w.area,
        w.other_victim,
        status=CaseStatus.ELIGIBLE,
        referring_agency=w.police,
        referred_on=date(2026, 11, 20),
    )
    involve(w.idva_agency, w.victim, InvolvementKind.IDVA_SUPPORT, worker=w.idva)
    involve(w.programme, w.man, InvolvementKind.PERPETRATOR_PROGRAMME)
    w.meeting, w.later = service.schedule_meetings(
        db.session,
        area_id=w.area.id,
        first_on=date(2026, 12, 9),
        at=time(10, 0),
        frequency=MeetingFrequency.MONTHLY,
        count=2,
        cutoff_days=7,
        today=TODAY,
    )
    db.session.commit()
    return w


def client_for(app, user):  # noqa: ANN001
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return client


def listed(w, case=None, meeting=None) -> AgendaItem:  # noqa: ANN001
    item = service.add_to_agenda(db.session, meeting or w.meeting, case or w.case, user=None)
    db.session.commit()
    return item


def accept(client, meeting_id: int, kind: str = "member"):  # noqa: ANN001
    token = csrf_token(client, f"/meetings/{meeting_id}/live")
    return client.post(
        f"/meetings/{meeting_id}/live/accept",
        data={"csrf_token": token, "kind": kind, "accept": "y"},
    )


def take(client, meeting: Meeting, item: AgendaItem):  # noqa: ANN001
    db.session.refresh(meeting)
    token = csrf_token(client, f"/meetings/{meeting.id}/live")
    return client.post(
        f"/meetings/{meeting.id}/live/current",
        data={"csrf_token": token, "item_id": str(item.id), "version": str(meeting.version)},
    )


# --- scheduling -------------------------------------------------------------------------------


def test_a_monthly_series_keeps_its_day_and_the_end_of_short_months() -> None:
    days = service.series_dates(date(2027, 1, 31), MeetingFrequency.MONTHLY, 3)
    assert days == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]
    fortnightly = service.series_dates(date(2027, 1, 6), MeetingFrequency.FORTNIGHTLY, 3)
    assert fortnightly == [date(2027, 1, 6), date(2027, 1, 20), date(2027, 2, 3)]
    assert service.series_dates(date(2027, 1, 6), MeetingFrequency.WEEKLY, 2)[1] == date(
        2027, 1, 13
    )
    assert service.series_dates(date(2027, 1, 6), MeetingFrequency.EMERGENCY, 5) == [
        date(2027, 1, 6)
    ]


def test_the_coordinator_schedules_meetings_with_defaults(app, w) -> None:  # noqa: ANN001
    client = client_for(app, w.coordinator)
    form = client.get("/meetings/schedule").get_data(as_text=True)
    assert 'value="16"' in form and 'value="12"' in form  # capacity and minutes per case
    token = csrf_token(client, "/meetings/schedule")
    response = client.post(
        "/meetings/schedule",
        data={
            "csrf_token": token,
            "first_on": "2027-02-03",
            "at": "09:30",
            "frequency": "fortnightly",
            "count": "3",
            "cutoff_days": "5",
            "capacity": "16",
            "minutes_per_case": "12",
        },
    )
    assert response.status_code == 303
    made = db.session.scalars(
        sa.select(Meeting).where(Meeting.starts_at >= clock.local_start_of(date(2027, 2, 1)))
    ).all()
    assert [clock.local(m.starts_at).date() for m in made] == [
        date(2027, 2, 3),
        date(2027, 2, 17),
        date(2027, 3, 3),
    ]
    assert clock.local(made[0].starts_at).time() == time(9, 30)
    assert made[0].referral_cutoff_on == date(2027, 1, 29)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AuditEntry.action == "meeting.schedule", AuditEntry.user_id == w.coordinator.id
            )
        )
        == 3
    )


def test_an_emergency_meeting_stands_alone_without_a_cutoff(app, w) -> None:  # noqa: ANN001
    (meeting,) = service.schedule_meetings(
        db.session,
        area_id=w.area.id,
        first_on=date(2026, 11, 26),
        at=time(14, 0),
        frequency=MeetingFrequency.EMERGENCY,
        count=4,
        cutoff_days=7,
        today=TODAY,
    )
    assert meeting.kind.value == "emergency"
    assert meeting.referral_cutoff_on == date(2026, 11, 26)


def test_bad_scheduling_input_is_refused_and_kept(app, w) -> None:  # noqa: ANN001
    client = client_for(app, w.coordinator)
    token = csrf_token(client, "/meetings/schedule")
    response = client.post(
        "/meetings/schedule",
        data={
            "csrf_token": token,
            "first_on": "2020-01-01",
            "at": "10:00",
            "frequency": "monthly",
            "count": "99",
            "cutoff_days": "x",
            "capacity": "0",
            "minutes_per_case": "12",
        },
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Between 1 and 24." in text and "Between 1 and 60." in text
    assert 'value="2020-01-01"' in text


def test_only_the_coordinator_and_chair_schedule(app, w) -> None:  # noqa: ANN001
    assert client_for(app, w.police_rep).get("/meetings/schedule").status_code == 403
    assert client_for(app, w.chair).get("/meetings/schedule").status_code == 200


# --- the agenda -------------------------------------------------------------------------------


def test_listing_a_case_shares_it_with_the_agencies(app, w) -> None:  # noqa: ANN001
    client = client_for(app, w.csc_rep)
    assert client.get(f"/cases/{w.case.id}").status_code == 404
    coordinator = client_for(app, w.coordinator)
    token = csrf_token(coordinator, f"/meetings/{w.meeting.id}")
    response = coordinator.post(
        f"/meetings/{w.meeting.id}/agenda", data={"csrf_token": token, "case_id": str(w.case.id)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Case, w.case.id).status is CaseStatus.LISTED
    assert client.get(f"/cases/{w.case.id}").status_code == 200


def test_the_list_offers_eligible_cases_and_those_asked_back_for_review(
    app, w, make_person, make_case
) -> None:  # noqa: ANN001
    reviewed = make_case(w.area, make_person(w.area), status=CaseStatus.HEARD)
    finished = make_case(w.area, make_person(w.area), status=CaseStatus.HEARD)
    for case, review in ((reviewed, True), (finished, False)):
        db.session.add(
            AgendaItem(
                meeting_id=w.later.id,
                case_id=case.id,
                position=9,
                status=AgendaStatus.HEARD,
                review_next=review,
            )
        )
    db.session.commit()
    page = client_for(app, w.coordinator).get(f"/meetings/{w.meeting.id}").get_data(as_text=True)
    assert f"{w.case.reference}, Ffion Llewel (eligible)" in page
    assert f"{reviewed.reference}" in page and "(heard: review asked)" in page
    assert finished.reference not in page


def test_a_case_is_listed_once_per_meeting(app, w) -> None:  # noqa: ANN001
    listed(w)
    with pytest.raises(service.MeetingProblem, match="already on this meeting's agenda"):
        service.add_to_agenda(db.session, w.meeting, w.case, user=None)
    db.session.rollback()
    with pytest.raises(service.MeetingProblem, match="move it from there"):
        service.add_to_agenda(db.session, w.later, db.session.get(Case, w.case.id), user=None)
    db.session.rollback()
    # The database holds the rule too, whatever the caller.
    db.session.add(AgendaItem(meeting_id=w.meeting.id, case_id=w.case.id, position=9))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_agenda_stops_at_its_capacity(app, w, make_person, make_case) -> None:  # noqa: ANN001
    w.meeting.capacity = 2
    db.session.commit()
    listed(w)
    third = make_case(
        w.area, make_person(w.area), status=CaseStatus.ELIGIBLE, referred_on=date(2026, 11, 1)
    )
    listed(w, third)
    client = client_for(app, w.coordinator)
    token = csrf_token(client, f"/meetings/{w.meeting.id}")
    response = client.post(
        f"/meetings/{w.meeting.id}/agenda", data={"csrf_token": token, "case_id": str(w.other.id)}
    )
    assert response.status_code == 400
    assert "This meeting is full (2 of 2 cases)" in response.get_data(as_text=True)


def test_a_referral_after_the_cutoff_waits_for_the_next_meeting(app, w) -> None:  # noqa: ANN001
    # w.other was referred on 20 November; the December meeting's cut-off is 2 December.
    w.other.referred_on = date(2026, 12, 5)
    db.session.commit()
    with pytest.raises(service.MeetingProblem, match="after this meeting's cut-off"):
        service.add_to_agenda(db.session, w.meeting, w.other, user=None)
    db.session.rollback()
    assert listed(w, w.other, w.later).position == 1


def test_eligible_referrals_are_offered_the_next_meeting_with_space(app, w) -> None:  # noqa: ANN001
    w.meeting.capacity = 1
    db.session.commit()
    viewer = viewer_for(w.coordinator)
    from marac.present_meetings import offers

    found = {o.reference: o.meeting_id for o in offers(db.session, viewer, w.area.id, TODAY)}
    # The earlier referral takes the December meeting's one place; the next goes to January.
    assert found == {w.case.reference: w.meeting.id, w.other.reference: w.later.id}
    assert offers(db.session, viewer_for(w.police_rep), w.area.id, TODAY) == []


def test_moving_a_case_needs_a_reason_and_a_later_meeting(app, w) -> None:  # noqa: ANN001
    item = listed(w)
    client = client_for(app, w.coordinator)
    token = csrf_token(client, f"/meetings/{w.meeting.id}")
    url = f"/meetings/{w.meeting.id}/agenda/{item.id}/move"
    prefix = f"move-{item.id}-"
    refused = client.post(
        url, data={"csrf_token": token, prefix + "to_meeting_id": str(w.later.id)}
    )
    assert refused.status_code == 400
    assert "Say why the case is moved." in refused.get_data(as_text=True)
    moved = client.post(
        url,
        data={
            "csrf_token": token,
            prefix + "to_meeting_id": str(w.later.id),
            prefix + "reason": "She is in hospital until January",
        },
    )
    assert moved.status_code == 303
    db.session.expire_all()
    old = db.session.get(AgendaItem, item.id)
    assert old.status is AgendaStatus.MOVED and old.moved_to_meeting_id == w.later.id
    assert old.move_reason == "She is in hospital until January"
    new = db.session.scalar(sa.select(AgendaItem).where(AgendaItem.meeting_id == w.later.id))
    assert new.case_id == w.case.id and new.status is AgendaStatus.LISTED
    # The reason is for the coordinator and chair; an agency sees only where it went.
    page = client.get(f"/meetings/{w.meeting.id}").get_data(as_text=True)
    assert "She is in hospital until January" in page
    rep_page = client_for(app, w.police_rep).get(f"/meetings/{w.meeting.id}").get_data(as_text=True)
    assert w.case.reference in rep_page and "hospital" not in rep_page


def test_the_coordinator_orders_the_agenda(app, w) -> None:  # noqa: ANN001
    first = listed(w)
    w.other.referred_on = date(2026, 11, 1)
    db.session.commit()
    second = listed(w, w.other)
    client = client_for(app, w.coordinator)
    token = csrf_token(client, f"/meetings/{w.meeting.id}")
    response = client.post(
        f"/meetings/{w.meeting.id}/agenda/{second.id}/up", data={"csrf_token": token}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(AgendaItem, second.id).position == 1
    assert db.session.get(AgendaItem, first.id).position == 2
    assert client_for(app, w.police_rep).post(
        f"/meetings/{w.meeting.id}/agenda/{second.id}/up", data={"csrf_token": token}
    ).status_code in (400, 403)


def test_the_agenda_shows_identifiers_as_the_policy_allows(app, w) -> None:  # noqa: ANN001
    listed(w)
    rep = client_for(app, w.csc_rep).get(f"/meetings/{w.meeting.id}").get_data(as_text=True)
    for shown in ("Ffion Llewel", "Gethin Rowe", "Heledd Llewel", w.case.reference, "1 Apr 1990"):
        assert shown in rep, shown
    assert "Still needed" in rep  # her voice is not yet recorded
    prog = client_for(app, w.prog).get(f"/meetings/{w.meeting.id}").get_data(as_text=True)
    assert "Gethin Rowe" in prog and "The victim" in prog
    for hidden in ("Ffion", "Heledd", "Still needed", "Recorded", "other case"):
        assert hidden not in prog, hidden
    # A survivor worker sees only her own survivor's case; others learn only how many.
    w.other.status = CaseStatus.ELIGIBLE
    db.session.commit()
    listed(w, w.other)
    idva = client_for(app, w.idva).get(f"/meetings/{w.meeting.id}").get_data(as_text=True)
    assert w.case.reference in idva and w.other.reference not in idva
    assert "Iola" not in idva and "1 other case is listed that you may not open" in idva


def test_administrators_and_other_areas_see_no_meeting(
    app, w, make_area, make_agency, make_user
) -> None:  # noqa: ANN001, E501
    other_area = make_area(code="OA")
    stranger = make_user(Role.COORDINATOR, make_agency(other_area))
    admin = make_user(Role.ADMINISTRATOR, w.team)
    for user in (stranger, admin):
        client = client_for(app, user)
        assert client.get(f"/meetings/{w.meeting.id}").status_code == 404
        assert client.get(f"/meetings/{w.meeting.id}/live").status_code == 404
    assert client_for(app, admin).get("/meetings/").status_code == 403


# --- research and the victim's voice ----------------------------------------------------------


def test_an_agency_records_its_research_as_information_items(app, w) -> None:  # noqa: ANN001
    item = listed(w)
    client = client_for(app, w.csc_rep)
    url = f"/meetings/{w.meeting.id}/research/{item.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Record what your agency holds" in page
    assert "programme_confidential" not in page  # only a programme records those
    token = csrf_token(client, url)
    post = f"/meetings/{w.meeting.id}/items/{item.id}/information"
    base = {
        "csrf_token": token,
        "origin": "research",
        "info-about": str(w.child.id),
        "info-source": "agency_records",
        "info-nature": "fact",
    }
    refused = client.post(
        post,
        data={**base, "info-text": "Open child in need plan", "info-classification": "agency_only"},
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Say why your agency will not share it" in text and "Open child in need plan" in text
    saved = client.post(
        post,
        data={**base, "info-text": "Open child in need plan", "info-classification": "marac"},
    )
    assert saved.status_code == 303
    row = db.session.scalar(
        sa.select(InformationItem).where(InformationItem.agenda_item_id == item.id)
    )
    assert row.recorded_by_agency_id == w.csc.id and row.about_person_id == w.child.id
    forged = client.post(
        post,
        data={**base, "info-text": "x", "info-classification": "programme_confidential"},
    )
    assert forged.status_code == 400
    # The coordinator sees which agencies have researched the case.
    agenda = client_for(app, w.coordinator).get(f"/meetings/{w.meeting.id}").get_data(as_text=True)
    assert "Recorded by: Meadshire CSC" in agenda


def test_only_her_own_worker_records_her_voice(app, w) -> None:  # noqa: ANN001
    item = listed(w)
    url = f"/meetings/{w.meeting.id}/items/{item.id}/voice"
    rep = client_for(app, w.csc_rep)
    token = csrf_token(rep, f"/meetings/{w.meeting.id}")
    assert rep.post(url, data={"csrf_token": token, "voice-views": "x"}).status_code == 403
    idva = client_for(app, w.idva)
    research = f"/meetings/{w.meeting.id}/research/{item.id}"
    assert "Record the victim" in idva.get(research).get_data(as_text=True)
    token = csrf_token(idva, research)
    response = idva.post(
        url,
        data={
            "csrf_token": token,
            "voice-views": "She fears he will find the new flat",
            "voice-wishes": "She wants the locks changed",
            "voice-may_share": "She agrees the police may know she has moved",
            "voice-version": "0",
        },
    )
    assert response.status_code == 303
    shown = client_for(app, w.csc_rep).get(research).get_data(as_text=True)
    assert "She agrees the police may know she has moved" in shown
    assert "fears he will find" not in shown and "locks changed" not in shown
    assert policy.VOICE_HELD_ELSEWHERE in shown
    chair = client_for(app, w.chair).get(research).get_data(as_text=True)
    assert "fears he will find" in chair
    prog = client_for(app, w.prog).get(research).get_data(as_text=True)
    for hidden in ("fears he will find", "police may know", "voice", "Still needed"):
        assert hidden not in prog, hidden
    agenda = client_for(app, w.coordinator).get(f"/meetings/{w.meeting.id}").get_data(as_text=True)
    assert "Still needed" not in agenda


def test_a_stale_voice_is_refused_and_what_was_typed_is_kept(app, w) -> None:  # noqa: ANN001
    item = listed(w)
    service.record_victim_voice(
        db.session,
        item,
        views="First account",
        wishes=None,
        may_share=None,
        user=w.idva,
        expected_version=0,
    )
    db.session.commit()
    idva = client_for(app, w.idva)
    token = csrf_token(idva, f"/meetings/{w.meeting.id}")
    response = idva.post(
        f"/meetings/{w.meeting.id}/items/{item.id}/voice",
        data={"csrf_token": token, "voice-views": "My newer words", "voice-version": "0"},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "My newer words" in text and "First account" in text
    db.session.expire_all()
    assert db.session.scalar(sa.text("select views from victim_voice")) == "First account"


# --- the live meeting -------------------------------------------------------------------------


def test_nothing_about_a_case_before_the_statement_is_accepted(app, w, make_item) -> None:  # noqa: ANN001
    item = listed(w)
    make_item(w.case, w.police, "Arrested for assault in October", about=w.man)
    chair = client_for(app, w.chair)
    accept(chair, w.meeting.id)
    assert take(chair, w.meeting, item).status_code == 303
    observer = client_for(app, w.csc_rep)
    gate = observer.get(f"/meetings/{w.meeting.id}/live")
    text = gate.get_data(as_text=True)
    assert "confidentiality statement" in text.lower()
    for hidden in ("Arrested", "Ffion", "Gethin", w.case.reference):
        assert hidden not in text, hidden
    assert observer.get(f"/meetings/{w.meeting.id}/live/feed").status_code == 403
    token = csrf_token(observer, f"/meetings/{w.meeting.id}/live")
    refused = observer.post(
        f"/meetings/{w.meeting.id}/live/accept", data={"csrf_token": token, "kind": "observer"}
    )
    assert refused.status_code == 400
    assert accept(observer, w.meeting.id, "observer").status_code == 303
    text = observer.get(f"/meetings/{w.meeting.id}/live").get_data(as_text=True)
    assert "Arrested for assault in October" in text and "Ffion Llewel" in text
    row = db.session.scalar(sa.select(Attendance).where(Attendance.user_id == w.csc_rep.id))
    assert row.kind is AttendanceKind.OBSERVER
    assert clock.as_utc(row.accepted_at) == NOW


def test_the_live_feed_follows_the_chair_and_answers_204_when_nothing_changed(app, w) -> None:  # noqa: ANN001
    item = listed(w)
    rep = client_for(app, w.police_rep)
    accept(rep, w.meeting.id)
    chair = client_for(app, w.chair)
    accept(chair, w.meeting.id)
    page = rep.get(f"/meetings/{w.meeting.id}/live").get_data(as_text=True)
    seen = re.search(r'data-revision="(\d+)"', page).group(1)
    assert "has not started yet" in page
    feed = f"/meetings/{w.meeting.id}/live/feed?seen={seen}"
    assert rep.get(feed, headers={"HX-Request": "true"}).status_code == 204
    take(chair, w.meeting, item)
    update = rep.get(feed, headers={"HX-Request": "true"})
    assert update.status_code == 200
    assert f"Now: {w.case.reference}" in update.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Meeting, w.meeting.id).status is MeetingStatus.IN_PROGRESS


def test_an_item_added_from_one_device_reaches_the_others(app, w) -> None:  # noqa: ANN001
    item = listed(w)
    chair = client_for(app, w.chair)
    accept(chair, w.meeting.id)
    take(chair, w.meeting, item)
    rep = client_for(app, w.csc_rep)
    accept(rep, w.meeting.id)
    page = chair.get(f"/meetings/{w.meeting.id}/live").get_data(as_text=True)
    seen = re.search(r'data-revision="(\d+)"', page).group(1)
    token = csrf_token(rep, f"/meetings/{w.meeting.id}/live")
    added = rep.post(
        f"/meetings/{w.meeting.id}/items/{item.id}/information",
        data={
            "csrf_token": token,
            "origin": "live",
            "info-about": "",
            "info-text": "Heledd told her teacher she hides under the bed",
            "info-source": "third_party",
            "info-nature": "fact",
            "info-classification": "marac",
        },
        headers={"HX-Request": "true"},
    )
    assert added.status_code == 200
    assert added.headers["HX-Trigger"] == "meeting-changed"
    assert 'id="contribute-info"' in added.get_data(as_text=True)
    # Refused, htmx gets the form back with its message alone, never a whole page to nest in it.
    refused = rep.post(
        f"/meetings/{w.meeting.id}/items/{item.id}/information",
        data={"csrf_token": token, "origin": "live", "info-text": "", "info-source": "x"},
        headers={"HX-Request": "true"},
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert body.lstrip().startswith('<div id="contribute-info"') and "<html" not in body
    assert "There is a problem" in body
    feed = chair.get(
        f"/meetings/{w.meeting.id}/live/feed?seen={seen}", headers={"HX-Request": "true"}
    )
    assert "Heledd told her teacher she hides under the bed" in feed.get_data(as_text=True)


def test_two_people_saving_the_summary_at_once_lose_nothing(app, w) -> None:  # noqa: ANN001
    item = listed(w)
    chair = client_for(app, w.chair)
    coordinator = client_for(app, w.coordinator)
    for client in (chair, coordinator):
        accept(client, w.meeting.id)
    take(chair, w.meeting, item)
    db.session.expire_all()
    version = str(db.session.get(AgendaItem, item.id).version)
    url = f"/meetings/{w.meeting.id}/live/{item.id}/summary"

    def save(client, text):  # noqa: ANN001, ANN202
        token = csrf_token(client, f"/meetings/{w.meeting.id}/live")
        return client.post(
            url,
            data={"csrf_token": token, "summary-risk_summary": text, "summary-version": version},
            headers={"HX-Request": "true"},
        )

    first = save(chair, "Escalating; he has found her new address")
    assert first.status_code == 200
    second = save(coordinator, "Strangulation in October; children present")
    text = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Strangulation in October; children present" in text  # what she typed is kept
    assert "Escalating; he has found her new address" in text  # and the saved one shown
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).risk_summary == (
        "Escalating; he has found her new address"
    )


def test_an_action_agreed_at_the_meeting_and_a_stale_status_change(app, w) -> None:  # noqa: ANN001
    item = listed(w)
    chair = client_for(app, w.chair)
    rep = client_for(app, w.police_rep)
    for client in (chair, rep):
        accept(client, w.meeting.id)
    take(chair, w.meeting, item)
    token = csrf_token(rep, f"/meetings/{w.meeting.id}/live")
    response = rep.post(
        f"/meetings/{w.meeting.id}/live/{item.id}/actions",
        data={
            "csrf_token": token,
            "owner_agency_id": str(w.police.id),
            "owner_user_id": "",
            "subject": str(w.man.id),
            "text": "Serve a domestic abuse protection notice on him",
            "due_on": "2026-12-20",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    action = db.session.scalar(sa.select(Action).where(Action.case_id == w.case.id))
    assert action.agenda_item_id == item.id
    # Two people change its status from the same screen: the second gets 409 and keeps its note.
    status_url = f"/actions/cases/{w.case.id}/{action.id}/status"
    token = csrf_token(chair, f"/cases/{w.case.id}")
    first = chair.post(
        status_url,
        data={"csrf_token": token, "status": "in_progress", "note": "", "version": "1"},
        headers={"HX-Request": "true"},
    )
    assert first.status_code == 200
    token = csrf_token(rep, f"/cases/{w.case.id}")
    second = rep.post(
        status_url,
        data={"csrf_token": token, "status": "done", "note": "Served at 14:00", "version": "1"},
        headers={"HX-Request": "true"},
    )
    assert second.status_code == 409
    assert "Served at 14:00" in second.get_data(as_text=True)


def test_moving_the_meeting_on_from_a_stale_screen_is_refused(app, w) -> None:  # noqa: ANN001
    first = listed(w)
    w.other.referred_on = date(2026, 11, 1)
    db.session.commit()
    second = listed(w, w.other)
    chair = client_for(app, w.chair)
    coordinator = client_for(app, w.coordinator)
    for client in (chair, coordinator):
        accept(client, w.meeting.id)
    db.session.refresh(w.meeting)
    stale = str(w.meeting.version)
    take(chair, w.meeting, first)
    token = csrf_token(coordinator, f"/meetings/{w.meeting.id}/live")
    response = coordinator.post(
        f"/meetings/{w.meeting.id}/live/current",
        data={"csrf_token": token, "item_id": str(second.id), "version": stale},
    )
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Meeting, w.meeting.id).current_item_id == first.id


def test_crimes_disclosed_are_a_list_for_the_police(app, w) -> None:  # noqa: ANN001
    item = listed(w)
    chair = client_for(app, w.chair)
    csc = client_for(app, w.csc_rep)
    for client in (chair, csc):
        accept(client, w.meeting.id)
    take(chair, w.meeting, item)
    token = csrf_token(csc, f"/meetings/{w.meeting.id}/live")
    response = csc.post(
        f"/meetings/{w.meeting.id}/live/{item.id}/crimes",
        data={"csrf_token": token, "crime-description": "He broke her phone on 3 November"},
    )
    assert response.status_code == 303
    police = client_for(app, w.police_rep)
    listing = police.get(f"/meetings/{w.meeting.id}/crimes").get_data(as_text=True)
    assert "He broke her phone on 3 November" in listing and "Meadshire CSC" in listing
    assert csc.get(f"/meetings/{w.meeting.id}/crimes").status_code == 403
    live = csc.get(f"/meetings/{w.meeting.id}/live").get_data(as_text=True)
    assert "He broke her phone" not in live
    assert "1 crime disclosed at this meeting is recorded for the police" in live
    prog = client_for(app, w.prog)
    accept(prog, w.meeting.id)
    text = prog.get(f"/meetings/{w.meeting.id}/live").get_data(as_text=True)
    assert "Gethin Rowe" in text  # the case is open to the programme
    assert "broke her phone" not in text and "recorded for the police" not in text


def test_closing_the_meeting_hears_the_cases_and_compiles_the_minutes(app, w, make_item) -> None:  # noqa: ANN001, E501
    item = listed(w)
    chair = client_for(app, w.chair)
    rep = client_for(app, w.police_rep)
    for client in (chair, rep):
        accept(client, w.meeting.id)
    take(chair, w.meeting, item)
    service.record_information(
        db.session,
        db.session.get(AgendaItem, item.id),
        service.ItemInput(
            about_person_id=w.man.id,
            text="Bail conditions breached twice",
            source=ItemSource.AGENCY_RECORDS,
            nature=ItemNature.FACT,
            classification=Classification.MARAC,
            withheld_reason=None,
        ),
        user=w.police_rep,
    )
    make_item(w.case, w.police, "An older record not shared at this meeting", about=w.man)
    db.session.commit()
    token = csrf_token(chair, f"/meetings/{w.meeting.id}/live")
    db.session.refresh(w.meeting)
    chair.post(
        f"/meetings/{w.meeting.id}/live/{item.id}/summary",
        data={
            "csrf_token": token,
            "summary-risk_summary": "High risk: breaches and a new address",
            "summary-review_next": "y",
            "summary-version": str(db.session.get(AgendaItem, item.id).version),
        },
    )
    db.session.refresh(w.meeting)
    # The minutes are compiled when the meeting closes, not before.
    assert chair.get(f"/meetings/{w.meeting.id}/minutes").status_code == 303
    closed = chair.post(
        f"/meetings/{w.meeting.id}/live/close",
        data={"csrf_token": token, "version": str(w.meeting.version)},
    )
    assert closed.status_code == 303
    db.session.expire_all()
    case = db.session.get(Case, w.case.id)
    assert case.status is CaseStatus.HEARD and case.heard_on == date(2026, 12, 9)
    assert case.heard_at == "Meadshire MARAC, 9 December 2026"
    assert db.session.get(AgendaItem, item.id).status is AgendaStatus.HEARD
    minutes = rep.get(f"/meetings/{w.meeting.id}/minutes").get_data(as_text=True)
    for shown in (
        "Bail conditions breached twice",
        "High risk: breaches and a new address",
        "Cases to review at the next meeting",
        "Draft: awaiting the chair",
        "Accepted the statement",
        "24 November 2026, 12:00",  # when the chair and the police accepted it (NOW, in London)
    ):
        assert shown in minutes, shown
    assert "An older record not shared at this meeting" not in minutes
    # Only the chair approves.
    token = csrf_token(rep, f"/meetings/{w.meeting.id}/minutes")
    version = str(db.session.get(Meeting, w.meeting.id).version)
    assert (
        rep.post(
            f"/meetings/{w.meeting.id}/minutes/approve",
            data={"csrf_token": token, "version": version},
        ).status_code
        == 403
    )
    token = csrf_token(chair, f"/meetings/{w.meeting.id}/minutes")
    approved = chair.post(
        f"/meetings/{w.meeting.id}/minutes/approve", data={"csrf_token": token, "version": version}
    )
    assert approved.status_code == 303
    db.session.expire_all()
    assert db.session.get(Meeting, w.meeting.id).status is MeetingStatus.APPROVED
    assert "Approved by" in rep.get(f"/meetings/{w.meeting.id}/minutes").get_data(as_text=True)
    # A closed meeting's record no longer changes.
    token = csrf_token(rep, f"/meetings/{w.meeting.id}/minutes")
    late = rep.post(
        f"/meetings/{w.meeting.id}/items/{item.id}/information",
        data={
            "csrf_token": token,
            "origin": "research",
            "info-about": "",
            "info-text": "Too late",
            "info-source": "agency_records",
            "info-nature": "fact",
            "info-classification": "marac",
        },
    )
    assert late.status_code == 400


def test_the_feed_costs_the_same_whatever_the_number_of_items(app, w, make_item) -> None:  # noqa: ANN001
    item = listed(w)
    chair = client_for(app, w.chair)
    accept(chair, w.meeting.id)
    take(chair, w.meeting, item)
    url = f"/meetings/{w.meeting.id}/live/feed"

    def queries() -> int:
        with count_queries() as counted:
            assert chair.get(url, headers={"HX-Request": "true"}).status_code == 200
        return counted.count

    make_item(w.case, w.police, "One item")
    few = queries()
    for n in range(20):
        make_item(w.case, w.csc, f"Item {n}", about=w.child)
    assert queries() == few
    with count_queries() as counted:
        seen = db.session.get(Meeting, w.meeting.id).revision
        assert chair.get(f"{url}?seen={seen}").status_code == 204
    assert counted.count <= 6


# --- the policy -------------------------------------------------------------------------------


def test_meeting_policy_truth_table(app, w) -> None:  # noqa: ANN001
    listed(w)
    case = db.session.get(Case, w.case.id)
    expected = {
        # user: (runs, approves, records her voice, reads her account, risk summary, crimes)
        "coord": (True, False, False, "summary", "full", "summary"),
        "chair": (True, True, True, "full", "full", "full"),
        "police": (False, False, False, "summary", "full", "full"),
        "csc": (False, False, False, "summary", "full", "summary"),
        "idva": (False, False, True, "full", "full", "summary"),
        "prog": (False, False, False, "withheld", "summary", "withheld"),
    }
    users = {
        u.username: u for u in (w.coordinator, w.chair, w.police_rep, w.csc_rep, w.idva, w.prog)
    }
    for name, (runs, approves, records, account, risk, crimes) in expected.items():
        viewer = viewer_for(users[name])
        links = links_for_case(db.session, viewer, case)
        assert policy.may_run_meeting(viewer, w.area.id).full is runs, name
        assert policy.may_approve_minutes(viewer, w.area.id).full is approves, name
        assert policy.may_record_victim_voice(viewer, links).full is records, name
        facts = policy.VoiceFacts(recorded_by_id=None)
        assert policy.victim_voice_account(viewer, links, facts).level.value == account, name
        assert policy.meeting_risk_summary(viewer, links).level.value == risk, name
        assert policy.crimes_disclosed(viewer, links).level.value == crimes, name
        assert policy.victim_voice_shared(viewer, links).withheld is (name == "prog"), name
    prog = viewer_for(w.prog)
    prog_links = links_for_case(db.session, prog, case)
    assert policy.may_record_information(
        prog, prog_links, Classification.PROGRAMME_CONFIDENTIAL
    ).full
    assert not policy.may_record_information(
        prog, prog_links, Classification.SURVIVOR_CONFIDENTIAL
    ).full
    police = viewer_for(w.police_rep)
    assert not policy.may_record_information(
        police, links_for_case(db.session, police, case), Classification.PROGRAMME_CONFIDENTIAL
    ).full


def test_meeting_times_are_kept_in_utc_and_shown_in_the_service_zone(app, w) -> None:  # noqa: ANN001
    meeting = db.session.get(Meeting, w.meeting.id)
    assert clock.as_utc(meeting.starts_at) == datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    summer = service.schedule_meetings(
        db.session,
        area_id=w.area.id,
        first_on=date(2027, 7, 7),
        at=time(10, 0),
        frequency=MeetingFrequency.EMERGENCY,
        count=1,
        cutoff_days=0,
        today=TODAY,
    )[0]
    db.session.commit()
    db.session.expire_all()
    summer = db.session.get(Meeting, summer.id)
    assert clock.as_utc(summer.starts_at) == datetime(2027, 7, 7, 9, 0, tzinfo=UTC)
    assert clock.local(summer.starts_at).hour == 10


def test_closing_or_approving_from_a_stale_screen_changes_nothing(app, w) -> None:  # noqa: ANN001
    """Closing and approving carry the meeting's version: a screen older than the last change
    is sent back to look again, and the meeting stays as it was."""
    first = listed(w)
    chair = client_for(app, w.chair)
    accept(chair, w.meeting.id)
    db.session.refresh(w.meeting)
    stale = str(w.meeting.version)
    take(chair, w.meeting, first)  # someone moves the meeting on meanwhile
    token = csrf_token(chair, f"/meetings/{w.meeting.id}/live")
    response = chair.post(
        f"/meetings/{w.meeting.id}/live/close", data={"csrf_token": token, "version": stale}
    )
    assert response.status_code == 303
    page = chair.get(response.headers["Location"]).get_data(as_text=True)
    assert "Someone else changed the meeting first" in page
    db.session.expire_all()
    meeting = db.session.get(Meeting, w.meeting.id)
    assert meeting.status in service.OPEN_MEETING_STATUSES

    closed = chair.post(
        f"/meetings/{w.meeting.id}/live/close",
        data={"csrf_token": token, "version": str(meeting.version)},
    )
    assert closed.status_code == 303
    db.session.expire_all()
    meeting = db.session.get(Meeting, w.meeting.id)
    assert meeting.status is MeetingStatus.CLOSED
    token = csrf_token(chair, f"/meetings/{w.meeting.id}/minutes")
    stale = str(meeting.version - 1)
    response = chair.post(
        f"/meetings/{w.meeting.id}/minutes/approve", data={"csrf_token": token, "version": stale}
    )
    page = chair.get(response.headers["Location"]).get_data(as_text=True)
    assert "Someone else changed the meeting first" in page
    db.session.expire_all()
    assert db.session.get(Meeting, w.meeting.id).status is MeetingStatus.CLOSED


# --- the reason for referral: withheld, or none recorded --------------------------------------

NONE_RECORDED = "No referral form is recorded in the service for this case."
NOT_SHOWN = "Not shown to your agency."


def _demo_client(demo_app, username: str):  # noqa: ANN001
    client = demo_app.test_client()
    assert login(client, username).status_code == 302, username
    return client


def test_a_case_without_a_referral_form_says_so_and_not_that_it_is_withheld(demo_app) -> None:  # noqa: ANN001
    with demo_app.app_context():
        case_id, meeting_id, item_id = db.session.execute(
            sa.select(Case.id, AgendaItem.meeting_id, AgendaItem.id)
            .join(AgendaItem, AgendaItem.case_id == Case.id)
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .where(Case.reference == "NM-2026-0102", Meeting.status == MeetingStatus.IN_PROGRESS)
        ).one()
        assert db.session.scalar(sa.select(Referral.id).where(Referral.case_id == case_id)) is None
    chair = _demo_client(demo_app, "chair")
    for url in (
        f"/meetings/{meeting_id}/live",
        f"/meetings/{meeting_id}/research/{item_id}",
        f"/cases/{case_id}",
    ):
        response = chair.get(url)
        assert response.status_code == 200, url
        text = page_text(response)
        assert "NM-2026-0102" in text, url
        assert NONE_RECORDED in text, url
        assert "Not shown" not in text, url
    # The programme works with him, so opens the case; her referral is withheld from it, and it
    # is not told whether a form exists.
    programme = _demo_client(demo_app, "programme")
    for url in (f"/meetings/{meeting_id}/research/{item_id}", f"/cases/{case_id}"):
        response = programme.get(url)
        assert response.status_code == 200, url
        text = page_text(response)
        assert NOT_SHOWN in text, url
        assert NONE_RECORDED not in text, url


def _refer(w, reason: str) -> None:  # noqa: ANN001
    referral = Referral(
        case_id=w.case.id,
        referring_agency_id=w.police.id,
        officer_name="DC Test Officer",
        incident_on=date(2026, 11, 1),
        checklist_key="default",
        score=15,
        threshold=14,
        police_callouts=1,
        eligible=True,
    )
    referral.criteria = [
        ReferralCriterion(criterion=Criterion.VISIBLE_HIGH_RISK, met=True, reason=reason)
    ]
    db.session.add(referral)
    db.session.commit()


def test_the_reason_for_referral_is_withheld_from_the_perpetrators_programme(app, w) -> None:  # noqa: ANN001
    reason = "Fifteen ticks on the checklist CANARY-REASON"
    _refer(w, reason)
    item = listed(w)
    for user, shown in ((w.police_rep, True), (w.chair, True), (w.prog, False)):
        client = client_for(app, user)
        text = page_text(client.get(f"/meetings/{w.meeting.id}/research/{item.id}"))
        assert "Reason for referral" in text, user.username
        assert (reason in text) is shown, user.username
        assert (NOT_SHOWN in text) is not shown, user.username
        assert NONE_RECORDED not in text, user.username
        viewer = viewer_for(user)
        pdf_bytes = papers.minutes_pdf(
            papers.PaperHeading("Minutes", "OFFICIAL", user.username, "MA-P2026-000001", TODAY),
            present_minutes(db.session, viewer, db.session.get(Meeting, w.meeting.id)),
        )
        pdf = " ".join(
            " ".join(
                p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages
            ).split()
        )
        assert (reason in pdf) is shown, user.username
        assert (NOT_SHOWN in pdf) is not shown, user.username


# --- the minutes: a fixed number of queries, the same answer as each case on its own -----------


def _a_case_heard_in_full(w, n: int, make_person, make_case, make_item, involve) -> AgendaItem:  # noqa: ANN001
    """A listed case with everything the minutes show: items at the meeting (and one before it),
    her voice, actions agreed at the meeting, a crime disclosed and a referral form."""
    victim = make_person(w.area, given=f"Victim{n}", family="Heard", dob=date(1991, 1, n + 1))
    man = make_person(w.area, given=f"Man{n}", family="Heard")
    child = make_person(w.area, given=f"Child{n}", family="Heard")
    case = make_case(
        w.area,
        victim,
        (man,),
        (child,),
        status=CaseStatus.ELIGIBLE,
        referring_agency=w.police,
        referred_on=date(2026, 11, 10),
    )
    involve(w.idva_agency, victim, InvolvementKind.IDVA_SUPPORT, worker=w.idva)
    involve(w.programme, man, InvolvementKind.PERPETRATOR_PROGRAMME)
    w.case = case
    _refer(w, f"Reason {n}")
    item = listed(w, case)
    make_item(case, w.police, f"Before the meeting {n}", about=man)
    for agency, about, classification in (
        (w.police, man, Classification.MARAC),
        (w.csc, child, Classification.MARAC),
        (w.idva_agency, victim, Classification.SURVIVOR_CONFIDENTIAL),
        (w.police, None, Classification.AGENCY_ONLY),
    ):
        made = make_item(case, agency, f"At the meeting {n} {agency.name}", about, classification)
        made.agenda_item_id = item.id
    db.session.add(
        VictimVoice(
            agenda_item_id=item.id,
            views=f"Her views {n}",
            wishes=f"Her wishes {n}",
            may_share=f"May share {n}",
            recorded_by_id=w.idva.id,
            recorded_by_agency_id=w.idva_agency.id,
        )
    )
    for k, (owner, subject, person, detail) in enumerate(
        (
            (w.police, ActionSubject.PERPETRATOR, man, True),
            (w.csc, ActionSubject.CHILD, child, False),
            (w.programme, ActionSubject.HOUSEHOLD, None, False),
        )
    ):
        db.session.add(
            Action(
                case_id=case.id,
                area_id=w.area.id,
                owner_agency_id=owner.id,
                subject=subject,
                subject_person_id=person.id if person else None,
                text=f"Action {k} of case {n}",
                due_on=date(2026, 12, 20 + k),
                shared_in_detail=detail,
                status=ActionStatus.OPEN,
                agenda_item_id=item.id,
            )
        )
    db.session.add(
        CrimeDisclosure(
            agenda_item_id=item.id,
            description=f"Crime {n}",
            disclosed_by_agency_id=w.csc.id,
            recorded_at=NOW,
        )
    )
    item.risk_summary = f"Risk {n}"
    item.review_next = n % 2 == 0
    db.session.commit()
    return item


def _readers(w) -> list:  # noqa: ANN001
    return [viewer_for(user) for user in (w.chair, w.police_rep, w.csc_rep, w.idva, w.prog)] + [
        agency_reader(agency) for agency in (w.police, w.programme)
    ]


def test_the_minutes_cost_the_same_whatever_the_number_of_cases(  # noqa: ANN001
    app, w, make_person, make_case, make_item, involve
) -> None:
    def queries() -> dict[str, int]:
        meeting = db.session.get(Meeting, w.meeting.id)
        counts = {}
        for viewer in _readers(w):
            db.session.expire_all()
            with count_queries() as counted:
                minutes = present_minutes(db.session, viewer, meeting)
            assert minutes.cases, viewer.username
            counts[f"{viewer.username or viewer.agency_name} {viewer.user_id}"] = counted.count
        return counts

    _a_case_heard_in_full(w, 1, make_person, make_case, make_item, involve)
    one = queries()
    for n in range(2, 6):
        _a_case_heard_in_full(w, n, make_person, make_case, make_item, involve)
    assert queries() == one
    # And sharing the meeting's rows between readers (the papers) reads them once.
    meeting = db.session.get(Meeting, w.meeting.id)
    with count_queries() as shared:
        rows = MeetingRows.load(db.session, meeting)
    with count_queries() as each:
        present_minutes(db.session, viewer_for(w.chair), meeting, rows)
    assert shared.count >= 5
    assert each.count <= one[f"chair {w.chair.id}"] - shared.count + 1


def test_the_minutes_show_each_case_as_the_meeting_screen_does(  # noqa: ANN001
    app, w, make_person, make_case, make_item, involve
) -> None:
    items = [
        _a_case_heard_in_full(w, n, make_person, make_case, make_item, involve) for n in range(1, 4)
    ]
    meeting = db.session.get(Meeting, w.meeting.id)
    for viewer in _readers(w):
        minutes = present_minutes(db.session, viewer, meeting)
        expected = []
        for item in items:
            case = db.session.get(Case, item.case_id)
            links = links_for_case(db.session, viewer, case)
            if not policy.case_access(viewer, links).full:
                continue
            expected.append(
                present_agenda_case(
                    db.session, viewer, meeting, item, case, links, 3, only_this_meeting=True
                )
            )
        assert minutes.cases == expected, viewer.username
        assert len(expected) == 3, viewer.username
    chair_text = repr(present_minutes(db.session, viewer_for(w.chair), meeting))
    for shown in ("At the meeting 2 Meadshire CSC", "Her views 3", "Action 0 of case 1", "Crime 2"):
        assert shown in chair_text, shown
    assert "Before the meeting" not in chair_text
