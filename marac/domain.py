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
    ActionDashboard.AGENCY: "My agency's actions",
    ActionDashboard.DUE: "Due",
    ActionDashboard.COORDINATOR: "Across agencies",
    ActionDashboard.CHILD_PROTECTION: "Children",
    ActionDashboard.POLICE_LIAISON: "Police liaison",
}
