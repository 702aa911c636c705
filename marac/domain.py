"""The vocabulary of the service: plain enumerations shared by the models and the policy.

Kept free of Flask and SQLAlchemy so that ``marac.policy`` can be read and tested on its own.
Each enumeration's value is what is stored in the database; ``label`` is what people read.
"""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A stored value with a plain-English label."""

    @property
    def label(self) -> str:
        return _LABELS.get(self, self.value.replace("_", " ").capitalize())


class _PlainLabels(Labelled):
    """Values that other enumerations share ("other", "not_known", "yes") with labels of their
    own: the shared label table is keyed by value."""

    @property
    def label(self) -> str:
        return _PLAIN_LABELS[(type(self).__name__, self.value)]


class Role(Labelled):
    ADMINISTRATOR = "administrator"
    COORDINATOR = "coordinator"
    CHAIR = "chair"
    AGENCY_REP = "agency_rep"
    SUPPORT_WORKER = "support_worker"
    REVIEWER = "reviewer"


class AgencyKind(Labelled):
    POLICE = "police"
    IDVA = "idva"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    PROBATION = "probation"
    HEALTH = "health"
    HOUSING = "housing"
    EDUCATION = "education"
    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_MISUSE = "substance_misuse"
    PERPETRATOR_PROGRAMME = "perpetrator_programme"
    PARTNER_CONTACT = "partner_contact"
    OTHER = "other"


class AgencySide(Labelled):
    """Which side of the work an agency is on; perpetrator-facing agencies see least."""

    VICTIM_FACING = "victim_facing"
    PERPETRATOR_FACING = "perpetrator_facing"
    NEUTRAL = "neutral"


class Gender(Labelled):
    FEMALE = "female"
    MALE = "male"
    NON_BINARY = "non_binary"
    OTHER = "other"
    NOT_KNOWN = "not_known"


# Equality monitoring: special-category data, asked on the referral form (never required) and
# counted in the quarterly return. "Not known" (nobody asked, or it was not recorded) and
# "prefers not to say" (asked, and she chose not to answer) are kept apart: neither is counted
# as any group.


class EthnicGroup(_PlainLabels):
    """The census groups (England and Wales, 2021), the white groups kept apart because the
    return counts Black, Asian and minoritised communities, white minorities included."""

    WHITE_BRITISH = "white_british"
    WHITE_IRISH = "white_irish"
    GYPSY_TRAVELLER = "gypsy_traveller"
    ROMA = "roma"
    WHITE_OTHER = "white_other"
    MIXED = "mixed"
    ASIAN = "asian"
    BLACK = "black"
    ARAB = "arab"
    OTHER = "other"
    NOT_KNOWN = "not_known"
    PREFERS_NOT_TO_SAY = "prefers_not_to_say"


# Counted as "Black, Asian and minoritised communities" in the return: every known group but
# White British (docs/reporting.md).
MINORITISED_ETHNIC_GROUPS = frozenset(
    set(EthnicGroup)
    - {EthnicGroup.WHITE_BRITISH, EthnicGroup.NOT_KNOWN, EthnicGroup.PREFERS_NOT_TO_SAY}
)


class SexualOrientation(_PlainLabels):
    STRAIGHT = "straight"
    GAY_OR_LESBIAN = "gay_or_lesbian"
    BISEXUAL = "bisexual"
    OTHER = "other"
    NOT_KNOWN = "not_known"
    PREFERS_NOT_TO_SAY = "prefers_not_to_say"


LGB_ORIENTATIONS = frozenset(
    {SexualOrientation.GAY_OR_LESBIAN, SexualOrientation.BISEXUAL, SexualOrientation.OTHER}
)


class TransHistory(_PlainLabels):
    """Whether the gender they identify with is the one they were registered with at birth."""

    SAME = "same"
    TRANS = "trans"
    NOT_KNOWN = "not_known"
    PREFERS_NOT_TO_SAY = "prefers_not_to_say"


class Disability(_PlainLabels):
    YES = "yes"
    NO = "no"
    NOT_KNOWN = "not_known"
    PREFERS_NOT_TO_SAY = "prefers_not_to_say"


class RelationshipKind(Labelled):
    """How two people are related. Parent kinds read "person is (step-)parent of other"."""

    PARTNER = "partner"
    EX_PARTNER = "ex_partner"
    PARENT = "parent"
    STEP_PARENT = "step_parent"
    SIBLING = "sibling"
    HOUSEHOLD_MEMBER = "household_member"


DIRECTED_RELATIONSHIPS = frozenset({RelationshipKind.PARENT, RelationshipKind.STEP_PARENT})


class CaseStatus(Labelled):
    REFERRED = "referred"
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    LISTED = "listed"
    HEARD = "heard"
    CLOSED = "closed"


# Once a case is on an agenda, every MARAC agency of the area researches it.
STATUSES_SHARED_WITH_AGENCIES = frozenset({CaseStatus.LISTED, CaseStatus.HEARD, CaseStatus.CLOSED})


class CaseRole(Labelled):
    VICTIM = "victim"
    PERPETRATOR = "perpetrator"
    CHILD = "child"
    OTHER_ADULT = "other_adult"


class ChecklistAnswer(Labelled):
    """One risk factor's answer. Only YES counts towards the score: the rest are never a yes."""

    YES = "yes"
    NO = "no"
    DONT_KNOW = "dont_know"
    NOT_ASKED = "not_asked"


class Criterion(Labelled):
    """The four ways a referral is eligible for the MARAC; any one is enough."""

    VISIBLE_HIGH_RISK = "visible_high_risk"
    POTENTIAL_ESCALATION = "potential_escalation"
    PROFESSIONAL_JUDGEMENT = "professional_judgement"
    REPEAT = "repeat"


class InvolvementKind(Labelled):
    """Why an agency works with a person. The first two are the survivor's own workers."""

    IDVA_SUPPORT = "idva_support"
    PARTNER_CONTACT = "partner_contact"
    PERPETRATOR_PROGRAMME = "perpetrator_programme"
    CASEWORK = "casework"
    OTHER = "other"


SURVIVOR_WORKER_KINDS = frozenset({InvolvementKind.IDVA_SUPPORT, InvolvementKind.PARTNER_CONTACT})


class ItemSource(Labelled):
    AGENCY_RECORDS = "agency_records"
    VICTIM_DISCLOSURE = "victim_disclosure"
    PERPETRATOR_DISCLOSURE = "perpetrator_disclosure"
    THIRD_PARTY = "third_party"


class ItemNature(Labelled):
    FACT = "fact"
    OPINION = "opinion"


class Classification(Labelled):
    """Who an information item is meant for; ``marac.policy`` turns this into a decision."""

    MARAC = "marac"
    AGENCY_ONLY = "agency_only"
    SURVIVOR_CONFIDENTIAL = "survivor_confidential"
    PROGRAMME_CONFIDENTIAL = "programme_confidential"


class OverrideGround(Labelled):
    CHILD_AT_RISK = "child_at_risk"
    HIGH_RISK_OF_HARM = "high_risk_of_harm"
    HER_REQUEST = "her_request"


class ActionStatus(Labelled):
    """Where an agreed action stands. Every change is kept as history (ActionStatusChange)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_DONE_CIRCUMSTANCES = "not_done_circumstances"
    NOT_DONE_BY_AGENCY = "not_done_by_agency"
    CANCELLED = "cancelled"


# Still to be done: these can be due soon or overdue, and are reviewed first at the next meeting.
OPEN_ACTION_STATUSES = frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS})


class ActionSubject(Labelled):
    """Whom an action protects or addresses. A person subject names the person as well."""

    VICTIM = "victim"
    CHILD = "child"
    PERPETRATOR = "perpetrator"
    OTHER_PERSON = "other_person"
    HOUSEHOLD = "household"

    @property
    def label(self) -> str:
        # Its own table: "victim" and "child" are also CaseRole values, and the shared label
        # table is keyed by value, so an entry there would relabel the case roles too.
        return _SUBJECT_LABELS[self]


# The person an action is about has this role in the case.
SUBJECT_FOR_ROLE = {
    CaseRole.VICTIM: ActionSubject.VICTIM,
    CaseRole.CHILD: ActionSubject.CHILD,
    CaseRole.PERPETRATOR: ActionSubject.PERPETRATOR,
    CaseRole.OTHER_ADULT: ActionSubject.OTHER_PERSON,
}


class ActionDashboard(Labelled):
    """The action dashboards; ``marac.policy.may_see_dashboard`` says who may open each."""

    AGENCY = "agency"
    DUE = "due"
    COORDINATOR = "coordinator"
    CHILD_PROTECTION = "child_protection"
    POLICE_LIAISON = "police_liaison"


class ProgrammeStatus(Labelled):
    """Where a man stands in a behaviour-change programme."""

    REFERRED = "referred"
    ASSESSED = "assessed"
    ATTENDING = "attending"
    SUSPENDED = "suspended"
    DROPPED_OUT = "dropped_out"
    COMPLETED = "completed"
    BREACH_OF_ORDER = "breach_of_order"


# Changes after which every partner the programme must inform is told (a task for her worker).
RISK_RAISING_STATUSES = frozenset(
    {
        ProgrammeStatus.ASSESSED,
        ProgrammeStatus.SUSPENDED,
        ProgrammeStatus.DROPPED_OUT,
        ProgrammeStatus.BREACH_OF_ORDER,
    }
)
# Known points of raised risk: her worker's planned contact steps up to weekly for a period.
STEP_UP_STATUSES = frozenset({ProgrammeStatus.SUSPENDED, ProgrammeStatus.DROPPED_OUT})
# Statuses whose reason is recorded (and told to her, as a category, when known).
STATUSES_WITH_A_REASON = frozenset(
    {ProgrammeStatus.SUSPENDED, ProgrammeStatus.DROPPED_OUT, ProgrammeStatus.BREACH_OF_ORDER}
)


class ProgrammeEventKind(Labelled):
    """What a programme worker records about a man: each is one dated event."""

    STATUS = "status"
    ATTENDANCE = "attendance"
    DISCLOSURE = "disclosure"
    CONCERN = "concern"


class StatusReason(Labelled):
    """Why he was suspended, dropped out or breached, as a category. The programme's own words
    stay with the programme; the category is what his partners are told."""

    NON_ATTENDANCE = "non_attendance"
    FURTHER_VIOLENCE = "further_violence"
    BROKE_PROGRAMME_RULES = "broke_programme_rules"
    NEW_OFFENCE = "new_offence"
    IN_CUSTODY = "in_custody"
    MOVED_AWAY = "moved_away"
    CHOSE_TO_LEAVE = "chose_to_leave"
    OTHER = "other"
    NOT_KNOWN = "not_known"


class ContactConsent(Labelled):
    """Her agreement to partner contact. Contact is voluntary: she may decline or withdraw."""

    NOT_ASKED = "not_asked"
    GIVEN = "given"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


# Contact is prompted (contacts due, tasks to tell her) only while she has not said no.
PROMPTING_CONSENTS = frozenset({ContactConsent.NOT_ASKED, ContactConsent.GIVEN})


class ContactMethod(Labelled):
    FACE_TO_FACE = "face_to_face"
    PHONE = "phone"
    EMAIL = "email"
    VIDEO = "video"


class ContactOutcome(Labelled):
    SPOKE = "spoke"
    NO_ANSWER = "no_answer"
    MESSAGE_LEFT = "message_left"
    NOT_SAFE_TO_TALK = "not_safe_to_talk"
    # Not "declined": labels are keyed by value, and that is ContactConsent.DECLINED's.
    DECLINED_TO_TALK = "declined_to_talk"


class PcTaskKind(Labelled):
    """A task for a partner-contact worker after a programme event that raises risk."""

    # Tell her, and talk through what it means for her safety.
    INFORM = "inform"
    # She has said no to contact: review the risk (and pass it on if need be); do not contact.
    REVIEW_RISK = "review_risk"


class PcTaskStatus(Labelled):
    OPEN = "open"
    DONE = "done"


_SUBJECT_LABELS = {
    ActionSubject.VICTIM: "The victim",
    ActionSubject.CHILD: "A child",
    ActionSubject.PERPETRATOR: "The perpetrator",
    ActionSubject.OTHER_PERSON: "Another person in the case",
    ActionSubject.HOUSEHOLD: "The household",
}

_LABELS: dict[StrEnum, str] = {
    Role.AGENCY_REP: "Agency representative",
    Role.SUPPORT_WORKER: "IDVA / partner-contact worker",
    AgencyKind.IDVA: "IDVA service",
    AgencyKind.CHILDRENS_SOCIAL_CARE: "Children's social care",
    AgencyKind.PARTNER_CONTACT: "Partner contact / women's support service",
    AgencyKind.PERPETRATOR_PROGRAMME: "Perpetrator programme",
    AgencySide.VICTIM_FACING: "Victim-facing",
    AgencySide.PERPETRATOR_FACING: "Perpetrator-facing",
    Gender.NON_BINARY: "Non-binary",
    RelationshipKind.EX_PARTNER: "Ex-partner",
    RelationshipKind.STEP_PARENT: "Step-parent",
    RelationshipKind.HOUSEHOLD_MEMBER: "Household member",
    CaseStatus.NOT_ELIGIBLE: "Not eligible",
    CaseRole.OTHER_ADULT: "Other adult",
    ChecklistAnswer.DONT_KNOW: "Don't know",
    ChecklistAnswer.NOT_ASKED: "Not asked",
    InvolvementKind.IDVA_SUPPORT: "IDVA support",
    InvolvementKind.PARTNER_CONTACT: "Partner contact",
    InvolvementKind.PERPETRATOR_PROGRAMME: "Behaviour-change programme",
    ItemSource.AGENCY_RECORDS: "Agency records",
    ItemSource.VICTIM_DISCLOSURE: "Victim disclosure",
    ItemSource.PERPETRATOR_DISCLOSURE: "Perpetrator disclosure",
    ItemSource.THIRD_PARTY: "Third party",
    Classification.MARAC: "Shared with the MARAC",
    Classification.AGENCY_ONLY: "Held by the agency, not shared",
    Classification.SURVIVOR_CONFIDENTIAL: "Survivor confidential",
    Classification.PROGRAMME_CONFIDENTIAL: "Programme confidential",
    OverrideGround.CHILD_AT_RISK: "Child at risk of significant harm",
    OverrideGround.HIGH_RISK_OF_HARM: "High risk of serious harm",
    OverrideGround.HER_REQUEST: "At her own request",
    ActionStatus.NOT_DONE_CIRCUMSTANCES: "Could not be done: circumstances changed",
    ActionStatus.NOT_DONE_BY_AGENCY: "Could not be done: not completed by the agency",
    ProgrammeStatus.DROPPED_OUT: "Dropped out",
    ProgrammeStatus.BREACH_OF_ORDER: "Breach of order",
    ProgrammeStatus.ASSESSED: "Assessment completed",
    ProgrammeEventKind.STATUS: "Change of status",
    ProgrammeEventKind.CONCERN: "Facilitator's concern",
    ProgrammeEventKind.DISCLOSURE: "Disclosure of violence or abuse",
    StatusReason.NON_ATTENDANCE: "Did not attend",
    StatusReason.FURTHER_VIOLENCE: "Further violence or abuse",
    StatusReason.BROKE_PROGRAMME_RULES: "Broke the programme's rules",
    StatusReason.NEW_OFFENCE: "Charged with a new offence",
    StatusReason.CHOSE_TO_LEAVE: "Chose to leave",
    ContactConsent.NOT_ASKED: "Not yet asked",
    ContactConsent.GIVEN: "Agreed to contact",
    ContactConsent.DECLINED: "Declined contact",
    ContactConsent.WITHDRAWN: "Withdrew consent to contact",
    ContactMethod.FACE_TO_FACE: "Face to face",
    ContactOutcome.SPOKE: "Spoke with her",
    ContactOutcome.NOT_SAFE_TO_TALK: "Not safe to talk",
    ContactOutcome.DECLINED_TO_TALK: "She declined to talk",
    PcTaskKind.INFORM: "Tell her",
    PcTaskKind.REVIEW_RISK: "Review the risk (no contact)",
    ActionDashboard.AGENCY: "My agency's actions",
    ActionDashboard.DUE: "Due",
    ActionDashboard.COORDINATOR: "Across agencies",
    ActionDashboard.CHILD_PROTECTION: "Children",
    ActionDashboard.POLICE_LIAISON: "Police liaison",
}


class _OwnLabels(Labelled):
    """Values shared with other enumerations ("closed", "emergency") keep their own labels: the
    shared label table is keyed by value."""

    @property
    def label(self) -> str:
        return _OWN_LABELS.get((type(self), self.value), self.value.replace("_", " ").capitalize())


class MeetingKind(_OwnLabels):
    REGULAR = "regular"
    EMERGENCY = "emergency"


class MeetingFrequency(_OwnLabels):
    """How often a series of meetings is scheduled; an emergency meeting stands alone."""

    MONTHLY = "monthly"
    FORTNIGHTLY = "fortnightly"
    WEEKLY = "weekly"
    EMERGENCY = "emergency"


class MeetingStatus(_OwnLabels):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    APPROVED = "approved"


# The meeting's records may still change (research, the live meeting); closed meetings are kept.
OPEN_MEETING_STATUSES = frozenset({MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS})


class AgendaStatus(_OwnLabels):
    LISTED = "listed"
    HEARD = "heard"
    MOVED = "moved"


class AttendanceKind(_OwnLabels):
    MEMBER = "member"
    OBSERVER = "observer"


class DocumentKind(_OwnLabels):
    """A PDF the service issued. Papers are issued by the coordinator after a meeting, one
    agency copy per attending agency and the chair's complete copy; the agenda and a case's
    action plan are made on demand for the one user who asked."""

    AGENCY_PAPERS = "agency_papers"
    CHAIR_PAPERS = "chair_papers"
    AGENDA = "agenda"
    ACTION_PLAN = "action_plan"


# Papers issued after a meeting (as opposed to a PDF made on demand for one user).
MEETING_PAPERS = frozenset({DocumentKind.AGENCY_PAPERS, DocumentKind.CHAIR_PAPERS})


_OWN_LABELS: dict[tuple[type, str], str] = {
    (type(m), m.value): label
    for m, label in (
        (MeetingKind.EMERGENCY, "Emergency meeting"),
        (MeetingKind.REGULAR, "Regular meeting"),
        (MeetingFrequency.EMERGENCY, "One emergency meeting"),
        (MeetingStatus.IN_PROGRESS, "In progress"),
        (MeetingStatus.CLOSED, "Closed: minutes awaiting approval"),
        (MeetingStatus.APPROVED, "Closed: minutes approved"),
        (AgendaStatus.MOVED, "Moved to a later meeting"),
        (AttendanceKind.MEMBER, "Attending for my agency"),
        (AttendanceKind.OBSERVER, "Observer"),
        (DocumentKind.AGENCY_PAPERS, "Minutes and action plan: agency copy"),
        (DocumentKind.CHAIR_PAPERS, "Minutes and action plan: the chair's complete copy"),
        (DocumentKind.AGENDA, "Agenda"),
        (DocumentKind.ACTION_PLAN, "Action plan for one case"),
    )
}


_PLAIN_LABELS: dict[tuple[str, str], str] = {
    ("EthnicGroup", "white_british"): "White: English, Welsh, Scottish, Northern Irish or British",
    ("EthnicGroup", "white_irish"): "White: Irish",
    ("EthnicGroup", "gypsy_traveller"): "White: Gypsy or Irish Traveller",
    ("EthnicGroup", "roma"): "White: Roma",
    ("EthnicGroup", "white_other"): "White: any other white background",
    ("EthnicGroup", "mixed"): "Mixed or multiple ethnic groups",
    ("EthnicGroup", "asian"): "Asian or Asian British",
    ("EthnicGroup", "black"): "Black, Black British, Caribbean or African",
    ("EthnicGroup", "arab"): "Arab",
    ("EthnicGroup", "other"): "Any other ethnic group",
    ("EthnicGroup", "not_known"): "Not known",
    ("EthnicGroup", "prefers_not_to_say"): "Prefers not to say",
    ("SexualOrientation", "straight"): "Straight or heterosexual",
    ("SexualOrientation", "gay_or_lesbian"): "Gay or lesbian",
    ("SexualOrientation", "bisexual"): "Bisexual",
    ("SexualOrientation", "other"): "Another sexual orientation",
    ("SexualOrientation", "not_known"): "Not known",
    ("SexualOrientation", "prefers_not_to_say"): "Prefers not to say",
    ("TransHistory", "same"): "Yes, the same",
    ("TransHistory", "trans"): "No: trans, or their gender is different",
    ("TransHistory", "not_known"): "Not known",
    ("TransHistory", "prefers_not_to_say"): "Prefers not to say",
    ("Disability", "yes"): "Yes",
    ("Disability", "no"): "No",
    ("Disability", "not_known"): "Not known",
    ("Disability", "prefers_not_to_say"): "Prefers not to say",
}
