"""A seeded synthetic MARAC dataset of any size, up to a whole country, written in bulk.

National scale (``--scale 1``) is about 1,000,000 people, 2,000,000 relationships, 300,000 cases,
1,000,000 actions, 3,000,000 information items, 10,000 meetings and 300 areas, over three years.
The shape follows published MARAC figures: about 31% of cases are repeats (the same victim within
a year), about 1.2 children per case, about 6% of victims are men, about 16 cases per meeting
(new referrals and cases brought back for review), and a minority of perpetrators have two to
five partners over time. Every name, street and town is made up from syllables; nothing is real.

The schema is made by the project's migrations; rows are then written with one bulk statement
per batch (``executemany`` on SQLite, ``COPY`` on PostgreSQL), ids assigned here so that rows
can refer to each other. The same seed and sizes always give the same data.

    .venv/bin/python bench/generate.py --scale 0.01 --database-url sqlite:////tmp/marac-1pc.sqlite3
    .venv/bin/python bench/generate.py --scale 1 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/marac_national --create

Every user of the dataset signs in with the password and authenticator secret below (see
``bench/run.py``); user names are ``<role>-<area>-<agency>-<n>`` (``usernames()``).
"""

from __future__ import annotations

import argparse
import bisect
import random
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from argon2 import PasswordHasher

from marac import clock, matching, sealing
from marac import config as marac_config
from marac.domain import (
    ActionStatus,
    ActionSubject,
    AgencyKind,
    AgencySide,
    AgendaStatus,
    AttendanceKind,
    CaseRole,
    CaseStatus,
    Classification,
    Criterion,
    Gender,
    InvolvementKind,
    ItemNature,
    ItemSource,
    MeetingKind,
    MeetingStatus,
    RelationshipKind,
    Role,
)

PASSWORD = "synthetic data password"  # noqa: S105 - synthetic users only
TOTP_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"  # noqa: S105 - synthetic users only
CHUNK = 50_000
YEARS = 3

NATIONAL = {
    "areas": 300,
    "people": 1_000_000,
    "relationships": 2_000_000,
    "cases": 300_000,
    "actions": 1_000_000,
    "items": 3_000_000,
    "meetings": 10_000,
}

# Published MARAC figures the data is shaped on.
REPEAT_SHARE = 0.31
MALE_VICTIM_SHARE = 0.06
# Children per case: mean about 1.2.
CHILDREN_WEIGHTS = [(0, 38), (1, 25), (2, 20), (3, 12), (4, 5)]
# New cases whose perpetrator already had a case with another partner (two to five partners).
SERIAL_SHARE = 0.08
MAX_PARTNERS = 5
REVIEW_SHARE = 0.25  # heard cases brought back to the next meeting to review the actions

# One of each agency in every area; the MARAC team holds the coordinator and the chair.
AGENCIES = [
    (AgencyKind.OTHER, AgencySide.NEUTRAL, "MARAC Team"),
    (AgencyKind.POLICE, AgencySide.NEUTRAL, "Police"),
    (AgencyKind.IDVA, AgencySide.VICTIM_FACING, "IDVA Service"),
    (AgencyKind.CHILDRENS_SOCIAL_CARE, AgencySide.NEUTRAL, "Children's Social Care"),
    (AgencyKind.HEALTH, AgencySide.NEUTRAL, "Health Trust"),
    (AgencyKind.HOUSING, AgencySide.NEUTRAL, "Housing"),
    (AgencyKind.PROBATION, AgencySide.NEUTRAL, "Probation"),
    (AgencyKind.EDUCATION, AgencySide.NEUTRAL, "Education"),
    (AgencyKind.MENTAL_HEALTH, AgencySide.NEUTRAL, "Mental Health"),
    (AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, "Change Programme"),
    (AgencyKind.PARTNER_CONTACT, AgencySide.VICTIM_FACING, "Partner Contact"),
]
# Users of each agency: (role, how many). Reviewers sit in the police and children's services.
STAFF = {
    AgencyKind.OTHER: [(Role.COORDINATOR, 2), (Role.CHAIR, 1), (Role.ADMINISTRATOR, 1)],
    AgencyKind.IDVA: [(Role.SUPPORT_WORKER, 4)],
    AgencyKind.PARTNER_CONTACT: [(Role.SUPPORT_WORKER, 2)],
    AgencyKind.POLICE: [(Role.AGENCY_REP, 3), (Role.REVIEWER, 1)],
    AgencyKind.CHILDRENS_SOCIAL_CARE: [(Role.AGENCY_REP, 3), (Role.REVIEWER, 1)],
}
DEFAULT_STAFF = [(Role.AGENCY_REP, 2)]

# Made-up name parts: combinations give many distinct surnames with a Zipf-like spread.
GIVEN_F = (
    "Amara Belen Caris Delyth Elowen Fenna Galia Hollis Ilse Jorie Kestrel Liora Maelis Neve "
    "Oriel Perrin Quilla Rhosyn Saffie Tamsin Ulla Verity Wren Yara Zinnia Alys Briony Cerys "
    "Dilys Esme Ffion Greer Honor Isolde Juno Kenna Lark Marlo Nerys Orla"
).split()
GIVEN_M = (
    "Aled Bram Caspian Dai Emlyn Fenton Gethin Huw Idris Jory Kit Lowen Madoc Nye Osian "
    "Piran Quill Rhys Soren Tudor Urien Vaughn Wystan Yestin Zeb Alban Bryn Cador Deri Evander"
).split()
FAMILY_A = (
    "Ash Bryn Cal Dun Elder Fen Gar Hal Ing Kel Lor Mar Nor Ol Pen Quen Rav Sel Tor Wyn".split()
)
FAMILY_B = (
    "brook combe dale field ford gate hurst ley mere more ridge stead thorne ton well wick".split()
)
TOWN_SUFFIXES = "bury ham wick chester minster field".split()
TOWN_DISTRICTS = [
    "",
    " Vale",
    " Downs",
    " Marsh",
    " Heath",
    " Weald",
    " Fells",
    " Moor",
    " Levels",
    " Chase",
    " Hundred",
    " Cross",
    " Coast",
    " Forest",
    " Hills",
]
STREETS = (
    "Larkspur Hazelmere Quillon Brackenby Ashvale Fernrow Corran Mistle Tallow Wrenfold".split()
)
STREET_KINDS = "Road Street Lane Close Way Crescent".split()


def zipf(n: int, s: float = 0.9) -> list[float]:
    return [1.0 / (rank + 1) ** s for rank in range(n)]


@dataclass
class Sizes:
    areas: int
    people: int
    relationships: int
    cases: int
    actions: int
    items: int
    meetings: int

    @classmethod
    def at_scale(cls, scale: float) -> Sizes:
        sized = {key: max(1, round(value * scale)) for key, value in NATIONAL.items()}
        sized["areas"] = max(2, sized["areas"])
        sized["meetings"] = max(2 * sized["areas"], sized["meetings"])
        return cls(**sized)


def usernames(area: int, kind: AgencyKind, role: Role, count: int = 1) -> list[str]:
    return [f"{role.value}-{area}-{kind.value}-{n}" for n in range(1, count + 1)]


# --- writing ------------------------------------------------------------------------------------


class Writer:
    """Buffers rows per table and writes them in bulk, tables in foreign-key order."""

    ORDER = [
        "area",
        "agency",
        "user_account",
        "sign_in_state",
        "person",
        "person_name",
        "contact_details",
        "relationship",
        "marac_case",
        "case_person",
        "referral",
        "referral_criterion",
        "involvement",
        "meeting",
        "agenda_item",
        "attendance",
        "information_item",
        "action",
        "action_status_change",
        "name_variant_key",
    ]

    def __init__(self, engine: sa.Engine, metadata: sa.MetaData) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.metadata = metadata
        self.columns: dict[str, list[str]] = {}
        self.buffers: dict[str, list[tuple]] = {name: [] for name in self.ORDER}
        self.counts: dict[str, int] = dict.fromkeys(self.ORDER, 0)
        self.raw = engine.raw_connection()
        self.connection = self.raw.driver_connection
        self.converters: dict[str, list[Callable[[Any], Any] | None]] = {}
        # Rows refer to rows written in a later batch (cases are written once the meetings
        # have decided their status): foreign keys are not checked while loading. The data is
        # consistent by construction, and the tests of the generator check it.
        if self.dialect == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
        if self.dialect == "sqlite":
            self.connection.execute("PRAGMA foreign_keys = OFF")
            self.connection.execute("PRAGMA synchronous = OFF")
            self.connection.execute("PRAGMA cache_size = -262144")

    def declare(self, table: str, columns: Iterable[str]) -> None:
        self.columns[table] = list(columns)
        known = self.metadata.tables[table].c
        missing = [c for c in self.columns[table] if c not in known]
        assert not missing, (table, missing)
        if self.dialect == "sqlite":
            self.converters[table] = [_sqlite_converter(known[c].type) for c in self.columns[table]]

    def add(self, table: str, row: tuple) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for table in self.ORDER:
            rows = self.buffers[table]
            if rows:
                self._write(table, rows)
                self.counts[table] += len(rows)
                rows.clear()

    def _write(self, table: str, rows: list[tuple]) -> None:
        columns = self.columns[table]
        names = ", ".join(f'"{c}"' for c in columns)
        if self.dialect == "postgresql":
            with self.connection.cursor() as cursor:
                with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            converters = self.converters[table]
            if any(converters):
                pairs = [(f, i) for i, f in enumerate(converters) if f is not None]
                rows = [_converted(row, pairs) for row in rows]
            marks = ", ".join("?" for _ in columns)
            # Table and column names come from the models' metadata (checked in declare()).
            statement = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608
            self.connection.executemany(statement, rows)

    def finish(self) -> None:
        self.flush()
        if self.dialect == "postgresql":
            # Ids were given here: move each table's sequence past them for rows added later.
            with self.connection.cursor() as cursor:
                for table in self.ORDER:
                    if "id" in self.columns.get(table, []):
                        last = f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"'  # noqa: S608
                        cursor.execute(
                            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                            f"({last}), false)"
                        )
        self.raw.commit()
        self.raw.close()


def _converted(row: tuple, pairs: list[tuple[Callable[[Any], Any], int]]) -> tuple:
    values = list(row)
    for convert, index in pairs:
        if values[index] is not None:
            values[index] = convert(values[index])
    return tuple(values)


def _sqlite_converter(column_type: sa.types.TypeEngine) -> Callable[[Any], Any] | None:
    # The text forms SQLAlchemy itself stores on SQLite, so the app reads them back unchanged.
    if isinstance(column_type, sa.DateTime):
        return lambda v: v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(column_type, sa.Date):
        return date.isoformat
    if isinstance(column_type, sa.Boolean):
        return int
    return None


# --- the synthetic country ----------------------------------------------------------------------


@dataclass
class CaseFacts:
    id: int
    area: int
    referred_on: date
    victim: int
    perpetrator: int
    children: list[int]
    repeat_of: int | None
    victim_gender: Gender
    status: CaseStatus = CaseStatus.REFERRED
    heard_item: int | None = None  # the agenda item at which it was last listed
    heard_on: date | None = None
    referrer: int = 0
    number: int = 0  # in the area's year: the reference


@dataclass
class Generator:
    sizes: Sizes
    rng: random.Random
    out: Writer
    today: date = field(default_factory=clock.service_today)
    now: datetime = field(default_factory=clock.utc_now)
    next_person: int = 0
    next_relationship: int = 0
    person_area: list[int] = field(default_factory=lambda: [0])
    pairs: set[tuple[int, int, str]] = field(default_factory=set)
    agency: dict[tuple[int, AgencyKind], int] = field(default_factory=dict)
    staff: dict[int, list[int]] = field(default_factory=dict)
    cases: list[CaseFacts] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.family_names = [a + b for a in FAMILY_A for b in FAMILY_B]
        self.rng.shuffle(self.family_names)
        self.family_weights = zipf(len(self.family_names))
        self.cum_family = list(_accumulate(self.family_weights))
        self.cum_given_f = list(_accumulate(zipf(len(GIVEN_F))))
        self.cum_given_m = list(_accumulate(zipf(len(GIVEN_M))))

    # -- small helpers

    def pick(self, names: list[str], cumulative: list[float]) -> str:
        return names[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]

    def stamp(self, day: date, hour: int = 10) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)

    # -- areas, agencies, users

    def world(self) -> None:
        out = self.out
        out.declare("area", ["id", "name", "code", "checklist_key", "created_at"])
        out.declare(
            "agency",
            ["id", "area_id", "name", "kind", "side", "is_active", "created_at", "version"],
        )
        out.declare(
            "user_account",
            [
                "id",
                "agency_id",
                "username",
                "display_name",
                "email",
                "role",
                "password_hash",
                "is_enabled",
                "session_token",
                "created_at",
                "version",
            ],
        )
        out.declare(
            "sign_in_state",
            ["user_id", "totp_secret_sealed", "totp_confirmed_at", "failed_attempts"],
        )
        # Sealed with the data key of the benchmarks' apps (and bench/load.py's server).
        sealed_secret = sealing.seal_with(marac_config.TESTING["MARAC_DATA_KEY"], TOTP_SECRET)
        # Hashed as the service does in production, so signing in costs what it really costs.
        password_hash = PasswordHasher(**marac_config.BASE["MARAC_ARGON2"]).hash(PASSWORD)
        agency_id = user_id = 0
        for area in range(1, self.sizes.areas + 1):
            town = self.town(area)
            out.add("area", (area, f"{town} MARAC", f"A{area:03d}", "default", self.now))
            for kind, side, label in AGENCIES:
                agency_id += 1
                self.agency[(area, kind)] = agency_id
                self.staff[agency_id] = []
                out.add(
                    "agency",
                    (agency_id, area, f"{town} {label}", kind.value, side.value, True, self.now, 1),
                )
                for role, count in STAFF.get(kind, DEFAULT_STAFF):
                    for username in usernames(area, kind, role, count):
                        user_id += 1
                        if role in (Role.AGENCY_REP, Role.SUPPORT_WORKER):
                            self.staff[agency_id].append(user_id)
                        given = self.rng.choice(GIVEN_F + GIVEN_M)
                        family = self.pick(self.family_names, self.cum_family)
                        out.add(
                            "user_account",
                            (
                                user_id,
                                agency_id,
                                username,
                                f"{given} {family}",
                                f"{username}@example.org",
                                role.value,
                                password_hash,
                                True,
                                uuid.UUID(int=self.rng.getrandbits(128)).hex,
                                self.now,
                                1,
                            ),
                        )
                        out.add("sign_in_state", (user_id, sealed_secret, self.now, 0))

    def town(self, area: int) -> str:
        """A made-up place name, the same for an area whatever the scale, unique up to 1,800."""
        stem, suffix = divmod(area - 1, len(TOWN_SUFFIXES))
        district, stem = divmod(stem, len(FAMILY_A))
        return f"{FAMILY_A[stem]}{TOWN_SUFFIXES[suffix]}{TOWN_DISTRICTS[district]}"

    # -- people

    def person(self, area: int, *, gender: Gender, child: bool, born_before: date) -> int:
        self.next_person += 1
        self.person_area.append(area)
        rng = self.rng
        if child:
            age_days = rng.randint(30, 17 * 365)
        else:
            age_days = int(min(70, max(18, rng.gauss(35, 10))) * 365.25)
        born = born_before - timedelta(days=age_days)
        given = (
            self.pick(GIVEN_F, self.cum_given_f)
            if gender is Gender.FEMALE
            else self.pick(GIVEN_M, self.cum_given_m)
        )
        family = self.pick(self.family_names, self.cum_family)
        dob = born if rng.random() < 0.92 else None
        pid = self.next_person
        self.out.add(
            "person",
            (pid, area, given, family, dob, gender.value, self.now, 1),
        )
        self.out.add(
            "person_name",
            (pid, area, matching.normalise(given), matching.normalise(family), dob),
        )
        self.names.add(matching.normalise(given))
        self.names.add(matching.normalise(family))
        return pid

    def relate(self, a: int, b: int, kind: RelationshipKind, separated: date | None = None) -> None:
        key = (a, b, kind.value)
        if a == b or key in self.pairs:
            return
        self.pairs.add(key)
        self.next_relationship += 1
        self.out.add(
            "relationship",
            (self.next_relationship, a, b, kind.value, None, separated, self.now, 1),
        )

    def involve(
        self, area: int, kind: AgencyKind, person: int, how: InvolvementKind, since: date
    ) -> None:
        agency_id = self.agency[(area, kind)]
        self.out.add(
            "involvement",
            (
                agency_id,
                person,
                self.rng.choice(self.staff[agency_id]),
                how.value,
                since,
                None,
                self.now,
                1,
            ),
        )

    # -- cases

    def people_and_cases(self) -> None:
        out, rng, sizes = self.out, self.rng, self.sizes
        out.declare(
            "person",
            [
                "id",
                "area_id",
                "given_name",
                "family_name",
                "date_of_birth",
                "gender",
                "created_at",
                "version",
            ],
        )
        out.declare(
            "person_name", ["person_id", "area_id", "given_key", "family_key", "date_of_birth"]
        )
        out.declare(
            "contact_details",
            [
                "person_id",
                "address",
                "safe_phone",
                "safe_to_call",
                "safe_times",
                "may_leave_message",
                "version",
            ],
        )
        out.declare(
            "relationship",
            [
                "id",
                "person_id",
                "other_person_id",
                "kind",
                "started_on",
                "separated_on",
                "created_at",
                "version",
            ],
        )
        out.declare(
            "marac_case",
            [
                "id",
                "area_id",
                "reference",
                "status",
                "referring_agency_id",
                "referred_on",
                "closed_on",
                "heard_on",
                "heard_at",
                "created_at",
                "version",
            ],
        )
        out.declare("case_person", ["case_id", "person_id", "role"])
        out.declare(
            "referral",
            [
                "id",
                "case_id",
                "referring_agency_id",
                "officer_name",
                "incident_on",
                "checklist_key",
                "score",
                "threshold",
                "police_callouts",
                "victim_aware",
                "consent_given",
                "eligible",
                "repeat_of_case_id",
                "created_at",
            ],
        )
        out.declare("referral_criterion", ["referral_id", "criterion", "met", "reason"])
        out.declare(
            "involvement",
            [
                "agency_id",
                "person_id",
                "worker_id",
                "kind",
                "started_on",
                "ended_on",
                "created_at",
                "version",
            ],
        )
        span = YEARS * 365
        start = self.today - timedelta(days=span)
        # Referral days in order, so "a repeat within twelve months" looks back in time.
        per_area = [
            sizes.cases // sizes.areas + (a < sizes.cases % sizes.areas) for a in range(sizes.areas)
        ]
        days = sorted(
            (start + timedelta(days=rng.randrange(span)), area + 1)
            for area, n in enumerate(per_area)
            for _ in range(n)
        )
        recent: dict[int, deque[tuple[date, CaseFacts]]] = {
            a: deque() for a in range(1, sizes.areas + 1)
        }
        partners: dict[int, int] = {}  # perpetrator -> partners so far
        perpetrators: dict[int, list[int]] = {a: [] for a in range(1, sizes.areas + 1)}
        counters: dict[tuple[int, int], int] = {}
        for case_id, (day, area) in enumerate(days, start=1):
            window = recent[area]
            while window and window[0][0] < day - timedelta(days=365):
                window.popleft()
            earlier = None
            if window and rng.random() < REPEAT_SHARE:
                earlier = window[rng.randrange(len(window))][1]
            if earlier is not None:
                victim = earlier.victim
                children = list(earlier.children)
                if rng.random() < 0.85:
                    perpetrator = earlier.perpetrator
                else:  # a new partner
                    perpetrator = self.new_perpetrator(area, earlier.victim_gender, day)
                    partners[perpetrator] = 0
                    perpetrators[area].append(perpetrator)
                victim_gender = earlier.victim_gender
            else:
                victim_gender = Gender.MALE if rng.random() < MALE_VICTIM_SHARE else Gender.FEMALE
                victim = self.person(area, gender=victim_gender, child=False, born_before=day)
                self.contact(victim, area)
                serial = [p for p in perpetrators[area][-200:] if partners[p] < MAX_PARTNERS]
                if serial and rng.random() < SERIAL_SHARE:
                    perpetrator = rng.choice(serial)
                else:
                    perpetrator = self.new_perpetrator(area, victim_gender, day)
                    partners[perpetrator] = 0
                    perpetrators[area].append(perpetrator)
                children = []
                for _ in range(_weighted(rng, CHILDREN_WEIGHTS)):
                    child = self.person(
                        area,
                        gender=rng.choice([Gender.FEMALE, Gender.MALE]),
                        child=True,
                        born_before=day,
                    )
                    children.append(child)
                    self.relate(victim, child, RelationshipKind.PARENT)
                    roll = rng.random()
                    if roll < 0.55:
                        self.relate(perpetrator, child, RelationshipKind.PARENT)
                    elif roll < 0.75:
                        self.relate(perpetrator, child, RelationshipKind.STEP_PARENT)
                for older, younger in zip(children, children[1:], strict=False):
                    self.relate(older, younger, RelationshipKind.SIBLING)
            if (perpetrator, victim, RelationshipKind.PARTNER.value) not in self.pairs and (
                perpetrator,
                victim,
                RelationshipKind.EX_PARTNER.value,
            ) not in self.pairs:
                partners[perpetrator] = partners.get(perpetrator, 0) + 1
                if rng.random() < 0.6:
                    self.relate(perpetrator, victim, RelationshipKind.PARTNER)
                else:
                    self.relate(
                        perpetrator,
                        victim,
                        RelationshipKind.EX_PARTNER,
                        day - timedelta(days=rng.randint(10, 700)),
                    )
            facts = CaseFacts(
                case_id,
                area,
                day,
                victim,
                perpetrator,
                children,
                earlier.id if earlier else None,
                victim_gender,
            )
            self.cases.append(facts)
            window.append((day, facts))
            self.case_rows(facts, counters)

    def new_perpetrator(self, area: int, victim_gender: Gender, day: date) -> int:
        # Nearly all women are harmed by men; men who are victims, mostly by women.
        chance = 0.97 if victim_gender is Gender.FEMALE else 0.3
        male = self.rng.random() < chance
        return self.person(
            area, gender=Gender.MALE if male else Gender.FEMALE, child=False, born_before=day
        )

    def contact(self, person: int, area: int) -> None:
        rng = self.rng
        if rng.random() < 0.8:
            self.out.add(
                "contact_details",
                (
                    person,
                    f"{rng.randint(1, 240)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}, "
                    f"{self.town(area)}",
                    f"07700 9{rng.randint(0, 99999):05d}",  # the range kept for drama and tests
                    rng.random() < 0.7,
                    rng.choice(["Weekdays 9 to 3", "Mornings only", "Any time", None]),
                    rng.random() < 0.4,
                    1,
                ),
            )

    def case_rows(self, facts: CaseFacts, counters: dict[tuple[int, int], int]) -> None:
        out, rng = self.out, self.rng
        area, day = facts.area, facts.referred_on
        number = counters[(area, day.year)] = counters.get((area, day.year), 0) + 1
        police = self.agency[(area, AgencyKind.POLICE)]
        referrer = (
            police
            if rng.random() < 0.65
            else self.agency[
                (
                    area,
                    rng.choice(
                        [
                            AgencyKind.IDVA,
                            AgencyKind.HEALTH,
                            AgencyKind.CHILDRENS_SOCIAL_CARE,
                            AgencyKind.HOUSING,
                            AgencyKind.PROBATION,
                        ]
                    ),
                )
            ]
        )
        facts.referrer = referrer
        out.add("case_person", (facts.id, facts.victim, CaseRole.VICTIM.value))
        out.add("case_person", (facts.id, facts.perpetrator, CaseRole.PERPETRATOR.value))
        for child in facts.children:
            out.add("case_person", (facts.id, child, CaseRole.CHILD.value))
        score = rng.randint(14, 24) if rng.random() < 0.8 else rng.randint(8, 13)
        eligible = score >= 14 or facts.repeat_of is not None or rng.random() < 0.7
        out.add(
            "referral",
            (
                facts.id,
                facts.id,
                referrer,
                f"Officer {self.pick(self.family_names, self.cum_family)}",
                day - timedelta(days=rng.randint(0, 6)),
                "default",
                score,
                14,
                rng.randint(0, 8),
                rng.random() < 0.9,
                rng.random() < 0.6,
                eligible,
                facts.repeat_of,
                self.stamp(day),
            ),
        )
        out.add(
            "referral_criterion",
            (
                facts.id,
                Criterion.VISIBLE_HIGH_RISK.value,
                score >= 14,
                f"{score} of the factors answered yes; the threshold is 14.",
            ),
        )
        if facts.repeat_of is not None:
            out.add(
                "referral_criterion",
                (
                    facts.id,
                    Criterion.REPEAT.value,
                    True,
                    "A further incident within twelve months of the last hearing.",
                ),
            )
        if not eligible:
            facts.status = CaseStatus.NOT_ELIGIBLE
        if rng.random() < 0.6:
            self.involve(area, AgencyKind.IDVA, facts.victim, InvolvementKind.IDVA_SUPPORT, day)
        if facts.children and rng.random() < 0.5:
            for child in facts.children:
                self.involve(
                    area, AgencyKind.CHILDRENS_SOCIAL_CARE, child, InvolvementKind.CASEWORK, day
                )
        if rng.random() < 0.2:
            self.involve(
                area, AgencyKind.PROBATION, facts.perpetrator, InvolvementKind.CASEWORK, day
            )
        if rng.random() < 0.05:
            self.involve(
                area,
                AgencyKind.PERPETRATOR_PROGRAMME,
                facts.perpetrator,
                InvolvementKind.PERPETRATOR_PROGRAMME,
                day,
            )
            self.involve(
                area, AgencyKind.PARTNER_CONTACT, facts.victim, InvolvementKind.PARTNER_CONTACT, day
            )
        facts.number = number

    def relatives(self) -> None:
        """People on record outside any case (relatives, new partners, household members),
        each linked to someone known, until the people and relationship targets are met."""
        rng, sizes = self.rng, self.sizes
        kinds = [
            (RelationshipKind.SIBLING, 40),
            (RelationshipKind.PARENT, 25),
            (RelationshipKind.HOUSEHOLD_MEMBER, 20),
            (RelationshipKind.PARTNER, 10),
            (RelationshipKind.EX_PARTNER, 5),
        ]
        known = self.next_person
        extra_people = max(0, sizes.people - self.next_person)
        links_left = max(0, sizes.relationships - self.next_relationship)
        per_person = links_left / extra_people if extra_people else 0
        for _ in range(extra_people):
            anchor = rng.randint(1, known)
            area = self.person_area[anchor]
            person = self.person(
                area,
                gender=rng.choice([Gender.FEMALE, Gender.MALE]),
                child=rng.random() < 0.15,
                born_before=self.today,
            )
            links = int(per_person) + (rng.random() < per_person - int(per_person))
            for n in range(links):
                other = anchor if n == 0 else rng.randint(max(1, anchor - 50), anchor + 50)
                if other > known or self.person_area[other] != area:
                    other = anchor
                kind = _weighted(rng, kinds)
                self.relate(person, other, kind) if rng.random() < 0.5 else self.relate(
                    other, person, kind
                )
        # Anything still short is made up between known people of one area.
        while self.next_relationship < sizes.relationships:
            a = rng.randint(1, self.next_person)
            b = rng.randint(max(1, a - 30), min(self.next_person, a + 30))
            if self.person_area[a] == self.person_area[b]:
                self.relate(a, b, _weighted(rng, kinds))

    # -- meetings, information, actions

    def meetings(self) -> None:
        out, rng, sizes = self.out, self.rng, self.sizes
        out.declare(
            "meeting",
            [
                "id",
                "area_id",
                "kind",
                "starts_at",
                "referral_cutoff_on",
                "capacity",
                "minutes_per_case",
                "status",
                "chair_id",
                "current_item_id",
                "revision",
                "opened_at",
                "closed_at",
                "minutes_approved_at",
                "created_at",
                "version",
            ],
        )
        out.declare(
            "agenda_item",
            [
                "id",
                "meeting_id",
                "case_id",
                "position",
                "status",
                "started_at",
                "risk_summary",
                "review_next",
                "created_at",
                "version",
            ],
        )
        out.declare("attendance", ["meeting_id", "user_id", "agency_id", "kind", "accepted_at"])
        per_area = [
            sizes.meetings // sizes.areas + (a < sizes.meetings % sizes.areas)
            for a in range(sizes.areas)
        ]
        by_area: dict[int, list[CaseFacts]] = {}
        for facts in self.cases:
            by_area.setdefault(facts.area, []).append(facts)
        meeting_id = item_id = 0
        self.live_meetings: dict[int, int] = {}
        for area in range(1, sizes.areas + 1):
            cases = by_area.get(area, [])
            referred = [c.referred_on for c in cases]
            count = per_area[area - 1]
            # Fortnightly, the last one today (in progress); the ones before closed and approved.
            dates = [self.today - timedelta(days=14 * k) for k in range(count - 1, -1, -1)]
            reviews: list[CaseFacts] = []
            for day in dates:
                meeting_id += 1
                live = day == self.today
                cutoff = day - timedelta(days=7)
                lo = bisect.bisect_left(referred, cutoff - timedelta(days=14))
                hi = bisect.bisect_left(referred, cutoff)
                fresh = [c for c in cases[lo:hi] if c.status is not CaseStatus.NOT_ELIGIBLE]
                listed = fresh + [c for c in reviews if c not in fresh]
                reviews = []
                starts = self.stamp(day)
                chair = self.first_user(area, AgencyKind.OTHER, Role.CHAIR)
                out.add(
                    "meeting",
                    (
                        meeting_id,
                        area,
                        MeetingKind.REGULAR.value,
                        starts,
                        cutoff,
                        max(16, len(listed)),
                        12,
                        (MeetingStatus.IN_PROGRESS if live else MeetingStatus.APPROVED).value,
                        chair,
                        None,
                        0,
                        starts if live else None,
                        None if live else starts + timedelta(hours=4),
                        None if live else starts + timedelta(days=7),
                        self.stamp(day - timedelta(days=28)),
                        1,
                    ),
                )
                for position, facts in enumerate(listed, start=1):
                    item_id += 1
                    review = rng.random() < REVIEW_SHARE and not live
                    out.add(
                        "agenda_item",
                        (
                            item_id,
                            meeting_id,
                            facts.id,
                            position,
                            (AgendaStatus.LISTED if live else AgendaStatus.HEARD).value,
                            None if live else starts + timedelta(minutes=12 * position),
                            None if live else "Risks discussed; actions agreed.",
                            review,
                            starts - timedelta(days=7),
                            1,
                        ),
                    )
                    facts.heard_item = item_id
                    if live:
                        facts.status = CaseStatus.LISTED
                    else:
                        facts.heard_on = day
                        if review:
                            reviews.append(facts)
                if live:
                    self.live_meetings[area] = meeting_id
                    # Everyone with a login in the area has accepted the confidentiality statement.
                    for kind, _side, _label in AGENCIES:
                        agency_id = self.agency[(area, kind)]
                        for user in self.area_users(area, kind):
                            out.add(
                                "attendance",
                                (meeting_id, user, agency_id, AttendanceKind.MEMBER.value, starts),
                            )
        self.first_meeting_day = {
            area: self.today - timedelta(days=14 * (per_area[area - 1] - 1))
            for area in range(1, sizes.areas + 1)
        }

    def first_user(self, area: int, kind: AgencyKind, role: Role) -> int:
        return self.user_ids[usernames(area, kind, role)[0]]

    def area_users(self, area: int, kind: AgencyKind) -> list[int]:
        return [
            self.user_ids[name]
            for role, count in STAFF.get(kind, DEFAULT_STAFF)
            for name in usernames(area, kind, role, count)
        ]

    def index_users(self) -> None:
        self.user_ids: dict[str, int] = {}
        user_id = 0
        for area in range(1, self.sizes.areas + 1):
            for kind, _side, _label in AGENCIES:
                for role, count in STAFF.get(kind, DEFAULT_STAFF):
                    for username in usernames(area, kind, role, count):
                        user_id += 1
                        self.user_ids[username] = user_id

    def write_cases(self) -> None:
        """The case rows, now that meetings have decided which were heard and when."""
        rng = self.rng
        pending = []
        for facts in self.cases:
            area, day = facts.area, facts.referred_on
            if facts.heard_on is None and facts.status is CaseStatus.REFERRED:
                if day < self.first_meeting_day[facts.area] - timedelta(days=7):
                    # Heard before meetings were kept here: only the date and place remain.
                    facts.heard_on = day + timedelta(days=rng.randint(10, 24))
                elif day >= self.today - timedelta(days=7):
                    facts.status = rng.choice([CaseStatus.REFERRED, CaseStatus.ELIGIBLE])
                else:
                    facts.status = CaseStatus.ELIGIBLE
            closed_on = None
            if facts.heard_on is not None:
                closes = facts.heard_on + timedelta(days=rng.randint(60, 150))
                if closes < self.today:
                    facts.status, closed_on = CaseStatus.CLOSED, closes
                else:
                    facts.status = CaseStatus.HEARD
            reference = f"A{area:03d}-{day.year}-{facts.number:04d}"
            pending.append(
                (
                    facts.id,
                    area,
                    reference,
                    facts.status.value,
                    facts.referrer,
                    day,
                    closed_on,
                    facts.heard_on,
                    f"{self.town(area)} MARAC" if facts.heard_on else None,
                    self.stamp(day),
                    1,
                )
            )
        for row in pending:
            self.out.add("marac_case", row)

    def information_and_actions(self) -> None:
        out, rng, sizes = self.out, self.rng, self.sizes
        out.declare(
            "information_item",
            [
                "id",
                "case_id",
                "about_person_id",
                "text",
                "source",
                "nature",
                "classification",
                "withheld_reason",
                "recorded_by_agency_id",
                "recorded_by_id",
                "recorded_at",
                "agenda_item_id",
                "version",
            ],
        )
        out.declare(
            "action",
            [
                "id",
                "case_id",
                "area_id",
                "owner_agency_id",
                "owner_user_id",
                "subject",
                "subject_person_id",
                "text",
                "due_on",
                "shared_in_detail",
                "status",
                "created_by_id",
                "created_at",
                "updated_at",
                "agenda_item_id",
                "version",
            ],
        )
        out.declare(
            "action_status_change",
            [
                "action_id",
                "area_id",
                "from_status",
                "to_status",
                "note",
                "changed_by_id",
                "changed_at",
            ],
        )
        item_rate = sizes.items / max(1, len(self.cases))
        heard = [c for c in self.cases if c.heard_on is not None or c.heard_item is not None]
        action_rate = sizes.actions / max(1, len(heard))
        owners = [k for k, _s, _l in AGENCIES if k is not AgencyKind.OTHER]
        item_id = action_id = 0
        texts = [
            "Police callout to the address; injuries noted.",
            "Attended the emergency department with a head injury.",
            "Rent arrears; landlord reports noise and damage.",
            "School reports the older child is withdrawn and often late.",
            "He has a previous conviction for assault on a former partner.",
            "She has asked that contact is made only on the safe number.",
            "GP notes low mood and a recent prescription.",
            "Bail conditions: no contact with her, not to enter the street.",
        ]
        classifications = [
            (Classification.MARAC, 76),
            (Classification.SURVIVOR_CONFIDENTIAL, 12),
            (Classification.AGENCY_ONLY, 7),
            (Classification.PROGRAMME_CONFIDENTIAL, 5),
        ]
        closed_mix = [
            (ActionStatus.DONE, 85),
            (ActionStatus.NOT_DONE_CIRCUMSTANCES, 5),
            (ActionStatus.NOT_DONE_BY_AGENCY, 3),
            (ActionStatus.CANCELLED, 4),
            (ActionStatus.OPEN, 3),
        ]
        live_mix = [(ActionStatus.OPEN, 6), (ActionStatus.IN_PROGRESS, 3), (ActionStatus.DONE, 1)]
        for facts in self.cases:
            area = facts.area
            people = [
                (facts.victim, ActionSubject.VICTIM),
                (facts.perpetrator, ActionSubject.PERPETRATOR),
            ]
            people += [(child, ActionSubject.CHILD) for child in facts.children]
            base = facts.referred_on
            for _ in range(_count(rng, item_rate)):
                item_id += 1
                classification = _weighted(rng, classifications)
                if classification is Classification.SURVIVOR_CONFIDENTIAL:
                    kind, source = AgencyKind.IDVA, ItemSource.VICTIM_DISCLOSURE
                elif classification is Classification.PROGRAMME_CONFIDENTIAL:
                    kind, source = (
                        AgencyKind.PERPETRATOR_PROGRAMME,
                        ItemSource.PERPETRATOR_DISCLOSURE,
                    )
                else:
                    kind = rng.choice(owners)
                    source = (
                        ItemSource.AGENCY_RECORDS if rng.random() < 0.8 else ItemSource.THIRD_PARTY
                    )
                agency_id = self.agency[(area, kind)]
                about = rng.choice(people)[0] if rng.random() < 0.85 else None
                out.add(
                    "information_item",
                    (
                        item_id,
                        facts.id,
                        about,
                        rng.choice(texts),
                        source.value,
                        (ItemNature.FACT if rng.random() < 0.8 else ItemNature.OPINION).value,
                        classification.value,
                        "Shared only with the agency's consent: an ongoing investigation."
                        if classification is Classification.AGENCY_ONLY
                        else None,
                        agency_id,
                        rng.choice(self.staff[agency_id]) if self.staff[agency_id] else None,
                        self.stamp(base + timedelta(days=rng.randint(0, 20)), 9),
                        facts.heard_item,
                        1,
                    ),
                )
            if facts.heard_on is None and facts.heard_item is None:
                continue
            agreed = facts.heard_on or self.today
            for _ in range(_count(rng, action_rate)):
                action_id += 1
                person, subject = (
                    rng.choice(people) if rng.random() < 0.85 else (None, ActionSubject.HOUSEHOLD)
                )
                due = agreed + timedelta(days=rng.randint(7, 60))
                status = _weighted(
                    rng, closed_mix if due < self.today - timedelta(days=60) else live_mix
                )
                created = self.stamp(agreed, 11)
                updated = min(self.now, created + timedelta(days=rng.randint(0, 90)))
                owner = self.agency[(area, rng.choice(owners))]
                out.add(
                    "action",
                    (
                        action_id,
                        facts.id,
                        area,
                        owner,
                        rng.choice(self.staff[owner]) if rng.random() < 0.5 else None,
                        subject.value,
                        person,
                        f"Agreed action {action_id}: contact and review.",
                        due,
                        rng.random() < 0.2,
                        status.value,
                        None,
                        created,
                        updated,
                        facts.heard_item if facts.heard_on == agreed else None,
                        1,
                    ),
                )
                if status is not ActionStatus.OPEN:
                    out.add(
                        "action_status_change",
                        (
                            action_id,
                            area,
                            ActionStatus.OPEN.value,
                            status.value,
                            "Updated by the owner agency.",
                            None,
                            updated,
                        ),
                    )

    def vocabulary(self) -> None:
        self.out.declare("name_variant_key", ["key", "name"])
        for row in matching.vocabulary_rows(self.names):
            self.out.add("name_variant_key", (row["key"], row["name"]))


def _accumulate(values: list[float]) -> Iterable[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _weighted(rng: random.Random, choices: list[tuple[Any, int]]) -> Any:
    roll = rng.random() * sum(w for _v, w in choices)
    for value, weight in choices:
        roll -= weight
        if roll < 0:
            return value
    return choices[-1][0]


def _count(rng: random.Random, mean: float) -> int:
    """A count around ``mean`` (between half and one and a half times it), averaging to it."""
    value = rng.uniform(mean * 0.5, mean * 1.5)
    return int(value) + (rng.random() < value - int(value))


# --- the command --------------------------------------------------------------------------------


def create_schema(url: str) -> None:
    """The project's migrations, as a deployment runs them."""
    from marac import create_app
    from marac.cli import migrate_to_current
    from marac.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        migrate_to_current()
        db.session.remove()
        db.engine.dispose()


def generate(url: str, sizes: Sizes, seed: int = 1, echo: Callable[[str], None] = print) -> dict:
    from marac.extensions import db

    create_schema(url)
    engine = sa.create_engine(url)
    started = time.perf_counter()
    gen = Generator(sizes, random.Random(seed), Writer(engine, db.metadata))
    steps = [
        ("areas, agencies, users", gen.world),
        ("", gen.index_users),
        ("victims, perpetrators, children, referrals", gen.people_and_cases),
        ("relatives and other links", gen.relatives),
        ("meetings and agendas", gen.meetings),
        ("cases", gen.write_cases),
        ("information and actions", gen.information_and_actions),
        ("name vocabulary", gen.vocabulary),
        ("commit", gen.out.finish),
    ]
    for label, step in steps:
        step_started = time.perf_counter()
        step()
        if label:
            written = sum(gen.out.counts.values()) + sum(map(len, gen.out.buffers.values()))
            echo(
                f"  {label:<45} {time.perf_counter() - step_started:7.1f} s  "
                f"({written:,} rows so far)"
            )
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        analysed = time.perf_counter()
        connection.exec_driver_sql("ANALYZE")
        echo(f"  {'statistics (ANALYZE)':<45} {time.perf_counter() - analysed:7.1f} s")
    engine.dispose()
    elapsed = time.perf_counter() - started
    counts = {k: v for k, v in gen.out.counts.items() if v}
    total = sum(counts.values())
    repeats = sum(1 for c in gen.cases if c.repeat_of is not None)
    children = sum(len(c.children) for c in gen.cases)
    return {
        "counts": counts,
        "rows": total,
        "seconds": round(elapsed, 1),
        "rows_per_second": round(total / elapsed),
        "repeat_share": round(repeats / max(1, len(gen.cases)), 3),
        "children_per_case": round(children / max(1, len(gen.cases)), 2),
        "live_meetings": gen.live_meetings,
    }


def sizes_from(args: argparse.Namespace) -> Sizes:
    sizes = Sizes.at_scale(args.scale)
    for key in NATIONAL:
        value = getattr(args, key)
        if value is not None:
            setattr(sizes, key, value)
    return sizes


def prepare_database(url: str, create: bool) -> None:
    """Create the PostgreSQL database named by the URL (it must not exist yet)."""
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("postgresql") or not create:
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    admin.dispose()


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name().startswith("postgresql"):
        admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        admin.dispose()
    elif parsed.database:
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale",
        type=float,
        default=0.01,
        help="1 is national scale; the counts below override it one by one",
    )
    for key, value in NATIONAL.items():
        parser.add_argument(f"--{key}", type=int, default=None, help=f"national: {value:,}")
    parser.add_argument("--seed", type=int, default=1)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", required=True, help="an empty SQLite file or PostgreSQL database"
    )
    parser.add_argument(
        "--create", action="store_true", help="create the PostgreSQL database first"
    )
    add_size_arguments(parser)
    args = parser.parse_args(argv)
    sizes = sizes_from(args)
    prepare_database(args.database_url, args.create)
    print(f"Generating {sizes} into {make_url(args.database_url).get_backend_name()}")
    report = generate(args.database_url, sizes, args.seed)
    for table, count in report["counts"].items():
        print(f"  {table:<24} {count:>12,}")
    print(
        f"{report['rows']:,} rows in {report['seconds']} s: {report['rows_per_second']:,} rows/s; "
        f"repeats {report['repeat_share']:.0%}, children per case {report['children_per_case']}"
    )
    return report


if __name__ == "__main__":
    main()
