"""All models, importable from one place (and registered on the metadata for migrations)."""

from marac.models.actions import Action, ActionStatusChange, OutboxEmail
from marac.models.agencies import Agency, Area, User
from marac.models.audit import AuditChainHead, AuditEntry
from marac.models.cases import (
    Case,
    CasePerson,
    CaseReferenceCounter,
    InformationItem,
    Involvement,
)
from marac.models.disclosure import DisclosureOverride, SharingConsent
from marac.models.documents import IssuedDocument
from marac.models.matching import NameVariantKey, PersonName, PossibleDuplicate
from marac.models.meetings import (
    AgendaItem,
    Apology,
    Attendance,
    CrimeDisclosure,
    Meeting,
    VictimVoice,
)
from marac.models.merges import PersonMerge, PersonMergeMove
from marac.models.partner_contact import (
    ChildImpact,
    PartnerContactEntry,
    PartnerContactRecord,
    PcTask,
)
from marac.models.people import ContactDetails, Person, PersonAlias, Relationship
from marac.models.programmes import ProgrammeEvent, ProgrammeRecord
from marac.models.referrals import Referral, ReferralAnswer, ReferralCriterion
from marac.models.reporting import AreaReportSettings
from marac.models.retention import CaseTombstone
from marac.models.signin import RecoveryCode, SignInState

__all__ = [
    "Action",
    "ActionStatusChange",
    "AgendaItem",
    "Agency",
    "Apology",
    "Attendance",
    "Area",
    "AreaReportSettings",
    "AuditChainHead",
    "AuditEntry",
    "Case",
    "CasePerson",
    "CaseTombstone",
    "CaseReferenceCounter",
    "ChildImpact",
    "ContactDetails",
    "CrimeDisclosure",
    "DisclosureOverride",
    "InformationItem",
    "IssuedDocument",
    "Involvement",
    "Meeting",
    "NameVariantKey",
    "OutboxEmail",
    "PartnerContactEntry",
    "PartnerContactRecord",
    "PcTask",
    "Person",
    "PersonAlias",
    "PersonMerge",
    "PersonMergeMove",
    "PersonName",
    "PossibleDuplicate",
    "ProgrammeEvent",
    "ProgrammeRecord",
    "RecoveryCode",
    "Referral",
    "ReferralAnswer",
    "ReferralCriterion",
    "Relationship",
    "SharingConsent",
    "SignInState",
    "User",
    "VictimVoice",
]
