"""Merging two person records: everything moves, it is audited, and an undo restores exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from marac import matching
from marac.domain import (
    AgencyKind,
    CaseStatus,
    Disability,
    EthnicGroup,
    Gender,
    InvolvementKind,
    RelationshipKind,
    Role,
    SexualOrientation,
    TransHistory,
)
from marac.extensions import db
from marac.models import (
    AuditEntry,
    CasePerson,
    ContactDetails,
    Involvement,
    PersonAlias,
    PersonMerge,
    PossibleDuplicate,
    Relationship,
)
from marac.security import CONFIRMED_AT
from marac.services import people as people_service

from .conftest import PASSWORD, csrf_token, fresh_code


def test_every_person_reference_is_known_to_merges() -> None:
    """A new table pointing at a person must be looked at here: does a merge move it, and does
    it have a unique constraint that needs a rule in services/people._blocked?"""
    assert people_service.person_references() == [
        # An action is about one person of its case; a merge moves it with the case membership
        # (no unique constraint, so nothing to block).
        ("action", "subject_person_id"),
        ("case_person", "person_id"),
        # The child a partner-contact worker assessed with her: moves (no unique constraint).
        ("child_impact", "child_person_id"),
        ("contact_details", "person_id"),
        ("information_item", "about_person_id"),
        ("involvement", "person_id"),
        # One record per person and agency: blocked when the kept record has one at the agency.
        ("partner_contact_record", "person_id"),
        ("person_alias", "person_id"),
        ("programme_record", "person_id"),
        ("relationship", "other_person_id"),
        ("relationship", "person_id"),
        ("sharing_consent", "person_id"),
    ]


def test_a_relationship_is_recorded_once(make_area, make_person) -> None:  # noqa: ANN001
    """The referral form and the demo loader both add relationships through this helper."""
    area = make_area()
    her, him = make_person(area, "Ann", "Ash"), make_person(area, "Ben", "Birch")
    first = people_service.add_relationship_once(
        db.session, him.id, her.id, RelationshipKind.EX_PARTNER, separated_on=date(2025, 1, 2)
    )
    db.session.flush()
    assert first is not None and first.separated_on == date(2025, 1, 2)
    again = people_service.add_relationship_once(
        db.session, him.id, her.id, RelationshipKind.EX_PARTNER
    )
    assert again is None
    # Another kind, or the other way round, is another relationship.
    assert people_service.add_relationship_once(
        db.session, him.id, her.id, RelationshipKind.PARTNER
    )
    assert people_service.add_relationship_once(
        db.session, her.id, him.id, RelationshipKind.EX_PARTNER
    )
    db.session.flush()
    assert (
        people_service.find_relationship(db.session, him.id, her.id, RelationshipKind.EX_PARTNER)
        == first.id
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Relationship)) == 3


@pytest.fixture
def pair(make_area, make_agency, make_user, make_person, make_case, make_item, involve, relate):  # noqa: ANN001
    area = make_area()
    police = make_agency(area, AgencyKind.POLICE)
    coordinator = make_user(Role.COORDINATOR, police, username="coord")
    kept = make_person(
        area,
        "Megan",
        "Thorne",
        date(1991, 7, 2),
        Gender.FEMALE,
        contact={"address": "Kept address"},
    )
    duplicate = make_person(
        area,
        "Megan",
        "Thorn",
        date(1991, 7, 20),
        Gender.FEMALE,
        aliases=("Meg Thorn",),
        contact={"address": "Duplicate address"},
    )
    him = make_person(area, "Kieran", "Ashdown")
    other = make_person(area, "Tom", "Hale")
    old_case = make_case(area, kept, (him,), status=CaseStatus.CLOSED)
    new_case = make_case(area, duplicate, (other,), status=CaseStatus.REFERRED)
    item = make_item(new_case, police, "About the duplicate", about=duplicate)
    involve(police, duplicate, InvolvementKind.CASEWORK)
    relate(other, duplicate, RelationshipKind.PARTNER)
    relate(him, kept, RelationshipKind.EX_PARTNER)
    relate(duplicate, kept, RelationshipKind.SIBLING)  # a link between the two records
    db.session.add(
        PossibleDuplicate(
            area_id=area.id, person_id=duplicate.id, candidate_id=kept.id, reasons="test"
        )
    )
    db.session.commit()
    return area, coordinator, kept, duplicate, old_case, new_case, item


def _state(person_id: int) -> dict[str, object]:
    return {
        "cases": sorted(
            db.session.scalars(
                sa.select(CasePerson.case_id).where(CasePerson.person_id == person_id)
            )
        ),
        "aliases": sorted(
            db.session.scalars(
                sa.select(PersonAlias.name).where(PersonAlias.person_id == person_id)
            )
        ),
        "involvements": db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Involvement)
            .where(Involvement.person_id == person_id)
        ),
        "relationships": sorted(
            (r.person_id == person_id, r.kind.value)
            for r in db.session.scalars(
                sa.select(Relationship).where(
                    sa.or_(
                        Relationship.person_id == person_id,
                        Relationship.other_person_id == person_id,
                    )
                )
            )
        ),
        "address": db.session.scalar(
            sa.select(ContactDetails.address).where(ContactDetails.person_id == person_id)
        ),
    }


def test_merge_moves_everything_and_undo_restores_it(pair) -> None:  # noqa: ANN001
    area, coordinator, kept, duplicate, old_case, new_case, item = pair
    before = {"kept": _state(kept.id), "duplicate": _state(duplicate.id)}
    record = people_service.merge_people(db.session, coordinator, kept, duplicate)
    db.session.commit()

    after = _state(kept.id)
    assert after["cases"] == sorted([old_case.id, new_case.id])
    assert after["aliases"] == ["Meg Thorn", "Megan Thorn"]
    assert after["involvements"] == 1
    assert (False, "partner") in after["relationships"]
    assert after["address"] == "Kept address"
    assert item.about_person_id == kept.id
    # What could not move stays with the duplicate and is said in words.
    assert record.not_moved == (
        "a relationship between the two records; contact details (the kept record has its own)"
    )
    assert _state(duplicate.id)["address"] == "Duplicate address"
    # The duplicate is no longer offered; the kept record is found by the duplicate's name.
    found = matching.find_candidates(
        db.session, area.id, matching.Query("Megan", "Thorn", date(1991, 7, 20)), allowed=sa.true()
    ).candidates
    assert [c.person_id for c in found] == [kept.id]
    flag = db.session.scalar(sa.select(PossibleDuplicate))
    assert flag.resolution == "merged"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.merge"))
    assert f"person {duplicate.id} merged into {kept.id}" in entry.detail
    assert "Duplicate address" not in entry.detail

    restored = people_service.undo_merge(db.session, coordinator, record)
    db.session.commit()
    assert restored == len(record.moves) == 5
    assert {"kept": _state(kept.id), "duplicate": _state(duplicate.id)} == before
    assert db.session.scalar(sa.select(PossibleDuplicate)).resolved_at is None
    found = matching.find_candidates(
        db.session, area.id, matching.Query("Megan", "Thorn", date(1991, 7, 20)), allowed=sa.true()
    ).candidates
    assert {c.person_id for c in found} == {kept.id, duplicate.id}
    with pytest.raises(people_service.MergeRefused):
        people_service.undo_merge(db.session, coordinator, record)


def test_equality_answers_the_kept_record_lacks_come_from_the_duplicate_and_go_back(pair) -> None:  # noqa: ANN001
    """The quarterly return counts victims by these answers: a merge must not lose one. The kept
    record's own answers stand; undoing the merge empties only what it filled."""
    area, coordinator, kept, duplicate, *_ = pair
    kept.sexual_orientation = SexualOrientation.STRAIGHT
    kept.trans_history = TransHistory.SAME
    duplicate.ethnic_group = EthnicGroup.BLACK
    duplicate.disability = Disability.PREFERS_NOT_TO_SAY
    duplicate.sexual_orientation = SexualOrientation.BISEXUAL
    db.session.commit()

    record = people_service.merge_people(db.session, coordinator, kept, duplicate)
    db.session.commit()
    kept = db.session.get(type(kept), record.kept_id)
    assert kept.ethnic_group is EthnicGroup.BLACK
    assert kept.disability is Disability.PREFERS_NOT_TO_SAY
    assert kept.sexual_orientation is SexualOrientation.STRAIGHT  # hers stands
    assert kept.trans_history is TransHistory.SAME
    assert record.filled_answers == "ethnic_group,disability"
    assert "the answer on sexual orientation (the two records differ" in record.not_moved
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.merge"))
    assert "equality answers taken from the duplicate: ethnic_group, disability" in entry.detail
    # The note and the audit name the questions, never the answers.
    for answer in ("black", "bisexual", "straight", "prefers_not_to_say"):
        assert answer not in entry.detail and answer not in record.not_moved

    # Someone corrects her ethnic group after the merge: undoing leaves their answer alone.
    kept.ethnic_group = EthnicGroup.MIXED
    db.session.commit()
    people_service.undo_merge(db.session, coordinator, record)
    db.session.commit()
    kept = db.session.get(type(kept), record.kept_id)
    assert kept.ethnic_group is EthnicGroup.MIXED
    assert kept.disability is Disability.NOT_KNOWN
    assert kept.sexual_orientation is SexualOrientation.STRAIGHT
    duplicate = db.session.get(type(kept), record.duplicate_id)
    assert duplicate.ethnic_group is EthnicGroup.BLACK  # the duplicate never lost its answers
    undone = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "person.merge_undone")
    )
    assert "equality answers emptied on the kept record: disability" in undone.detail


def test_an_action_about_the_duplicate_follows_the_merge_and_comes_back(pair) -> None:  # noqa: ANN001
    """Actions (agreed on a case) name the person they are about: a merge moves that with the
    case membership, and an undo puts it back."""
    from marac import clock
    from marac.domain import ActionSubject
    from marac.services.actions import opened_action

    _area, coordinator, kept, duplicate, _old_case, new_case, _item = pair
    action = opened_action(
        case=new_case,
        owner_agency_id=coordinator.agency_id,
        owner_user_id=None,
        subject=ActionSubject.VICTIM,
        subject_person_id=duplicate.id,
        text="Safety plan",
        due_on=date(2031, 1, 1),
        shared_in_detail=False,
        created_by_id=coordinator.id,
        at=clock.utc_now(),
    )
    db.session.add(action)
    db.session.commit()
    record = people_service.merge_people(db.session, coordinator, kept, duplicate)
    db.session.commit()
    db.session.refresh(action)
    assert action.subject_person_id == kept.id
    assert "action 1" in db.session.scalar(
        sa.select(AuditEntry.detail).where(AuditEntry.action == "person.merge")
    )
    people_service.undo_merge(db.session, coordinator, record)
    db.session.commit()
    db.session.refresh(action)
    assert action.subject_person_id == duplicate.id


def test_merges_are_refused_when_they_cannot_be_exact(pair, make_person, make_case) -> None:  # noqa: ANN001
    area, coordinator, kept, duplicate, old_case, *_ = pair
    with pytest.raises(people_service.MergeRefused, match="two different records"):
        people_service.merge_people(db.session, coordinator, kept, kept)
    both = make_case(area, kept, (duplicate,))
    with pytest.raises(people_service.MergeRefused, match="same case"):
        people_service.merge_people(db.session, coordinator, kept, duplicate)
    db.session.delete(both)
    db.session.commit()
    people_service.merge_people(db.session, coordinator, kept, duplicate)
    db.session.commit()
    with pytest.raises(people_service.MergeRefused, match="already been merged"):
        people_service.merge_people(db.session, coordinator, duplicate, kept)


def test_merge_pages_for_the_coordinator_only(client, signed_in, pair, make_user) -> None:  # noqa: ANN001
    area, coordinator, kept, duplicate, *_ = pair
    chair = make_user(Role.CHAIR, coordinator.agency, username="chairperson")
    rep = make_user(Role.AGENCY_REP, coordinator.agency, username="rep")
    signed_in(rep)
    for path in ("/people/duplicates", "/people/merges", f"/people/merge/{kept.id}/{duplicate.id}"):
        assert client.get(path).status_code == 403, path
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    signed_in(chair)
    page = client.get("/people/duplicates")
    assert page.status_code == 200 and "Megan Thorn may be Megan Thorne" in page.get_data(
        as_text=True
    )
    assert "Compare and merge" not in page.get_data(as_text=True)
    assert client.get(f"/people/merge/{kept.id}/{duplicate.id}").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    signed_in(coordinator)
    token = csrf_token(client, "/people/duplicates")
    compare = client.get(f"/people/merge/{kept.id}/{duplicate.id}").get_data(as_text=True)
    assert "Merge record" in compare and "Kept address" not in compare  # never contact details
    done = client.post(f"/people/merge/{kept.id}/{duplicate.id}", data={"csrf_token": token})
    assert done.status_code == 303
    history = client.get("/people/merges").get_data(as_text=True)
    assert "Megan Thorn" in history and "Undo" in history
    merge_id = db.session.scalar(sa.select(PersonMerge.id))
    undone = client.post(f"/people/merges/{merge_id}/undo", data={"csrf_token": token})
    assert undone.status_code == 303
    assert db.session.scalar(sa.select(PersonMerge.undone_at)) is not None
    assert client.get("/people/merge/999999/1").status_code == 404


def test_not_the_same_person(client, signed_in, pair) -> None:  # noqa: ANN001
    _area, coordinator, *_ = pair
    signed_in(coordinator)
    flag_id = db.session.scalar(sa.select(PossibleDuplicate.id))
    token = csrf_token(client, "/people/duplicates")
    assert (
        client.post(f"/people/duplicates/{flag_id}/dismiss", data={"csrf_token": token}).status_code
        == 303
    )
    assert "No possible duplicates are waiting." in client.get("/people/duplicates").get_data(
        as_text=True
    )
    assert (
        client.post(f"/people/duplicates/{flag_id}/dismiss", data={"csrf_token": token}).status_code
        == 404
    )


def test_a_partner_contact_record_moves_unless_the_kept_person_has_one_there(
    make_area,
    make_agency,
    make_person,  # noqa: ANN001
) -> None:
    from marac.models import PartnerContactRecord

    area = make_area()
    service = make_agency(area, AgencyKind.PARTNER_CONTACT)
    other_service = make_agency(area, AgencyKind.PARTNER_CONTACT)
    kept, duplicate = make_person(area, "Ann", "Ash"), make_person(area, "Anne", "Ash")
    for person, agency in ((kept, service), (duplicate, service), (duplicate, other_service)):
        db.session.add(
            PartnerContactRecord(
                area_id=area.id,
                person_id=person.id,
                agency_id=agency.id,
                started_on=date(2026, 1, 1),
            )
        )
    db.session.commit()
    admin = make_agency(area)
    from marac.models import User

    user = User(
        username="merger",
        display_name="M",
        role=Role.COORDINATOR,
        agency_id=admin.id,
        password_hash="x",
    )
    db.session.add(user)
    db.session.commit()
    merge = people_service.merge_people(db.session, user, kept, duplicate)
    db.session.commit()
    owners = {
        r.agency_id: r.person_id
        for r in db.session.scalars(
            sa.select(PartnerContactRecord).where(PartnerContactRecord.person_id == kept.id)
        )
    }
    assert owners == {service.id: kept.id, other_service.id: kept.id}
    assert "partner contact record" in (merge.not_moved or "")
    assert people_service.undo_merge(db.session, user, merge) >= 1


def test_merging_and_undoing_ask_for_a_recent_sign_in(app, client, signed_in, pair) -> None:  # noqa: ANN001
    _area, coordinator, kept, duplicate, *_ = pair
    signed_in(coordinator)
    token = csrf_token(client, "/people/duplicates")
    stale = datetime.now(UTC) - timedelta(minutes=app.config["MARAC_REAUTH_MINUTES"] + 1)

    def age_the_sign_in() -> None:
        with client.session_transaction() as session:
            session[CONFIRMED_AT] = stale.isoformat()

    age_the_sign_in()
    path = f"/people/merge/{kept.id}/{duplicate.id}"
    asked = client.get(path)
    assert asked.status_code == 303 and asked.headers["Location"] == f"/confirm?next={path}"
    refused = client.post(path, data={"csrf_token": token})
    assert refused.headers["Location"] == f"/confirm?next={path}"
    assert db.session.scalar(sa.select(sa.func.count(PersonMerge.id))) == 0

    confirmed = client.post(
        f"/confirm?next={path}",
        data={
            "password": PASSWORD,
            "code": fresh_code(app, coordinator.username),
            "csrf_token": token,
        },
    )
    assert confirmed.headers["Location"] == path
    assert client.post(path, data={"csrf_token": token}).status_code == 303
    merge_id = db.session.scalar(sa.select(PersonMerge.id))

    age_the_sign_in()
    undo = client.post(f"/people/merges/{merge_id}/undo", data={"csrf_token": token})
    assert undo.headers["Location"] == "/confirm?next=/people/merges"
    assert db.session.scalar(sa.select(PersonMerge.undone_at)) is None
