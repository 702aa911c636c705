"""Equality monitoring: who sees a person's answers (a truth table, then the case page), and the
referral form that records them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marac import policy
from marac.domain import (
    AgencyKind,
    AgencySide,
    CaseStatus,
    Disability,
    EthnicGroup,
    Gender,
    InvolvementKind,
    Role,
    SexualOrientation,
    TransHistory,
)
from marac.extensions import db
from marac.models import Case, Person
from marac.policy import Level
from marac.viewer import CaseLinks, Viewer
from tests.test_policy import (
    AREA,
    CHILD,
    MY_AGENCY,
    OTHER_ADULT,
    OTHER_AREA,
    PERP,
    PF,
    VF,
    VICTIM,
    links,
    viewer,
)
from tests.test_referrals import area_setup, form_data  # noqa: F401 (a fixture)

from .conftest import csrf_token

F, W = Level.FULL, Level.WITHHELD

EQUALITY = [
    # (viewer, links, person, expected, why)
    (viewer(Role.COORDINATOR), links(), VICTIM, F, "coordinator of the area"),
    (viewer(Role.COORDINATOR), links(), PERP, F, "coordinator: everyone in the case"),
    (viewer(Role.CHAIR), links(), CHILD, F, "chair"),
    (viewer(Role.COORDINATOR, area=OTHER_AREA), links(), VICTIM, W, "another area"),
    (viewer(Role.AGENCY_REP), links(referring=MY_AGENCY), VICTIM, F, "the referring agency"),
    (viewer(Role.AGENCY_REP), links(referring=MY_AGENCY), PERP, F, "it asked about him too"),
    (viewer(Role.AGENCY_REP), links(), VICTIM, W, "another agency at the table"),
    (viewer(Role.AGENCY_REP), links(works_with=(VICTIM,)), VICTIM, W, "works with her: no"),
    (viewer(Role.REVIEWER), links(), CHILD, W, "a reviewer"),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(VICTIM,)), VICTIM, F, "her own worker"),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(VICTIM,)), CHILD, F, "her children"),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(VICTIM,)), PERP, W, "not his"),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(VICTIM,)), OTHER_ADULT, W, "not others"),
    (viewer(Role.AGENCY_REP, PF), links(works_with=(PERP,)), PERP, W, "never a programme"),
    (
        viewer(Role.AGENCY_REP, PF),
        links(works_with=(PERP,), referring=MY_AGENCY),
        VICTIM,
        W,
        "not even a programme that referred",
    ),
    (viewer(Role.AGENCY_REP), links(status=CaseStatus.REFERRED), VICTIM, W, "cannot open it"),
    (viewer(Role.ADMINISTRATOR), links(), VICTIM, W, "administrators see no cases"),
    (viewer(Role.COORDINATOR), links(), 999, W, "not in the case"),
]


@pytest.mark.parametrize(("who", "case", "person", "expected", "why"), EQUALITY)
def test_who_sees_equality_answers(
    who: Viewer, case: CaseLinks, person: int, expected: Level, why: str
) -> None:
    assert policy.equality_details(who, case, person).level is expected, why


REPORTS = [
    (viewer(Role.COORDINATOR), AREA, F, F),
    (viewer(Role.CHAIR), AREA, F, W),
    (viewer(Role.ADMINISTRATOR), AREA, W, F),
    (viewer(Role.AGENCY_REP), AREA, W, W),
    (viewer(Role.REVIEWER), AREA, W, W),
    (viewer(Role.SUPPORT_WORKER, VF), AREA, W, W),
    (viewer(Role.COORDINATOR, PF), AREA, W, W),
    (viewer(Role.COORDINATOR), OTHER_AREA, W, W),
    (viewer(Role.CHAIR), OTHER_AREA, W, W),
    (viewer(Role.ADMINISTRATOR), OTHER_AREA, W, W),
]


@pytest.mark.parametrize(("who", "area", "reports", "settings"), REPORTS)
def test_who_sees_reports_and_keeps_their_settings(
    who: Viewer, area: int, reports: Level, settings: Level
) -> None:
    assert policy.may_see_reports(who, area).level is reports
    assert policy.may_edit_report_settings(who, area).level is settings


MONITORING = {
    "victim-ethnic_group": "black",
    "victim-sexual_orientation": "bisexual",
    "victim-trans_history": "prefers_not_to_say",
    "victim-disability": "yes",
    "people-0-ethnic_group": "roma",
}


def test_the_referral_records_equality_answers_and_shows_them_as_the_policy_says(
    client,  # noqa: ANN001
    signed_in,  # noqa: ANN001
    area_setup,  # noqa: ANN001, F811
    make_user,  # noqa: ANN001
    make_agency,  # noqa: ANN001
    involve,  # noqa: ANN001
) -> None:
    area, users, *_rest = area_setup
    signed_in(users["police"])
    token = csrf_token(client, "/referrals/new")
    page = client.get("/referrals/new").get_data(as_text=True)
    assert "Equality monitoring (optional)" in page and "Prefers not to say" in page
    response = client.post("/referrals/new", data=form_data(token, **MONITORING))
    assert response.status_code == 303, response.get_data(as_text=True)
    victim = db.session.scalar(sa.select(Person).where(Person.given_name == "Alys"))
    man = db.session.scalar(sa.select(Person).where(Person.given_name == "Bryn"))
    assert (
        victim.ethnic_group,
        victim.sexual_orientation,
        victim.trans_history,
        victim.disability,
    ) == (
        EthnicGroup.BLACK,
        SexualOrientation.BISEXUAL,
        TransHistory.PREFERS_NOT_TO_SAY,
        Disability.YES,
    )
    # Not asked about him beyond his ethnic group: the rest stays "not known".
    assert (man.ethnic_group, man.sexual_orientation, man.disability) == (
        EthnicGroup.ROMA,
        SexualOrientation.NOT_KNOWN,
        Disability.NOT_KNOWN,
    )
    case = db.session.scalar(sa.select(Case).order_by(Case.id.desc()))
    case.status = CaseStatus.LISTED  # every agency of the area may open it now
    idva = make_agency(area, AgencyKind.IDVA, AgencySide.VICTIM_FACING, name="Riverford IDVA")
    worker = make_user(Role.SUPPORT_WORKER, idva, username="idva-worker")
    involve(idva, victim, InvolvementKind.IDVA_SUPPORT, worker=worker)
    db.session.commit()

    answers = ("Black, Black British, Caribbean or African", "Bisexual", "White: Roma")
    for user, sees in (
        (users["police"], True),
        (users["coordinator"], True),
        (users["chair"], True),
        (worker, True),
        (users["health"], False),
    ):
        client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
        signed_in(user)
        page = client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert "Alys" in page, user.username
        for answer in answers[:2]:
            assert (answer in page) is sees, (user.username, answer)
        assert ("Equality monitoring" in page) is sees, user.username
    # Her worker sees hers, not his.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    signed_in(worker)
    assert "White: Roma" not in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_a_later_referral_adds_answers_but_not_known_keeps_the_earlier(
    client,  # noqa: ANN001
    signed_in,  # noqa: ANN001
    area_setup,  # noqa: ANN001, F811
) -> None:
    _area, users, megan, kieran, _heard = area_setup
    megan.ethnic_group = EthnicGroup.ASIAN
    megan.disability = Disability.NO
    db.session.commit()
    signed_in(users["coordinator"])
    token = csrf_token(client, "/referrals/new")
    data = form_data(
        token,
        **{
            "victim-given_name": "Megan",
            "victim-family_name": "Thorne",
            "victim-date_of_birth": "1991-07-02",
            "victim-gender": Gender.FEMALE.value,
            "victim-match": str(megan.id),
            "victim-disability": "yes",
            "people-0-given_name": "Kieran",
            "people-0-family_name": "Ashdown",
            "people-0-date_of_birth": "",
            "people-0-match": str(kieran.id),
        },
    )
    response = client.post("/referrals/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.refresh(megan)
    assert (megan.ethnic_group, megan.disability) == (EthnicGroup.ASIAN, Disability.YES)


def test_a_made_up_answer_is_refused_on_its_field_and_the_rest_is_kept(
    client,  # noqa: ANN001
    signed_in,  # noqa: ANN001
    area_setup,  # noqa: ANN001, F811
) -> None:
    _area, users, *_rest = area_setup
    signed_in(users["police"])
    token = csrf_token(client, "/referrals/new")
    response = client.post(
        "/referrals/new", data=form_data(token, **{"victim-ethnic_group": "<script>x</script>"})
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Not a valid choice" in page and 'value="Marrow"' in page
    assert "<script>x</script>" not in page
    # The fixture's heard case is still the only case: nothing was saved.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1
