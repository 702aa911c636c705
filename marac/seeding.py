"""Loads the synthetic demo from ``seeds/demo.toml``. Loading twice changes nothing.

Every record is found by its natural key before it is created (area code, agency name, username,
a person's name and date of birth, case reference, ...), so a second run adds nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import clock, twofactor
from marac.checklists import get_checklist
from marac.config import PROJECT_ROOT
from marac.domain import (
    SUBJECT_FOR_ROLE,
    ActionStatus,
    ActionSubject,
    AgencyKind,
    AgencySide,
    AgendaStatus,
    AttendanceKind,
    CaseRole,
    CaseStatus,
    ChecklistAnswer,
    Classification,
    ContactConsent,
    ContactMethod,
    ContactOutcome,
    Disability,
    EthnicGroup,
    Gender,
    InvolvementKind,
    ItemNature,
    ItemSource,
    MeetingStatus,
    OverrideGround,
    PcTaskStatus,
    ProgrammeEventKind,
    ProgrammeStatus,
    RelationshipKind,
    Role,
    SexualOrientation,
    StatusReason,
    TransHistory,
)
from marac.models import (
    Action,
    Agency,
    AgendaItem,
    Apology,
    Area,
    AreaReportSettings,
    Attendance,
    Case,
    CasePerson,
    ChildImpact,
    ContactDetails,
    CrimeDisclosure,
    DisclosureOverride,
    InformationItem,
    Involvement,
    Meeting,
    PartnerContactEntry,
    PartnerContactRecord,
    PcTask,
    Person,
    PersonAlias,
    ProgrammeRecord,
    Referral,
    ReferralAnswer,
    ReferralCriterion,
    Relationship,
    SharingConsent,
    SignInState,
    User,
    VictimVoice,
)
from marac.models.partner_contact import DEFAULT_CONTACT_EVERY_DAYS
from marac.services.actions import opened_action, record_status
from marac.services.people import add_relationship_once

DEMO_FILE = PROJECT_ROOT / "seeds" / "demo.toml"


@dataclass
class DemoLogin:
    username: str
    display_name: str
    role: Role
    agency: str


@dataclass
class _Loaded:
    areas: dict[str, Area] = field(default_factory=dict)
    agencies: dict[str, Agency] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    items: dict[str, InformationItem] = field(default_factory=dict)
    meetings: dict[str, Meeting] = field(default_factory=dict)
    # (meeting key, case reference) -> the agenda item
    agenda: dict[tuple[str, str], AgendaItem] = field(default_factory=dict)


def read_demo(path: Path = DEMO_FILE) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load_demo(
    session: Session,
    password_hash: str,
    *,
    reset_passwords: bool = False,
    path: Path = DEMO_FILE,
) -> list[DemoLogin]:
    """Create whatever of the demo is missing; every demo user gets ``password_hash``.

    Existing users keep their password unless ``reset_passwords`` is set. Flushes, never commits.
    """
    data = read_demo(path)
    loaded = _Loaded()
    for spec in data["areas"]:
        loaded.areas[spec["code"]] = _area(session, spec)
    for spec in data["agencies"]:
        loaded.agencies[spec["key"]] = _agency(session, loaded, spec)
    for spec in data["users"]:
        loaded.users[spec["username"]] = _user(
            session, loaded, spec, password_hash, reset_passwords
        )
    for spec in data["people"]:
        loaded.people[spec["key"]] = _person(session, loaded.areas[spec["area"]].id, spec)
    for spec in data["relationships"]:
        _relationship(session, loaded, spec)
    for spec in data["cases"]:
        loaded.cases[spec["ref"]] = _case(session, loaded, spec)
    for spec in data["involvements"]:
        _involvement(session, loaded, spec)
    for spec in data["consents"]:
        _consent(session, loaded, spec)
    for spec in data.get("partner_contact", []):
        _partner_contact(session, loaded, spec)
    for spec in data.get("programmes", []):
        _programme(session, loaded, spec)
    for spec in data.get("meetings", []):
        loaded.meetings[spec["key"]] = _meeting(session, loaded, spec)
    for spec in data["items"]:
        loaded.items[spec["key"]] = _item(session, loaded, spec)
    for spec in data["overrides"]:
        _override(session, loaded, spec)
    for spec in data.get("referrals", []):
        _referral(session, loaded, spec)
    now = clock.utc_now()
    for spec in data.get("actions", []):
        _action(session, loaded, spec, now)
    session.flush()
    _flag_new_referrals(session, loaded)
    for spec in data.get("meetings", []):
        if "papers_issued_by" in spec:
            _papers(session, loaded, spec)
    return [
        DemoLogin(u.username, u.display_name, u.role, u.agency.name) for u in loaded.users.values()
    ]


def _first(session: Session, statement: sa.Select) -> Any:
    return session.scalars(statement.limit(1)).first()


def _area(session: Session, spec: dict[str, Any]) -> Area:
    area = _first(session, sa.select(Area).where(Area.code == spec["code"]))
    if area is None:
        area = Area(code=spec["code"], name=spec["name"])
        session.add(area)
        session.flush()
        if "report_settings" in spec:
            session.add(AreaReportSettings(area_id=area.id, **spec["report_settings"]))
    return area


def _agency(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> Agency:
    area = loaded.areas[spec["area"]]
    agency = _first(
        session, sa.select(Agency).where(Agency.area_id == area.id, Agency.name == spec["name"])
    )
    if agency is None:
        agency = Agency(
            area_id=area.id,
            name=spec["name"],
            kind=AgencyKind(spec["kind"]),
            side=AgencySide(spec["side"]),
        )
        session.add(agency)
        session.flush()
    return agency


def _user(
    session: Session, loaded: _Loaded, spec: dict[str, Any], password_hash: str, reset: bool
) -> User:
    user = _first(session, sa.select(User).where(User.username == spec["username"]))
    if user is None:
        user = User(
            username=spec["username"],
            display_name=spec["name"],
            role=Role(spec["role"]),
            agency_id=loaded.agencies[spec["agency"]].id,
            password_hash=password_hash,
            email=spec.get("email"),
        )
        session.add(user)
        session.flush()
    if user.sign_in is None or not user.sign_in.enrolled:
        # Demo users come enrolled, each with a secret of this instance only: `marac demo-code`
        # shows their current code, so a newcomer needs no phone to try the service.
        user.sign_in = SignInState(
            user_id=user.id,
            totp_secret=twofactor.new_secret(),
            totp_confirmed_at=clock.utc_now(),
            failed_attempts=0,
        )
    if reset:
        user.password_hash = password_hash
        user.end_sessions()
    return user


# Equality monitoring, varied in the demo so that the quarterly return has something to count.
MONITORING = {
    "ethnic_group": EthnicGroup,
    "sexual_orientation": SexualOrientation,
    "trans_history": TransHistory,
    "disability": Disability,
}


def _person(session: Session, area_id: int, spec: dict[str, Any]) -> Person:
    dob = spec.get("dob")
    person = _first(
        session,
        sa.select(Person).where(
            Person.area_id == area_id,
            Person.given_name == spec["given"],
            Person.family_name == spec["family"],
            Person.date_of_birth == dob if dob else Person.date_of_birth.is_(None),
        ),
    )
    if person is None:
        person = Person(
            area_id=area_id,
            given_name=spec["given"],
            family_name=spec["family"],
            date_of_birth=dob,
            gender=Gender(spec.get("gender", "not_known")),
            aliases=[PersonAlias(name=name) for name in spec.get("aliases", [])],
        )
        for name, enum_cls in MONITORING.items():
            setattr(person, name, enum_cls(spec.get(name, "not_known")))
        if "contact" in spec:
            person.contact = ContactDetails(**spec["contact"])
        session.add(person)
        session.flush()
    return person


def _relationship(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> None:
    person = loaded.people[spec["person"]]
    other = loaded.people[spec["other"]]
    add_relationship_once(
        session,
        person.id,
        other.id,
        RelationshipKind(spec["kind"]),
        started_on=spec.get("started_on"),
        separated_on=spec.get("separated_on"),
    )


def _member(session: Session, loaded: _Loaded, area_id: int, spec: str | dict[str, Any]) -> Person:
    if isinstance(spec, str):
        return loaded.people[spec]
    return _person(session, area_id, spec)


def _case(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> Case:
    case = _first(session, sa.select(Case).where(Case.reference == spec["ref"]))
    if case is not None:
        return case
    area = loaded.areas[spec["ref"].split("-")[0]]
    case = Case(
        area_id=area.id,
        reference=spec["ref"],
        status=CaseStatus(spec["status"]),
        referring_agency_id=loaded.agencies[spec["referring"]].id,
        referred_on=spec["referred_on"],
        closed_on=spec.get("closed_on"),
        heard_on=spec.get("heard_on"),
        heard_at=spec.get("heard_at"),
    )
    members = [(CaseRole.VICTIM, spec["victim"])]
    members += [(CaseRole.PERPETRATOR, p) for p in spec.get("perpetrators", [])]
    members += [(CaseRole.CHILD, p) for p in spec.get("children", [])]
    members += [(CaseRole.OTHER_ADULT, p) for p in spec.get("others", [])]
    people = []
    for role, member in members:
        person = _member(session, loaded, area.id, member)
        people.append(person)
        case.members.append(CasePerson(person_id=person.id, role=role))
    session.add(case)
    session.flush()
    victim, *rest = people
    if len(spec.get("perpetrators", [])) and not isinstance(spec["victim"], str):
        # Inline households: record the partnership and parenthood the case implies.
        perpetrator = rest[0]
        session.add(
            Relationship(
                person_id=perpetrator.id, other_person_id=victim.id, kind=RelationshipKind.PARTNER
            )
        )
        for child in rest[len(spec["perpetrators"]) :]:
            session.add(
                Relationship(
                    person_id=victim.id, other_person_id=child.id, kind=RelationshipKind.PARENT
                )
            )
    if "item" in spec:
        recorded = datetime.combine(spec["referred_on"], time(12, 0), tzinfo=UTC)
        session.add(
            InformationItem(
                case_id=case.id,
                about_person_id=victim.id,
                text=spec["item"]["text"],
                source=ItemSource.AGENCY_RECORDS,
                nature=ItemNature.FACT,
                classification=Classification.MARAC,
                recorded_by_agency_id=loaded.agencies[spec["item"]["agency"]].id,
                recorded_at=recorded,
            )
        )
    return case


def _involvement(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> None:
    agency = loaded.agencies[spec["agency"]]
    person = loaded.people[spec["person"]]
    kind = InvolvementKind(spec["kind"])
    exists = _first(
        session,
        sa.select(Involvement).where(
            Involvement.agency_id == agency.id,
            Involvement.person_id == person.id,
            Involvement.kind == kind,
        ),
    )
    if exists is None:
        worker = loaded.users[spec["worker"]] if "worker" in spec else None
        session.add(
            Involvement(
                agency_id=agency.id,
                person_id=person.id,
                worker_id=worker.id if worker else None,
                kind=kind,
                started_on=spec["started_on"],
            )
        )


def _consent(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> None:
    agency = loaded.agencies[spec["agency"]]
    person = loaded.people[spec["person"]]
    exists = _first(
        session,
        sa.select(SharingConsent).where(
            SharingConsent.agency_id == agency.id, SharingConsent.person_id == person.id
        ),
    )
    if exists is None:
        session.add(
            SharingConsent(
                person_id=person.id,
                agency_id=agency.id,
                covers_disclosures=spec["disclosures"],
                covers_contact=spec["contact"],
                given_on=spec["given_on"],
            )
        )


def _item(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> InformationItem:
    case = loaded.cases[spec["case"]]
    existing = _first(
        session,
        sa.select(InformationItem).where(
            InformationItem.case_id == case.id, InformationItem.text == spec["text"]
        ),
    )
    if existing is not None:
        return existing
    recorded_on: date = spec["recorded_on"]
    item = InformationItem(
        case_id=case.id,
        about_person_id=loaded.people[spec["about"]].id if "about" in spec else None,
        text=spec["text"],
        source=ItemSource(spec["source"]),
        nature=ItemNature(spec["nature"]),
        classification=Classification(spec["classification"]),
        withheld_reason=spec.get("withheld_reason"),
        recorded_by_agency_id=loaded.agencies[spec["agency"]].id,
        recorded_by_id=loaded.users[spec["by"]].id if "by" in spec else None,
        recorded_at=datetime.combine(recorded_on, time(12, 0), tzinfo=UTC),
        agenda_item_id=loaded.agenda[(spec["meeting"], spec["case"])].id
        if "meeting" in spec
        else None,
    )
    session.add(item)
    session.flush()
    return item


def _override(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> None:
    item = loaded.items[spec["item"]]
    agency = loaded.agencies[spec["agency"]]
    exists = _first(
        session,
        sa.select(DisclosureOverride).where(
            DisclosureOverride.item_id == item.id, DisclosureOverride.agency_id == agency.id
        ),
    )
    if exists is None:
        session.add(
            DisclosureOverride(
                item_id=item.id,
                agency_id=agency.id,
                ground=OverrideGround(spec["ground"]),
                reason=spec["reason"],
                created_by_id=loaded.users[spec["by"]].id,
            )
        )


def _referral(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> None:
    """A referral record for a demo case, scored by the same rules as the form."""
    from marac import eligibility

    case = loaded.cases[spec["case"]]
    if _first(session, sa.select(Referral).where(Referral.case_id == case.id)) is not None:
        return
    checklist = get_checklist(spec.get("checklist"))
    answers = {key: ChecklistAnswer.NOT_ASKED for key in checklist.factor_keys}
    for answer, keys in (
        (ChecklistAnswer.YES, spec.get("yes", [])),
        (ChecklistAnswer.NO, spec.get("no", [])),
        (ChecklistAnswer.DONT_KNOW, spec.get("dont_know", [])),
    ):
        for key in keys:
            if key not in answers:
                raise ValueError(f"{spec['case']}: {key} is not a factor of {checklist.key}")
            answers[key] = answer
    victim_id = session.scalar(
        sa.select(CasePerson.person_id).where(
            CasePerson.case_id == case.id, CasePerson.role == CaseRole.VICTIM
        )
    )
    result = eligibility.evaluate(
        score=checklist.score(answers),
        threshold=checklist.threshold,
        factor_count=len(checklist.factors),
        police_callouts=spec["police_callouts"],
        judgement=spec.get("professional_judgement"),
        incident_on=spec["incident_on"],
        last=eligibility.last_hearing(session, victim_id, exclude_case_id=case.id),
    )
    user = loaded.users[spec["by"]]
    session.add(
        Referral(
            case_id=case.id,
            referring_agency_id=case.referring_agency_id,
            referred_by_id=user.id,
            officer_name=spec["officer_name"],
            officer_contact=spec.get("officer_contact"),
            incident_on=spec["incident_on"],
            checklist_key=checklist.key,
            score=checklist.score(answers),
            threshold=checklist.threshold,
            police_callouts=spec["police_callouts"],
            professional_judgement=spec.get("professional_judgement"),
            victim_aware=spec.get("victim_aware"),
            consent_given=spec.get("consent_given"),
            no_consent_reason=spec.get("no_consent_reason"),
            eligible=result.eligible,
            repeat_of_case_id=result.repeat_of.case_id if result.repeat_of else None,
            answers=[ReferralAnswer(factor_key=k, answer=a) for k, a in answers.items()],
            criteria=[
                ReferralCriterion(criterion=r.criterion, met=r.met, reason=r.reason)
                for r in result.results
            ],
        )
    )


def _flag_new_referrals(session: Session, loaded: _Loaded) -> None:
    """New referrals' people are checked for duplicates, as the form does for new people."""
    from marac.services.people import flag_possible_duplicates

    referred = [c.id for c in loaded.cases.values() if c.status is CaseStatus.REFERRED]
    if not referred:
        return
    for person in session.scalars(
        sa.select(Person)
        .join(CasePerson, CasePerson.person_id == Person.id)
        .where(CasePerson.case_id.in_(referred))
        .order_by(Person.id)
    ):
        flag_possible_duplicates(session, person)


def _action(session: Session, loaded: _Loaded, spec: dict[str, Any], now: datetime) -> None:
    """An action with its history, dated relative to ``now`` so the demo always has work due."""
    case = loaded.cases[spec["case"]]
    exists = _first(
        session, sa.select(Action).where(Action.case_id == case.id, Action.text == spec["text"])
    )
    if exists is not None:
        return
    today = clock.today_in(clock.service_timezone(), now)
    subject, person_id = _action_subject(session, case, spec["about"])
    created_at = now - timedelta(days=spec["created_days_ago"])
    action = opened_action(
        case=case,
        owner_agency_id=loaded.agencies[spec["owner"]].id,
        owner_user_id=loaded.users[spec["owner_user"]].id if "owner_user" in spec else None,
        subject=subject,
        subject_person_id=person_id,
        text=spec["text"],
        due_on=today + timedelta(days=spec["due_in_days"]),
        shared_in_detail=spec.get("shared", False),
        created_by_id=loaded.users[spec["by"]].id,
        at=created_at,
        agenda_item_id=loaded.agenda[(spec["meeting"], spec["case"])].id
        if "meeting" in spec
        else None,
    )
    for change in spec.get("history", []):
        record_status(
            action,
            ActionStatus(change["to"]),
            change.get("note"),
            loaded.users[change["by"]].id,
            now - timedelta(days=change["days_ago"]),
        )
    session.add(action)


def _action_subject(session: Session, case: Case, about: str) -> tuple[ActionSubject, int | None]:
    if about == "household":
        return ActionSubject.HOUSEHOLD, None
    for member in case.members:
        person = session.get(Person, member.person_id)
        if person is not None and person.full_name == about:
            return SUBJECT_FOR_ROLE[member.role], person.id
    raise ValueError(f"{about} is not in case {case.reference}")


def _partner_contact(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> None:
    """Her partner-contact record, contact log and children, once."""
    from marac.services import partner_contact as pc

    person = loaded.people[spec["person"]]
    agency = loaded.agencies[spec["agency"]]
    exists = _first(
        session,
        sa.select(PartnerContactRecord).where(
            PartnerContactRecord.person_id == person.id,
            PartnerContactRecord.agency_id == agency.id,
        ),
    )
    if exists is not None:
        return
    record = PartnerContactRecord(
        area_id=person.area_id,
        person_id=person.id,
        agency_id=agency.id,
        started_on=spec["started_on"],
        consent=ContactConsent(spec.get("consent", "not_asked")),
        consent_on=spec.get("consent_on"),
        **{"contact_every_days": DEFAULT_CONTACT_EVERY_DAYS}
        | {name: spec[name] for name in pc.DETAIL_FIELDS if name in spec},
    )
    for contact in spec.get("contacts", []):
        record.contacts.append(
            PartnerContactEntry(
                occurred_on=contact["on"],
                method=ContactMethod(contact["method"]),
                outcome=ContactOutcome(contact["outcome"]),
                note=contact.get("note"),
                recorded_by_id=loaded.users[contact["by"]].id,
            )
        )
        if record.last_contact_on is None or contact["on"] > record.last_contact_on:
            record.last_contact_on = contact["on"]
    for child in spec.get("children", []):
        record.children.append(
            ChildImpact(
                child_name=child["name"],
                impact=child["impact"],
                plan=child.get("plan"),
                assessed_on=child["on"],
            )
        )
    pc.plan_next_contact(record)
    session.add(record)
    session.flush()


def _programme(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> None:
    """His programme record; its events go through the service, fan-out included, once."""
    from marac.services import programmes

    man = loaded.people[spec["person"]]
    agency = loaded.agencies[spec["agency"]]
    by = loaded.users[spec["by"]]
    exists = _first(
        session,
        sa.select(ProgrammeRecord).where(
            ProgrammeRecord.person_id == man.id, ProgrammeRecord.agency_id == agency.id
        ),
    )
    if exists is not None:
        return
    record = programmes.start_record(
        session, agency=agency, man_id=man.id, by=by, today=spec["started_on"]
    )
    made: dict[tuple[int, date], PcTask] = {}
    for event in sorted(spec["events"], key=lambda e: e["on"]):
        recorded, tasks = programmes.record_event(
            session,
            record,
            programmes.EventInput(
                kind=ProgrammeEventKind(event["kind"]),
                occurred_on=event["on"],
                status=ProgrammeStatus(event["status"]) if "status" in event else None,
                reason=StatusReason(event["reason"]) if "reason" in event else None,
                attended=event.get("attended"),
                detail=event.get("detail"),
                may_cite=event.get("may_cite", False),
            ),
            by=by,
            today=event["on"],
        )
        for task in tasks:
            person_id = session.get(PartnerContactRecord, task.record_id).person_id
            made[(person_id, recorded.occurred_on)] = task
    for done in spec.get("done", []):
        task = made[(loaded.people[done["person"]].id, done["event_on"])]
        task.status = PcTaskStatus.DONE
        task.done_on = done["on"]
        task.done_by_id = loaded.users[done["by"]].id
        task.note = done["note"]
    session.flush()


def _meeting(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> Meeting:
    """A meeting with its agenda, attendance, apologies, her voice and crimes disclosed."""
    area = loaded.areas[spec["area"]]
    starts_at: datetime = spec["starts_at"]
    meeting = _first(
        session,
        sa.select(Meeting).where(Meeting.area_id == area.id, Meeting.starts_at == starts_at),
    )
    if meeting is not None:
        for row in session.scalars(
            sa.select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
        ):
            reference = session.get(Case, row.case_id).reference
            loaded.agenda[(spec["key"], reference)] = row
        return meeting
    status = MeetingStatus(spec["status"])
    closed = status in (MeetingStatus.CLOSED, MeetingStatus.APPROVED)
    chair = loaded.users[spec["chair"]] if "chair" in spec else None
    meeting = Meeting(
        area_id=area.id,
        starts_at=starts_at,
        referral_cutoff_on=spec["cutoff_on"],
        status=status,
        chair_id=chair.id if chair else None,
        opened_at=starts_at if status is not MeetingStatus.SCHEDULED else None,
        closed_at=starts_at + timedelta(hours=3) if closed else None,
        minutes_approved_at=starts_at + timedelta(days=2)
        if status is MeetingStatus.APPROVED
        else None,
        minutes_approved_by_id=chair.id if chair and status is MeetingStatus.APPROVED else None,
    )
    session.add(meeting)
    session.flush()
    for position, entry in enumerate(spec.get("agenda", []), start=1):
        case = loaded.cases[entry["case"]]
        item = AgendaItem(
            meeting_id=meeting.id,
            case_id=case.id,
            position=position,
            status=AgendaStatus(entry["status"]),
            started_at=starts_at + timedelta(minutes=12 * (position - 1))
            if status is not MeetingStatus.SCHEDULED
            else None,
            risk_summary=entry.get("risk_summary"),
            review_next=entry.get("review_next", False),
        )
        session.add(item)
        session.flush()
        loaded.agenda[(spec["key"], case.reference)] = item
        if "voice" in entry:
            voice = entry["voice"]
            worker = loaded.users[voice["by"]]
            session.add(
                VictimVoice(
                    agenda_item_id=item.id,
                    views=voice["views"],
                    wishes=voice.get("wishes"),
                    may_share=voice.get("may_share"),
                    recorded_by_id=worker.id,
                    recorded_by_agency_id=worker.agency_id,
                    recorded_at=starts_at - timedelta(days=2),
                )
            )
        for crime in entry.get("crimes", []):
            by = loaded.users[crime["by"]]
            session.add(
                CrimeDisclosure(
                    agenda_item_id=item.id,
                    description=crime["text"],
                    disclosed_by_agency_id=by.agency_id,
                    recorded_by_id=by.id,
                    recorded_at=starts_at + timedelta(minutes=30),
                )
            )
        if spec.get("current") == case.reference:
            meeting.current_item_id = item.id
    for minute, (username, kind) in enumerate(spec.get("attendance", [])):
        user = loaded.users[username]
        session.add(
            Attendance(
                meeting_id=meeting.id,
                user_id=user.id,
                agency_id=user.agency_id,
                kind=AttendanceKind(kind),
                accepted_at=starts_at - timedelta(minutes=10 - minute),
            )
        )
    for key in spec.get("apologies", []):
        session.add(
            Apology(meeting_id=meeting.id, agency_id=loaded.agencies[key].id, recorded_at=starts_at)
        )
    session.flush()
    return meeting


def _papers(session: Session, loaded: _Loaded, spec: dict[str, Any]) -> None:
    """The meeting's papers, issued by the coordinator once (loading again issues nothing)."""
    from flask import current_app, has_app_context

    from marac.services import papers

    meeting = loaded.meetings[spec["key"]]
    if meeting.status is not MeetingStatus.APPROVED or papers.current_papers(session, meeting.id):
        return
    marking = (
        current_app.config["MARAC_PROTECTIVE_MARKING"]
        if has_app_context()
        else "OFFICIAL-SENSITIVE"
    )
    papers.issue_meeting_papers(
        session, meeting, user=loaded.users[spec["papers_issued_by"]], marking=marking
    )
