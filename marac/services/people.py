"""Possible duplicate people, and merging two person records (audited, and reversible)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import audit, matching
from marac.domain import RelationshipKind
from marac.extensions import db
from marac.models import (
    CasePerson,
    ContactDetails,
    Person,
    PersonAlias,
    PersonMerge,
    PersonMergeMove,
    PossibleDuplicate,
    Relationship,
    User,
)

# Tables whose person columns a merge never moves: the match keys are rebuilt instead, the
# triage flags are resolved, and the merge history must keep pointing at both records.
NOT_MOVED_BY_MERGE = frozenset({"person_name", "possible_duplicate", "person_merge"})


def find_relationship(
    session: Session, person_id: int, other_person_id: int, kind: RelationshipKind
) -> int | None:
    """The relationship recorded between these two people, this way round, of this kind."""
    return session.scalar(
        sa.select(Relationship.id).where(
            Relationship.person_id == person_id,
            Relationship.other_person_id == other_person_id,
            Relationship.kind == kind,
        )
    )


def add_relationship_once(
    session: Session,
    person_id: int,
    other_person_id: int,
    kind: RelationshipKind,
    *,
    started_on: date | None = None,
    separated_on: date | None = None,
) -> Relationship | None:
    """Records the relationship unless it is already recorded (then returns None). Flushes
    nothing: the caller's flush or commit writes it."""
    if find_relationship(session, person_id, other_person_id, kind) is not None:
        return None
    relationship = Relationship(
        person_id=person_id,
        other_person_id=other_person_id,
        kind=kind,
        started_on=started_on,
        separated_on=separated_on,
    )
    session.add(relationship)
    return relationship


def person_references() -> list[tuple[str, str]]:
    """Every (table, column) that points at a person, found from the schema, so that a table
    added later is moved by merges too. A new table with a unique constraint on a person column
    needs a rule in ``_blocked`` (tests/test_merges.py lists the tables it knows)."""
    found = []
    for table in db.metadata.sorted_tables:
        if table.name in NOT_MOVED_BY_MERGE:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "person" and fk.column.name == "id":
                found.append((table.name, fk.parent.name))
    return sorted(found)


def flag_possible_duplicates(session: Session, person: Person) -> int:
    """Record everyone this new person looks like, for the coordinator's triage. Returns how
    many new flags were raised. Runs over the whole area: flags are shown only to those who
    may triage (policy.may_triage_referrals)."""
    candidates = matching.find_candidates(
        session,
        person.area_id,
        matching.Query(person.given_name, person.family_name, person.date_of_birth, person.gender),
        allowed=sa.true(),
        exclude={person.id},
    ).candidates
    existing = set(
        session.scalars(
            sa.select(PossibleDuplicate.candidate_id).where(
                PossibleDuplicate.person_id == person.id
            )
        )
    )
    added = 0
    for candidate in candidates:
        if candidate.person_id in existing:
            continue
        session.add(
            PossibleDuplicate(
                area_id=person.area_id,
                person_id=person.id,
                candidate_id=candidate.person_id,
                reasons="; ".join(candidate.reasons)[:400],
            )
        )
        added += 1
    session.flush()
    return added


def dismiss_duplicate(session: Session, user: User, flag: PossibleDuplicate) -> None:
    flag.resolved_at = datetime.now(UTC)
    flag.resolved_by_id = user.id
    flag.resolution = "different_people"
    session.flush()
    audit.record(
        "person.duplicate_dismissed",
        user=user,
        object_type="person",
        object_id=flag.person_id,
        detail=f"not the same person as person {flag.candidate_id}",
    )


class MergeRefused(ValueError):
    """A merge that cannot be done, with the reason in words for the coordinator."""


def active_merge_of(session: Session, person_id: int) -> PersonMerge | None:
    return session.scalar(
        sa.select(PersonMerge).where(
            PersonMerge.duplicate_id == person_id, PersonMerge.undone_at.is_(None)
        )
    )


def check_merge(session: Session, kept: Person, duplicate: Person) -> None:
    if kept.id == duplicate.id:
        raise MergeRefused("Choose two different records.")
    if kept.area_id != duplicate.area_id:
        raise MergeRefused("Only records of the same area can be merged.")
    for person in (kept, duplicate):
        if active_merge_of(session, person.id) is not None:
            raise MergeRefused(
                f"{person.given_name} {person.family_name} ({person.id}) has "
                "already been merged into another record."
            )
    shared = session.scalars(
        sa.select(CasePerson.case_id)
        .where(CasePerson.person_id == kept.id)
        .intersect(sa.select(CasePerson.case_id).where(CasePerson.person_id == duplicate.id))
    ).all()
    if shared:
        raise MergeRefused(
            "Both records are in the same case. Take one of them out of the case first."
        )


@dataclass(frozen=True)
class _Row:
    id: int
    values: dict[str, object]


def _blocked(
    session: Session, table: str, column: str, row: _Row, kept: Person, duplicate: Person
) -> str | None:
    """Why this row must stay with the duplicate record, or None to move it."""
    if table == "contact_details":
        has_own = session.scalar(
            sa.select(ContactDetails.id).where(ContactDetails.person_id == kept.id)
        )
        if has_own is not None:
            return "contact details (the kept record has its own)"
    if table in ("partner_contact_record", "programme_record"):
        # One record per person and agency: the kept person's own record at that agency stays
        # theirs, and the duplicate's stays with the duplicate (both remain readable).
        records = db.metadata.tables[table]
        clash = session.execute(
            sa.select(records.c.id).where(
                records.c.person_id == kept.id, records.c.agency_id == row.values["agency_id"]
            )
        ).first()
        if clash is not None:
            return f"a {table.replace('_', ' ')} at an agency that has one for the kept record"
    if table == "relationship":
        other_column = "other_person_id" if column == "person_id" else "person_id"
        other = row.values[other_column]
        if other == kept.id:
            return "a relationship between the two records"
        pair = {column: kept.id, other_column: other}
        clash = find_relationship(
            session, pair["person_id"], pair["other_person_id"], row.values["kind"]
        )
        if clash is not None:
            return "a relationship the kept record already has"
    return None


def _flags_between(
    session: Session, a: int, b: int, condition: sa.ColumnElement[bool]
) -> list[PossibleDuplicate]:
    """The triage flags raised between two people, either way round."""
    return list(
        session.scalars(
            sa.select(PossibleDuplicate).where(
                condition,
                sa.or_(
                    sa.and_(PossibleDuplicate.person_id == a, PossibleDuplicate.candidate_id == b),
                    sa.and_(PossibleDuplicate.person_id == b, PossibleDuplicate.candidate_id == a),
                ),
            )
        )
    )


def merge_people(session: Session, user: User, kept: Person, duplicate: Person) -> PersonMerge:
    """Everything that points at ``duplicate`` moves to ``kept``; the duplicate's name becomes an
    alias of the kept record. Exactly what moved is recorded, so ``undo_merge`` restores it."""
    check_merge(session, kept, duplicate)
    merge = PersonMerge(
        area_id=kept.area_id, kept_id=kept.id, duplicate_id=duplicate.id, merged_by_id=user.id
    )
    session.add(merge)
    session.flush()
    connection = session.connection()
    left: list[str] = []
    moved_counts: dict[str, int] = {}
    for table_name, column_name in person_references():
        table = db.metadata.tables[table_name]
        column = table.c[column_name]
        rows = [
            _Row(r.id, dict(r._mapping))
            for r in connection.execute(sa.select(table).where(column == duplicate.id))
        ]
        for row in rows:
            reason = _blocked(session, table_name, column_name, row, kept, duplicate)
            if reason:
                left.append(reason)
                continue
            connection.execute(
                sa.update(table).where(table.c.id == row.id).values({column_name: kept.id})
            )
            session.add(
                PersonMergeMove(
                    merge_id=merge.id, table_name=table_name, column_name=column_name, row_id=row.id
                )
            )
            moved_counts[table_name] = moved_counts.get(table_name, 0) + 1
    alias_name = f"{duplicate.given_name} {duplicate.family_name}"
    known = {matching.normalise(kept.full_name)} | {
        matching.normalise(a)
        for a in session.scalars(
            sa.select(PersonAlias.name).where(PersonAlias.person_id == kept.id)
        )
    }
    if matching.normalise(alias_name) not in known:
        alias = PersonAlias(person_id=kept.id, name=alias_name)
        session.add(alias)
        session.flush()
        merge.added_alias_id = alias.id
    filled = _fill_equality_answers(kept, duplicate, left)
    merge.filled_answers = ",".join(filled) or None
    merge.not_moved = "; ".join(sorted(set(left))) or None
    now = datetime.now(UTC)
    for flag in _flags_between(
        session, kept.id, duplicate.id, PossibleDuplicate.resolved_at.is_(None)
    ):
        flag.resolved_at, flag.resolved_by_id, flag.resolution = now, user.id, "merged"
    session.flush()
    matching.refresh_keys(connection, [kept.id, duplicate.id])
    session.expire_all()
    moved = ", ".join(f"{name} {count}" for name, count in sorted(moved_counts.items()))
    audit.record(
        "person.merge",
        user=user,
        object_type="person",
        object_id=merge.kept_id,
        detail=f"person {merge.duplicate_id} merged into {merge.kept_id} (merge {merge.id}); "
        f"moved: {moved or 'nothing'}; left with the duplicate: {merge.not_moved or 'nothing'}; "
        f"equality answers taken from the duplicate: {', '.join(filled) or 'none'}",
    )
    return merge


# The equality-monitoring questions on a person, with how a merge's note names them.
EQUALITY_ANSWERS = {
    "ethnic_group": "ethnic group",
    "sexual_orientation": "sexual orientation",
    "trans_history": "trans history",
    "disability": "disability",
}


def _fill_equality_answers(kept: Person, duplicate: Person, left: list[str]) -> list[str]:
    """The kept record takes each answer it lacks from the duplicate, so the quarterly return
    still counts her; where both records answered differently, the kept record's answer stands
    and the note says so (in words, never the answers: they are special-category data)."""
    filled = []
    for column, label in EQUALITY_ANSWERS.items():
        ours, theirs = getattr(kept, column), getattr(duplicate, column)
        if theirs.value == "not_known" or ours == theirs:
            continue
        if ours.value == "not_known":
            setattr(kept, column, theirs)
            filled.append(column)
        else:
            left.append(f"the answer on {label} (the two records differ; the kept record's stands)")
    return filled


def undo_merge(session: Session, user: User, merge: PersonMerge) -> int:
    """Puts back exactly what the merge moved. Returns how many rows were restored."""
    if merge.undone_at is not None:
        raise MergeRefused("This merge has already been undone.")
    connection = session.connection()
    restored = 0
    for move in merge.moves:
        table = db.metadata.tables[move.table_name]
        column = table.c[move.column_name]
        result = connection.execute(
            sa.update(table)
            .where(table.c.id == move.row_id, column == merge.kept_id)
            .values({move.column_name: merge.duplicate_id})
        )
        restored += result.rowcount or 0
    emptied = _empty_filled_answers(session, merge)
    if merge.added_alias_id is not None:
        alias = session.get(PersonAlias, merge.added_alias_id)
        merge.added_alias_id = None
        if alias is not None:
            session.delete(alias)
    merge.undone_at = datetime.now(UTC)
    merge.undone_by_id = user.id
    for flag in _flags_between(
        session, merge.kept_id, merge.duplicate_id, PossibleDuplicate.resolution == "merged"
    ):
        flag.resolved_at, flag.resolved_by_id, flag.resolution = None, None, None
    session.flush()
    matching.refresh_keys(connection, [merge.kept_id, merge.duplicate_id])
    session.expire_all()
    audit.record(
        "person.merge_undone",
        user=user,
        object_type="person",
        object_id=merge.kept_id,
        detail=f"merge {merge.id} undone: person {merge.duplicate_id} restored; "
        f"{restored} of {len(merge.moves)} rows moved back; equality answers emptied on the kept "
        f"record: {', '.join(emptied) or 'none'}",
    )
    return restored


def _empty_filled_answers(session: Session, merge: PersonMerge) -> list[str]:
    """Empties the answers the merge filled, unless someone has changed one since (then it is
    theirs, and stays)."""
    kept = session.get(Person, merge.kept_id)
    duplicate = session.get(Person, merge.duplicate_id)
    emptied = []
    for column in (merge.filled_answers or "").split(","):
        if column not in EQUALITY_ANSWERS or kept is None or duplicate is None:
            continue
        if getattr(kept, column) == getattr(duplicate, column):
            setattr(kept, column, type(getattr(kept, column))("not_known"))
            emptied.append(column)
    return emptied
