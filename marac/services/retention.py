"""Data retention: closed cases past their retention period, and deleting what they hold.

A case is due for deletion when it has been closed for ``MARAC_RETENTION_YEARS`` (six by
default; docs/security.md says why). Deleting it removes every row that hangs off the case
(people's places in it, referrals and their answers, information items and their overrides,
actions and their history, agenda items with the victim's voice and crime disclosures) and
every person who was in this case only, with everything that hangs off them (contact details,
aliases, name keys, relationships, agency involvement, closed partner-contact records, sharing
consent, duplicate flags, merge history). The rows to follow are found from the schema's foreign
keys, so a table added later is followed too.

A person stays, with their own records, when they are in another case that is not being
deleted, when another case's information or actions are about them, when their partner-contact
record is still open, or when they have a programme record (the programme's records follow the
programme's own lifecycle).

A partner-contact record is kept for the same period after it was closed, then deleted the same
way: her contact log, the children's section, her worker's tasks, and her own person record when
she is in no case and no other record (her partner-contact worker may be the only agency that
ever knew her). It leaves no tombstone: its audit entry (record number, agency, dates, counts) is
the record that it existed.

What is left is a tombstone (reference, dates, counts of rows deleted) and two audit entries.
Audit entries never held the deleted values (they name ids, field names and staff), so the
append-only chain stays as it is and still verifies.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import audit
from marac.domain import CaseStatus
from marac.extensions import db
from marac.models import (
    Action,
    Agency,
    CasePerson,
    CaseTombstone,
    InformationItem,
    PartnerContactRecord,
    Person,
    PersonMerge,
    ProgrammeRecord,
)
from marac.models.cases import Case

DEFAULT_RETENTION_YEARS = 6

# Links from kept rows to deleted ones that are cut rather than followed: another case's
# referral stays a referral when the case it repeated is gone; a merge's alias pointer is
# history, not data.
CUT_NOT_FOLLOWED = frozenset(
    {
        ("referral", "repeat_of_case_id"),
        ("person_merge", "added_alias_id"),
        ("child_impact", "child_person_id"),
    }
)


def retention_cutoff(today: date, years: int) -> date:
    """Cases closed on or before this day are past retention."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February, in a year that has none
        return today.replace(year=today.year - years, day=28)


def due_since(closed_on: date, years: int) -> date:
    """The first day a case closed on ``closed_on`` is past retention (``retention_cutoff``)."""
    try:
        return closed_on.replace(year=closed_on.year + years)
    except ValueError:  # closed on 29 February: the cutoff passes it on 1 March
        return date(closed_on.year + years, 3, 1)


@dataclass(frozen=True)
class DueCase:
    """A case listed for review: its reference and dates, never anything about the people."""

    case_id: int
    reference: str
    closed_on: date
    due_since: date


def due_for_review(
    session: Session, area_id: int, today: date, years: int, limit: int = 500
) -> tuple[int, list[DueCase]]:
    """How many of the area's closed cases are past retention, and the longest-due ``limit`` of
    them (columns only: an area can have thousands after years of use)."""
    due = sa.and_(
        Case.area_id == area_id,
        Case.status == CaseStatus.CLOSED,
        Case.closed_on <= retention_cutoff(today, years),
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(Case).where(due)) or 0
    rows = session.execute(
        sa.select(Case.id, Case.reference, Case.closed_on)
        .where(due)
        .order_by(Case.closed_on, Case.id)
        .limit(limit)
    )
    return total, [
        DueCase(row.id, row.reference, row.closed_on, due_since(row.closed_on, years))
        for row in rows
    ]


def due_cases(session: Session, today: date, years: int) -> list[Case]:
    cutoff = retention_cutoff(today, years)
    return list(
        session.scalars(
            sa.select(Case)
            .where(Case.status == CaseStatus.CLOSED, Case.closed_on <= cutoff)
            .order_by(Case.closed_on, Case.id)
        )
    )


def is_due(case: Case, today: date, years: int) -> bool:
    return (
        case.status is CaseStatus.CLOSED
        and case.closed_on is not None
        and case.closed_on <= retention_cutoff(today, years)
    )


@dataclass(frozen=True)
class DueRecord:
    """A partner-contact record listed for review: its number, agency and dates only."""

    record_id: int
    agency_name: str
    closed_on: date
    due_since: date


def _pc_record_due(today: date, years: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        PartnerContactRecord.closed_on.is_not(None),
        PartnerContactRecord.closed_on <= retention_cutoff(today, years),
    )


def pc_records_for_review(
    session: Session, area_id: int, today: date, years: int, limit: int = 500
) -> tuple[int, list[DueRecord]]:
    """How many of the area's closed partner-contact records are past retention, and the
    longest-due ``limit`` of them."""
    due = sa.and_(PartnerContactRecord.area_id == area_id, _pc_record_due(today, years))
    total = (
        session.scalar(sa.select(sa.func.count()).select_from(PartnerContactRecord).where(due)) or 0
    )
    rows = session.execute(
        sa.select(PartnerContactRecord.id, PartnerContactRecord.closed_on, Agency.name)
        .join(Agency, Agency.id == PartnerContactRecord.agency_id)
        .where(due)
        .order_by(PartnerContactRecord.closed_on, PartnerContactRecord.id)
        .limit(limit)
    )
    return total, [
        DueRecord(row.id, row.name, row.closed_on, due_since(row.closed_on, years)) for row in rows
    ]


def due_pc_records(session: Session, today: date, years: int) -> list[PartnerContactRecord]:
    return list(
        session.scalars(
            sa.select(PartnerContactRecord)
            .where(_pc_record_due(today, years))
            .order_by(PartnerContactRecord.closed_on, PartnerContactRecord.id)
        )
    )


def is_pc_record_due(record: PartnerContactRecord, today: date, years: int) -> bool:
    return record.closed_on is not None and record.closed_on <= retention_cutoff(today, years)


@dataclass
class Deletion:
    """What one deletion removed: the case's reference (or the record's label) and id."""

    reference: str
    record_id: int
    people_deleted: int
    people_kept: int
    counts: Counter[str] = field(default_factory=Counter)


def _people_only_here(
    session: Session,
    case_ids: set[int],
    pc_record_ids: frozenset[int] = frozenset(),
) -> tuple[set[int], set[int]]:
    """(people to delete, people who stay) among those in these cases or partner-contact
    records, and records merged in."""
    members = set(
        session.scalars(sa.select(CasePerson.person_id).where(CasePerson.case_id.in_(case_ids)))
    )
    if pc_record_ids:
        members |= set(
            session.scalars(
                sa.select(PartnerContactRecord.person_id).where(
                    PartnerContactRecord.id.in_(pc_record_ids)
                )
            )
        )
    # Records merged into them carry their old names: they go with them.
    frontier = set(members)
    while frontier:
        merged = set(
            session.scalars(
                sa.select(PersonMerge.duplicate_id).where(PersonMerge.kept_id.in_(frontier))
            )
        )
        frontier = merged - members
        members |= merged
    if not members:
        return set(), set()
    kept: set[int] = set()
    kept |= set(
        session.scalars(
            sa.select(CasePerson.person_id).where(
                CasePerson.person_id.in_(members), CasePerson.case_id.not_in(case_ids)
            )
        )
    )
    kept |= set(
        session.scalars(
            sa.select(InformationItem.about_person_id).where(
                InformationItem.about_person_id.in_(members),
                InformationItem.case_id.not_in(case_ids),
            )
        )
    )
    kept |= set(
        session.scalars(
            sa.select(Action.subject_person_id).where(
                Action.subject_person_id.in_(members), Action.case_id.not_in(case_ids)
            )
        )
    )
    kept |= set(
        session.scalars(
            sa.select(PartnerContactRecord.person_id).where(
                PartnerContactRecord.person_id.in_(members),
                PartnerContactRecord.closed_on.is_(None),
            )
        )
    )
    if pc_record_ids:
        # Deleting one of her records: any other record of hers, closed or not, keeps her.
        kept |= set(
            session.scalars(
                sa.select(PartnerContactRecord.person_id).where(
                    PartnerContactRecord.person_id.in_(members),
                    PartnerContactRecord.id.not_in(pc_record_ids),
                )
            )
        )
    kept |= set(
        session.scalars(
            sa.select(ProgrammeRecord.person_id).where(ProgrammeRecord.person_id.in_(members))
        )
    )
    # A record merged into someone who stays stays with them, and the reverse.
    changed = True
    while changed:
        linked = set(
            session.execute(
                sa.select(PersonMerge.kept_id, PersonMerge.duplicate_id).where(
                    sa.or_(PersonMerge.kept_id.in_(kept), PersonMerge.duplicate_id.in_(kept))
                )
            ).all()
        )
        more = {pid for pair in linked for pid in pair if pid in members} - kept
        kept |= more
        changed = bool(more)
    return members - kept, members & kept


def _referencing(table: sa.Table) -> list[tuple[sa.Table, sa.Column]]:
    found = []
    for other in db.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is table:
                found.append((other, fk.parent))
    return found


def _delete(session: Session, table: sa.Table, ids: set[int], counts: Counter[str]) -> None:
    """Delete these rows and, first, every row that refers to them (or cut the link)."""
    if not ids:
        return
    (key,) = table.primary_key.columns
    for child, column in _referencing(table):
        if (child.name, column.name) in CUT_NOT_FOLLOWED:
            session.execute(sa.update(child).where(column.in_(ids)).values({column.name: None}))
            continue
        (child_key,) = child.primary_key.columns
        child_ids = set(session.scalars(sa.select(child_key).where(column.in_(ids))))
        _delete(session, child, child_ids, counts)
    result = session.execute(sa.delete(table).where(key.in_(ids)))
    counts[table.name] += result.rowcount


def delete_case(session: Session, case: Case, years: int) -> Deletion:
    """Delete a closed case past retention and the people only in it; leave a tombstone.

    Flushes, never commits: the caller commits (or, for a dry run, rolls back).
    """
    deleted_people, kept_people = _people_only_here(session, {case.id})
    deletion = Deletion(case.reference, case.id, len(deleted_people), len(kept_people))
    tombstone = CaseTombstone(
        case_id=case.id,
        area_id=case.area_id,
        reference=case.reference,
        referred_on=case.referred_on,
        closed_on=case.closed_on,
        retention_years=years,
        counts="",
    )
    session.flush()
    _delete(session, Case.__table__, {deletion.record_id}, deletion.counts)
    _delete(session, Person.__table__, deleted_people, deletion.counts)
    counts_text = "; ".join(f"{name}: {n}" for name, n in sorted(deletion.counts.items()) if n)
    tombstone.counts = counts_text
    session.add(tombstone)
    session.flush()
    audit.record(
        "case.retention_delete",
        object_type="case",
        object_id=deletion.record_id,
        detail=(
            f"{deletion.reference}: closed {tombstone.closed_on.isoformat()}, retention "
            f"{years} years; {len(deleted_people)} people deleted, {len(kept_people)} kept "
            f"(in other records); rows deleted: {counts_text}"
        ),
        session=session,
    )
    audit.record(
        "case_tombstone.create",
        object_type="case_tombstone",
        object_id=tombstone.id,
        detail=f"{deletion.reference} (case {deletion.record_id})",
        session=session,
    )
    session.flush()
    return deletion


def delete_pc_record(session: Session, record: PartnerContactRecord, years: int) -> Deletion:
    """Delete a closed partner-contact record past retention, and her person record when she is
    in nothing else. Flushes, never commits: the caller commits (or, for a dry run, rolls back).
    """
    record_id, closed_on, agency_id = record.id, record.closed_on, record.agency_id
    agency_name = record.agency.name
    deleted_people, kept_people = _people_only_here(session, set(), frozenset({record_id}))
    label = f"partner-contact record {record_id}"
    deletion = Deletion(label, record_id, len(deleted_people), len(kept_people))
    session.flush()
    _delete(session, PartnerContactRecord.__table__, {record_id}, deletion.counts)
    _delete(session, Person.__table__, deleted_people, deletion.counts)
    counts_text = "; ".join(f"{name}: {n}" for name, n in sorted(deletion.counts.items()) if n)
    audit.record(
        "partner_contact.retention_delete",
        object_type="partner_contact_record",
        object_id=record_id,
        detail=(
            f"{label} of agency {agency_id} ({agency_name}): closed {closed_on.isoformat()}, "
            f"retention {years} years; {len(deleted_people)} people deleted, "
            f"{len(kept_people)} kept (in other records); rows deleted: {counts_text}"
        ),
        session=session,
    )
    session.flush()
    return deletion
