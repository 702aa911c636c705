"""His programme record and the partner-notification fan-out, on a real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marac.domain import (
    AgencyKind,
    AgencySide,
    ContactConsent,
    ContactMethod,
    ContactOutcome,
    InvolvementKind,
    PcTaskKind,
    PcTaskStatus,
    ProgrammeEventKind,
    ProgrammeStatus,
    RelationshipKind,
    Role,
    StatusReason,
)
from marac.extensions import db
from marac.models import AuditEntry, Involvement, PartnerContactRecord, PcTask, ProgrammeRecord
from marac.services import partner_contact as pc
from marac.services import programmes
from marac.services.allocation import AllocationRefused
from marac.services.programmes import EventInput, ProgrammeProblem

TODAY = date(2026, 11, 24)


@pytest.fixture
def family(
    make_area: Callable[..., Any],
    make_agency: Callable[..., Any],
    make_user: Callable[..., Any],
    make_person: Callable[..., Any],
    involve: Callable[..., Any],
    relate: Callable[..., Any],
) -> dict[str, Any]:
    """A man in a programme with a current partner, an ex-partner who left 11 months ago,
    another who left 30 months ago, and the mother of his son (a co-parent, never his partner
    on record); each woman has her own PC worker."""
    area = make_area()
    programme = make_agency(area, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING)
    service = make_agency(area, AgencyKind.PARTNER_CONTACT, AgencySide.VICTIM_FACING)
    programme_worker = make_user(Role.AGENCY_REP, programme)
    man = make_person(area, "Kyle")
    current = make_person(area, "Cara")
    recent = make_person(area, "Rita")
    old = make_person(area, "Olga")
    co_parent = make_person(area, "Cleo")
    son = make_person(area, "Sam", dob=date(2018, 1, 1))
    relate(man, current, RelationshipKind.PARTNER)
    relate(man, recent, RelationshipKind.EX_PARTNER, separated_on=TODAY - timedelta(days=335))
    relate(man, old, RelationshipKind.EX_PARTNER, separated_on=TODAY - timedelta(days=913))
    relate(man, son, RelationshipKind.PARENT)
    relate(co_parent, son, RelationshipKind.PARENT)
    involve(programme, man, InvolvementKind.PERPETRATOR_PROGRAMME, programme_worker)
    workers = {}
    for name, woman in (("current", current), ("recent", recent), ("old", old), ("co", co_parent)):
        workers[name] = make_user(Role.SUPPORT_WORKER, service, username=f"pc-{name}")
        involve(service, woman, InvolvementKind.PARTNER_CONTACT, workers[name])
    record = programmes.start_record(
        db.session,
        agency=programme,
        man_id=man.id,
        by=programme_worker,
        today=TODAY - timedelta(days=60),
    )
    db.session.commit()
    return {
        "area": area,
        "programme": programme,
        "service": service,
        "programme_worker": programme_worker,
        "man": man,
        "women": {"current": current, "recent": recent, "old": old, "co": co_parent},
        "workers": workers,
        "record": record,
    }


def _drop_out(family: dict[str, Any], on: date = TODAY) -> list[PcTask]:
    _, tasks = programmes.record_event(
        db.session,
        family["record"],
        EventInput(
            ProgrammeEventKind.STATUS,
            on,
            status=ProgrammeStatus.DROPPED_OUT,
            reason=StatusReason.NON_ATTENDANCE,
            detail="He said the group was a waste of time.",
        ),
        by=family["programme_worker"],
        today=TODAY,
    )
    db.session.commit()
    return tasks


def test_a_drop_out_tells_exactly_the_right_workers(family: dict[str, Any]) -> None:
    tasks = _drop_out(family)
    workers = family["workers"]
    assert sorted(t.worker_id for t in tasks) == sorted(
        [workers["current"].id, workers["recent"].id, workers["co"].id]
    )
    assert workers["old"].id not in {t.worker_id for t in tasks}
    records = {r.person_id: r for r in db.session.scalars(sa.select(PartnerContactRecord))}
    women = family["women"]
    # One task on each woman's own record, for her own worker.
    for key in ("current", "recent", "co"):
        (task,) = [t for t in tasks if t.worker_id == workers[key].id]
        assert task.record_id == records[women[key].id].id
        assert task.kind is PcTaskKind.INFORM
        assert task.due_on == TODAY + timedelta(days=1)
    assert women["old"].id not in records


def test_a_drop_out_steps_up_contact_to_weekly_for_twelve_weeks(family: dict[str, Any]) -> None:
    women = family["women"]
    her = pc.ensure_record(db.session, women["current"].id, family["service"].id, TODAY)
    her.started_on = TODAY - timedelta(days=10)
    pc.plan_next_contact(her)
    assert her.next_contact_on == TODAY + timedelta(days=18)  # every 28 days
    on = TODAY - timedelta(days=2)
    _drop_out(family, on)
    assert her.stepped_up_until == on + timedelta(weeks=12)
    assert her.next_contact_on == on + timedelta(days=7)
    pc.log_contact(
        db.session,
        her,
        occurred_on=TODAY,
        method=ContactMethod.PHONE,
        outcome=ContactOutcome.SPOKE,
        note=None,
        by=None,
        today=TODAY,
    )
    assert her.next_contact_on == TODAY + timedelta(days=7)
    # After the step-up period, back to her usual interval.
    pc.log_contact(
        db.session,
        her,
        occurred_on=on + timedelta(weeks=12),
        method=ContactMethod.PHONE,
        outcome=ContactOutcome.SPOKE,
        note=None,
        by=None,
        today=on + timedelta(weeks=12),
    )
    assert her.next_contact_on == on + timedelta(weeks=12, days=28)


def test_the_step_up_period_is_configurable(family: dict[str, Any]) -> None:
    programmes.record_event(
        db.session,
        family["record"],
        EventInput(ProgrammeEventKind.STATUS, TODAY, status=ProgrammeStatus.SUSPENDED),
        by=None,
        today=TODAY,
        step_up_weeks=4,
    )
    records = list(db.session.scalars(sa.select(PartnerContactRecord)))
    assert len(records) == 3
    assert {r.stepped_up_until for r in records} == {TODAY + timedelta(weeks=4)}


@pytest.mark.parametrize(
    ("wanted", "tasks"),
    [
        (EventInput(ProgrammeEventKind.STATUS, TODAY, status=ProgrammeStatus.ASSESSED), 3),
        (EventInput(ProgrammeEventKind.STATUS, TODAY, status=ProgrammeStatus.ATTENDING), 0),
        (EventInput(ProgrammeEventKind.STATUS, TODAY, status=ProgrammeStatus.COMPLETED), 0),
        (EventInput(ProgrammeEventKind.STATUS, TODAY, status=ProgrammeStatus.BREACH_OF_ORDER), 3),
        (EventInput(ProgrammeEventKind.ATTENDANCE, TODAY, attended=False), 0),
        (EventInput(ProgrammeEventKind.DISCLOSURE, TODAY, detail="Pushed her."), 3),
        (EventInput(ProgrammeEventKind.CONCERN, TODAY, detail="Angry about contact."), 3),
    ],
)
def test_which_events_raise_risk(family: dict[str, Any], wanted: EventInput, tasks: int) -> None:
    _, made = programmes.record_event(db.session, family["record"], wanted, by=None, today=TODAY)
    assert len(made) == tasks
    assert not any(r.stepped_up_until for r in db.session.scalars(sa.select(PartnerContactRecord)))


def test_withdrawn_consent_stops_contact_prompts(family: dict[str, Any]) -> None:
    women, service = family["women"], family["service"]
    her = pc.ensure_record(db.session, women["current"].id, service.id, TODAY)
    pc.set_consent(db.session, her, consent=ContactConsent.GIVEN, on=TODAY, by=None, today=TODAY)
    tasks = _drop_out(family)
    mine = [t for t in tasks if t.record_id == her.id]
    assert [t.kind for t in mine] == [PcTaskKind.INFORM]
    assert her.next_contact_on is not None
    pc.set_consent(
        db.session, her, consent=ContactConsent.WITHDRAWN, on=TODAY, by=None, today=TODAY
    )
    # No contact due any more, and the open task is now a review without contact.
    assert her.next_contact_on is None
    assert mine[0].kind is PcTaskKind.REVIEW_RISK
    # A later event still reaches her worker, as a review, never a prompt to contact her.
    _, later = programmes.record_event(
        db.session,
        family["record"],
        EventInput(ProgrammeEventKind.CONCERN, TODAY, detail="Talked about her new flat."),
        by=None,
        today=TODAY,
    )
    assert [t.kind for t in later if t.record_id == her.id] == [PcTaskKind.REVIEW_RISK]
    assert her.next_contact_on is None


def test_partner_contact_survives_his_exit(family: dict[str, Any]) -> None:
    women, service = family["women"], family["service"]
    her = pc.ensure_record(db.session, women["current"].id, service.id, TODAY)
    pc.set_consent(db.session, her, consent=ContactConsent.GIVEN, on=TODAY, by=None, today=TODAY)
    _drop_out(family)
    programmes.record_event(
        db.session,
        family["record"],
        EventInput(ProgrammeEventKind.STATUS, TODAY, status=ProgrammeStatus.COMPLETED),
        by=None,
        today=TODAY,
    )
    # The programme's involvement with him ends too; hers goes on.
    man = family["man"]
    for inv in db.session.scalars(sa.select(Involvement).where(Involvement.person_id == man.id)):
        inv.ended_on = TODAY
    db.session.commit()
    assert her.closed_on is None and her.next_contact_on is not None
    ended = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Involvement)
        .where(Involvement.person_id == women["current"].id, Involvement.ended_on.is_not(None))
    )
    assert ended == 0
    with pytest.raises(pc.PartnerContactProblem):
        pc.close_record(db.session, her, reason="", by=None, today=TODAY)
    pc.close_record(
        db.session, her, reason="She has moved away and asked us to stop.", by=None, today=TODAY
    )
    assert her.closed_on == TODAY and her.next_contact_on is None


def test_a_partner_nobody_works_with_gets_a_record_and_an_unassigned_task(
    family: dict[str, Any], make_person: Callable[..., Any], relate: Callable[..., Any]
) -> None:
    new = make_person(family["area"], "Nina")
    relate(family["man"], new, RelationshipKind.PARTNER)
    tasks = _drop_out(family)
    (unassigned,) = [t for t in tasks if t.worker_id is None]
    record = db.session.get(PartnerContactRecord, unassigned.record_id)
    assert record.person_id == new.id and record.agency_id == family["service"].id


def test_status_changes_are_checked(family: dict[str, Any]) -> None:
    record = family["record"]
    for wanted, field in (
        (EventInput(ProgrammeEventKind.STATUS, TODAY, status=ProgrammeStatus.REFERRED), "status"),
        (EventInput(ProgrammeEventKind.STATUS, TODAY), "status"),
        (EventInput(ProgrammeEventKind.ATTENDANCE, TODAY), "attended"),
        (EventInput(ProgrammeEventKind.DISCLOSURE, TODAY, detail="  "), "detail"),
        (
            EventInput(
                ProgrammeEventKind.STATUS,
                TODAY + timedelta(days=1),
                status=ProgrammeStatus.ATTENDING,
            ),
            "occurred_on",
        ),
    ):
        with pytest.raises(ProgrammeProblem) as problem:
            programmes.record_event(db.session, record, wanted, by=None, today=TODAY)
        assert problem.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PcTask)) == 0


def test_a_drop_out_with_no_reason_given_records_not_known(family: dict[str, Any]) -> None:
    event, _ = programmes.record_event(
        db.session,
        family["record"],
        EventInput(ProgrammeEventKind.STATUS, TODAY, status=ProgrammeStatus.DROPPED_OUT),
        by=None,
        today=TODAY,
    )
    assert event.reason is StatusReason.NOT_KNOWN
    assert family["record"].status is ProgrammeStatus.DROPPED_OUT


def test_a_record_only_for_a_man_the_programme_works_with(
    family: dict[str, Any], make_person: Callable[..., Any]
) -> None:
    stranger = make_person(family["area"], "Stan")
    with pytest.raises(ProgrammeProblem):
        programmes.start_record(
            db.session, agency=family["programme"], man_id=stranger.id, by=None, today=TODAY
        )
    with pytest.raises(ProgrammeProblem):
        programmes.start_record(
            db.session, agency=family["programme"], man_id=family["man"].id, by=None, today=TODAY
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProgrammeRecord)) == 1


def test_handover_moves_open_tasks_and_is_audited(
    family: dict[str, Any], make_user: Callable[..., Any]
) -> None:
    tasks = _drop_out(family)
    women, service = family["women"], family["service"]
    her = db.session.scalars(
        sa.select(PartnerContactRecord).where(PartnerContactRecord.person_id == women["recent"].id)
    ).one()
    newcomer = make_user(Role.SUPPORT_WORKER, service, username="pc-new")
    moved = pc.hand_over(db.session, her, new_worker_id=newcomer.id, by=None, today=TODAY)
    db.session.commit()
    assert moved == 1
    (task,) = [t for t in tasks if t.record_id == her.id]
    assert task.worker_id == newcomer.id
    current = db.session.scalars(
        sa.select(Involvement).where(
            Involvement.person_id == women["recent"].id, Involvement.ended_on.is_(None)
        )
    ).all()
    assert [i.worker_id for i in current] == [newcomer.id]
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "partner_contact.handover")
    ).one()
    assert "from pc-recent to pc-new; 1 open tasks moved" in entry.detail
    assert task.status is PcTaskStatus.OPEN


def test_handover_refuses_another_partners_worker_and_his_worker(
    family: dict[str, Any],
) -> None:
    women, workers = family["women"], family["workers"]
    her = pc.ensure_record(db.session, women["recent"].id, family["service"].id, TODAY)
    db.session.commit()
    with pytest.raises(AllocationRefused) as refused:
        pc.hand_over(db.session, her, new_worker_id=workers["current"].id, by=None, today=TODAY)
    assert "Each partner of the same man has her own" in str(refused.value)
    with pytest.raises(AllocationRefused) as refused:
        pc.hand_over(
            db.session, her, new_worker_id=family["programme_worker"].id, by=None, today=TODAY
        )
    assert "Choose a worker of" in str(refused.value)
    db.session.commit()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "partner_contact.handover_refused")
        )
        == 2
    )
