"""Test fixtures: a database per run, a clean one per test, factories, and a real-route login.

Tests run on SQLite by default. With MARAC_TEST_DATABASE_URL set (a PostgreSQL server URL), each
run creates its own databases on that server and drops them at the end, so runs never share
state.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from marac import MIGRATIONS_DIR, clock, create_app, twofactor
from marac.domain import (
    AgencyKind,
    AgencySide,
    CaseRole,
    CaseStatus,
    Classification,
    Gender,
    InvolvementKind,
    ItemNature,
    ItemSource,
    RelationshipKind,
    Role,
)
from marac.extensions import db
from marac.models import (
    Action,
    Agency,
    Area,
    Case,
    CasePerson,
    ContactDetails,
    InformationItem,
    Involvement,
    Person,
    PersonAlias,
    PossibleDuplicate,
    Relationship,
    SharingConsent,
    SignInState,
    User,
)
from marac.models.audit import create_append_only_triggers, drop_append_only_triggers
from marac.seeding import load_demo
from marac.services import accounts, reminders

PASSWORD = "correct horse battery staple"
# Every factory user's authenticator secret (base32), unless a test asks for an unenrolled one.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TEST_DATABASE_SERVER = os.environ.get("MARAC_TEST_DATABASE_URL")


# --- databases ---------------------------------------------------------------------------------


class DatabaseFactory:
    """Creates throwaway databases: files for SQLite, real databases on a PostgreSQL server."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.created: list[str] = []
        self.run_id = uuid.uuid4().hex[:8]

    def new(self, label: str) -> str:
        if not TEST_DATABASE_SERVER:
            return f"sqlite:///{self.tmp_dir / f'{label}.sqlite3'}"
        server = make_url(TEST_DATABASE_SERVER)
        name = f"marac_test_{self.run_id}_{label}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = sa.create_engine(make_url(TEST_DATABASE_SERVER), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.drop_all()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a fresh context, as it does in production.

    Without this, a request made while a test holds an app context reuses that context, and with
    it ``g``: the signed-in user, the viewer and the CSRF token would carry over from one
    request (or one user) to the next and hide real bugs.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_test_app(database_url: str, **overrides: Any) -> Flask:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, **overrides})
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def another_app(test_database: str) -> Iterator[Callable[..., Flask]]:
    """A second app on the test database with other settings; its connections closed after."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        made.append(make_test_app(test_database, **overrides))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def test_database(databases: DatabaseFactory) -> str:
    url = databases.new("main")
    app = make_test_app(url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        # TRUNCATE does not fire the audit trail's row triggers.
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # The audit trail refuses deletes; a fresh test database is the one exception.
        connection = db.session.connection()
        drop_append_only_triggers(connection)
        for table in tables:
            db.session.execute(table.delete())
        create_append_only_triggers(connection)
    db.session.commit()


@pytest.fixture
def app(test_database: str) -> Iterator[Flask]:
    app = make_test_app(test_database)
    with app.app_context():
        _empty_all_tables()
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- the demo, shared by the leak, header and audit tests -----------------------------------------
# Session fixtures live here, not in a test module: imported into a second module, pytest would
# build a second demo under the same database name.


@pytest.fixture(scope="session")
def demo_app(databases: DatabaseFactory) -> Iterator[Flask]:
    """The demo, loaded once through the migrations, as the demo command loads it."""
    from flask_migrate import upgrade

    app = make_test_app(databases.new("demo"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        load_demo(db.session, accounts.hash_password(PASSWORD))
        reminders.queue_reminders(db.session, "https://marac.example")
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def demo_usernames(demo_app: Flask) -> list[str]:
    with demo_app.app_context():
        return list(db.session.scalars(sa.select(User.username).order_by(User.username)))


@pytest.fixture(scope="session")
def demo_merge_pairs(demo_app: Flask) -> list[tuple[int, int]]:
    """The possible duplicates the demo raises, as (known record, new record)."""
    with demo_app.app_context():
        return [
            (flag.candidate_id, flag.person_id)
            for flag in db.session.scalars(sa.select(PossibleDuplicate))
        ]


@pytest.fixture(scope="session")
def demo_case_ids(demo_app: Flask) -> list[int]:
    with demo_app.app_context():
        return list(db.session.scalars(sa.select(Case.id).order_by(Case.id)))


@pytest.fixture(scope="session")
def demo_action_ids(demo_app: Flask) -> list[tuple[int, int]]:
    with demo_app.app_context():
        return [tuple(row) for row in db.session.execute(sa.select(Action.case_id, Action.id))]


# --- query counting ------------------------------------------------------------------------------


@dataclass
class QueryCount:
    count: int = 0


@contextmanager
def count_queries() -> Iterator[QueryCount]:
    counter = QueryCount()

    def on_execute(*_args: Any) -> None:
        counter.count += 1

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)


# --- factories -----------------------------------------------------------------------------------
# Each returns a callable that builds one record and commits it, so that requests made through the
# test client (which run in their own session) see it.

_sequence = itertools.count(1)


@pytest.fixture
def make_area(app: Flask) -> Callable[..., Area]:
    def make(code: str | None = None, name: str | None = None) -> Area:
        n = next(_sequence)
        area = Area(code=code or f"A{n}", name=name or f"Area {n}")
        db.session.add(area)
        db.session.commit()
        return area

    return make


@pytest.fixture
def make_agency(app: Flask, make_area: Callable[..., Area]) -> Callable[..., Agency]:
    def make(
        area: Area | None = None,
        kind: AgencyKind = AgencyKind.POLICE,
        side: AgencySide = AgencySide.NEUTRAL,
        name: str | None = None,
    ) -> Agency:
        agency = Agency(
            area_id=(area or make_area()).id,
            name=name or f"Agency {next(_sequence)}",
            kind=kind,
            side=side,
        )
        db.session.add(agency)
        db.session.commit()
        return agency

    return make


@pytest.fixture
def make_user(app: Flask, make_agency: Callable[..., Agency]) -> Callable[..., User]:
    password_hash = accounts.hash_password(PASSWORD)

    def make(
        role: Role = Role.AGENCY_REP,
        agency: Agency | None = None,
        username: str | None = None,
        enrolled: bool = True,
        **fields: Any,
    ) -> User:
        user = User(
            username=username or f"user{next(_sequence)}",
            display_name=fields.pop("display_name", "Test User"),
            role=role,
            agency_id=(agency or make_agency()).id,
            password_hash=fields.pop("password_hash", password_hash),
            **fields,
        )
        if enrolled:
            user.sign_in = SignInState(
                totp_secret=TOTP_SECRET,
                totp_confirmed_at=datetime(2026, 1, 1, tzinfo=UTC),
                failed_attempts=0,
            )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_person(app: Flask) -> Callable[..., Person]:
    def make(
        area: Area,
        given: str = "Test",
        family: str | None = None,
        dob: date | None = date(1990, 1, 1),
        gender: Gender = Gender.NOT_KNOWN,
        aliases: tuple[str, ...] = (),
        contact: dict[str, Any] | None = None,
    ) -> Person:
        person = Person(
            area_id=area.id,
            given_name=given,
            family_name=family or f"Person{next(_sequence)}",
            date_of_birth=dob,
            gender=gender,
            aliases=[PersonAlias(name=a) for a in aliases],
        )
        if contact is not None:
            person.contact = ContactDetails(**contact)
        db.session.add(person)
        db.session.commit()
        return person

    return make


@pytest.fixture
def make_case(app: Flask) -> Callable[..., Case]:
    def make(
        area: Area,
        victim: Person,
        perpetrators: tuple[Person, ...] = (),
        children: tuple[Person, ...] = (),
        others: tuple[Person, ...] = (),
        status: CaseStatus = CaseStatus.LISTED,
        referring_agency: Agency | None = None,
        referred_on: date = date(2026, 10, 1),
    ) -> Case:
        case = Case(
            area_id=area.id,
            reference=f"{area.code}-T-{next(_sequence):05d}",
            status=status,
            referring_agency_id=referring_agency.id if referring_agency else None,
            referred_on=referred_on,
        )
        members = [(CaseRole.VICTIM, victim)]
        members += [(CaseRole.PERPETRATOR, p) for p in perpetrators]
        members += [(CaseRole.CHILD, p) for p in children]
        members += [(CaseRole.OTHER_ADULT, p) for p in others]
        for role, person in members:
            case.members.append(CasePerson(person_id=person.id, role=role))
        db.session.add(case)
        db.session.commit()
        return case

    return make


@pytest.fixture
def make_item(app: Flask) -> Callable[..., InformationItem]:
    def make(
        case: Case,
        agency: Agency,
        text: str,
        about: Person | None = None,
        classification: Classification = Classification.MARAC,
        source: ItemSource = ItemSource.AGENCY_RECORDS,
        by: User | None = None,
        withheld_reason: str | None = None,
    ) -> InformationItem:
        item = InformationItem(
            case_id=case.id,
            about_person_id=about.id if about else None,
            text=text,
            source=source,
            nature=ItemNature.FACT,
            classification=classification,
            withheld_reason=withheld_reason
            or ("Held for a test." if classification is Classification.AGENCY_ONLY else None),
            recorded_by_agency_id=agency.id,
            recorded_by_id=by.id if by else None,
            recorded_at=datetime(2026, 10, 2, 12, tzinfo=UTC),
        )
        db.session.add(item)
        db.session.commit()
        return item

    return make


@pytest.fixture
def involve(app: Flask) -> Callable[..., Involvement]:
    def make(
        agency: Agency,
        person: Person,
        kind: InvolvementKind = InvolvementKind.CASEWORK,
        worker: User | None = None,
        ended_on: date | None = None,
    ) -> Involvement:
        involvement = Involvement(
            agency_id=agency.id,
            person_id=person.id,
            worker_id=worker.id if worker else None,
            kind=kind,
            started_on=date(2026, 1, 1),
            ended_on=ended_on,
        )
        db.session.add(involvement)
        db.session.commit()
        return involvement

    return make


@pytest.fixture
def consent(app: Flask) -> Callable[..., SharingConsent]:
    def make(
        person: Person,
        agency: Agency,
        disclosures: bool = False,
        contact: bool = False,
        withdrawn_on: date | None = None,
    ) -> SharingConsent:
        row = SharingConsent(
            person_id=person.id,
            agency_id=agency.id,
            covers_disclosures=disclosures,
            covers_contact=contact,
            given_on=date(2026, 1, 1),
            withdrawn_on=withdrawn_on,
        )
        db.session.add(row)
        db.session.commit()
        return row

    return make


@pytest.fixture
def relate(app: Flask) -> Callable[..., Relationship]:
    def make(
        person: Person,
        other: Person,
        kind: RelationshipKind,
        separated_on: date | None = None,
    ) -> Relationship:
        row = Relationship(
            person_id=person.id, other_person_id=other.id, kind=kind, separated_on=separated_on
        )
        db.session.add(row)
        db.session.commit()
        return row

    return make


# --- signing in ----------------------------------------------------------------------------------

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# Values drawn at random for each response. A short name searched for in a leak test can turn
# up inside one of them by chance ("Leo" in a nonce), so leak tests search the page without them.
_RANDOM_VALUES = re.compile(
    r'(nonce="|<meta name="csrf-token" content="|name="csrf_token" value=")[^"]*"'
)


def page_text(response: Any) -> str:
    """The page as served, with the per-response random values (nonces, CSRF tokens) blanked."""
    return _RANDOM_VALUES.sub(r'\1"', response.get_data(as_text=True))


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path, follow_redirects=True)
    match = _CSRF_META.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def fresh_code(app: Flask, username: str) -> str:
    """The user's current authenticator code, as their phone would show it ("" if none).

    Each code is accepted once. A person signing in again within 30 seconds waits for the next
    code; the test forgets which code was used last instead of waiting.
    """
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None or user.sign_in is None or not user.sign_in.enrolled:
            return ""
        user.sign_in.totp_last_step = None
        db.session.commit()
        # The service's clock, which some tests fix: the phone agrees with the server.
        return twofactor.current_code(user.sign_in.totp_secret or "", clock.utc_now())


def login(
    client: FlaskClient, username: str, password: str = PASSWORD, code: str | None = None
) -> Any:
    """Signs in through the real form: username, password and the current code."""
    token = csrf_token(client)
    if code is None:
        code = fresh_code(client.application, username)
    return client.post(
        "/login",
        data={"username": username, "password": password, "code": code, "csrf_token": token},
    )


def post_form(client: FlaskClient, path: str, data: dict[str, Any], token_from: str = "/") -> Any:
    """POST a form the way a browser does: with the CSRF token from a page of the service."""
    token = csrf_token(client, token_from)
    return client.post(path, data={**data, "csrf_token": token})


@pytest.fixture
def signed_in(client: FlaskClient) -> Callable[[User], FlaskClient]:
    def sign_in(user: User) -> FlaskClient:
        db.session.commit()
        response = login(client, user.username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in
