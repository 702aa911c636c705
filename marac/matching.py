"""Finding people who are probably already known: duplicate people and the victim of a repeat.

A typed name (and, when given, a date of birth) is matched against everyone of the area in two
steps, so that it stays fast over a million people:

1. Retrieval, by index. ``name_variant_key`` is the vocabulary of names in use, keyed by every
   one-letter deletion of each name and two phonetic codes (Metaphone and NYSIIS). The typed
   given and family names are looked up there (with the same keys) to find the names in use
   that are a typo or a sound-alike away, plus the name's other forms from the nickname table
   (``seeds/nicknames.toml``: Bob/Robert, Jon/John). ``person_name`` then gives the people known
   by any of those given x family pairs, in the typed order and swapped. With a date of birth,
   everyone born on that day or on a day that differs by a transposed digit (or day and month
   swapped) is added too, so two typos in a name are still caught when the date is known.
2. Scoring, in Python, on that small set (``compare``): each name part must be the same, another
   form of it, or within a typo budget (none for names of 3 letters or fewer, 1 up to 5 letters,
   2 beyond; a sound-alike of 5 letters or more costs 1); at most 2 typos in all. Aliases count
   as names. A date of birth that is neither the same nor a transposition rules a person out;
   a missing one neither helps nor rules out. A given-name typo is not accepted between a
   recorded woman and man (Joan is not John).

The keys are kept up to date by an ORM hook whenever a person or an alias is added or renamed
(``install``), and rebuilt by merges. Nothing here decides who may be offered a candidate: the
caller passes ``marac.policy.matchable_people_clause`` for the viewer.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import chain
from pathlib import Path

import jellyfish
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from marac.config import PROJECT_ROOT
from marac.domain import Gender

NICKNAME_FILE = PROJECT_ROOT / "seeds" / "nicknames.toml"
MAX_TOTAL_TYPOS = 2
# At most this many people are drawn into scoring by each retrieval step. More than that share
# the typed name (or birthday): the screen asks for a date of birth rather than guess.
CANDIDATE_CAP = 300
DEFAULT_LIMIT = 10


# --- names ---------------------------------------------------------------------------------------


def normalise(name: str | None) -> str:
    """Lower-case ASCII letters only: accents dropped, spaces, hyphens and apostrophes removed."""
    if not name:
        return ""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed.lower() if "a" <= c <= "z")[:100]


def split_full_name(full: str) -> tuple[str, str]:
    """An alias written as one string: the last word is the family name, the rest the given."""
    words = full.split()
    if len(words) < 2:
        return (full, "")
    return (" ".join(words[:-1]), words[-1])


@cache
def _nickname_groups(path: Path = NICKNAME_FILE) -> dict[str, frozenset[int]]:
    with path.open("rb") as handle:
        groups = tomllib.load(handle)["groups"]
    membership: dict[str, set[int]] = defaultdict(set)
    for index, names in enumerate(groups):
        for name in names:
            membership[normalise(name)].add(index)
    return {name: frozenset(ids) for name, ids in membership.items()}


@cache
def _group_members() -> dict[int, frozenset[str]]:
    members: dict[int, set[str]] = defaultdict(set)
    for name, ids in _nickname_groups().items():
        for group in ids:
            members[group].add(name)
    return {group: frozenset(names) for group, names in members.items()}


def other_forms(given: str) -> frozenset[str]:
    """Every form of a (normalised) given name in the nickname table, itself included."""
    groups = _nickname_groups().get(given, frozenset())
    return frozenset(chain([given], *(_group_members()[g] for g in groups)))


def same_name_forms(a: str, b: str) -> bool:
    table = _nickname_groups()
    return bool(table.get(a, frozenset()) & table.get(b, frozenset()))


@cache
def _metaphone(name: str) -> str:
    return jellyfish.metaphone(name) if name else ""


def lookup_keys(name: str) -> set[str]:
    """The keys a name is filed under in the vocabulary, and looked up by when typed."""
    if not name:
        return set()
    keys = {f"d:{name}"}
    if len(name) > 1:
        keys.update(f"d:{name[:i]}{name[i + 1 :]}" for i in range(len(name)))
    if code := _metaphone(name):
        keys.add(f"m:{code}")
    if code := jellyfish.nysiis(name):
        keys.add(f"y:{code}")
    return keys


# --- scoring (pure) ------------------------------------------------------------------------------


def typo_budget(length: int) -> int:
    if length <= 3:
        return 0
    if length <= 5:
        return 1
    return 2


@dataclass(frozen=True)
class PartMatch:
    cost: int
    # "same", "form" (another form of the name), "typo" or "sound"
    how: str


def compare_part(typed: str, stored: str, *, given: bool) -> PartMatch | None:
    """How a typed name part relates to a stored one, or None when it is another name."""
    if not typed or not stored:
        return None
    if typed == stored:
        return PartMatch(0, "same")
    if given and same_name_forms(typed, stored):
        return PartMatch(0, "form")
    shorter = min(len(typed), len(stored))
    distance = jellyfish.damerau_levenshtein_distance(typed, stored)
    if distance <= typo_budget(shorter):
        return PartMatch(distance, "typo")
    if shorter >= 5 and distance <= 3 and _metaphone(typed) == _metaphone(stored):
        return PartMatch(1, "sound")
    return None


EARLIEST_BIRTH_YEAR = 1900


def dob_variants(day: date) -> set[date]:
    """Dates a mistyped date of birth may really be: adjacent digits swapped in DDMMYYYY, or the
    day and month swapped. The date itself is not included, nor dates no one alive was born on
    (a swap across month and year can make 7991)."""
    digits = f"{day.day:02d}{day.month:02d}{day.year:04d}"
    found = set()
    for i in range(len(digits) - 1):
        swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
        try:
            found.add(date(int(swapped[4:]), int(swapped[2:4]), int(swapped[:2])))
        except ValueError:
            continue
    if day.day <= 12:
        try:
            found.add(date(day.year, day.day, day.month))
        except ValueError:
            pass
    found.discard(day)
    latest = date.today().year
    return {d for d in found if EARLIEST_BIRTH_YEAR <= d.year <= latest}


@dataclass(frozen=True)
class Query:
    given: str
    family: str
    date_of_birth: date | None = None
    gender: Gender | None = None

    @property
    def given_key(self) -> str:
        return normalise(self.given)

    @property
    def family_key(self) -> str:
        return normalise(self.family)


@dataclass(frozen=True)
class KnownName:
    given_key: str
    family_key: str
    # The alias as written, or None for the person's own name.
    alias: str | None = None


@dataclass(frozen=True)
class Record:
    person_id: int
    names: tuple[KnownName, ...]
    date_of_birth: date | None
    gender: Gender | None


@dataclass(frozen=True)
class Match:
    person_id: int
    score: int
    reasons: tuple[str, ...]


_KNOWN_GENDERS = frozenset({Gender.FEMALE, Gender.MALE})


def _genders_conflict(a: Gender | None, b: Gender | None) -> bool:
    return a in _KNOWN_GENDERS and b in _KNOWN_GENDERS and a is not b


def _name_match(
    query: Query, name: KnownName, swapped: bool, no_given_typos: bool
) -> tuple[int, list[str]] | None:
    typed_given, typed_family = query.given_key, query.family_key
    if swapped:
        typed_given, typed_family = typed_family, typed_given
    given = compare_part(typed_given, name.given_key, given=True)
    family = compare_part(typed_family, name.family_key, given=False)
    if given is None or family is None:
        return None
    if no_given_typos and given.how in ("typo", "sound"):
        return None
    cost = given.cost + family.cost
    if cost > MAX_TOTAL_TYPOS:
        return None
    reasons = []
    if name.alias:
        reasons.append(f"known as {name.alias}")
    if swapped:
        reasons.append("first and last names swapped")
    if given.how == "form":
        reasons.append("another form of the first name")
    if cost:
        reasons.append("spelling differs slightly")
    return cost, reasons


def compare(query: Query, record: Record) -> Match | None:
    """The best match of the query to any of the record's names, or None."""
    dob_reason = None
    dob_bonus = 0
    if query.date_of_birth and record.date_of_birth:
        if query.date_of_birth == record.date_of_birth:
            dob_reason, dob_bonus = "same date of birth", 20
        elif record.date_of_birth in dob_variants(query.date_of_birth):
            dob_reason, dob_bonus = "date of birth with digits swapped", 10
        else:
            return None
    no_given_typos = _genders_conflict(query.gender, record.gender)
    best: tuple[int, list[str]] | None = None
    for name in record.names:
        for swapped in (False, True):
            found = _name_match(query, name, swapped, no_given_typos)
            if found is None:
                continue
            cost, reasons = found
            penalty = cost * 15 + (5 if swapped else 0) + (2 if name.alias else 0)
            if best is None or penalty < best[0]:
                best = (penalty, reasons)
    if best is None:
        return None
    penalty, reasons = best
    if dob_reason:
        reasons = [dob_reason, *reasons]
    if not reasons:
        reasons = ["same name"]
    return Match(record.person_id, 100 - penalty + dob_bonus, tuple(reasons))


# --- keeping the keys up to date -----------------------------------------------------------------


def _insert_ignoring_existing(connection: Connection, table: sa.Table, rows: list[dict]) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        statement = pg_insert(table).on_conflict_do_nothing()
    elif connection.dialect.name == "sqlite":
        statement = sqlite_insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - the service runs on SQLite and PostgreSQL only
        raise NotImplementedError(connection.dialect.name)
    for start in range(0, len(rows), 5000):
        connection.execute(statement, rows[start : start + 5000])


def vocabulary_rows(names: Iterable[str]) -> list[dict[str, str]]:
    return [{"key": key, "name": name} for name in set(names) if name for key in lookup_keys(name)]


def name_rows(
    person_id: int,
    area_id: int,
    given: str,
    family: str,
    aliases: Iterable[str],
    date_of_birth: date | None = None,
) -> list[dict[str, object]]:
    """The person_name rows for one person: their own name and each alias."""
    family_key = normalise(family)
    pairs = {(normalise(given), family_key)}
    for alias in aliases:
        alias_given, alias_family = split_full_name(alias)
        pairs.add((normalise(alias_given), normalise(alias_family) or family_key))
    return [
        {
            "person_id": person_id,
            "area_id": area_id,
            "given_key": g,
            "family_key": f,
            "date_of_birth": date_of_birth,
        }
        for g, f in sorted(pairs)
        if g and f
    ]


def refresh_keys(connection: Connection, person_ids: Collection[int]) -> None:
    """Rebuild the match keys of these people (none for a person merged into another)."""
    from marac.models import NameVariantKey, Person, PersonAlias, PersonMerge, PersonName

    ids = sorted(set(person_ids))
    if not ids:
        return
    connection.execute(sa.delete(PersonName).where(PersonName.person_id.in_(ids)))
    merged = sa.exists().where(
        PersonMerge.duplicate_id == Person.id, PersonMerge.undone_at.is_(None)
    )
    people = connection.execute(
        sa.select(
            Person.id, Person.area_id, Person.given_name, Person.family_name, Person.date_of_birth
        ).where(Person.id.in_(ids), ~merged)
    ).all()
    aliases: dict[int, list[str]] = defaultdict(list)
    for person_id, name in connection.execute(
        sa.select(PersonAlias.person_id, PersonAlias.name).where(PersonAlias.person_id.in_(ids))
    ):
        aliases[person_id].append(name)
    rows = [
        row
        for p in people
        for row in name_rows(
            p.id, p.area_id, p.given_name, p.family_name, aliases[p.id], p.date_of_birth
        )
    ]
    if rows:
        connection.execute(sa.insert(PersonName), rows)
    names = {r["given_key"] for r in rows} | {r["family_key"] for r in rows}
    _insert_ignoring_existing(connection, NameVariantKey.__table__, vocabulary_rows(names))


def rebuild_all(connection: Connection, batch: int = 2000) -> None:
    """Every person's keys, from scratch: for upgrades and the ``rebuild-match-keys`` command."""
    from marac.models import Person

    last = 0
    while True:
        ids = connection.scalars(
            sa.select(Person.id).where(Person.id > last).order_by(Person.id).limit(batch)
        ).all()
        if not ids:
            return
        refresh_keys(connection, ids)
        last = ids[-1]


_NAME_ATTRIBUTES = ("given_name", "family_name", "area_id", "date_of_birth")


def _people_to_refresh(session: Session) -> set[int]:
    from marac.models import Person, PersonAlias

    ids: set[int] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Person):
            state = sa.inspect(obj)
            if obj in session.new or any(
                state.attrs[name].history.has_changes() for name in _NAME_ATTRIBUTES
            ):
                ids.add(obj.id)
        elif isinstance(obj, PersonAlias):
            state = sa.inspect(obj)
            ids.update(
                i
                for i in chain([obj.person_id], state.attrs.person_id.history.deleted or ())
                if i is not None
            )
    return ids


def _after_flush(session: Session, _flush_context: object) -> None:
    ids = _people_to_refresh(session)
    if ids:
        refresh_keys(session.connection(), ids)


def install() -> None:
    """Keep match keys up to date on every flush of every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


# --- finding candidates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    person_id: int
    given_name: str
    family_name: str
    date_of_birth: date | None
    gender: Gender
    aliases: tuple[str, ...]
    score: int
    reasons: tuple[str, ...] = field(default=())

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def _variants(typed: str, vocabulary: Iterable[str], *, given: bool) -> set[str]:
    found = {typed}
    if given:
        found |= other_forms(typed)
    found.update(name for name in vocabulary if compare_part(typed, name, given=given) is not None)
    return found


def candidate_ids(
    session: Session, area_id: int, query: Query, exclude: Collection[int] = ()
) -> tuple[dict[int, list[KnownName]], bool]:
    """Step 1: the people worth scoring, with every name they are known by, and whether the
    search was cut short because too many people share the name (a date of birth narrows it).

    With a date of birth, people recorded with a conflicting one are left out here already:
    the scoring would rule them out anyway.
    """
    from marac.models import NameVariantKey, Person, PersonName

    given, family = query.given_key, query.family_key
    if len(given) < 2 or len(family) < 2:
        return {}, False
    vocabulary = set(
        session.scalars(
            sa.select(NameVariantKey.name)
            .where(NameVariantKey.key.in_(sorted(lookup_keys(given) | lookup_keys(family))))
            .distinct()
        )
    )
    days = (
        sorted({query.date_of_birth} | dob_variants(query.date_of_birth))
        if query.date_of_birth
        else []
    )
    person_ids: set[int] = set()
    crowded = False
    for typed_given, typed_family in ((given, family), (family, given)):
        statement = sa.select(PersonName.person_id).where(
            PersonName.area_id == area_id,
            PersonName.family_key.in_(sorted(_variants(typed_family, vocabulary, given=False))),
            PersonName.given_key.in_(sorted(_variants(typed_given, vocabulary, given=True))),
        )
        if days:
            statement = statement.where(
                sa.or_(PersonName.date_of_birth.in_(days), PersonName.date_of_birth.is_(None))
            )
        found = session.scalars(statement.limit(CANDIDATE_CAP + 1)).all()
        crowded = crowded or len(found) > CANDIDATE_CAP
        person_ids.update(found[:CANDIDATE_CAP])
    if days:
        found = session.scalars(
            sa.select(Person.id)
            .where(Person.area_id == area_id, Person.date_of_birth.in_(days))
            .limit(CANDIDATE_CAP + 1)
        ).all()
        crowded = crowded or len(found) > CANDIDATE_CAP
        person_ids.update(found[:CANDIDATE_CAP])
    person_ids -= set(exclude)
    names: dict[int, list[KnownName]] = defaultdict(list)
    for chunk in _chunks(sorted(person_ids), 900):
        for row in session.execute(
            sa.select(PersonName.person_id, PersonName.given_key, PersonName.family_key).where(
                PersonName.person_id.in_(chunk)
            )
        ):
            names[row.person_id].append(KnownName(row.given_key, row.family_key))
    return names, crowded


@dataclass(frozen=True)
class MatchResult:
    candidates: list[Candidate]
    # More people share the name than are scored: the screen asks for a date of birth.
    crowded: bool = False


def find_candidates(
    session: Session,
    area_id: int,
    query: Query,
    *,
    allowed: sa.ColumnElement[bool] | None,
    exclude: Collection[int] = (),
    limit: int = DEFAULT_LIMIT,
) -> MatchResult:
    """Likely existing people for a typed name, best first.

    ``allowed`` is a WHERE clause on Person saying whom this viewer may be offered (from
    ``marac.policy.matchable_people_clause``); it is required, so no caller forgets it. Pass
    ``sa.true()`` only for the system's own duplicate triage.
    """
    from marac.models import Person, PersonAlias

    if allowed is None:
        raise ValueError("find_candidates needs the viewer's matchable_people_clause")
    names, crowded = candidate_ids(session, area_id, query, exclude)
    if not names:
        return MatchResult([], crowded)
    people = {
        p.id: p
        for chunk in _chunks(sorted(names), 900)
        for p in session.execute(
            sa.select(
                Person.id,
                Person.given_name,
                Person.family_name,
                Person.date_of_birth,
                Person.gender,
            ).where(Person.id.in_(chunk))
        )
    }
    aliases: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(sorted(names), 900):
        for person_id, alias in session.execute(
            sa.select(PersonAlias.person_id, PersonAlias.name)
            .where(PersonAlias.person_id.in_(chunk))
            .order_by(PersonAlias.id)
        ):
            aliases[person_id].append(alias)
    matches = []
    for person_id, known in names.items():
        person = people.get(person_id)
        if person is None:
            continue
        labelled = _label_aliases(known, person, aliases[person_id])
        found = compare(query, Record(person_id, labelled, person.date_of_birth, person.gender))
        if found is not None:
            matches.append(found)
    if not matches:
        return MatchResult([], crowded)
    matches.sort(key=lambda m: (-m.score, m.person_id))
    offered = set(
        session.scalars(
            sa.select(Person.id).where(Person.id.in_([m.person_id for m in matches]), allowed)
        )
    )
    result = []
    for m in matches:
        if m.person_id not in offered:
            continue
        person = people[m.person_id]
        result.append(
            Candidate(
                person_id=m.person_id,
                given_name=person.given_name,
                family_name=person.family_name,
                date_of_birth=person.date_of_birth,
                gender=person.gender,
                aliases=tuple(aliases[m.person_id]),
                score=m.score,
                reasons=m.reasons,
            )
        )
        if len(result) >= limit:
            break
    return MatchResult(result, crowded)


def _label_aliases(
    known: Sequence[KnownName], person: sa.Row, aliases: Sequence[str]
) -> tuple[KnownName, ...]:
    """Which of the stored keys came from an alias, so a match can say "known as ..."."""
    own = (normalise(person.given_name), normalise(person.family_name))
    by_key = {}
    for alias in aliases:
        alias_given, alias_family = split_full_name(alias)
        key = (normalise(alias_given), normalise(alias_family) or own[1])
        by_key.setdefault(key, alias)
    return tuple(
        KnownName(
            k.given_key,
            k.family_key,
            None if (k.given_key, k.family_key) == own else by_key.get((k.given_key, k.family_key)),
        )
        for k in known
    )


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
