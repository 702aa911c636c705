"""Who gets what from every route: a truth table written by hand, and object-level checks.

The table below has one row for every (endpoint, method) of the application's URL map and one
column for every kind of user: each role of ``marac.domain.Role``, a perpetrator-programme
worker, a user of another agency, a user of another area, and nobody signed in. A route added
without a row fails ``test_every_route_has_a_row``. The world the table is read against is built
by ``world`` below; the comments there say why each user gets what.

The object-level test then takes every route with an id in its URL and, for every signed-in user,
swaps each id for one the user may not see and for one that does not exist: the two answers must
be the same (nothing tells "exists but not yours" from "does not exist"), and a 404 whenever the
user could otherwise use the route.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marac import clock
from marac.domain import (
    ActionSubject,
    AgencyKind,
    AgencySide,
    AgendaStatus,
    AttendanceKind,
    CaseStatus,
    Classification,
    DocumentKind,
    InvolvementKind,
    ItemNature,
    ItemSource,
    MeetingStatus,
    OverrideGround,
    PcTaskKind,
    ProgrammeEventKind,
    ProgrammeStatus,
    Role,
)
from marac.extensions import db
from marac.models import (
    Action,
    AgendaItem,
    Attendance,
    DisclosureOverride,
    InformationItem,
    IssuedDocument,
    Meeting,
    PartnerContactRecord,
    PcTask,
    PossibleDuplicate,
    ProgrammeEvent,
    ProgrammeRecord,
    User,
)
from marac.services import people as people_service
from tests.conftest import csrf_token, login

# --- the answers --------------------------------------------------------------------------------

L = "login"  # a redirect to the sign-in page (302, Location /login...)
G = "go"  # a redirect somewhere else (302 or 303): the request was accepted

VIEWERS = (
    "anonymous",
    "administrator",
    "coordinator",
    "chair",
    "agency_rep",
    "support_worker",
    "reviewer",
    "programme",
    "other_agency",
    "other_area",
)

# Every demo role has a column (the test below checks that no role is forgotten).
ROLE_OF_VIEWER = {
    "administrator": Role.ADMINISTRATOR,
    "coordinator": Role.COORDINATOR,
    "chair": Role.CHAIR,
    "agency_rep": Role.AGENCY_REP,
    "support_worker": Role.SUPPORT_WORKER,
    "reviewer": Role.REVIEWER,
}

Answer = int | str

# fmt: off
# Columns:                                    ann  adm  crd  chr  rep  idv  rev  prg  oth  oar
TABLE: dict[tuple[str, str], tuple[Answer, ...]] = {
    ("main.index", "GET"):                  (  L,   G,   G,   G,   G,   G,   G,   G,   G,   G),
    ("main.health", "GET"):                 (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("static", "GET"):                      (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("auth.login", "GET"):                  (200,   G,   G,   G,   G,   G,   G,   G,   G,   G),
    ("auth.login", "POST"):                 (400,   G,   G,   G,   G,   G,   G,   G,   G,   G),
    # Signing out lands on the sign-in page, like being refused: both are right.
    ("auth.logout", "POST"):                (  L,   L,   L,   L,   L,   L,   L,   L,   L,   L),
    # Setting up the second factor follows a right password in the same session; without one
    # it sends the visitor to sign in, and a signed-in user home.
    ("auth.enrol", "GET"):                  (  L,   G,   G,   G,   G,   G,   G,   G,   G,   G),
    ("auth.enrol", "POST"):                 (  L,   G,   G,   G,   G,   G,   G,   G,   G,   G),
    # Confirming it is you (an empty form is incomplete), your sign-in, new recovery codes.
    ("auth.confirm", "GET"):                (  L, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("auth.confirm", "POST"):               (  L, 400, 400, 400, 400, 400, 400, 400, 400, 400),
    ("auth.account", "GET"):                (  L, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("auth.new_recovery_codes", "POST"):    (  L, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # Case lists: everyone signed in, each filtered by the policy (admin's is empty).
    ("cases.index", "GET"):                 (  L, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("cases.index", "POST"):                (  L, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # The case: coordinator/chair (area), police (referred it), IDVA (her worker), programme
    # (works with him). Not the CSC reviewer or housing (not listed yet), admin or another area.
    ("cases.show", "GET"):                  (  L, 404, 200, 200, 200, 200, 404, 200, 404, 404),
    ("network.show", "GET"):                (  L, 404, 200, 200, 200, 200, 404, 200, 404, 404),
    ("network.picture", "GET"):             (  L, 404, 200, 200, 200, 200, 404, 200, 404, 404),
    ("actions.case_section", "GET"):        (  L, 404, 200, 200, 200, 200, 404, 200, 404, 404),
    # An empty action form: refused as incomplete (400) to those who may add actions.
    ("actions.create", "POST"):             (  L, 404, 400, 400, 400, 400, 404, 400, 404, 404),
    # The police action: a summary for coordinator and IDVA, nothing for the programme.
    ("actions.show", "GET"):                (  L, 404, 200, 200, 200, 200, 404, 404, 404, 404),
    # Only the owner agency and the chair change its status (an empty form: 400).
    ("actions.change_status", "POST"):      (  L, 404, 403, 400, 400, 403, 404, 404, 404, 404),
    # Allocating: an empty form is incomplete for those offered a choice.
    ("involvements.agencies", "GET"):       (  L, 404, 200, 200, 200, 200, 404, 200, 404, 404),
    ("involvements.agencies", "POST"):      (  L, 404, 400, 400, 400, 400, 404, 400, 404, 404),
    # Ending police's work with her: coordinator and police (chair is police) reach the
    # version check (409: no version sent); IDVA sees it but may not end it; the programme
    # may not know of it.
    ("involvements.end", "POST"):           (  L, 404, 409, 409, 409, 403, 404, 404, 404, 404),
    ("network.serial_perpetrators", "GET"): (  L, 403, 200, 200, 403, 403, 403, 403, 403, 200),
    # Action dashboards.
    ("actions.agency", "GET"):              (  L, 403, 200, 200, 200, 200, 200, 200, 200, 200),
    ("actions.due", "GET"):                 (  L, 403, 200, 200, 200, 200, 200, 200, 200, 200),
    ("actions.coordinator", "GET"):         (  L, 403, 200, 200, 403, 403, 403, 403, 403, 200),
    ("actions.children", "GET"):            (  L, 403, 403, 200, 403, 403, 200, 403, 403, 403),
    ("actions.police", "GET"):              (  L, 403, 403, 200, 403, 403, 403, 403, 403, 403),
    ("actions.outbox", "GET"):              (  L, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    # Referrals: anyone but the administrator refers; the queue is the coordinator's and chair's.
    ("referrals.new", "GET"):               (  L, 403, 200, 200, 200, 200, 200, 200, 200, 200),
    ("referrals.new", "POST"):              (  L, 403, 400, 400, 400, 400, 400, 400, 400, 400),
    ("referrals.score", "POST"):            (  L, 403, 200, 200, 200, 200, 200, 200, 200, 200),
    # No "row" named: a clear 400.
    ("referrals.matches", "POST"):          (  L, 403, 400, 400, 400, 400, 400, 400, 400, 400),
    ("referrals.queue", "GET"):             (  L, 403, 200, 200, 403, 403, 403, 403, 403, 200),
    # Person records: triage for coordinator and chair, merging for the coordinator; the
    # other area's coordinator reaches the routes but not this area's records.
    ("people.duplicates", "GET"):           (  L, 403, 200, 200, 403, 403, 403, 403, 403, 200),
    ("people.dismiss", "POST"):             (  L, 403,   G, 403, 403, 403, 403, 403, 403, 404),
    ("people.merge", "GET"):                (  L, 403, 200, 403, 403, 403, 403, 403, 403, 404),
    ("people.merge", "POST"):               (  L, 403,   G, 403, 403, 403, 403, 403, 403, 404),
    ("people.merges", "GET"):               (  L, 403, 200, 403, 403, 403, 403, 403, 403, 200),
    ("people.undo", "POST"):                (  L, 403,   G, 403, 403, 403, 403, 403, 403, 404),
    # Administration: the administrator of the area only. An empty form is incomplete (400); an
    # edit sent without the version it was made from is refused as a conflict (409).
    ("admin.agencies", "GET"):              (  L, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.new_agency", "GET"):            (  L, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.new_agency", "POST"):           (  L, 400, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.edit_agency", "GET"):           (  L, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.edit_agency", "POST"):          (  L, 409, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.users", "GET"):                 (  L, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.new_user", "GET"):              (  L, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.new_user", "POST"):             (  L, 400, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.edit_user", "GET"):             (  L, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.edit_user", "POST"):            (  L, 409, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.end_sessions", "POST"):         (  L,   G, 403, 403, 403, 403, 403, 403, 403, 403),
    # Programmes: the programme's own records; the coordinator and chair of the area read them
    # (the coordinator only what crosses). Only the programme records on them: an empty form is
    # incomplete (400). Starting a record: programmes only; no man named is a 400.
    ("programmes.index", "GET"):            (  L, 403, 200, 200, 403, 403, 403, 200, 403, 200),
    ("programmes.start", "POST"):           (  L, 403, 403, 403, 403, 403, 403, 400, 403, 403),
    ("programmes.show", "GET"):             (  L, 404, 200, 200, 404, 404, 404, 200, 404, 404),
    ("programmes.status", "POST"):          (  L, 404, 403, 403, 404, 404, 404, 400, 404, 404),
    ("programmes.attendance", "POST"):      (  L, 404, 403, 403, 404, 404, 404, 400, 404, 404),
    ("programmes.disclosure", "POST"):      (  L, 404, 403, 403, 404, 404, 404, 400, 404, 404),
    # Partner contact: her record (the IDVA is also her partner-contact worker here) opens to
    # her worker and the chair in full, to the coordinator as a summary, to nobody else. Only
    # her worker records on it (an empty form: 400; a task or reopening without the version it
    # was made from: 409). The coordinator or her worker hands her over (no worker chosen: 400).
    ("partner_contact.index", "GET"):       (  L, 403, 200, 200, 403, 200, 403, 403, 403, 200),
    ("partner_contact.show", "GET"):        (  L, 404, 200, 200, 404, 200, 404, 404, 404, 404),
    ("partner_contact.consent", "POST"):    (  L, 404, 403, 403, 404, 400, 404, 404, 404, 404),
    ("partner_contact.details", "POST"):    (  L, 404, 403, 403, 404, 400, 404, 404, 404, 404),
    ("partner_contact.contacts", "POST"):   (  L, 404, 403, 403, 404, 400, 404, 404, 404, 404),
    ("partner_contact.children", "POST"):   (  L, 404, 403, 403, 404, 400, 404, 404, 404, 404),
    ("partner_contact.task_done", "POST"):  (  L, 404, 403, 403, 404, 409, 404, 404, 404, 404),
    ("partner_contact.close", "POST"):      (  L, 404, 403, 403, 404, 400, 404, 404, 404, 404),
    ("partner_contact.reopen", "POST"):     (  L, 404, 403, 403, 404, 409, 404, 404, 404, 404),
    ("partner_contact.handover", "GET"):    (  L, 404, 200, 403, 404, 200, 404, 404, 404, 404),
    ("partner_contact.handover", "POST"):   (  L, 404, 400, 403, 404, 400, 404, 404, 404, 404),
    ("partner_contact.table", "GET"):       (  L, 404, 403, 403, 404, 200, 404, 404, 404, 404),
    ("partner_contact.table", "POST"):      (  L, 404, 403, 403, 404, 400, 404, 404, 404, 404),
    # Meetings. The world's meeting is under way, every user of the area has accepted the
    # confidentiality statement, and its one case (listed) is open to every user of the area but
    # the administrator. The other area's coordinator is not told that it exists.
    ("meetings.index", "GET"):              (  L, 403, 200, 200, 200, 200, 200, 200, 200, 200),
    # Scheduling, the agenda and running the meeting: the coordinator and the chair. An empty
    # form is incomplete (400); a change sent without the version it was made from is refused
    # (409 for the summary; closing and approving go back to the page with the message).
    ("meetings.schedule", "GET"):           (  L, 403, 200, 200, 403, 403, 403, 403, 403, 200),
    ("meetings.schedule", "POST"):          (  L, 403, 400, 400, 403, 403, 403, 403, 403, 400),
    ("meetings.show", "GET"):               (  L, 404, 200, 200, 200, 200, 200, 200, 200, 404),
    ("meetings.add_case", "POST"):          (  L, 404, 400, 400, 403, 403, 403, 403, 403, 404),
    # The meeting has started: the order is fixed, and the page says so.
    ("meetings.shift_up", "POST"):          (  L, 404,   G,   G, 403, 403, 403, 403, 403, 404),
    ("meetings.shift_down", "POST"):        (  L, 404,   G,   G, 403, 403, 403, 403, 403, 404),
    ("meetings.move", "POST"):              (  L, 404, 400, 400, 403, 403, 403, 403, 403, 404),
    # Research: everyone who may open the case records what their agency holds.
    ("meetings.research", "GET"):           (  L, 404, 200, 200, 200, 200, 200, 200, 200, 404),
    ("meetings.add_information", "POST"):   (  L, 404, 400, 400, 400, 400, 400, 400, 400, 404),
    # Her voice: her own named worker (the IDVA) and the chair.
    ("meetings.record_voice", "POST"):      (  L, 404, 403, 400, 403, 400, 403, 403, 403, 404),
    ("meetings.live", "GET"):               (  L, 404, 200, 200, 200, 200, 200, 200, 200, 404),
    ("meetings.accept", "POST"):            (  L, 404, 400, 400, 400, 400, 400, 400, 400, 404),
    ("meetings.feed", "GET"):               (  L, 404, 200, 200, 200, 200, 200, 200, 200, 404),
    # No case named: a clear 400 to those who step through the cases.
    ("meetings.take_case", "POST"):         (  L, 404, 400, 400, 403, 403, 403, 403, 403, 404),
    ("meetings.propose_action", "POST"):    (  L, 404, 400, 400, 400, 400, 400, 400, 400, 404),
    ("meetings.save_summary", "POST"):      (  L, 404, 409, 409, 403, 403, 403, 403, 403, 404),
    ("meetings.record_crime", "POST"):      (  L, 404, 400, 400, 400, 400, 400, 400, 400, 404),
    ("meetings.apologies", "POST"):         (  L, 404,   G,   G, 403, 403, 403, 403, 403, 404),
    ("meetings.close", "POST"):             (  L, 404,   G,   G, 403, 403, 403, 403, 403, 404),
    # Minutes are compiled when the meeting closes: until then, back to the meeting's page.
    ("meetings.minutes", "GET"):            (  L, 404,   G,   G,   G,   G,   G,   G,   G, 404),
    ("meetings.approve", "POST"):           (  L, 404, 403,   G, 403, 403, 403, 403, 403, 404),
    # The crimes disclosed: the chair and the police (the representative is police).
    ("meetings.crimes", "GET"):             (  L, 404, 403, 200, 200, 403, 403, 403, 403, 404),
    # Papers. The meeting's page of papers: every user of the area (each sees only the copies
    # they may read). Issuing: the coordinator only (signed in moments ago, so no asking to
    # confirm); the meeting is under way, so back to the page with the message.
    ("papers.meeting_papers", "GET"):       (  L, 404, 200, 200, 200, 200, 200, 200, 200, 404),
    ("papers.issue", "POST"):               (  L, 403,   G, 403, 403, 403, 403, 403, 403, 404),
    # The police's agency copy: the police representative and the chair (a police officer);
    # not the coordinator, another agency, a named worker, or the programme.
    ("papers.download", "GET"):             (  L, 404, 404, 200, 200, 404, 404, 404, 404, 404),
    # The agenda and the case's action plan on demand: as the meeting and the case open.
    ("papers.agenda", "GET"):               (  L, 404, 200, 200, 200, 200, 200, 200, 200, 404),
    ("papers.action_plan", "GET"):          (  L, 404, 200, 200, 200, 200, 404, 200, 404, 404),
    # Checking a file: anyone but the administrator; no file chosen is a 400.
    ("papers.verify", "GET"):               (  L, 403, 200, 200, 200, 200, 200, 200, 200, 200),
    ("papers.verify", "POST"):              (  L, 403, 400, 400, 400, 400, 400, 400, 400, 400),
    # Disabling an account (signing it out at once) and resetting its second factor: the
    # administrator of the area only (signed in moments ago, so no asking to confirm).
    ("admin.disable", "POST"):              (  L,   G, 403, 403, 403, 403, 403, 403, 403, 403),
    ("admin.reset_second_factor", "POST"):  (  L,   G, 403, 403, 403, 403, 403, 403, 403, 403),
    # Who looked at a person's record: the administrator of the area only; an empty look-up is
    # incomplete.
    ("audit_trail.person_lookup", "GET"):   (  L, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("audit_trail.person_lookup", "POST"):  (  L, 400, 403, 403, 403, 403, 403, 403, 403, 403),
    ("audit_trail.person", "GET"):          (  L, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    # Reports of an area (the URL names it): its coordinator and chair. Another area's coordinator
    # is not told it exists. Downloads need a recent sign-in, which signing in just gave.
    ("reports.dashboard", "GET"):           (  L, 403, 200, 200, 403, 403, 403, 403, 403, 404),
    ("reports.data_return", "GET"):         (  L, 403, 200, 200, 403, 403, 403, 403, 403, 404),
    ("reports.return_csv", "GET"):          (  L, 403, 200, 200, 403, 403, 403, 403, 403, 404),
    ("reports.return_pdf", "GET"):          (  L, 403, 200, 200, 403, 403, 403, 403, 403, 404),
    # The area's settings: its coordinator and its administrator. A form without the version it
    # was made from is refused as a conflict (409).
    ("reports.settings", "GET"):            (  L, 200, 200, 403, 403, 403, 403, 403, 403, 404),
    ("reports.settings", "POST"):           (  L, 409, 409, 403, 403, 403, 403, 403, 403, 404),
    # Disclosure overrides of the case: its coordinator and chair only (signed in moments ago,
    # so no asking to confirm); the others who may open the case are refused, the rest do not
    # learn it exists. An empty form is incomplete (400).
    ("overrides.new", "GET"):               (  L, 404, 200, 200, 403, 403, 404, 403, 404, 404),
    ("overrides.new", "POST"):              (  L, 404, 400, 400, 403, 403, 404, 403, 404, 404),
    ("overrides.revoke", "GET"):            (  L, 404, 200, 200, 403, 403, 404, 403, 404, 404),
    ("overrides.revoke", "POST"):           (  L, 404, 400, 400, 403, 403, 404, 403, 404, 404),
    # The cases past retention in one's own area: the coordinator and the administrator.
    ("retention.index", "GET"):             (  L, 200, 200, 403, 403, 403, 403, 403, 403, 200),
}
# fmt: on

# Requests that change what later requests see run last, sign-out very last.
RUN_LAST = (("people.merge", "POST"), ("auth.logout", "POST"))


# --- the world the table is read against ---------------------------------------------------------


@dataclass
class World:
    """Ids by kind: ``own`` fills each URL; ``hidden`` are ids of that kind a viewer may not see
    (with the viewers they are hidden from)."""

    own: dict[str, int] = field(default_factory=dict)
    # The other area's own objects, for its coordinator.
    own_south: dict[str, int] = field(default_factory=dict)
    hidden: dict[str, list[tuple[int, frozenset[str]]]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    static_file: str = "css/marac.css"

    def hide(self, kind: str, object_id: int, from_viewers: tuple[str, ...] = VIEWERS) -> None:
        self.hidden.setdefault(kind, []).append((object_id, frozenset(from_viewers)))


@pytest.fixture
def world(
    app: Flask,
    make_area: Callable[..., Any],
    make_agency: Callable[..., Any],
    make_user: Callable[..., Any],
    make_person: Callable[..., Any],
    make_case: Callable[..., Any],
    involve: Callable[..., Any],
) -> World:
    w = World()
    north = make_area(code="TN")
    police = make_agency(north, AgencyKind.POLICE, name="North Police")
    csc = make_agency(north, AgencyKind.CHILDRENS_SOCIAL_CARE, name="North CSC")
    housing = make_agency(north, AgencyKind.HOUSING, name="North Housing")
    idva = make_agency(north, AgencyKind.IDVA, AgencySide.VICTIM_FACING, name="North IDVA")
    programme = make_agency(
        north, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, name="Pathway"
    )
    team = make_agency(north, AgencyKind.OTHER, name="MARAC Team")
    w.users = {
        "administrator": make_user(Role.ADMINISTRATOR, team, username="tt-admin"),
        "coordinator": make_user(Role.COORDINATOR, team, username="tt-coord"),
        "chair": make_user(Role.CHAIR, police, username="tt-chair"),
        "agency_rep": make_user(Role.AGENCY_REP, police, username="tt-rep"),
        "support_worker": make_user(Role.SUPPORT_WORKER, idva, username="tt-idva"),
        "reviewer": make_user(Role.REVIEWER, csc, username="tt-cp"),
        "programme": make_user(Role.AGENCY_REP, programme, username="tt-prog"),
        "other_agency": make_user(Role.AGENCY_REP, housing, username="tt-housing"),
    }
    spare = make_user(Role.AGENCY_REP, housing, username="tt-spare")

    # The case: referred by police, not yet listed; the IDVA is her named worker, police work
    # with her, the programme works with him.
    victim = make_person(north, given="Lorna", family="Vell")
    man = make_person(north, given="Lyle", family="Dunmore")
    child = make_person(north, given="Lily", family="Vell")
    case = make_case(
        north, victim, (man,), (child,), status=CaseStatus.REFERRED, referring_agency=police
    )
    involve(idva, victim, InvolvementKind.IDVA_SUPPORT, worker=w.users["support_worker"])
    police_work = involve(police, victim, InvolvementKind.CASEWORK)
    involve(programme, man, InvolvementKind.PERPETRATOR_PROGRAMME)
    action = _action(case, police, ActionSubject.VICTIM, victim.id)

    # Person records for triage: a possible duplicate, two records to merge, a merge to undo.
    twin = make_person(north, given="Lorna", family="Vel")
    flag = PossibleDuplicate(
        area_id=north.id, person_id=twin.id, candidate_id=victim.id, reasons="test"
    )
    db.session.add(flag)
    kept, duplicate = make_person(north, given="Lane"), make_person(north, given="Lane")
    undo_kept, undo_dup = make_person(north, given="Leith"), make_person(north, given="Leith")
    db.session.flush()
    merge = people_service.merge_people(db.session, w.users["coordinator"], undo_kept, undo_dup)
    db.session.commit()

    # A case of the same area open only to the coordinator and chair, with its own action and
    # involvement (its ids must not work through the first case's URLs).
    lone = make_person(north, given="Leona", family="Strand")
    other_case = make_case(north, lone, status=CaseStatus.REFERRED)
    health = make_agency(north, AgencyKind.HEALTH, name="North Health")
    other_work = involve(health, lone, InvolvementKind.CASEWORK)
    other_action = _action(other_case, health, ActionSubject.HOUSEHOLD, None)

    # Another area with one of everything.
    south = make_area(code="TS")
    s_team = make_agency(south, AgencyKind.OTHER, name="South Team")
    s_police = make_agency(south, AgencyKind.POLICE, name="South Police")
    w.users["other_area"] = make_user(Role.COORDINATOR, s_team, username="tt-south")
    s_user = make_user(Role.AGENCY_REP, s_police, username="tt-south-rep")
    s_victim = make_person(south, given="Lucia", family="Farr")
    s_man = make_person(south, given="Lorcan", family="Farr")
    s_case = make_case(south, s_victim, (s_man,), status=CaseStatus.LISTED)
    s_work = involve(s_police, s_victim, InvolvementKind.CASEWORK)
    s_action = _action(s_case, s_police, ActionSubject.HOUSEHOLD, None)
    s_flag = PossibleDuplicate(
        area_id=south.id, person_id=s_man.id, candidate_id=s_victim.id, reasons="test"
    )
    db.session.add(s_flag)
    s_a, s_b = make_person(south, given="Lex"), make_person(south, given="Lex")
    s_kept, s_duplicate = make_person(south, given="Lyra"), make_person(south, given="Lyra")
    s_merge = people_service.merge_people(db.session, w.users["other_area"], s_a, s_b)
    db.session.commit()

    # His programme record; her partner-contact record (her IDVA is also her PC worker) with a
    # task from his programme; another survivor's record (no named worker) with its own task;
    # and one of each in the other area.
    programme_record = _programme(programme, man)
    her_record, her_task = _partner_contact(idva, victim, programme_record)
    involve(idva, victim, InvolvementKind.PARTNER_CONTACT, worker=w.users["support_worker"])
    lone_record, lone_task = _partner_contact(idva, lone, programme_record)
    s_programme = make_agency(
        south, AgencyKind.PERPETRATOR_PROGRAMME, AgencySide.PERPETRATOR_FACING, name="South Way"
    )
    s_service = make_agency(
        south, AgencyKind.PARTNER_CONTACT, AgencySide.VICTIM_FACING, name="South Women"
    )
    s_programme_record = _programme(s_programme, s_man)
    s_record, s_task = _partner_contact(s_service, s_victim, s_programme_record)
    # Meetings: one under way in each area, its one case listed (her second case: the IDVA is her
    # worker and the programme works with him here too); every user of the area has accepted
    # the confidentiality statement. A second meeting of the north holds a case of its own.
    listed_case = make_case(north, victim, (man,), status=CaseStatus.LISTED)
    meeting, item = _meeting(
        north, listed_case, [u for k, u in w.users.items() if k != "administrator"]
    )
    _other_meeting, other_item = _meeting(north, other_case, [])
    s_meeting, s_item = _meeting(south, s_case, [w.users["other_area"]])
    # Issued papers: the police's copy and housing's copy of the north's meeting, and the
    # south's own copy.
    police_copy = _document(meeting, police)
    housing_copy = _document(meeting, housing)
    s_copy = _document(s_meeting, s_police)
    # Overrides: her IDVA's confidential item opened to housing; one on the other case; one in
    # the other area.
    override = _override(case, idva, housing, w.users["coordinator"])
    other_override = _override(other_case, health, housing, w.users["coordinator"])
    s_override = _override(s_case, s_police, s_team, w.users["other_area"])

    w.own = {
        "area": north.id,
        "meeting": meeting.id,
        "item": item.id,
        "case": case.id,
        "action": action.id,
        "involvement": police_work.id,
        "agency": police.id,
        "user": spare.id,
        "flag": flag.id,
        "kept": kept.id,
        "duplicate": duplicate.id,
        "merge": merge.id,
        "programme": programme_record.id,
        "partner_contact": her_record.id,
        "pc_task": her_task.id,
        "document": police_copy.id,
        "override": override.id,
    }
    w.own_south = {
        "area": south.id,
        "meeting": s_meeting.id,
        "item": s_item.id,
        "case": s_case.id,
        "action": s_action.id,
        "involvement": s_work.id,
        "agency": s_police.id,
        "user": s_user.id,
        "flag": s_flag.id,
        "kept": s_kept.id,
        "duplicate": s_duplicate.id,
        "merge": s_merge.id,
        "programme": s_programme_record.id,
        "partner_contact": s_record.id,
        "pc_task": s_task.id,
        "document": s_copy.id,
        "override": s_override.id,
    }
    north_users = tuple(v for v in VIEWERS if v != "other_area")
    for kind in (
        "area",
        "meeting",
        "item",
        "case",
        "action",
        "involvement",
        "agency",
        "user",
        "flag",
        "merge",
        "programme",
        "partner_contact",
        "pc_task",
        "document",
        "override",
    ):
        w.hide(kind, w.own_south[kind], north_users)
        w.hide(kind, w.own[kind], ("other_area",))
    w.hide("person", s_a.id, north_users)
    w.hide("person", kept.id, ("other_area",))
    everyone_but_area_leads = tuple(v for v in VIEWERS if v not in ("coordinator", "chair"))
    w.hide("case", other_case.id, everyone_but_area_leads)
    # Another survivor's record: the coordinator and the chair may read it, nobody else; through
    # her record's URL, another record's task does not exist.
    w.hide("partner_contact", lone_record.id, everyone_but_area_leads)
    w.hide("pc_task", lone_task.id)
    # Through the first case's URL, the other case's action and involvement do not exist.
    w.hide("action", other_action.id)
    w.hide("involvement", other_work.id)
    # Housing's copy: only housing reads it.
    w.hide("document", housing_copy.id, tuple(v for v in VIEWERS if v != "other_agency"))
    # Through the first meeting's URL, an item of another meeting does not exist.
    w.hide("item", other_item.id)
    # Through the first case's URL, an override of the other case does not exist.
    w.hide("override", other_override.id)
    return w


def _override(case: Any, recorder: Any, opened_to: Any, by: User) -> DisclosureOverride:
    item = InformationItem(
        case_id=case.id,
        text="Her account, kept by her worker",
        source=ItemSource.VICTIM_DISCLOSURE,
        nature=ItemNature.FACT,
        classification=Classification.SURVIVOR_CONFIDENTIAL,
        recorded_by_agency_id=recorder.id,
    )
    db.session.add(item)
    db.session.flush()
    row = DisclosureOverride(
        item_id=item.id,
        agency_id=opened_to.id,
        ground=OverrideGround.HIGH_RISK_OF_HARM,
        reason="A test of the route table",
        created_by_id=by.id,
    )
    db.session.add(row)
    db.session.commit()
    return row


def _meeting(area: Any, case: Any, attendees: list[User]) -> tuple[Meeting, AgendaItem]:
    now = clock.utc_now()
    meeting = Meeting(
        area_id=area.id,
        starts_at=now,
        referral_cutoff_on=now.date(),
        status=MeetingStatus.IN_PROGRESS,
        opened_at=now,
    )
    db.session.add(meeting)
    db.session.flush()
    item = AgendaItem(
        meeting_id=meeting.id, case_id=case.id, position=1, status=AgendaStatus.LISTED
    )
    db.session.add(item)
    db.session.flush()
    meeting.current_item_id = item.id
    for user in attendees:
        db.session.add(
            Attendance(
                meeting_id=meeting.id,
                user_id=user.id,
                agency_id=user.agency_id,
                kind=AttendanceKind.MEMBER,
            )
        )
    db.session.commit()
    return meeting, item


def _document(meeting: Meeting, agency: Any) -> IssuedDocument:
    content = b"%PDF-1.4 a copy of the papers"
    row = IssuedDocument(
        area_id=meeting.area_id,
        kind=DocumentKind.AGENCY_PAPERS,
        meeting_id=meeting.id,
        recipient_agency_id=agency.id,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        protective_marking="OFFICIAL-SENSITIVE",
        content=content,
    )
    db.session.add(row)
    db.session.flush()
    row.number = f"TT-P2026-{row.id:06d}"
    db.session.commit()
    return row


def _action(case: Any, agency: Any, subject: ActionSubject, person_id: int | None) -> Action:
    row = Action(
        case_id=case.id,
        area_id=case.area_id,
        owner_agency_id=agency.id,
        subject=subject,
        subject_person_id=person_id,
        text="Visit the address with a colleague",
        due_on=clock.service_today() + timedelta(days=14),
    )
    db.session.add(row)
    db.session.commit()
    return row


def _programme(agency: Any, man: Any) -> ProgrammeRecord:
    row = ProgrammeRecord(
        area_id=agency.area_id,
        person_id=man.id,
        agency_id=agency.id,
        status=ProgrammeStatus.DROPPED_OUT,
        status_on=clock.service_today(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def _partner_contact(
    agency: Any, person: Any, programme: ProgrammeRecord
) -> tuple[PartnerContactRecord, PcTask]:
    record = PartnerContactRecord(
        area_id=agency.area_id,
        person_id=person.id,
        agency_id=agency.id,
        started_on=clock.service_today(),
    )
    event = ProgrammeEvent(
        record_id=programme.id,
        kind=ProgrammeEventKind.STATUS,
        status=ProgrammeStatus.DROPPED_OUT,
        occurred_on=clock.service_today(),
    )
    db.session.add_all([record, event])
    db.session.flush()
    task = PcTask(
        area_id=agency.area_id,
        record_id=record.id,
        event_id=event.id,
        kind=PcTaskKind.INFORM,
        due_on=clock.service_today(),
    )
    db.session.add(task)
    db.session.commit()
    return record, task


# Which kind of object each URL argument names. A new argument needs a line here.
ARGUMENT_KINDS = {
    "case_id": "case",
    "action_id": "action",
    "involvement_id": "involvement",
    "agency_id": "agency",
    "user_id": "user",
    "flag_id": "flag",
    "kept_id": "person",
    "duplicate_id": "person",
    "merge_id": "merge",
    "programme_id": "programme",
    "partner_contact_id": "partner_contact",
    "task_id": "pc_task",
    "meeting_id": "meeting",
    "item_id": "item",
    "person_id": "person",
    "area_id": "area",
    "document_id": "document",
    "override_id": "override",
}
OWN_IDS = {"kept_id": "kept", "duplicate_id": "duplicate", "person_id": "kept"}
# No such row; larger than a 32-bit id; larger than any integer a database holds.
NONEXISTENT_IDS = (987_654, 2**31, 10**25)


def _url(
    rule: Any, w: World, swap: tuple[str, int] | None = None, own: dict[str, int] | None = None
) -> str:
    own = own or w.own
    values: dict[str, Any] = {}
    for argument in rule.arguments:
        if argument == "filename":
            values[argument] = w.static_file
        else:
            values[argument] = own[OWN_IDS.get(argument, ARGUMENT_KINDS[argument])]
    if swap:
        values[swap[0]] = swap[1]
    return rule.build(values, append_unknown=False)[1]


def _rules(app: Flask) -> dict[tuple[str, str], Any]:
    found = {}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found[(rule.endpoint, method)] = rule
    return found


# --- requests -----------------------------------------------------------------------------------

# CSRF tokens carry the time they were made, and every response has its own CSP nonce: the
# only things two honest answers may differ in.
_TOKENS = re.compile(
    r'(name="csrf-token" content="|name="csrf_token" type="hidden" value="'
    r'|name="csrf_token" value="|nonce=")[^"]+'
)


def _client_for(app: Flask, w: World, viewer: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    if viewer != "anonymous":
        response = login(client, w.users[viewer].username)
        assert response.status_code == 302, f"{viewer} could not sign in"
    return client, csrf_token(client, "/login")


def _send(client: FlaskClient, method: str, url: str, token: str) -> Any:
    if method == "POST":
        response = client.post(url, data={"csrf_token": token}, headers={"X-CSRFToken": token})
    else:
        response = client.open(url, method=method)
    response.get_data()  # read whole, then closed: static files are streamed from disk
    response.close()
    return response


def _answer(response: Any) -> Answer:
    if response.status_code in (301, 302, 303):
        location = response.headers.get("Location", "")
        return L if location.startswith("/login") else G
    return response.status_code


ERROR_TITLES = {403: "Not open to you", 404: "Not found"}


def _page_problem(response: Any, answer: Answer) -> str | None:
    """A refusal must be the refusal page; a page that was allowed must not be one."""
    if not isinstance(answer, int) or response.mimetype != "text/html":
        return None
    text = response.get_data(as_text=True)
    if answer in ERROR_TITLES:
        return None if ERROR_TITLES[answer] in text else f"no '{ERROR_TITLES[answer]}' page"
    for title in ERROR_TITLES.values():
        if f"<h1>{title}</h1>" in text:
            return f"answered {answer} with a '{title}' page"
    return None


# --- the tests ----------------------------------------------------------------------------------


def test_every_route_has_a_row(app: Flask) -> None:
    routes = set(_rules(app))
    missing = sorted(routes - set(TABLE))
    stale = sorted(set(TABLE) - routes)
    assert not missing, (
        f"routes with no row in tests/test_route_truth_table.py TABLE: {missing}. "
        "Add one row per (endpoint, method), saying what each kind of user gets."
    )
    assert not stale, f"rows for routes that no longer exist: {stale}"
    assert all(len(row) == len(VIEWERS) for row in TABLE.values())


def test_every_role_has_a_column() -> None:
    assert set(ROLE_OF_VIEWER.values()) == set(Role)


def test_every_url_argument_names_a_kind_of_object(app: Flask) -> None:
    unknown = {
        (rule.endpoint, argument)
        for rule in app.url_map.iter_rules()
        for argument in rule.arguments
        if argument not in ARGUMENT_KINDS and rule.endpoint != "static"
    }
    assert not unknown, f"add these URL arguments to ARGUMENT_KINDS: {sorted(unknown)}"


def _ordered(rules: dict[tuple[str, str], Any]) -> list[tuple[tuple[str, str], Any]]:
    def position(item: tuple[tuple[str, str], Any]) -> int:
        return RUN_LAST.index(item[0]) + 1 if item[0] in RUN_LAST else 0

    return sorted(rules.items(), key=position)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_each_route_answers_each_user_as_the_table_says(
    app: Flask, world: World, viewer: str
) -> None:
    client, token = _client_for(app, world, viewer)
    column = VIEWERS.index(viewer)
    wrong = []
    for (endpoint, method), rule in _ordered(_rules(app)):
        expected = TABLE[(endpoint, method)][column]
        url = _url(rule, world)
        response = _send(client, method, url, token)
        answer = _answer(response)
        if answer != expected:
            wrong.append(f"{method} {url} ({endpoint}): expected {expected}, got {answer}")
        elif problem := _page_problem(response, answer):
            wrong.append(f"{method} {url} ({endpoint}): {problem}")
    assert not wrong, f"{viewer}:\n  " + "\n  ".join(wrong)


def _normalised(response: Any) -> str:
    return _TOKENS.sub(r"\1TOKEN", response.get_data(as_text=True))


REACHED = {200, 400, 409, G}


@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v != "anonymous"])
def test_no_object_is_reached_by_changing_an_id(app: Flask, world: World, viewer: str) -> None:
    client, token = _client_for(app, world, viewer)
    column = VIEWERS.index(viewer)
    own = world.own_south if viewer == "other_area" else world.own
    leaks = []
    checked = 0
    for (endpoint, method), rule in _ordered(_rules(app)):
        if (endpoint, method) == ("auth.logout", "POST"):
            continue
        for argument in sorted(rule.arguments - {"filename"}):
            kind = ARGUMENT_KINDS[argument]
            hidden_ids = [
                i for i, hidden_from in world.hidden.get(kind, []) if viewer in hidden_from
            ]
            for object_id, absent_id in itertools.product(hidden_ids, NONEXISTENT_IDS):
                absent_url = _url(rule, world, (argument, absent_id), own)
                url = _url(rule, world, (argument, object_id), own)
                # The same request before each, so both pages show what the one before left
                # (a flashed message) and nothing else differs.
                _send(client, method, absent_url, token)
                hidden = _send(client, method, url, token)
                absent = _send(client, method, absent_url, token)
                checked += 1
                where = f"{method} {url} ({endpoint}, {argument})"
                if hidden.status_code not in (403, 404):
                    leaks.append(f"{where}: answered {hidden.status_code}")
                elif TABLE[(endpoint, method)][column] in REACHED and hidden.status_code != 404:
                    leaks.append(f"{where}: {hidden.status_code}, expected 404")
                if (hidden.status_code, _normalised(hidden)) != (
                    absent.status_code,
                    _normalised(absent),
                ):
                    leaks.append(
                        f"{where}: differs from an id that does not exist "
                        f"({hidden.status_code} vs {absent.status_code})"
                    )
    assert checked > 20
    assert not leaks, f"{viewer}:\n  " + "\n  ".join(leaks)
