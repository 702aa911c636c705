"""The referral form (plain POST and htmx), what is saved, the queue, and who may use them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from marac import clock
from marac.domain import (
    AgencyKind,
    AgencySide,
    CaseRole,
    CaseStatus,
    ChecklistAnswer,
    Gender,
    InvolvementKind,
    RelationshipKind,
    Role,
)
from marac.extensions import db
from marac.models import (
    AuditEntry,
    Case,
    CasePerson,
    ContactDetails,
    Person,
    PossibleDuplicate,
    Referral,
    Relationship,
)

from .conftest import count_queries, csrf_token

# "Today" is read once, at noon of the day the run starts, and the service's clock is held
# there: a run that crosses midnight must not meet two different days.
NOW = datetime.combine(clock.service_today(), time(12), tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def held_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)


@pytest.fixture
def area_setup(make_area, make_agency, make_user, make_person, make_case):  # noqa: ANN001
    area = make_area(code="RF")
    team = make_agency(area, AgencyKind.OTHER, name="MARAC Team")
    police = make_agency(area, AgencyKind.POLICE, name="Riverford Police")
    health = make_agency(area, AgencyKind.HEALTH, name="Riverford Health")
    programme = make_agency(area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING)
    users = {
        "coordinator": make_user(Role.COORDINATOR, team, username="coord"),
        "chair": make_user(Role.CHAIR, police, username="chairperson"),
        "police": make_user(Role.AGENCY_REP, police, username="officer", display_name="PC Dee"),
        "health": make_user(Role.AGENCY_REP, health, username="nurse"),
        "programme": make_user(Role.AGENCY_REP, programme, username="prog"),
        "admin": make_user(Role.ADMINISTRATOR, team, username="root"),
    }
    megan = make_person(area, "Megan", "Thorne", date(1991, 7, 2), Gender.FEMALE)
    kieran = make_person(area, "Kieran", "Ashdown", date(1986, 3, 14), Gender.MALE)
    heard = make_case(area, megan, (kieran,), status=CaseStatus.CLOSED, referring_agency=health)
    heard.heard_on, heard.heard_at = TODAY - timedelta(days=200), "Riverford MARAC"
    db.session.commit()
    return area, users, megan, kieran, heard


def form_data(token: str, **overrides: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "victim-given_name": "Alys",
        "victim-family_name": "Marrow",
        "victim-date_of_birth": "1990-04-04",
        "victim-gender": "female",
        "people-0-role": "perpetrator",
        "people-0-given_name": "Bryn",
        "people-0-family_name": "Cotter",
        "people-0-gender": "male",
        "people-0-relationship": "ex_partner",
        "people-0-separated_on": "2026-01-05",
        "safe_phone": "07700 900123",
        "safe_to_call": "yes",
        "may_leave_message": "no",
        "feared_people": "His brother",
        "officer_name": "PC Dee",
        "incident_on": (TODAY - timedelta(days=2)).isoformat(),
        "police_callouts": "1",
        "victim_aware": "yes",
        "consent": "yes",
        "action": "save",
    }
    data.update({f"checklist-{k}": "no" for k in DEFAULT_KEYS})
    data.update(overrides)
    return data


from marac.checklists import get_checklist  # noqa: E402

DEFAULT_KEYS = get_checklist("default").factor_keys


def yes_to(count: int) -> dict[str, str]:
    return {f"checklist-{k}": "yes" for k in DEFAULT_KEYS[:count]}


def test_a_plain_post_referral_creates_the_case_and_referral(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, users, _megan, _kieran, _heard = area_setup
    signed_in(users["police"])
    token = csrf_token(client, "/referrals/new")
    data = form_data(
        token,
        **yes_to(14),
        **{
            "checklist-" + DEFAULT_KEYS[14]: "dont_know",
            "checklist-" + DEFAULT_KEYS[15]: "not_asked",
        },
    )
    response = client.post("/referrals/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    case = db.session.scalar(sa.select(Case).where(Case.reference.like(f"RF-{TODAY.year}-%")))
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert case.status is CaseStatus.ELIGIBLE
    referral = db.session.scalar(sa.select(Referral).where(Referral.case_id == case.id))
    assert (referral.score, referral.threshold, referral.eligible) == (14, 14, True)
    answers = {a.factor_key: a.answer for a in referral.answers}
    assert answers[DEFAULT_KEYS[14]] is ChecklistAnswer.DONT_KNOW
    assert answers[DEFAULT_KEYS[15]] is ChecklistAnswer.NOT_ASKED
    assert len(answers) == 24
    met = {c.criterion.value: c.met for c in referral.criteria}
    assert met == {
        "visible_high_risk": True,
        "potential_escalation": False,
        "professional_judgement": False,
        "repeat": False,
    }
    roles = dict(
        db.session.execute(
            sa.select(Person.given_name, CasePerson.role)
            .join(CasePerson)
            .where(CasePerson.case_id == case.id)
        ).all()
    )
    assert roles == {"Alys": CaseRole.VICTIM, "Bryn": CaseRole.PERPETRATOR}
    rel = db.session.scalar(
        sa.select(Relationship).where(Relationship.kind == RelationshipKind.EX_PARTNER)
    )
    assert rel.separated_on == date(2026, 1, 5)
    victim_id = next(m.person_id for m in case.members if m.role is CaseRole.VICTIM)
    contact = db.session.scalar(
        sa.select(ContactDetails).where(ContactDetails.person_id == victim_id)
    )
    assert (contact.safe_phone, contact.safe_to_call, contact.may_leave_message) == (
        "07700 900123",
        True,
        False,
    )
    assert contact.feared_people == "His brother"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "referral.create"))
    assert "eligible (visible high risk)" in entry.detail
    assert "07700" not in entry.detail and "His brother" not in entry.detail
    # The referrer's agency may open its referral; her contact details are not for it.
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Visible high risk: met." in page
    assert "07700 900123" not in page and "His brother" not in page


def test_not_eligible_is_saved_with_reasons(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, users, *_ = area_setup
    signed_in(users["police"])
    token = csrf_token(client, "/referrals/new")
    response = client.post(
        "/referrals/new", data=form_data(token, **yes_to(13), police_callouts="2")
    )
    assert response.status_code == 303
    case = db.session.scalar(sa.select(Case).where(Case.reference.like(f"RF-{TODAY.year}-%")))
    assert case.status is CaseStatus.NOT_ELIGIBLE
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Not eligible for the MARAC" in page
    assert "13 of 24 risk factors answered yes; is below the threshold of 14." in page
    assert "2 police call-outs for domestic abuse in the last 12 months" in page


def test_a_picked_victim_makes_a_repeat_with_a_link(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, users, megan, kieran, heard = area_setup
    signed_in(users["coordinator"])
    token = csrf_token(client, "/referrals/new")
    data = form_data(
        token,
        **{
            "victim-given_name": "Meghan",
            "victim-family_name": "Thorn",
            "victim-date_of_birth": "1991-07-02",
            "victim-match": str(megan.id),
            "people-0-given_name": "Kie",
            "people-0-family_name": "Ashdown",
            "people-0-date_of_birth": "",
            "people-0-match": str(kieran.id),
        },
    )
    response = client.post("/referrals/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    case = db.session.scalar(
        sa.select(Case).where(Case.reference.like(f"RF-{TODAY.year}-%")).order_by(Case.id.desc())
    )
    assert case.status is CaseStatus.ELIGIBLE
    assert {m.person_id for m in case.members} == {megan.id, kieran.id}
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Repeat: last heard" in page and "at Riverford MARAC" in page
    assert f'href="/cases/{heard.id}"' in page
    # Existing people are used as they are: nothing about them was changed or merged.
    db.session.refresh(megan)
    assert (megan.given_name, megan.family_name) == ("Megan", "Thorne")


def test_candidates_must_be_chosen_and_everything_typed_is_kept(
    client, signed_in, area_setup
) -> None:  # noqa: ANN001
    _area, users, megan, *_ = area_setup
    signed_in(users["coordinator"])
    token = csrf_token(client, "/referrals/new")
    data = form_data(
        token,
        **{
            "victim-given_name": "Megan",
            "victim-family_name": "Throne",
            "victim-date_of_birth": "",
            "police_callouts": "lots",
            "consent": "no",
            "professional_judgement": "y",
            "feared_people": "Typed fear",
        },
    )
    response = client.post("/referrals/new", data=data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    for message in (
        "Choose one of the people already known, or confirm this is a new person.",
        "Enter a whole number, for example 0 or 3.",
        "Record why information is being shared without her consent.",
        "Say why, in your own words.",
    ):
        assert message in text, message
    assert f'value="{megan.id}"' in text and "Megan Thorne" in text
    assert 'value="Throne"' in text and "Typed fear" in text and 'value="lots"' in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("incident_on", "2026-02-30", "Enter a real date, for example 1991-07-02."),
        ("incident_on", (TODAY + timedelta(days=1)).isoformat(), "cannot be in the future"),
        ("victim-date_of_birth", "yesterday", "Enter a real date"),
        ("victim-given_name", "", "Enter her first name."),
        ("victim-family_name", "x" * 101, "Use at most 100 characters."),
        ("people-0-role", "child", "Name at least one perpetrator"),
        ("police_callouts", "-1", "Enter a number from 0 to 999."),
        ("police_callouts", "", "Enter the number of call-outs, or 0 if there were none."),
        ("checklist-weapons", "maybe", "Answer yes, no, don&#39;t know or not asked."),
        ("checklist-weapons", "", "Choose an answer for this risk factor."),
        ("victim_aware", "", "Say whether she knows about this referral."),
        ("officer_name", "", "Enter the name of the person making the referral."),
        ("judgement_reason", "Because", "Tick the professional judgement box above"),
    ],
)
def test_bad_input_gets_a_clear_message(
    client, signed_in, area_setup, field, value, message
) -> None:  # noqa: ANN001
    _area, users, *_ = area_setup
    signed_in(users["police"])
    token = csrf_token(client, "/referrals/new")
    response = client.post("/referrals/new", data=form_data(token, **{field: value}))
    assert response.status_code == 400, field
    assert message in response.get_data(as_text=True), field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0


def test_a_person_not_offered_cannot_be_attached(client, signed_in, area_setup) -> None:  # noqa: ANN001
    """The programme may not attach her by sending her id: she is never offered to it."""
    _area, users, megan, *_ = area_setup
    signed_in(users["programme"])
    token = csrf_token(client, "/referrals/new")
    data = form_data(
        token,
        **{
            "victim-given_name": "Megan",
            "victim-family_name": "Thorne",
            "victim-date_of_birth": "1991-07-02",
            "victim-match": str(megan.id),
        },
    )
    response = client.post("/referrals/new", data=data)
    assert response.status_code == 303  # saved, but as a new person
    victim = db.session.scalar(
        sa.select(CasePerson)
        .where(CasePerson.role == CaseRole.VICTIM)
        .order_by(CasePerson.id.desc())
    )
    assert victim.person_id != megan.id
    # ...and the coordinator sees the possible duplicate in the queue.
    flag = db.session.scalar(sa.select(PossibleDuplicate))
    assert (flag.person_id, flag.candidate_id) == (victim.person_id, megan.id)


def test_add_another_person_and_check_keep_what_was_typed(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, users, megan, *_ = area_setup
    signed_in(users["coordinator"])
    token = csrf_token(client, "/referrals/new")
    data = form_data(
        token,
        **{
            "victim-given_name": "Megan",
            "victim-family_name": "Thorne",
            "victim-date_of_birth": "",
        },
    )
    added = client.post("/referrals/new", data={**data, "action": "add_person"})
    text = added.get_data(as_text=True)
    assert added.status_code == 200
    assert 'name="people-1-given_name"' in text and 'value="Cotter"' in text
    checked = client.post("/referrals/new", data={**data, "action": "check"})
    assert checked.status_code == 200
    assert f'id="victim-match-{megan.id}"' in checked.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1


def test_live_score_counts_only_yes(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, users, *_ = area_setup
    signed_in(users["police"])
    token = csrf_token(client, "/referrals/new")
    data = form_data(token, **yes_to(13), **{f"checklist-{DEFAULT_KEYS[13]}": "dont_know"})
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    fragment = client.post("/referrals/new/score", data=data, headers=headers).get_data(
        as_text=True
    )
    assert fragment.lstrip().startswith('<section id="eligibility"')
    assert "Score: 13 of 24" in fragment and "Visible high risk: not met." in fragment
    data[f"checklist-{DEFAULT_KEYS[13]}"] = "yes"
    data["police_callouts"] = "3"
    fragment = client.post("/referrals/new/score", data=data, headers=headers).get_data(
        as_text=True
    )
    assert "Score: 14 of 24" in fragment and "Visible high risk: met." in fragment
    assert "Potential escalation: met." in fragment


def test_live_matches_are_filtered_by_policy(client, signed_in, area_setup, involve) -> None:  # noqa: ANN001
    _area, users, megan, kieran, _heard = area_setup
    headers_for = lambda token: {"HX-Request": "true", "X-CSRFToken": token}  # noqa: E731
    typed = {
        "victim-given_name": "Megan",
        "victim-family_name": "Thorn",
        "row": "victim",
        "people-0-given_name": "Kieran",
        "people-0-family_name": "Ashdown",
    }
    # The health agency referred the closed case, so it may open it and sees her.
    for who, offered in (
        ("coordinator", True),
        ("health", True),
        ("police", True),
        ("programme", False),
    ):
        client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
        signed_in(users[who])
        token = csrf_token(client, "/referrals/new")
        fragment = client.post(
            "/referrals/new/matches",
            data={"csrf_token": token, **typed},
            headers=headers_for(token),
        ).get_data(as_text=True)
        assert fragment.lstrip().startswith('<div id="matches-victim"'), who
        assert ("Megan Thorne" in fragment) is offered, who
    # The programme is offered the man it works with, and still never her.
    involve(
        db.session.get(type(users["programme"].agency), users["programme"].agency_id),
        kieran,
        InvolvementKind.PERPETRATOR_PROGRAMME,
    )
    token = csrf_token(client, "/referrals/new")
    him = client.post(
        "/referrals/new/matches",
        data={"csrf_token": token, **typed, "row": "people-0"},
        headers=headers_for(token),
    ).get_data(as_text=True)
    her = client.post(
        "/referrals/new/matches", data={"csrf_token": token, **typed}, headers=headers_for(token)
    ).get_data(as_text=True)
    assert "Kieran Ashdown" in him and "Megan Thorne" not in her
    bad = client.post(
        "/referrals/new/matches",
        data={"csrf_token": token, "row": "nobody"},
        headers=headers_for(token),
    )
    assert bad.status_code == 400


def test_who_may_refer_and_see_the_queue(client, signed_in, area_setup) -> None:  # noqa: ANN001
    _area, users, *_ = area_setup
    for who, form_status, queue_status in (
        ("admin", 403, 403),
        ("police", 200, 403),
        ("programme", 200, 403),
        ("chair", 200, 200),
        ("coordinator", 200, 200),
    ):
        client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
        signed_in(users[who])
        assert client.get("/referrals/new").status_code == form_status, who
        assert client.get("/referrals/").status_code == queue_status, who


def test_the_queue_filters_counts_and_flags(
    client, signed_in, area_setup, make_person, make_case
) -> None:  # noqa: ANN001
    area, users, megan, kieran, _heard = area_setup
    signed_in(users["police"])
    token = csrf_token(client, "/referrals/new")
    client.post("/referrals/new", data=form_data(token, **yes_to(14)))
    second = client.post(
        "/referrals/new",
        data=form_data(
            token,
            **{
                "victim-given_name": "Megan",
                "victim-family_name": "Thorne",
                "victim-date_of_birth": "1991-07-02",
                "victim-match": "new",
                "people-0-given_name": "Dai",
                "people-0-family_name": "Pugh",
            },
        ),
    )
    assert second.status_code == 303
    for _n in range(5):
        make_case(area, make_person(area), status=CaseStatus.LISTED)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    signed_in(users["coordinator"])
    with count_queries() as counted:
        page = client.get("/referrals/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Eligible (1)" in text and "Not eligible (1)" in text and "Listed (5)" in text
    assert "Possible duplicates: 1" in text
    assert counted.count < 25
    only = client.get("/referrals/?status=eligible").get_data(as_text=True)
    assert "1 referral" in only and "Alys Marrow" in only
    dupes = client.get("/referrals/?duplicates=1", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert dupes.lstrip().startswith('<section id="queue-results"') and "1 referral" in dupes
    assert client.get("/referrals/?status=nonsense").status_code == 400
