"""Disclosure overrides: who records and revokes them, what is refused, what is audited, and
what each agency then reads on the case page, the meeting's minutes and its copy of the papers.

The world: a case heard at an approved meeting. Her IDVA holds a survivor-confidential item
(CNYTSURV) recorded for the meeting; children's social care may open the case but not read the
item until an override opens it to them; the police representative never does.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pypdf
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marac import papers
from marac.domain import (
    AgencyKind,
    AgencySide,
    AgendaStatus,
    AttendanceKind,
    CaseStatus,
    Classification,
    DocumentKind,
    InvolvementKind,
    ItemSource,
    MeetingStatus,
    OverrideGround,
    Role,
)
from marac.extensions import db
from marac.models import (
    Agency,
    AgendaItem,
    Attendance,
    AuditEntry,
    Case,
    DisclosureOverride,
    InformationItem,
    IssuedDocument,
    Meeting,
    Person,
    User,
)
from marac.present_meetings import present_minutes
from marac.security import CONFIRMED_AT
from marac.services import overrides as service
from marac.services import papers as papers_service
from marac.services.overrides import OverrideConflict, OverrideRefused
from marac.viewer import agency_reader

from .conftest import csrf_token, login, page_text

SECRET = "CNYTSURV"
REASON = "CNYTREASON the children live where the threat was made"


@dataclass
class World:
    case: Case
    victim: Person
    other_case: Case
    meeting: Meeting
    item: InformationItem
    shared_item: InformationItem
    other_item: InformationItem
    police: Agency
    csc: Agency
    idva: Agency
    programme: Agency
    coordinator: User
    chair: User
    police_rep: User
    csc_rep: User
    idva_worker: User
    programme_rep: User


@pytest.fixture
def w(app, make_area, make_agency, make_user, make_person, make_case, make_item, involve) -> World:  # noqa: ANN001
    area = make_area(code="OV", name="Overton")
    team = make_agency(area, AgencyKind.OTHER, name="Overton MARAC Team")
    police = make_agency(area, AgencyKind.POLICE, name="Overton Police")
    csc = make_agency(area, AgencyKind.CHILDRENS_SOCIAL_CARE, name="Overton CSC")
    idva = make_agency(area, AgencyKind.IDVA, AgencySide.VICTIM_FACING, name="Overton IDVA")
    programme = make_agency(
        area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, name="Turnpath"
    )
    users = {
        "coordinator": make_user(Role.COORDINATOR, team, username="ov-coord"),
        "chair": make_user(Role.CHAIR, police, username="ov-chair"),
        "police_rep": make_user(Role.AGENCY_REP, police, username="ov-police"),
        "csc_rep": make_user(Role.AGENCY_REP, csc, username="ov-csc"),
        "idva_worker": make_user(Role.SUPPORT_WORKER, idva, username="ov-idva"),
        "programme_rep": make_user(Role.AGENCY_REP, programme, username="ov-prog"),
    }
    victim = make_person(area, given="Orla", family="Vantry")
    man = make_person(area, given="Oswin", family="Vantry")
    case = make_case(area, victim, (man,), status=CaseStatus.HEARD, referring_agency=police)
    involve(idva, victim, InvolvementKind.IDVA_SUPPORT, worker=users["idva_worker"])
    involve(programme, man, InvolvementKind.PERPETRATOR_PROGRAMME)
    other_case = make_case(area, make_person(area, given="Opal"), status=CaseStatus.HEARD)

    meeting = Meeting(
        area_id=area.id,
        starts_at=datetime(2026, 11, 10, 10, tzinfo=UTC),
        referral_cutoff_on=date(2026, 11, 3),
        status=MeetingStatus.APPROVED,
        chair_id=users["chair"].id,
        minutes_approved_by_id=users["chair"].id,
        minutes_approved_at=datetime(2026, 11, 11, 9, tzinfo=UTC),
    )
    db.session.add(meeting)
    db.session.flush()
    agenda_item = AgendaItem(
        meeting_id=meeting.id, case_id=case.id, position=1, status=AgendaStatus.HEARD
    )
    db.session.add(agenda_item)
    db.session.flush()
    for user in users.values():
        db.session.add(
            Attendance(
                meeting_id=meeting.id,
                user_id=user.id,
                agency_id=user.agency_id,
                kind=AttendanceKind.MEMBER,
            )
        )
    db.session.commit()
    item = make_item(
        case,
        idva,
        f"She told her IDVA he keeps a knife in the car {SECRET}",
        about=victim,
        classification=Classification.SURVIVOR_CONFIDENTIAL,
        source=ItemSource.VICTIM_DISCLOSURE,
        by=users["idva_worker"],
    )
    shared_item = make_item(case, police, "Arrested in October", about=man)
    for row in (item, shared_item):
        row.agenda_item_id = agenda_item.id
    other_item = make_item(
        other_case, idva, "Another case's confidence", classification=Classification.AGENCY_ONLY
    )
    db.session.commit()
    return World(
        case=case,
        victim=victim,
        other_case=other_case,
        meeting=meeting,
        item=item,
        shared_item=shared_item,
        other_item=other_item,
        police=police,
        csc=csc,
        idva=idva,
        programme=programme,
        **users,
    )


def _record(w: World, agency: Agency | None = None, **changes: Any) -> DisclosureOverride:
    values: dict[str, Any] = {
        "case": w.case,
        "item_id": w.item.id,
        "agency_id": (agency or w.csc).id,
        "ground": OverrideGround.CHILD_AT_RISK,
        "reason": REASON,
        "user": w.chair,
    }
    values.update(changes)
    override, _opened = service.record_override(db.session, **values)
    db.session.commit()
    return override


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


# --- the service ------------------------------------------------------------------------------


def test_an_override_opens_the_item_to_the_agency_and_is_audited_without_its_reason(w) -> None:  # noqa: ANN001
    assert not service.agency_reads_item(db.session, w.csc, w.case, w.item)
    override = _record(w)
    assert service.agency_reads_item(db.session, w.csc, w.case, w.item)
    # Only the agency named: the police still do not read it.
    assert not service.agency_reads_item(db.session, w.police, w.case, w.item)
    (entry,) = _audit("disclosure_override.create")
    assert (entry.object_type, entry.object_id, entry.user_id) == (
        "disclosure_override",
        override.id,
        w.chair.id,
    )
    assert f"item {w.item.id}" in entry.detail and "Overton CSC" in entry.detail
    assert "child_at_risk" in entry.detail
    assert "CNYTREASON" not in entry.detail and SECRET not in entry.detail


def test_revoking_closes_the_item_at_once_and_is_audited(w) -> None:  # noqa: ANN001
    override = _record(w)
    service.revoke_override(
        db.session, case=w.case, override=override, reason="Risk has passed", user=w.coordinator
    )
    db.session.commit()
    assert not service.agency_reads_item(db.session, w.csc, w.case, w.item)
    db.session.refresh(override)
    assert override.revoked_by_id == w.coordinator.id
    assert override.revoke_reason == "Risk has passed"
    assert override.revoked_at is not None
    (entry,) = _audit("disclosure_override.revoke")
    assert entry.object_id == override.id and entry.user_id == w.coordinator.id
    assert "Risk has passed" not in entry.detail


def test_an_override_is_revoked_once(w) -> None:  # noqa: ANN001
    override = _record(w)
    service.revoke_override(
        db.session, case=w.case, override=override, reason="First", user=w.coordinator
    )
    db.session.commit()
    with pytest.raises(OverrideConflict):
        service.revoke_override(
            db.session, case=w.case, override=override, reason="Second", user=w.chair
        )
    db.session.rollback()
    db.session.refresh(override)
    assert (override.revoke_reason, override.revoked_by_id) == ("First", w.coordinator.id)
    assert len(_audit("disclosure_override.revoke")) == 1


def test_after_a_revocation_the_item_can_be_opened_again(w) -> None:  # noqa: ANN001
    first = _record(w)
    service.revoke_override(
        db.session, case=w.case, override=first, reason="Closed too soon", user=w.chair
    )
    db.session.commit()
    second = _record(w)
    assert second.id != first.id
    assert service.agency_reads_item(db.session, w.csc, w.case, w.item)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"reason": ""}, "reason", "Say why"),
        ({"reason": "   \n\t "}, "reason", "Say why"),
        ({"reason": "x" * (service.REASON_LIMIT + 1)}, "reason", "characters or fewer"),
        ({"item_id": 987_654}, "item_id", "Choose an item of this case"),
        ({"agency_id": 987_654}, "agency_id", "Choose an agency of this area"),
    ],
)
def test_refusals_name_the_field(w, change, field, words) -> None:  # noqa: ANN001
    with pytest.raises(OverrideRefused) as refused:
        _record(w, **change)
    assert refused.value.field == field and words in str(refused.value)
    assert db.session.scalar(sa.select(sa.func.count(DisclosureOverride.id))) == 0


def test_never_to_a_perpetrator_facing_agency(w) -> None:  # noqa: ANN001
    with pytest.raises(OverrideRefused) as refused:
        _record(w, agency=w.programme)
    assert refused.value.field == "agency_id"
    assert "perpetrator-facing" in str(refused.value)
    assert w.programme not in service.recipient_agencies(db.session, w.case.area_id)
    assert w.csc in service.recipient_agencies(db.session, w.case.area_id)


def test_an_item_of_another_case_is_refused(w) -> None:  # noqa: ANN001
    with pytest.raises(OverrideRefused) as refused:
        _record(w, item_id=w.other_item.id)
    assert refused.value.field == "item_id"


def test_an_agency_that_reads_the_item_already_is_refused(w, make_item, consent) -> None:  # noqa: ANN001
    own = make_item(
        w.case, w.csc, "A section 47 enquiry", classification=Classification.AGENCY_ONLY
    )
    with pytest.raises(OverrideRefused, match="Overton CSC may already read this item"):
        _record(w, item_id=own.id)
    # She agreed the police may see her disclosures.
    consent(w.victim, w.police, disclosures=True)
    with pytest.raises(OverrideRefused, match="Overton Police may already read this item"):
        _record(w, agency=w.police)
    # Everyone who may open the case reads an item shared with the MARAC.
    with pytest.raises(OverrideRefused, match="shared with the MARAC"):
        _record(w, item_id=w.shared_item.id)
    _record(w)
    with pytest.raises(OverrideRefused, match="may already read"):
        _record(w)
    assert db.session.scalar(sa.select(sa.func.count(DisclosureOverride.id))) == 1


def test_two_people_recording_the_same_override_at_once_make_one(w, monkeypatch) -> None:  # noqa: ANN001
    _record(w)
    # The second passed its check before the first was committed: the index stops it.
    monkeypatch.setattr(service, "agency_reads_item", lambda *args: False)
    with pytest.raises(OverrideConflict, match="Someone has just opened"):
        _record(w, user=w.coordinator)
    db.session.rollback()
    standing = db.session.scalar(
        sa.select(sa.func.count(DisclosureOverride.id)).where(
            DisclosureOverride.revoked_at.is_(None)
        )
    )
    assert standing == 1


# --- the pages --------------------------------------------------------------------------------


def _client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return client


def _post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client, "/cases/")
    return client.post(path, data={**data, "csrf_token": token})


def _form(w: World, **changes: Any) -> dict[str, Any]:
    data = {
        "item_id": str(w.item.id),
        "agency_id": str(w.csc.id),
        "ground": OverrideGround.HIGH_RISK_OF_HARM.value,
        "reason": REASON,
    }
    data.update(changes)
    return data


def test_only_the_coordinator_and_the_chair_record_and_revoke(w, app) -> None:  # noqa: ANN001
    override = _record(w)
    new = f"/cases/{w.case.id}/overrides/new"
    revoke = f"/cases/{w.case.id}/overrides/{override.id}/revoke"
    for user in (w.coordinator, w.chair):
        client = _client(app, user)
        assert client.get(new).status_code == 200
        assert client.get(revoke).status_code == 200
    for user in (w.police_rep, w.csc_rep, w.idva_worker, w.programme_rep):
        client = _client(app, user)
        assert client.get(new).status_code == 403, user.username
        assert client.get(revoke).status_code == 403, user.username
        assert _post(client, new, _form(w, agency_id=str(w.police.id))).status_code == 403
        assert _post(client, revoke, {"reason": "Not mine"}).status_code == 403
    db.session.refresh(override)
    assert override.revoked_at is None
    assert db.session.scalar(sa.select(sa.func.count(DisclosureOverride.id))) == 1


def test_the_chair_opens_an_item_from_the_case_page(w, app) -> None:  # noqa: ANN001
    client = _client(app, w.chair)
    case_page = page_text(client.get(f"/cases/{w.case.id}"))
    assert f'href="/cases/{w.case.id}/overrides/new"' in case_page
    form = page_text(client.get(f"/cases/{w.case.id}/overrides/new"))
    # The programme is not offered; the shared item is not offered (everyone reads it).
    assert "Overton CSC" in form and "Turnpath" not in form
    items = re.search(r'<select[^>]* id="item_id".*?</select>', form, re.S).group(0)
    assert f'value="{w.item.id}"' in items and f'value="{w.shared_item.id}"' not in items

    answer = _post(client, f"/cases/{w.case.id}/overrides/new", _form(w))
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/cases/{w.case.id}#overrides"
    (override,) = db.session.scalars(sa.select(DisclosureOverride)).all()
    assert (override.item_id, override.agency_id, override.created_by_id) == (
        w.item.id,
        w.csc.id,
        w.chair.id,
    )
    assert override.ground is OverrideGround.HIGH_RISK_OF_HARM and override.reason == REASON
    assert len(_audit("disclosure_override.create")) == 1
    listed = page_text(client.get(f"/cases/{w.case.id}"))
    assert "Overton CSC" in listed and "High risk of serious harm" in listed
    assert "CNYTREASON" in listed and "In force" in listed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": ""}, "Say why the item must be opened to this agency."),
        ({"reason": "   "}, "Say why the item must be opened to this agency."),
        ({"ground": ""}, "Choose the ground for the override."),
        ({"ground": "because"}, "Not a valid choice"),
        ({"item_id": ""}, "Choose the item to open."),
        ({"item_id": "987654"}, "Not a valid choice"),
        ({"item_id": str(10**30)}, "Not a valid choice"),
        ({"agency_id": "x"}, "Invalid Choice: could not coerce."),
    ],
)
def test_a_refused_form_says_why_and_keeps_what_was_typed(w, app, change, message) -> None:  # noqa: ANN001
    client = _client(app, w.coordinator)
    answer = _post(client, f"/cases/{w.case.id}/overrides/new", _form(w, **change))
    assert answer.status_code == 400
    text = page_text(answer)
    assert message in text
    if change.get("reason", REASON).strip():
        assert "CNYTREASON" in text
    assert db.session.scalar(sa.select(sa.func.count(DisclosureOverride.id))) == 0


def test_a_perpetrator_facing_agency_is_refused_with_a_clear_message(w, app) -> None:  # noqa: ANN001
    client = _client(app, w.chair)
    answer = _post(
        client, f"/cases/{w.case.id}/overrides/new", _form(w, agency_id=str(w.programme.id))
    )
    assert answer.status_code == 400
    text = page_text(answer)
    # Not offered, so the choice itself is refused, before anything is recorded.
    assert "Not a valid choice" in text and "CNYTREASON" in text
    assert db.session.scalar(sa.select(sa.func.count(DisclosureOverride.id))) == 0


def test_an_item_the_agency_reads_already_is_refused_on_the_form(w, app, consent) -> None:  # noqa: ANN001
    consent(w.victim, w.police, disclosures=True)
    client = _client(app, w.chair)
    answer = _post(
        client, f"/cases/{w.case.id}/overrides/new", _form(w, agency_id=str(w.police.id))
    )
    assert answer.status_code == 400
    text = page_text(answer)
    assert "Overton Police may already read this item." in text and "CNYTREASON" in text
    assert db.session.scalar(sa.select(sa.func.count(DisclosureOverride.id))) == 0


def _age_confirmation(client: FlaskClient, app: Flask) -> None:
    with client.session_transaction() as session:
        old = datetime.now(UTC) - timedelta(minutes=app.config["MARAC_REAUTH_MINUTES"] + 1)
        session[CONFIRMED_AT] = old.isoformat()


def test_recording_and_revoking_ask_for_a_recent_sign_in(w, app) -> None:  # noqa: ANN001
    override = _record(w)
    client = _client(app, w.coordinator)
    token = csrf_token(client, "/cases/")
    _age_confirmation(client, app)
    new = f"/cases/{w.case.id}/overrides/new"
    asked = client.post(new, data={**_form(w, agency_id=str(w.police.id)), "csrf_token": token})
    assert asked.status_code == 303
    assert asked.headers["Location"] == f"/confirm?next={new}"
    revoke = f"/cases/{w.case.id}/overrides/{override.id}/revoke"
    asked = client.post(revoke, data={"reason": "Done", "csrf_token": token})
    assert asked.headers["Location"] == f"/confirm?next={revoke}"
    # Even the form is not shown before confirming, so nothing typed is lost to the asking.
    assert client.get(new).headers["Location"] == f"/confirm?next={new}"
    db.session.refresh(override)
    assert override.revoked_at is None
    assert db.session.scalar(sa.select(sa.func.count(DisclosureOverride.id))) == 1


def test_revoking_from_the_page_and_a_second_revocation_is_a_conflict(w, app) -> None:  # noqa: ANN001
    override = _record(w)
    revoke = f"/cases/{w.case.id}/overrides/{override.id}/revoke"
    client = _client(app, w.coordinator)
    empty = _post(client, revoke, {"reason": ""})
    assert empty.status_code == 400 and "Say why the override is revoked." in page_text(empty)
    done = _post(client, revoke, {"reason": "The children have moved CNYTREVOKE"})
    assert done.status_code == 303
    again = _post(_client(app, w.chair), revoke, {"reason": "Me too CNYTSECOND"})
    assert again.status_code == 409
    text = page_text(again)
    assert "already been revoked by someone else" in text and "CNYTSECOND" in text
    db.session.refresh(override)
    assert override.revoke_reason == "The children have moved CNYTREVOKE"
    listed = page_text(client.get(f"/cases/{w.case.id}"))
    assert "Revoked" in listed and "CNYTREVOKE" in listed
    assert len(_audit("disclosure_override.revoke")) == 1


def test_an_override_of_another_case_is_not_found_through_this_one(w, app) -> None:  # noqa: ANN001
    elsewhere = _record(w, case=w.other_case, item_id=w.other_item.id)
    client = _client(app, w.chair)
    url = f"/cases/{w.case.id}/overrides/{elsewhere.id}/revoke"
    assert client.get(url).status_code == 404
    assert _post(client, url, {"reason": "Wrong case"}).status_code == 404
    db.session.refresh(elsewhere)
    assert elsewhere.revoked_at is None


# --- what each agency reads -----------------------------------------------------------------


def _pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def _agency_minutes(w: World, agency: Agency) -> str:
    heading = papers.PaperHeading(
        title="Test copy",
        marking="OFFICIAL-SENSITIVE",
        recipient=agency.name,
        number="OV-P2026-000001",
        issued_on=date(2026, 11, 24),
    )
    minutes = present_minutes(db.session, agency_reader(agency), w.meeting)
    text = _pdf_text(papers.minutes_pdf(heading, minutes))
    db.session.rollback()
    return text


def _reads(app: Flask, w: World, user: User) -> dict[str, str]:
    client = _client(app, user)
    return {
        "case page": page_text(client.get(f"/cases/{w.case.id}")),
        "minutes": page_text(client.get(f"/meetings/{w.meeting.id}/minutes")),
        "agency's papers": _agency_minutes(w, user.agency),
    }


def _where_seen(app: Flask, w: World, user: User, canary: str) -> set[str]:
    seen = _reads(app, w, user)
    assert all(len(text) > 500 for text in seen.values()), "an output was not really fetched"
    return {where for where, text in seen.items() if canary in text}


EVERYWHERE = {"case page", "minutes", "agency's papers"}


def test_the_item_reaches_the_named_agency_only_while_the_override_stands(w, app) -> None:  # noqa: ANN001
    # The outputs really carry the item to those who may read it.
    # (the chair's agency is the police, whose copy does not hold it).
    assert _where_seen(app, w, w.chair, SECRET) == {"case page", "minutes"}
    assert _where_seen(app, w, w.csc_rep, SECRET) == set()
    assert _where_seen(app, w, w.police_rep, SECRET) == set()

    override = _record(w)
    assert _where_seen(app, w, w.csc_rep, SECRET) == EVERYWHERE
    assert _where_seen(app, w, w.police_rep, SECRET) == set()
    assert _where_seen(app, w, w.programme_rep, SECRET) == set()

    service.revoke_override(
        db.session, case=w.case, override=override, reason="Risk has passed", user=w.chair
    )
    db.session.commit()
    assert _where_seen(app, w, w.csc_rep, SECRET) == set()
    assert _where_seen(app, w, w.police_rep, SECRET) == set()


# --- issued papers: kept as issued, so a copy made while the override stood is withdrawn -------


def _issue(w: World, reason: str | None = None) -> dict[int, IssuedDocument]:
    """Issues the meeting's papers; each agency's current copy, by agency id."""
    issued = papers_service.issue_meeting_papers(
        db.session,
        w.meeting,
        user=w.coordinator,
        marking="OFFICIAL-SENSITIVE",
        reissue_reason=reason,
    )
    db.session.commit()
    return {d.recipient_agency_id: d for d in issued if d.kind is DocumentKind.AGENCY_PAPERS}


def _download(client: FlaskClient, document: IssuedDocument) -> Any:
    return client.get(f"/papers/{document.id}")


def test_revoking_withdraws_the_agencys_copies_issued_while_the_override_stood(w, app) -> None:  # noqa: ANN001
    override = _record(w)
    copies = _issue(w)
    csc_copy, police_copy = copies[w.csc.id], copies[w.police.id]
    csc = _client(app, w.csc_rep)
    served = _download(csc, csc_copy)
    assert served.status_code == 200 and SECRET in _pdf_text(served.data)

    revoke = f"/cases/{w.case.id}/overrides/{override.id}/revoke"
    done = _post(_client(app, w.coordinator), revoke, {"reason": "Risk has passed"})
    assert done.status_code == 303
    db.session.expire_all()
    assert csc_copy.superseded_at is not None
    # Only the named agency's copy held the item: the others stay as issued.
    assert police_copy.superseded_at is None

    refused = _download(csc, csc_copy)
    assert refused.status_code == 303
    assert b"%PDF" not in refused.data and SECRET.encode() not in refused.data
    told = page_text(csc.get(refused.headers["Location"]))
    assert f"Document {csc_copy.number} was withdrawn" in told
    assert "no longer shared with your agency" in told
    assert SECRET not in told
    withdrawn = _audit("papers.withdrawn")
    assert [e.object_id for e in withdrawn] == [w.meeting.id]
    assert csc_copy.number in withdrawn[0].detail
    assert "Risk has passed" not in withdrawn[0].detail and SECRET not in withdrawn[0].detail

    coordinator = _client(app, w.coordinator)
    listed = page_text(coordinator.get(f"/meetings/{w.meeting.id}/papers"))
    assert "1 copy was withdrawn and not yet replaced" in listed
    assert csc_copy.number in listed and "Issue the papers again" in listed

    # Issued again, the agency's new copy holds only what it may read now.
    again = _issue(w, reason="Issued again: an override was revoked")
    listed = page_text(coordinator.get(f"/meetings/{w.meeting.id}/papers"))
    assert "withdrawn and not yet replaced" not in listed and "Replaced" in listed
    fresh = _download(csc, again[w.csc.id])
    assert fresh.status_code == 200 and SECRET not in _pdf_text(fresh.data)
    # The copy is really the case's minutes: the item the agency may read is there.
    assert "Arrested in October" in _pdf_text(fresh.data)


def test_the_revoker_is_told_which_papers_to_issue_again(w, app) -> None:  # noqa: ANN001
    override = _record(w)
    copy = _issue(w)[w.csc.id]
    client = _client(app, w.coordinator)
    revoke = f"/cases/{w.case.id}/overrides/{override.id}/revoke"
    done = _post(client, revoke, {"reason": "Risk has passed"})
    told = page_text(client.get(done.headers["Location"]))
    assert f"are withdrawn ({copy.number}): issue those meetings&#39; papers again" in told


def test_copies_issued_before_the_override_are_not_withdrawn(w, app) -> None:  # noqa: ANN001
    before = _issue(w)
    override = _record(w)
    withdrawn = service.revoke_override(
        db.session, case=w.case, override=override, reason="Risk has passed", user=w.chair
    )
    db.session.commit()
    assert withdrawn == []
    db.session.expire_all()
    assert all(copy.superseded_at is None for copy in before.values())
    served = _download(_client(app, w.csc_rep), before[w.csc.id])
    assert served.status_code == 200 and SECRET not in _pdf_text(served.data)


def test_a_superseded_copy_still_says_download_the_new_one(w, app) -> None:  # noqa: ANN001
    old = _issue(w)[w.csc.id]
    _issue(w, reason="A corrected date")
    csc = _client(app, w.csc_rep)
    refused = _download(csc, old)
    assert refused.status_code == 303
    told = page_text(csc.get(refused.headers["Location"]))
    assert f"Document {old.number} was superseded on" in told
    assert "download the new copy" in told
    assert f"Document {old.number} was withdrawn" not in told
    assert "not yet replaced" not in told


OVERRIDE_WORDS = ("Disclosure overrides", "CNYTREASON", "Child at risk of significant harm")


def test_nobody_but_the_coordinator_and_the_chair_learns_of_overrides(w, app) -> None:  # noqa: ANN001
    _record(w)
    for user in (w.coordinator, w.chair):
        text = page_text(_client(app, user).get(f"/cases/{w.case.id}"))
        assert all(word in text for word in OVERRIDE_WORDS), user.username
    for user in (w.csc_rep, w.police_rep, w.idva_worker, w.programme_rep):
        for where, text in _reads(app, w, user).items():
            found = [word for word in (*OVERRIDE_WORDS, "override") if word in text]
            assert not found, f"{user.username}'s {where} tells of overrides: {found}"


def test_the_second_of_two_people_recording_the_same_override_is_told_so(w, app) -> None:  # noqa: ANN001
    # Both opened the form before either sent it.
    chair, coordinator = _client(app, w.chair), _client(app, w.coordinator)
    new = f"/cases/{w.case.id}/overrides/new"
    assert chair.get(new).status_code == 200 and coordinator.get(new).status_code == 200
    assert _post(chair, new, _form(w)).status_code == 303
    second = _post(coordinator, new, _form(w, reason="CNYTLATE the same concern"))
    assert second.status_code == 400
    text = page_text(second)
    assert "Overton CSC may already read this item." in text and "CNYTLATE" in text
    assert db.session.scalar(sa.select(sa.func.count(DisclosureOverride.id))) == 1
