"""THE disclosure policy: who may see what. Every screen, fragment, PDF, graph and export asks here.

Each question takes the viewer explicitly (``marac.viewer.Viewer``) and the viewer's links to the
case (``marac.viewer.CaseLinks``), never the request, and answers FULL, SUMMARY (may know it exists,
in the safe wording given) or WITHHELD, with a reason. Anything the rules do not name is WITHHELD.

The rules, in the order they are applied
----------------------------------------

Opening a case
  - Only users of the case's own area. Administrators manage accounts, not cases.
  - Coordinator and chair: every case of their area.
  - Perpetrator-facing agencies (behaviour-change programmes): only cases in which their agency
    works with a perpetrator of that case.
  - IDVA / partner-contact workers: only cases of people they are the named worker for, so that one
    partner's worker never reaches another partner's case.
  - Agency representatives and reviewers: cases on an agenda (listed, heard, closed), and cases
    their agency referred or works with.

Who is in the case (names, dates of birth, aliases), who referred, which agencies are involved
  - Perpetrator-facing agencies see in full only the perpetrators they work with; the victim as
    "the victim" without identity; nobody else at all (even a new partner's existence can leak);
    not who referred, and no other agency's involvement (either could reveal her engagement).
  - A relationship is shown only when both people in it are shown in full.
  - Everyone who may open the case sees the rest in full.

Address and safe contact details
  - A perpetrator's: everyone who may open the case, except a perpetrator-facing agency that does
    not work with him.
  - Anyone else's (victim, child, other adult): the chair, the survivor's own named IDVA/PC worker,
    and agencies she agreed may have them (her agreement covers her children's). Other MARAC
    agencies learn only that they are held; perpetrator-facing agencies learn nothing.

Equality monitoring (a person's ethnic group, sexual orientation, trans history, disability)
  - Special-category data, asked on the referral form and never required. Shown on screen to the
    coordinator and the chair of the area, the agency that made the referral, and the person's own
    named IDVA/PC worker (her worker also for her children), when they may see the person in full.
  - Nobody else sees it, not even that it was recorded: perpetrator-facing agencies never.
  - It leaves the service only as counts in the quarterly return, small numbers suppressed.

Information items, by classification
  - Perpetrator-facing agencies: their own records in full; items shared with the MARAC about a man
    they work with, from agency records or his own disclosures, in full; nothing from or about her
    (victim disclosures and survivor-confidential items are absent); anything else only as "other
    agencies hold risk information".
  - Shared with the MARAC: everyone who may open the case.
  - Survivor confidential: the chair, the survivor's own worker, the worker who recorded it,
    agencies she agreed to, and agencies named in an override; others learn only that it exists.
  - Programme confidential (his disclosures in a programme): the programme and the chair; others
    learn only "the programme recorded a disclosure on <date>", never his words.
  - Held by the agency, not shared: that agency only; others see the agency and its stated reason.
  - An override opens one named item to one named agency; never to a perpetrator-facing agency.
  - Overrides are recorded, revoked and listed (item, agency, ground, reason, who, when) by the
    coordinator and the chair of the area; nobody else learns that an override exists, beyond
    the opened item itself for the agency it names.

Referrals
  - Any signed-in user of an area may refer, except administrators. What they see afterwards is
    whatever the rules above open to them (an agency may open the cases it referred).
  - The referral's summary (which criteria are met, the score, the call-out count, the repeat):
    everyone who may open the case, except perpetrator-facing agencies (it is her risk picture).
  - The referral's detail (each checklist answer, the professional-judgement reason, whether she
    knows and consented, the reason for sharing without her consent, the referring officer): the
    coordinator, the chair, the referring agency and her own named worker. Other MARAC agencies
    learn only that it is held by the coordinator; perpetrator-facing agencies learn nothing.
  - Her safe contact details from the referral (safe phone and times, who she fears, who is and
    is not safe to speak to) are contact details: the rule above applies.
  - The referral queue and possible duplicates: the coordinator and the chair of the area.

Match candidates (people offered while a name is typed)
  - Offering a person confirms that they are known, so it is disclosure. The coordinator and the
    chair are offered every match in their area; anyone else only people whose identity they may
    already see in full in a case they may open. A perpetrator-facing agency is therefore never
    offered a victim, a child or another adult. Administrators are offered nobody.
  - Only the area's coordinator merges two person records, and may undo a merge.

The network around a case (the picture, its text list and what the network finds)
  - Only for a viewer who may open the case. Each person in the network is:
    FULL (name and role) when the viewer may see that person's identity in full in some case the
    viewer may open; for the coordinator and chair, also anyone on their area's records;
    SUMMARY (anonymised, with a safe label and nothing else) when the person is risk information
    the viewer may know exists; WITHHELD (absent, with every link touching them) otherwise.
  - Viewers who are not perpetrator-facing see as SUMMARY the perpetrators' other current and former
    partners ("Another partner") and the children exposed to the perpetrators ("A child") whom
    they may not see in full: a partner's PC worker learns that another partner exists, never
    who she is, where she is or anything about her. Everyone else they may not see is WITHHELD.
  - Perpetrator-facing viewers see in full only the men they work with; the victims of cases they
    may open only as "The victim" (no name, no location); nothing else: no children, no other
    adults, no other partner, and no agency but their own.
  - A relationship is shown when both people are shown (FULL or SUMMARY); it carries dates only
    when both are FULL (a separation date can point to her). Perpetrator-facing viewers, as on the
    case page, see a relationship only between two people shown in full: not whether "the victim"
    is his partner or his ex-partner.
  - An agency's involvement with a person is shown as ``involvement`` decides: only for a person
    shown in full, and to perpetrator-facing viewers only their own agency's.
  - A linked case is listed when the viewer may open it. Otherwise viewers who are not
    perpetrator-facing learn only how many other cases they cannot open; perpetrator-facing
    viewers learn nothing of them.
  - An explaining path is shown only when every person on it is shown, and it names them by the
    label shown (anonymised labels, never hidden names); a case on it that the viewer may not open
    reads "another case you cannot open".
  - Who must be offered partner contact is never shown to perpetrator-facing agencies.

Allocating agencies and workers (the case page's "Agencies involved")
  - The coordinator of the area may allocate any agency of the area; any other user may allocate
    only their own agency. Either only for a person they may see in full in a case they may open,
    and never an administrator. The same rule ends an involvement.
  - What may be allocated (a worker who works with a man is never the PC worker of his partners;
    each partner of the same man has her own worker) is checked by ``marac.services.allocation``.

The serial-perpetrator scan of the whole area
  - The coordinator and chair of the area (never a perpetrator-facing agency's user).

Meetings (the agenda, research, the live meeting, the minutes)
  - Any user of the area but an administrator may see the area's meetings (dates, status).
  - The agenda lists only the cases the viewer may open, by identifiers as the rules on who is in
    the case allow; viewers who are not perpetrator-facing also learn how many other cases are
    listed. The coordinator and the chair schedule meetings, build and order the agenda, move a
    case to a later meeting (the reason is theirs to read), take apologies and run the meeting;
    only the chair approves the minutes.
  - Research: anyone who may open a listed case records what their agency holds about it, as
    information items (the rules above). Programme-confidential items only from a
    perpetrator-facing agency; survivor-confidential ones never from one.
  - The victim's voice: recorded by her own named worker (or the chair). Her views and wishes are
    read as a survivor-confidential item (the chair, her own worker, the recorder, agencies she
    agreed may see her disclosures; others learn only that her worker holds them); what she agrees
    may be shared is read by everyone who may open the case. Perpetrator-facing agencies learn
    nothing of it, not even whether it is recorded.
  - The live meeting shows nothing about any case to a user who has not accepted the
    confidentiality statement for that meeting, observers included.
  - The chair's summary of risks: everyone who may open the case; perpetrator-facing agencies only
    "other agencies hold risk information".
  - Crimes disclosed at the meeting: the chair and users of the area's police agencies who may open
    the case; everyone else who may open it and is not perpetrator-facing learns how many.

Papers (the PDFs the service issues)
  - Every PDF is built from what the policy gives its reader, by the rules above: nothing
    withheld is in the file at all.
  - After a meeting whose minutes are approved, the area's coordinator issues the papers: one
    copy per attending agency, written for that agency's representative (the rules above for an
    agency representative with no personal links: no named worker's survivors, nothing recorded
    by one person), and the chair's complete copy.
  - An agency copy is read by the users of that agency whose own reading covers it: its
    representatives and reviewers (and its coordinator or chair). Named survivor workers read
    only their own survivors' cases, so they never read an agency copy. The chair's copy: the
    area's chairs. A PDF made on demand (the agenda, a case's action plan): the user it was
    made for, by that user's own reading.
  - Checking a file against the issued documents: anyone of the area but the administrator.
    The coordinator and the chair, and whoever may read the document, learn its number, its
    recipient, who issued it and when; others of the area only that it is genuine; a document
    of another area is answered as a file the service never issued.

Actions (agreed at or outside a meeting; one owner agency each)
  - Nothing about an action is shown without access to its case.
  - Perpetrator-facing agencies: their own agency's actions in full, and nothing else at all, not
    even that another agency has an action (an action about her would tell him she has help).
  - Everyone else who may open the case: the owner agency's users, the chair, and (for an action
    marked shared in detail) every such viewer read it in full; so does a child-protection
    reviewer (a reviewer of a children's social care agency) for an action about a child.
  - Anyone else who may open the case (the coordinator included) sees only the summary
    "Action for <owner agency> (due <date>)", its status and when it was last updated: never the
    text, the named owner, whom it is about or the notes of its history.
  - The history's notes, who changed it and when, follow the action: full only.
  - The person an action is about is labelled as ``person_identity`` allows: an anonymised person
    by the anonymous label, a withheld one never named ("someone in the case").
  - Creating an action: agency representatives, reviewers, the chair, the coordinator and survivor
    workers who may open the case; a perpetrator-facing agency only for itself.
  - Changing its status: the owner agency's users and the chair, when they read it in full.
  - Dashboards: my agency's actions and the due list for everyone but administrators; across
    agencies for the coordinator and the chair; children for child-protection reviewers and the
    chair; police liaison for police reviewers (a reviewer of a police agency) and the chair.
    Every row on them is an action decision. The reviewers' "cases with no action about a child /
    about him" lists say only that no such action exists, which those reviewers may read anyway.

Reports (the quarterly data return and the area dashboard)
  - The coordinator and the chair of the area: the return on screen, its downloads (CSV, PDF),
    and the dashboard. They hold counts only, never a name or a case reference.
  - The area's settings for the dashboard (adult female population, IDVA full-time
    equivalents): the coordinator and the administrator of the area may change them; the
    administrator sees nothing else of the reports (they are counts of cases).
  - Nobody of another area, and nobody else of the area (agency representatives, reviewers,
    workers, perpetrator-facing agencies).
  - Downloads leave the service: counts from 1 to 5 are shown as "5 or fewer", and totals that
    would give a suppressed count back by subtraction are suppressed too (docs/reporting.md).

Perpetrator programmes (his programme record: status, attendance, disclosures, concerns)
  - The programme agency that keeps the record: in full, and it alone records on it.
  - The chair: in full. Another perpetrator-facing agency: nothing.
  - The coordinator: each event only in the wording that crosses to his partners' workers
    (below), never his words or the facilitator's notes. Nobody else sees the record.
  - What crosses to a partner's worker, and only on her own partner-contact record: the minimum.
    A change of status with its date and, when known, the category of reason (practice: she is
    told if he drops out or is suspended, and why); attendance; "he disclosed violence or abuse
    on <date>" and whether his disclosure may be cited as the source when risk is passed on;
    "the programme raised a concern on <date>". Never his words, never the notes.

Partner contact (her record with her partner-contact worker)
  - Her own current named PC worker: in full, and only she or he works on it. The chair: in
    full, to read.
  - The coordinator of the area: only that the record exists, who her worker is and what tasks
    are due (to chase them and to allocate a worker); never her consent, her contact details,
    the contact log, what she said, her safety plan or her children.
  - Anyone else, another partner's worker and every perpetrator-facing agency included:
    nothing, not even that she has a record (her engagement is hers).
  - A task is shown as its record is; to the coordinator as "Task for <worker> (due <date>)".
  - Handing her over to another worker: the coordinator, or her current worker. The new worker
    must pass the allocation rules (``marac.services.allocation``).
  - The programme list: a perpetrator-facing agency its own records; the coordinator and the
    chair every record of the area. The partner-contact work list: survivor workers (their own
    records), the coordinator and the chair (the overview of the area, including partners with
    no named worker).

Retention
  - The list of closed cases past the retention period (references and dates, no personal
    data), for review before deletion: the coordinator and the administrator of the area.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING

import sqlalchemy as sa

from marac.domain import (
    STATUSES_SHARED_WITH_AGENCIES,
    SURVIVOR_WORKER_KINDS,
    ActionDashboard,
    ActionSubject,
    AgencyKind,
    CaseRole,
    Classification,
    DocumentKind,
    InvolvementKind,
    ItemSource,
    ProgrammeEventKind,
    ProgrammeStatus,
    Role,
    StatusReason,
)

if TYPE_CHECKING:
    from marac.viewer import CaseLinks, Viewer


class Level(Enum):
    FULL = "full"
    SUMMARY = "summary"
    WITHHELD = "withheld"


@dataclass(frozen=True)
class Decision:
    level: Level
    reason: str
    # The safe wording shown in place of the thing itself; set only for SUMMARY.
    summary: str | None = None

    @property
    def full(self) -> bool:
        return self.level is Level.FULL

    @property
    def withheld(self) -> bool:
        return self.level is Level.WITHHELD


def _full(reason: str) -> Decision:
    return Decision(Level.FULL, reason)


def _summary(reason: str, wording: str) -> Decision:
    return Decision(Level.SUMMARY, reason, wording)


def _withheld(reason: str) -> Decision:
    return Decision(Level.WITHHELD, reason)


@dataclass(frozen=True)
class ItemFacts:
    """What the policy needs to know about an information item (never its text)."""

    id: int
    about_person_id: int | None
    source: ItemSource
    classification: Classification
    recorded_by_agency_id: int
    recorded_by_agency_name: str
    recorded_by_id: int | None
    recorded_on: date
    withheld_reason: str | None = None


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


OTHER_AGENCIES_HOLD_RISK = "Other agencies hold risk information about this case."
CONTACT_HELD_ELSEWHERE = "Contact details are held by her own worker. Ask them to make contact."
SURVIVOR_ITEM_EXISTS = "Her own worker holds information she has not agreed to share with you."


# ---------------------------------------------------------------------------------------------
# Opening a case


def case_access(viewer: Viewer, links: CaseLinks) -> Decision:
    if viewer.area_id != links.area_id:
        return _withheld("case of another area")
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    # Before any role: a perpetrator-facing agency's users are limited whatever their role.
    if viewer.perpetrator_facing:
        if links.agency_works_with & links.with_role(CaseRole.PERPETRATOR):
            return _full("agency works with the perpetrator")
        return _withheld("perpetrator-facing agency not working with this perpetrator")
    if viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return _full(f"{viewer.role.label} of the area")
    if viewer.role is Role.SUPPORT_WORKER:
        if links.allocated:
            return _full("named worker for someone in the case")
        return _withheld("not the named worker for anyone in the case")
    if viewer.role in (Role.AGENCY_REP, Role.REVIEWER):
        if links.status in STATUSES_SHARED_WITH_AGENCIES:
            return _full("case is on an agenda of the area")
        if links.referring_agency_id == viewer.agency_id:
            return _full("agency made the referral")
        if links.agency_works_with:
            return _full("agency works with someone in the case")
        return _withheld("case not yet listed for a meeting")
    return _withheld("role not covered by the policy")


# ---------------------------------------------------------------------------------------------
# Who is in the case

_ANONYMOUS_LABELS = {CaseRole.VICTIM: "The victim"}


def person_identity(viewer: Viewer, links: CaseLinks, person_id: int) -> Decision:
    role = links.roles.get(person_id)
    if role is None or not case_access(viewer, links).full:
        return _withheld("not in a case the viewer may open")
    if viewer.perpetrator_facing:
        if role is CaseRole.PERPETRATOR and person_id in links.agency_works_with:
            return _full("perpetrator the agency works with")
        if role in _ANONYMOUS_LABELS:
            return _summary(
                "identity withheld from perpetrator-facing agency", _ANONYMOUS_LABELS[role]
            )
        return _withheld("not shown to perpetrator-facing agencies")
    return _full("may open the case")


def relationship(viewer: Viewer, links: CaseLinks, person_id: int, other_id: int) -> Decision:
    """A relationship is about both people: shown only when the viewer may see both in full."""
    if (
        person_identity(viewer, links, person_id).full
        and person_identity(viewer, links, other_id).full
    ):
        return _full("both people are shown")
    return _withheld("one of the people is not shown in full")


def referral_source(viewer: Viewer, links: CaseLinks) -> Decision:
    """Which agency referred. A referral by a victim's service would tell his side she engages."""
    if not case_access(viewer, links).full:
        return _withheld("not in a case the viewer may open")
    if viewer.perpetrator_facing and links.referring_agency_id != viewer.agency_id:
        return _withheld("would reveal her engagement with services")
    return _full("may open the case")


def involvement(viewer: Viewer, links: CaseLinks, person_id: int, agency_id: int) -> Decision:
    """Whether the viewer may know that an agency works with a person in the case."""
    return involvement_given_identity(viewer, person_identity(viewer, links, person_id), agency_id)


def involvement_given_identity(viewer: Viewer, identity: Decision, agency_id: int) -> Decision:
    """The involvement rule once the person's identity decision is known (case page or network)."""
    if not identity.full:
        return _withheld("the person is not shown to the viewer")
    if viewer.perpetrator_facing and agency_id != viewer.agency_id:
        return _withheld("other agencies' work is not shown to perpetrator-facing agencies")
    return _full("may see the person")


# ---------------------------------------------------------------------------------------------
# Address and safe contact details


def contact_details(viewer: Viewer, links: CaseLinks, person_id: int) -> Decision:
    role = links.roles.get(person_id)
    if role is None or not case_access(viewer, links).full:
        return _withheld("not in a case the viewer may open")
    if role is CaseRole.PERPETRATOR:
        if viewer.perpetrator_facing and person_id not in links.agency_works_with:
            return _withheld("perpetrator-facing agency not working with him")
        return _full("perpetrator's contact details are shared with the MARAC")
    if viewer.perpetrator_facing:
        return _withheld("never shown to perpetrator-facing agencies")
    if viewer.role is Role.CHAIR:
        return _full("chair")
    if person_id in links.allocated or _own_worker_for_household(links, role):
        return _full("her own named worker")
    if person_id in links.consent_contact or (
        role is CaseRole.CHILD and links.victim_id in links.consent_contact
    ):
        return _full("she agreed this agency may have them")
    return _summary("contact details only for those who must contact her", CONTACT_HELD_ELSEWHERE)


EQUALITY_READERS = frozenset({Role.COORDINATOR, Role.CHAIR})


def equality_details(viewer: Viewer, links: CaseLinks, person_id: int) -> Decision:
    """A person's equality-monitoring answers (special-category data): for those who need them."""
    role = links.roles.get(person_id)
    if role is None or not person_identity(viewer, links, person_id).full:
        return _withheld("the person is not shown in full")
    if viewer.perpetrator_facing:
        return _withheld("never shown to perpetrator-facing agencies")
    if viewer.role in EQUALITY_READERS:
        return _full(f"{viewer.role.label} of the area")
    if links.referring_agency_id == viewer.agency_id:
        return _full("agency made the referral")
    if person_id in links.allocated or _own_worker_for_household(links, role):
        return _full("their own named worker")
    return _withheld("special-category data, only for those who need it")


def _own_worker_for_household(links: CaseLinks, role: CaseRole) -> bool:
    """The survivor's own worker also reaches her children, who live where she does."""
    return role is CaseRole.CHILD and links.victim_id in links.allocated


# ---------------------------------------------------------------------------------------------
# Information items


def information_item(viewer: Viewer, links: CaseLinks, item: ItemFacts) -> Decision:
    if not case_access(viewer, links).full:
        return _withheld("not in a case the viewer may open")
    if item.classification not in Classification:
        return _withheld("unknown classification")
    own_agency = item.recorded_by_agency_id == viewer.agency_id

    if viewer.perpetrator_facing:
        return _item_for_perpetrator_side(viewer, links, item, own_agency)

    if item.classification is Classification.MARAC:
        return _full("shared with the MARAC")

    if item.classification is Classification.SURVIVOR_CONFIDENTIAL:
        if viewer.role is Role.CHAIR:
            return _full("chair")
        if item.recorded_by_id == viewer.user_id:
            return _full("recorded it")
        subjects = {links.victim_id, item.about_person_id} - {None}
        if subjects & links.allocated:
            return _full("her own named worker")
        if subjects & links.consent_disclosures:
            return _full("she agreed this agency may see her disclosures")
        if item.id in links.overridden_items:
            return _full("opened to this agency by a recorded override")
        return _summary("survivor confidential", SURVIVOR_ITEM_EXISTS)

    if item.classification is Classification.PROGRAMME_CONFIDENTIAL:
        if own_agency:
            return _full("recorded by this agency")
        if viewer.role is Role.CHAIR:
            return _full("chair")
        if item.id in links.overridden_items:
            return _full("opened to this agency by a recorded override")
        return _summary(
            "programme confidential: only the minimum crosses",
            f"{item.recorded_by_agency_name} recorded a disclosure by him on "
            f"{long_date(item.recorded_on)}.",
        )

    if item.classification is Classification.AGENCY_ONLY:
        if own_agency:
            return _full("recorded by this agency")
        if item.id in links.overridden_items:
            return _full("opened to this agency by a recorded override")
        reason = (item.withheld_reason or "no reason given").strip()
        return _summary(
            "held by the agency, not shared",
            f"{item.recorded_by_agency_name} holds information it will not share. Reason: {reason}",
        )

    return _withheld("classification not covered by the policy")


def _item_for_perpetrator_side(
    viewer: Viewer, links: CaseLinks, item: ItemFacts, own_agency: bool
) -> Decision:
    if own_agency:
        return _full("recorded by this agency")
    if (
        item.classification is Classification.SURVIVOR_CONFIDENTIAL
        or item.source is ItemSource.VICTIM_DISCLOSURE
    ):
        return _withheld("nothing she said reaches perpetrator-facing agencies")
    about_him = (
        item.about_person_id in links.agency_works_with
        and links.roles.get(item.about_person_id) is CaseRole.PERPETRATOR
    )
    if (
        item.classification is Classification.MARAC
        and about_him
        and item.source in (ItemSource.AGENCY_RECORDS, ItemSource.PERPETRATOR_DISCLOSURE)
    ):
        return _full("shared fact about the man the agency works with")
    return _summary(
        "perpetrator-facing agencies learn only that risk exists", OTHER_AGENCIES_HOLD_RISK
    )


OVERRIDE_KEEPERS = frozenset({Role.COORDINATOR, Role.CHAIR})


def may_manage_overrides(viewer: Viewer, links: CaseLinks) -> Decision:
    """Recording, revoking and listing a case's overrides (the reasons say why a confidence was
    opened, so the list is for those who decide, not for the agencies it names)."""
    if not case_access(viewer, links).full or viewer.perpetrator_facing:
        return _withheld("not in a case the viewer may open")
    if viewer.role in OVERRIDE_KEEPERS:
        return _full(f"{viewer.role.label} of the area")
    return _withheld("only the coordinator and the chair record overrides")


def override_recipient(links: CaseLinks, agency_area_id: int, perpetrator_facing: bool) -> Decision:
    """Whether an agency may be named in an override on an item of this case."""
    if agency_area_id != links.area_id:
        return _withheld("an agency of another area")
    if perpetrator_facing:
        return _withheld("never to a perpetrator-facing agency")
    return _full("an agency of the case's area")


# ---------------------------------------------------------------------------------------------
# Referrals, match candidates and merges

REFERRAL_DETAIL_HELD = (
    "The referral's risk checklist and reasons are held by the MARAC coordinator. Ask them."
)


def may_refer(viewer: Viewer) -> Decision:
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    return _full("any user of the area may refer")


def may_triage_referrals(viewer: Viewer, area_id: int) -> Decision:
    """The referral queue and possible duplicates."""
    if viewer.area_id != area_id or viewer.perpetrator_facing:
        return _withheld("not the area's coordinator or chair")
    if viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return _full(f"{viewer.role.label} of the area")
    return _withheld("only the coordinator and the chair triage referrals")


def may_merge_people(viewer: Viewer, area_id: int) -> Decision:
    if viewer.area_id == area_id and viewer.role is Role.COORDINATOR:
        if not viewer.perpetrator_facing:
            return _full("coordinator of the area")
    return _withheld("only the area's coordinator merges person records")


def referral_summary(viewer: Viewer, links: CaseLinks) -> Decision:
    if not case_access(viewer, links).full:
        return _withheld("not in a case the viewer may open")
    if viewer.perpetrator_facing:
        return _withheld("her risk picture is not shown to perpetrator-facing agencies")
    return _full("may open the case")


def referral_detail(viewer: Viewer, links: CaseLinks) -> Decision:
    if not referral_summary(viewer, links).full:
        return _withheld("may not see the referral")
    if viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return _full(f"{viewer.role.label} of the area")
    if links.referring_agency_id == viewer.agency_id:
        return _full("agency made the referral")
    if links.victim_id is not None and links.victim_id in links.allocated:
        return _full("her own named worker")
    return _summary("referral detail is for the coordinator", REFERRAL_DETAIL_HELD)


def match_candidate(
    viewer: Viewer, person_id: int, person_area_id: int, cases: Iterable[CaseLinks]
) -> Decision:
    """Whether a typed name may offer this person. ``cases``: the links of every case the person
    is in. Offering someone confirms they are known: it is disclosure of their identity."""
    if viewer.area_id != person_area_id:
        return _withheld("person of another area")
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    if not viewer.perpetrator_facing and viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return _full(f"{viewer.role.label} of the area")
    if any(person_identity(viewer, links, person_id).full for links in cases):
        return _full("identity already shown in a case the viewer may open")
    return _withheld("identity not shown to the viewer in any case they may open")


# ---------------------------------------------------------------------------------------------
# The network around a case

ANOTHER_PARTNER = "Another partner"
A_CHILD = "A child"
ANOTHER_CASE = "another case you cannot open"
WITHOUT_DATES = "Shown without dates: a date could point to her."


@dataclass(frozen=True)
class CaseMembership:
    """One case a person is in, with the viewer's links to it."""

    reference: str
    links: CaseLinks


@dataclass(frozen=True)
class NetworkPersonFacts:
    """What the policy needs to know about a person in the network around the opened case."""

    person_id: int
    area_id: int | None
    memberships: tuple[CaseMembership, ...] = ()
    # A current or former partner of a perpetrator of the opened case.
    partner_of_perpetrator: bool = False
    # A child exposed to a perpetrator of the opened case (marac.graph.children_exposed).
    child_exposed: bool = False


def network_person(viewer: Viewer, opened: CaseLinks, facts: NetworkPersonFacts) -> Decision:
    if not case_access(viewer, opened).full:
        return _withheld("not in a case the viewer may open")
    anonymised: str | None = None
    # The opened case first, so that its own victim reads "The victim".
    for membership in sorted(
        facts.memberships, key=lambda m: (m.links.case_id != opened.case_id, m.reference)
    ):
        decision = person_identity(viewer, membership.links, facts.person_id)
        if decision.full:
            return _full(f"shown in full in {membership.reference}")
        if decision.level is Level.SUMMARY and anonymised is None:
            anonymised = (
                decision.summary
                if membership.links.case_id == opened.case_id
                else f"{decision.summary} in {membership.reference}"
            )
    if viewer.perpetrator_facing:
        if anonymised:
            return _summary("identity withheld from perpetrator-facing agency", anonymised)
        return _withheld("not shown to perpetrator-facing agencies")
    if viewer.role in (Role.COORDINATOR, Role.CHAIR) and facts.area_id == viewer.area_id:
        return _full(f"{viewer.role.label} sees everyone on the area's records")
    if facts.partner_of_perpetrator:
        return _summary("his other partners are risk information", ANOTHER_PARTNER)
    if facts.child_exposed:
        return _summary("children exposed to him are risk information", A_CHILD)
    return _withheld("neither shown to the viewer nor risk information about this case")


def network_relationship(
    viewer: Viewer, opened: CaseLinks, one: Decision, other: Decision
) -> Decision:
    """A relationship between two people of the network, given the decisions about each."""
    if not case_access(viewer, opened).full or one.withheld or other.withheld:
        return _withheld("one of the people is not shown")
    if one.full and other.full:
        return _full("both people are shown in full")
    if viewer.perpetrator_facing:
        # As on the case page: how he is related to "the victim" (partner or ex-partner) is not
        # told to his programme; the label already says which case she is the victim in.
        return _withheld("perpetrator-facing agencies see relationships only between people shown")
    return _summary("one of the people is anonymised", WITHOUT_DATES)


def linked_case(viewer: Viewer, opened: CaseLinks, other: CaseLinks) -> Decision:
    """Another case that shares a person with the opened one."""
    if not case_access(viewer, opened).full:
        return _withheld("not in a case the viewer may open")
    if case_access(viewer, other).full:
        return _full("may open the linked case")
    if viewer.perpetrator_facing:
        return _withheld("perpetrator-facing agencies learn nothing of other cases")
    return _summary("may know that another case exists", ANOTHER_CASE)


def partner_contact_offers(viewer: Viewer, opened: CaseLinks) -> Decision:
    """Who must be offered partner contact if a perpetrator of the case is in a programme."""
    if not case_access(viewer, opened).full:
        return _withheld("not in a case the viewer may open")
    if viewer.perpetrator_facing:
        return _withheld("nothing about partner contact reaches perpetrator-facing agencies")
    return _full("may open the case")


# ---------------------------------------------------------------------------------------------
# Allocating agencies and workers


ALLOCATING_ROLES = frozenset({Role.COORDINATOR})


def may_allocate(viewer: Viewer, links: CaseLinks, person_id: int, agency_id: int) -> Decision:
    """Whether the viewer may add (or end) an agency's involvement with a person in the case."""
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    if not person_identity(viewer, links, person_id).full:
        return _withheld("the person is not shown to the viewer in full")
    if viewer.role in ALLOCATING_ROLES and not viewer.perpetrator_facing:
        return _full(f"{viewer.role.label} of the area")
    if agency_id == viewer.agency_id:
        return _full("a user of the agency being allocated")
    return _withheld("only the coordinator, or the agency itself, allocates an agency")


def may_scan_area(viewer: Viewer, area_id: int) -> Decision:
    """The serial-perpetrator scan of a whole area."""
    if viewer.perpetrator_facing or viewer.area_id != area_id:
        return _withheld("only the area's coordinator and chair")
    if viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return _full(f"{viewer.role.label} of the area")
    return _withheld("only the area's coordinator and chair")


# ---------------------------------------------------------------------------------------------
# Actions


@dataclass(frozen=True)
class ActionFacts:
    """What the policy needs to know about an action (never its text, named owner or notes)."""

    id: int
    owner_agency_id: int
    owner_agency_name: str
    subject: ActionSubject
    shared_in_detail: bool
    due_on: date


def action_summary_wording(owner_agency_name: str, due_on: date) -> str:
    return f"Action for {owner_agency_name} (due {long_date(due_on)})"


def is_child_protection_reviewer(viewer: Viewer) -> bool:
    return (
        viewer.role is Role.REVIEWER
        and viewer.agency_kind is AgencyKind.CHILDRENS_SOCIAL_CARE
        and not viewer.perpetrator_facing
    )


def is_police_liaison_reviewer(viewer: Viewer) -> bool:
    return (
        viewer.role is Role.REVIEWER
        and viewer.agency_kind is AgencyKind.POLICE
        and not viewer.perpetrator_facing
    )


def action(viewer: Viewer, links: CaseLinks, facts: ActionFacts) -> Decision:
    if not case_access(viewer, links).full:
        return _withheld("not in a case the viewer may open")
    if not isinstance(facts.subject, ActionSubject):
        return _withheld("unknown subject")
    own_agency = facts.owner_agency_id == viewer.agency_id
    if viewer.perpetrator_facing:
        if own_agency:
            return _full("the agency's own action")
        return _withheld("another agency's action would tell him she has help")
    if own_agency:
        return _full("the agency's own action")
    if viewer.role is Role.CHAIR:
        return _full("chair")
    if facts.shared_in_detail:
        return _full("shared in detail with every agency")
    if is_child_protection_reviewer(viewer) and facts.subject is ActionSubject.CHILD:
        return _full("child-protection reviewer: an action about a child")
    return _summary(
        "another agency's action: only that it exists, for whom and when",
        action_summary_wording(facts.owner_agency_name, facts.due_on),
    )


ACTION_CREATOR_ROLES = frozenset(
    {Role.AGENCY_REP, Role.REVIEWER, Role.CHAIR, Role.COORDINATOR, Role.SUPPORT_WORKER}
)


def may_create_action(viewer: Viewer, links: CaseLinks, owner_agency_id: int | None) -> Decision:
    """May the viewer add an action to this case (for ``owner_agency_id``, when chosen)?"""
    if not case_access(viewer, links).full:
        return _withheld("not in a case the viewer may open")
    if viewer.role not in ACTION_CREATOR_ROLES:
        return _withheld("role does not agree actions")
    if viewer.perpetrator_facing and owner_agency_id != viewer.agency_id:
        return _withheld("a perpetrator-facing agency adds actions only for itself")
    return _full("may agree actions on the case")


def may_update_action(viewer: Viewer, links: CaseLinks, facts: ActionFacts) -> Decision:
    if not action(viewer, links, facts).full:
        return _withheld("the action is not open to the viewer in full")
    if facts.owner_agency_id == viewer.agency_id:
        return _full("the owner agency")
    if viewer.role is Role.CHAIR and not viewer.perpetrator_facing:
        return _full("chair")
    return _withheld("only the owner agency and the chair change an action's status")


def may_see_dashboard(viewer: Viewer, dashboard: ActionDashboard) -> Decision:
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    if dashboard in (ActionDashboard.AGENCY, ActionDashboard.DUE):
        return _full("every case worker")
    if viewer.perpetrator_facing:
        return _withheld("perpetrator-facing agencies see only their own actions")
    if viewer.role is Role.CHAIR:
        return _full("chair")
    if dashboard is ActionDashboard.COORDINATOR and viewer.role is Role.COORDINATOR:
        return _full("coordinator")
    if dashboard is ActionDashboard.CHILD_PROTECTION and is_child_protection_reviewer(viewer):
        return _full("child-protection reviewer")
    if dashboard is ActionDashboard.POLICE_LIAISON and is_police_liaison_reviewer(viewer):
        return _full("police liaison reviewer")
    return _withheld("dashboard not for this role")


# ---------------------------------------------------------------------------------------------
# Perpetrator programmes and partner contact


@dataclass(frozen=True)
class ProgrammeFacts:
    """What the policy needs to know about a programme record (never its events' detail)."""

    record_id: int
    area_id: int
    man_id: int
    agency_id: int


@dataclass(frozen=True)
class ProgrammeEventFacts:
    """The parts of a programme event that may cross; its ``detail`` is not among them."""

    kind: ProgrammeEventKind
    occurred_on: date
    status: ProgrammeStatus | None = None
    reason: StatusReason | None = None
    attended: bool | None = None
    may_cite: bool = False


PROGRAMME_ONLY_THE_MINIMUM = "Only the minimum crosses from the programme: never his words."


def programme_record(viewer: Viewer, facts: ProgrammeFacts) -> Decision:
    if viewer.area_id != facts.area_id:
        return _withheld("record of another area")
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    if viewer.agency_id == facts.agency_id:
        return _full("the programme's own record")
    if viewer.perpetrator_facing:
        return _withheld("another programme's record")
    if viewer.role is Role.CHAIR:
        return _full("chair")
    if viewer.role is Role.COORDINATOR:
        return _summary(
            "coordinator: what crosses to his partners' workers", PROGRAMME_ONLY_THE_MINIMUM
        )
    return _withheld("only the programme, the chair and the coordinator")


def may_record_programme(viewer: Viewer, facts: ProgrammeFacts) -> Decision:
    if not programme_record(viewer, facts).full:
        return _withheld("the record is not open to the viewer in full")
    if viewer.agency_id == facts.agency_id:
        return _full("the programme's own record")
    return _withheld("only the programme records on its record")


def programme_crossing(viewer: Viewer, partner_contact: Decision) -> Decision:
    """What of his programme record reaches her partner-contact record, given the decision about
    her record: the minimum, and only to those who may read her record in full."""
    if viewer.perpetrator_facing or not partner_contact.full:
        return _withheld("only to those who may read her partner-contact record")
    return _summary("only the minimum crosses to her worker", PROGRAMME_ONLY_THE_MINIMUM)


def programme_event(viewer: Viewer, record: Decision, event: ProgrammeEventFacts) -> Decision:
    """One event, given the decision about its record (``programme_record``) or about what
    crosses to her record (``programme_crossing``)."""
    if record.full:
        return _full(record.reason)
    if record.level is Level.SUMMARY and isinstance(event.kind, ProgrammeEventKind):
        return _summary("only the minimum crosses", crossing_wording(event))
    return _withheld(record.reason)


def crossing_wording(event: ProgrammeEventFacts) -> str:
    """The words in which a programme event reaches his partners' workers."""
    on = long_date(event.occurred_on)
    if event.kind is ProgrammeEventKind.STATUS and event.status is not None:
        reason = (
            f" Reason: {event.reason.label.lower()}."
            if event.reason is not None and event.reason is not StatusReason.NOT_KNOWN
            else ""
        )
        return f"Programme status: {event.status.label.lower()} on {on}.{reason}"
    if event.kind is ProgrammeEventKind.ATTENDANCE:
        return f"{'Attended' if event.attended else 'Did not attend'} a session on {on}."
    if event.kind is ProgrammeEventKind.DISCLOSURE:
        cite = (
            "His disclosure may be cited as the source when risk is passed on."
            if event.may_cite
            else "Do not cite his disclosure as the source."
        )
        return f"He disclosed violence or abuse in the programme on {on}. {cite}"
    if event.kind is ProgrammeEventKind.CONCERN:
        return f"The programme raised a concern about safety on {on}."
    return f"The programme recorded something on {on}."


@dataclass(frozen=True)
class PartnerContactFacts:
    """What the policy needs to know about her partner-contact record."""

    record_id: int
    area_id: int
    person_id: int
    agency_id: int
    # Her current named partner-contact workers at the record's agency.
    worker_ids: frozenset[int] = frozenset()


PARTNER_CONTACT_HELD = "Her partner-contact worker holds her record."


def partner_contact_record(viewer: Viewer, facts: PartnerContactFacts) -> Decision:
    if viewer.area_id != facts.area_id:
        return _withheld("record of another area")
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    if viewer.perpetrator_facing:
        return _withheld("nothing about her engagement reaches perpetrator-facing agencies")
    if viewer.user_id in facts.worker_ids:
        return _full("her own named worker")
    if viewer.role is Role.CHAIR:
        return _full("chair")
    if viewer.role is Role.COORDINATOR:
        return _summary("coordinator: who works with her and what is due", PARTNER_CONTACT_HELD)
    return _withheld("only her own worker, the chair and the coordinator")


def may_work_on_partner_contact(viewer: Viewer, facts: PartnerContactFacts) -> Decision:
    if not partner_contact_record(viewer, facts).full:
        return _withheld("the record is not open to the viewer in full")
    if viewer.user_id in facts.worker_ids:
        return _full("her own named worker")
    return _withheld("only her own worker records on it")


def may_hand_over(viewer: Viewer, facts: PartnerContactFacts) -> Decision:
    if partner_contact_record(viewer, facts).withheld:
        return _withheld("the record is not open to the viewer")
    if viewer.role is Role.COORDINATOR:
        return _full("coordinator of the area")
    if viewer.user_id in facts.worker_ids:
        return _full("her current worker")
    return _withheld("only the coordinator or her current worker")


def pc_task(viewer: Viewer, record: Decision, worker_name: str | None, due_on: date) -> Decision:
    """A task on her record, given the decision about the record."""
    if record.full:
        return _full(record.reason)
    if record.level is Level.SUMMARY:
        return _summary(
            "only that work is due, for whom and when",
            f"Task for {worker_name or 'no named worker'} (due {long_date(due_on)})",
        )
    return _withheld(record.reason)


def may_list_programmes(viewer: Viewer) -> Decision:
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    if viewer.perpetrator_facing:
        return _full("the agency's own records")
    if viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return _full(f"{viewer.role.label} of the area")
    return _withheld("only programmes, the coordinator and the chair")


def may_see_partner_contact_list(viewer: Viewer) -> Decision:
    """The partner-contact work list: her workers' own, and the overview."""
    if viewer.role is Role.SUPPORT_WORKER and not viewer.perpetrator_facing:
        return _full("survivor workers see their own records")
    return may_see_partner_contact_overview(viewer)


def may_see_partner_contact_overview(viewer: Viewer) -> Decision:
    if viewer.perpetrator_facing or viewer.role not in (Role.COORDINATOR, Role.CHAIR):
        return _withheld("only the coordinator and the chair")
    return _full(f"{viewer.role.label} of the area")


def visible_programmes_clause(viewer: Viewer) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``ProgrammeRecord`` keeping the records ``programme_record`` opens."""
    from marac.models import ProgrammeRecord

    in_area = ProgrammeRecord.area_id == viewer.area_id
    if viewer.role is Role.ADMINISTRATOR:
        return sa.false()
    if viewer.perpetrator_facing:
        return sa.and_(in_area, ProgrammeRecord.agency_id == viewer.agency_id)
    if viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return in_area
    return sa.and_(in_area, ProgrammeRecord.agency_id == viewer.agency_id)


def visible_partner_contact_clause(
    viewer: Viewer, today: date | None = None
) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``PartnerContactRecord`` keeping the records
    ``partner_contact_record`` does not withhold."""
    from marac.models import Involvement, PartnerContactRecord

    today = today or date.today()
    in_area = PartnerContactRecord.area_id == viewer.area_id
    if viewer.role is Role.ADMINISTRATOR or viewer.perpetrator_facing:
        return sa.false()
    if viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return in_area
    return sa.and_(
        in_area,
        sa.exists(
            sa.select(1).where(
                Involvement.person_id == PartnerContactRecord.person_id,
                Involvement.agency_id == PartnerContactRecord.agency_id,
                Involvement.kind == InvolvementKind.PARTNER_CONTACT,
                Involvement.worker_id == viewer.user_id,
                sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > today),
            )
        ),
    )


# ---------------------------------------------------------------------------------------------
# Meetings


MEETING_RUNNERS = frozenset({Role.COORDINATOR, Role.CHAIR})
VOICE_HELD_ELSEWHERE = (
    "Her own worker has recorded her views and wishes; she has not agreed to share them with you."
)
CRIMES_FOR_POLICE = "crimes disclosed at the meeting are recorded for the police"


def may_see_meetings(viewer: Viewer, area_id: int) -> Decision:
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    if viewer.area_id != area_id:
        return _withheld("a meeting of another area")
    return _full("a user of the area")


def may_run_meeting(viewer: Viewer, area_id: int) -> Decision:
    """Scheduling, the agenda, moving cases, apologies, stepping through the cases, closing."""
    if not may_see_meetings(viewer, area_id).full or viewer.perpetrator_facing:
        return _withheld("only the area's coordinator and chair")
    if viewer.role in MEETING_RUNNERS:
        return _full(f"{viewer.role.label} of the area")
    return _withheld("only the area's coordinator and chair")


def may_approve_minutes(viewer: Viewer, area_id: int) -> Decision:
    if may_run_meeting(viewer, area_id).full and viewer.role is Role.CHAIR:
        return _full("chair of the area")
    return _withheld("only the chair approves the minutes")


def may_record_information(
    viewer: Viewer, links: CaseLinks, classification: Classification
) -> Decision:
    if not case_access(viewer, links).full or viewer.role is Role.ADMINISTRATOR:
        return _withheld("not in a case the viewer may open")
    if classification is Classification.PROGRAMME_CONFIDENTIAL and not viewer.perpetrator_facing:
        return _withheld("programme-confidential items come from a programme")
    if classification is Classification.SURVIVOR_CONFIDENTIAL and viewer.perpetrator_facing:
        return _withheld("a programme never holds her confidences")
    if classification not in Classification:
        return _withheld("unknown classification")
    return _full("may open the case")


def may_record_victim_voice(viewer: Viewer, links: CaseLinks) -> Decision:
    if not case_access(viewer, links).full or viewer.perpetrator_facing:
        return _withheld("not open to the viewer")
    if viewer.role is Role.CHAIR:
        return _full("chair")
    if links.victim_id is not None and links.victim_id in links.allocated:
        return _full("her own named worker")
    return _withheld("only her own named worker records her voice")


@dataclass(frozen=True)
class VoiceFacts:
    recorded_by_id: int | None


def victim_voice_account(viewer: Viewer, links: CaseLinks, facts: VoiceFacts) -> Decision:
    """Her views and wishes in her words: read as a survivor-confidential item."""
    if not case_access(viewer, links).full or viewer.perpetrator_facing:
        return _withheld("nothing she said reaches perpetrator-facing agencies")
    if viewer.role is Role.CHAIR:
        return _full("chair")
    if facts.recorded_by_id is not None and facts.recorded_by_id == viewer.user_id:
        return _full("recorded it")
    victim = links.victim_id
    if victim is not None and victim in links.allocated:
        return _full("her own named worker")
    if victim is not None and victim in links.consent_disclosures:
        return _full("she agreed this agency may see her disclosures")
    return _summary("survivor confidential", VOICE_HELD_ELSEWHERE)


def victim_voice_shared(viewer: Viewer, links: CaseLinks) -> Decision:
    """What she agrees may be shared with the meeting, and whether her voice is recorded."""
    if not case_access(viewer, links).full or viewer.perpetrator_facing:
        return _withheld("nothing she said reaches perpetrator-facing agencies")
    return _full("she agreed it may be shared with the MARAC")


def meeting_risk_summary(viewer: Viewer, links: CaseLinks) -> Decision:
    if not case_access(viewer, links).full:
        return _withheld("not in a case the viewer may open")
    if viewer.perpetrator_facing:
        return _summary("her risk picture is not told to his programme", OTHER_AGENCIES_HOLD_RISK)
    return _full("may open the case")


def may_see_crime_list(viewer: Viewer, area_id: int) -> Decision:
    """The list of crimes disclosed at a meeting (each case still needs ``crimes_disclosed``)."""
    if not may_see_meetings(viewer, area_id).full or viewer.perpetrator_facing:
        return _withheld("only the chair and the police")
    if viewer.role is Role.CHAIR:
        return _full("chair")
    if viewer.agency_kind is AgencyKind.POLICE:
        return _full("the police")
    return _withheld("only the chair and the police")


def crimes_disclosed(viewer: Viewer, links: CaseLinks) -> Decision:
    if not case_access(viewer, links).full or viewer.perpetrator_facing:
        return _withheld("not open to the viewer")
    if viewer.role is Role.CHAIR:
        return _full("chair")
    if viewer.agency_kind is AgencyKind.POLICE:
        return _full("the police")
    return _summary("for the police", CRIMES_FOR_POLICE)


# ---------------------------------------------------------------------------------------------
# Papers: the PDFs the service issues


# Roles whose own reading covers everything an agency copy holds. An agency copy is written for
# the agency's representative (``marac.viewer.agency_reader``): every case on the agenda. Named
# survivor workers read only their own survivors' cases (one partner's worker never reaches
# another partner's case), so they never read an agency copy.
AGENCY_COPY_READERS = frozenset({Role.AGENCY_REP, Role.REVIEWER, Role.COORDINATOR, Role.CHAIR})
DOCUMENT_ISSUED_ELSEWHERE = (
    "This file is a document issued by the service. Ask the MARAC coordinator to whom it was "
    "issued."
)


@dataclass(frozen=True)
class DocumentFacts:
    """What the policy needs to know about an issued document (never its content)."""

    area_id: int
    kind: DocumentKind
    recipient_agency_id: int
    recipient_user_id: int | None


def may_issue_papers(viewer: Viewer, area_id: int) -> Decision:
    """Issuing (and re-issuing) a meeting's papers: the area's coordinator."""
    if may_run_meeting(viewer, area_id).full and viewer.role is Role.COORDINATOR:
        return _full("coordinator of the area")
    return _withheld("only the coordinator issues the papers")


def may_read_document(viewer: Viewer, facts: DocumentFacts) -> Decision:
    """Downloading an issued document, or seeing that it exists in a list of papers."""
    if viewer.area_id != facts.area_id or viewer.role is Role.ADMINISTRATOR:
        return _withheld("not a document for the viewer")
    if facts.kind is DocumentKind.CHAIR_PAPERS:
        if viewer.role is Role.CHAIR and not viewer.perpetrator_facing:
            return _full("the chair's complete copy")
        return _withheld("the complete copy is the chair's")
    if facts.kind is DocumentKind.AGENCY_PAPERS:
        if viewer.agency_id != facts.recipient_agency_id:
            return _withheld("another agency's copy")
        if viewer.role not in AGENCY_COPY_READERS:
            return _withheld("named workers read only their own survivors' cases")
        return _full("the agency's own copy")
    if facts.kind in (DocumentKind.AGENDA, DocumentKind.ACTION_PLAN):
        if facts.recipient_user_id is not None and facts.recipient_user_id == viewer.user_id:
            return _full("made for the viewer")
        return _withheld("made for someone else")
    return _withheld("unknown kind of document")


def may_verify_documents(viewer: Viewer) -> Decision:
    if viewer.role is Role.ADMINISTRATOR:
        return _withheld("administrators manage accounts, not cases")
    return _full("a user of the area")


def document_verification(viewer: Viewer, facts: DocumentFacts) -> Decision:
    """What checking a file against the issued documents tells the viewer.

    FULL: the number, the recipient, who issued it and when (the coordinator and the chair, who
    trace leaks; and whoever may read the document itself). SUMMARY: only that it is genuine.
    WITHHELD: answered exactly as a file the service never issued (another area's documents).
    """
    if not may_verify_documents(viewer).full or viewer.area_id != facts.area_id:
        return _withheld("a document of another area")
    if viewer.role in MEETING_RUNNERS and not viewer.perpetrator_facing:
        return _full(f"{viewer.role.label} of the area")
    if may_read_document(viewer, facts).full:
        return _full("a document the viewer may read")
    return _summary("issued to someone else", DOCUMENT_ISSUED_ELSEWHERE)


# ---------------------------------------------------------------------------------------------
# Administration


RETENTION_REVIEWERS = frozenset({Role.COORDINATOR, Role.ADMINISTRATOR})


def may_review_retention(viewer: Viewer, area_id: int) -> Decision:
    """The list of the area's closed cases past retention: references and dates only."""
    if viewer.area_id != area_id or viewer.perpetrator_facing:
        return _withheld("not the area's coordinator or administrator")
    if viewer.role in RETENTION_REVIEWERS:
        return _full(f"{viewer.role.label} of the area")
    return _withheld("retention is reviewed by the coordinator and the administrator")


def may_administer(viewer: Viewer, area_id: int) -> Decision:
    if viewer.role is Role.ADMINISTRATOR and viewer.area_id == area_id:
        return _full("administrator of the area")
    return _withheld("only the area's administrators manage agencies and users")


# ---------------------------------------------------------------------------------------------
# The same rules as query filters, so lists and search stay fast at scale.
# tests/test_policy.py forces these to agree with the decisions above.


REPORT_READERS = frozenset({Role.COORDINATOR, Role.CHAIR})
REPORT_SETTINGS_EDITORS = frozenset({Role.COORDINATOR, Role.ADMINISTRATOR})


def may_see_reports(viewer: Viewer, area_id: int) -> Decision:
    """The quarterly return, its downloads and the dashboard of one area."""
    if viewer.area_id != area_id:
        return _withheld("another area")
    if viewer.perpetrator_facing:
        return _withheld("not for perpetrator-facing agencies")
    if viewer.role in REPORT_READERS:
        return _full(f"{viewer.role.label} of the area")
    return _withheld("reports are for the coordinator and the chair")


def may_edit_report_settings(viewer: Viewer, area_id: int) -> Decision:
    """The adult female population and the IDVA full-time equivalents the dashboard reads."""
    if viewer.area_id != area_id:
        return _withheld("another area")
    if viewer.perpetrator_facing:
        return _withheld("not for perpetrator-facing agencies")
    if viewer.role in REPORT_SETTINGS_EDITORS:
        return _full(f"{viewer.role.label} of the area")
    return _withheld("the coordinator and the administrator keep the area's settings")


def visible_cases_clause(viewer: Viewer, today: date | None = None) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``Case`` that keeps exactly the cases ``case_access`` opens."""
    from marac.models import Case, CasePerson, Involvement

    today = today or date.today()
    current = sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > today)

    def involved(*conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return sa.exists(
            sa.select(1)
            .select_from(CasePerson)
            .join(Involvement, Involvement.person_id == CasePerson.person_id)
            .where(CasePerson.case_id == Case.id, current, *conditions)
        )

    in_area = Case.area_id == viewer.area_id
    if viewer.role is Role.ADMINISTRATOR:
        return sa.false()
    if viewer.perpetrator_facing:
        return sa.and_(
            in_area,
            involved(
                Involvement.agency_id == viewer.agency_id,
                CasePerson.role == CaseRole.PERPETRATOR,
            ),
        )
    if viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return in_area
    if viewer.role is Role.SUPPORT_WORKER:
        return sa.and_(
            in_area,
            involved(
                Involvement.agency_id == viewer.agency_id,
                Involvement.worker_id == viewer.user_id,
                Involvement.kind.in_(SURVIVOR_WORKER_KINDS),
            ),
        )
    if viewer.role in (Role.AGENCY_REP, Role.REVIEWER):
        return sa.and_(
            in_area,
            sa.or_(
                Case.status.in_(STATUSES_SHARED_WITH_AGENCIES),
                Case.referring_agency_id == viewer.agency_id,
                involved(Involvement.agency_id == viewer.agency_id),
            ),
        )
    return sa.false()


def matchable_people_clause(viewer: Viewer, today: date | None = None) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``Person`` keeping exactly the people ``match_candidate`` offers."""
    from marac.models import Case, CasePerson, Person

    if viewer.role is Role.ADMINISTRATOR:
        return sa.false()
    in_area = Person.area_id == viewer.area_id
    if not viewer.perpetrator_facing and viewer.role in (Role.COORDINATOR, Role.CHAIR):
        return in_area
    return sa.and_(
        in_area,
        sa.exists(
            sa.select(1)
            .select_from(CasePerson)
            .join(Case, Case.id == CasePerson.case_id)
            .where(
                CasePerson.person_id == Person.id,
                visible_cases_clause(viewer, today),
                searchable_person_clause(viewer, today),
            )
        ),
    )


def searchable_person_clause(viewer: Viewer, today: date | None = None) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``CasePerson`` keeping only people whose identity ``person_identity``
    shows in full, so that a name search never confirms someone the viewer may not see."""
    from marac.models import CasePerson, Involvement

    today = today or date.today()
    if not viewer.perpetrator_facing:
        return sa.true()
    return sa.and_(
        CasePerson.role == CaseRole.PERPETRATOR,
        sa.exists(
            sa.select(1).where(
                Involvement.person_id == CasePerson.person_id,
                Involvement.agency_id == viewer.agency_id,
                sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > today),
            )
        ),
    )


def visible_actions_clause(viewer: Viewer, today: date | None = None) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``Action`` keeping the actions ``action`` does not withhold."""
    from marac.models import Action

    case_open = _action_case_open(viewer, today)
    if viewer.perpetrator_facing:
        return sa.and_(case_open, Action.owner_agency_id == viewer.agency_id)
    return case_open


def full_actions_clause(viewer: Viewer, today: date | None = None) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``Action`` keeping the actions ``action`` shows in full."""
    from marac.models import Action

    case_open = _action_case_open(viewer, today)
    own = Action.owner_agency_id == viewer.agency_id
    if viewer.perpetrator_facing:
        return sa.and_(case_open, own)
    if viewer.role is Role.CHAIR:
        return case_open
    opened: list[sa.ColumnElement[bool]] = [own, Action.shared_in_detail]
    if is_child_protection_reviewer(viewer):
        opened.append(Action.subject == ActionSubject.CHILD)
    return sa.and_(case_open, sa.or_(*opened))


def _action_case_open(viewer: Viewer, today: date | None) -> sa.ColumnElement[bool]:
    from marac.models import Action, Case

    if viewer.role is Role.ADMINISTRATOR:
        return sa.false()
    if not viewer.perpetrator_facing and viewer.role in (Role.COORDINATOR, Role.CHAIR):
        # Every case of their area is open to them (case_access), and an action's area_id is its
        # case's area: no need to look each case up, which is what makes their lists fast.
        return Action.area_id == viewer.area_id
    # The case is looked up inside, even when the outer query joins ``Case`` too.
    return sa.exists(
        sa.select(1)
        .where(Case.id == Action.case_id, visible_cases_clause(viewer, today))
        .correlate_except(Case)
    )
