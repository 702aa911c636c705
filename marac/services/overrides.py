"""Disclosure overrides: opening one information item to one named agency, and closing it again.

An override is recorded on a ground (child at risk of significant harm, high risk of serious
harm, her own request) with a reason, by the area's coordinator or chair (``marac.policy``,
``may_manage_overrides``), and is revoked, never edited. ``marac.viewer.links_for_cases`` reads
the standing ones, so a revocation closes the item again on the next page, PDF or feed.

Audit entries name the case, the item, the agency and the ground, never the reason: the reason
says why a confidence was opened and is read on the case page by those who may.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marac import audit, clock, policy
from marac.domain import AgencySide, Classification, OverrideGround
from marac.models import (
    Agency,
    Case,
    DisclosureOverride,
    InformationItem,
    IssuedDocument,
    User,
)
from marac.services.papers import withdraw_copies_holding
from marac.viewer import CaseLinks, Viewer, agency_reader, links_for_case

REASON_LIMIT = 2000


class OverrideRefused(ValueError):
    """A request the service refuses, with the form field it belongs to (None: the whole form)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


class OverrideConflict(OverrideRefused):
    """Someone else changed the same override a moment ago."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


@dataclass(frozen=True)
class ItemChoice:
    item_id: int
    label: str


@dataclass(frozen=True)
class PresentedOverride:
    override_id: int
    item_label: str
    agency_name: str
    ground_label: str
    reason: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None

    @property
    def standing(self) -> bool:
        return self.revoked_at is None


def _facts(item: InformationItem, agency_name: str) -> policy.ItemFacts:
    return policy.ItemFacts(
        id=item.id,
        about_person_id=item.about_person_id,
        source=item.source,
        classification=item.classification,
        recorded_by_agency_id=item.recorded_by_agency_id,
        recorded_by_agency_name=agency_name,
        recorded_by_id=item.recorded_by_id,
        recorded_on=item.recorded_at.date(),
        withheld_reason=item.withheld_reason,
    )


def _long_date(day: date) -> str:
    return policy.long_date(day)


def _person_labels(session: Session, viewer: Viewer, links: CaseLinks) -> dict[int, str]:
    from marac.models import Person

    shown = [pid for pid in links.roles if policy.person_identity(viewer, links, pid).full]
    if not shown:
        return {}
    return {
        row.id: f"{row.given_name} {row.family_name}"
        for row in session.execute(
            sa.select(Person.id, Person.given_name, Person.family_name).where(Person.id.in_(shown))
        )
    }


def item_labels(
    session: Session,
    viewer: Viewer,
    links: CaseLinks,
    case_id: int,
    openable_only: bool = False,
    item_ids: Collection[int] | None = None,
) -> list[ItemChoice]:
    """The case's items as the viewer may name them: classification, agency, date and whom it is
    about, with the text only when the viewer may read it (the coordinator chooses items whose
    text is not theirs to read). ``openable_only``: leave out items shared with the MARAC, which
    every agency that may open the case reads already."""
    statement = (
        sa.select(InformationItem, Agency.name)
        .join(Agency, Agency.id == InformationItem.recorded_by_agency_id)
        .where(InformationItem.case_id == case_id)
        .order_by(InformationItem.recorded_at, InformationItem.id)
    )
    if openable_only:
        statement = statement.where(InformationItem.classification != Classification.MARAC)
    if item_ids is not None:
        statement = statement.where(InformationItem.id.in_(item_ids))
    people = _person_labels(session, viewer, links)
    choices = []
    for item, agency_name in session.execute(statement):
        about = (
            people.get(item.about_person_id, "someone in the case")
            if item.about_person_id
            else "the household"
        )
        label = (
            f"{item.classification.label}, recorded by {agency_name} on "
            f"{_long_date(item.recorded_at.date())}, about {about}"
        )
        if policy.information_item(viewer, links, _facts(item, agency_name)).full:
            text = " ".join(item.text.split())
            label += f": {text[:80]}{'…' if len(text) > 80 else ''}"
        choices.append(ItemChoice(item.id, label))
    return choices


def recipient_agencies(session: Session, area_id: int) -> list[Agency]:
    """Agencies an override may name: the area's active agencies, never perpetrator-facing."""
    return list(
        session.scalars(
            sa.select(Agency)
            .where(
                Agency.area_id == area_id,
                Agency.is_active.is_(True),
                Agency.side != AgencySide.PERPETRATOR_FACING,
            )
            .order_by(Agency.name)
        )
    )


def agency_reads_item(session: Session, agency: Agency, case: Case, item: InformationItem) -> bool:
    """Whether the agency as a whole (its representative, with no personal links) reads the item
    in full, with the overrides that stand now."""
    reader = agency_reader(agency)
    links = links_for_case(session, reader, case)
    return policy.information_item(reader, links, _facts(item, item.recorded_by_agency.name)).full


def record_override(
    session: Session,
    *,
    case: Case,
    item_id: int,
    agency_id: int,
    ground: OverrideGround,
    reason: str,
    user: User,
) -> tuple[DisclosureOverride, bool]:
    """Open the item to the agency. Returns the override and whether the agency reads the item
    now (an agency that may not open the case yet reads it once it may)."""
    item = session.get(InformationItem, item_id)
    if item is None or item.case_id != case.id:
        raise OverrideRefused("item_id", "Choose an item of this case.")
    agency = session.get(Agency, agency_id)
    if agency is None or agency.area_id != case.area_id:
        raise OverrideRefused("agency_id", "Choose an agency of this area.")
    links = links_for_case(session, agency_reader(agency), case)
    recipient = policy.override_recipient(
        links, agency.area_id, agency_reader(agency).perpetrator_facing
    )
    if not recipient.full:
        raise OverrideRefused(
            "agency_id",
            f"{agency.name} works with perpetrators: an override never opens anything to a "
            "perpetrator-facing agency.",
        )
    if item.classification is Classification.MARAC:
        raise OverrideRefused(
            "item_id",
            "This item is shared with the MARAC: every agency that may open the case reads it "
            "already.",
        )
    if agency_reads_item(session, agency, case, item):
        raise OverrideRefused("item_id", f"{agency.name} may already read this item.")
    reason = reason.strip()
    if not reason:
        raise OverrideRefused("reason", "Say why the item must be opened to this agency.")
    if len(reason) > REASON_LIMIT:
        raise OverrideRefused("reason", f"Keep the reason to {REASON_LIMIT} characters or fewer.")

    override = DisclosureOverride(
        item_id=item.id,
        agency_id=agency.id,
        ground=ground,
        reason=reason,
        created_by_id=user.id,
        created_at=clock.utc_now(),
    )
    session.add(override)
    try:
        session.flush()
    except IntegrityError:
        # The standing-override index: someone recorded the same one a moment ago. Nothing of
        # this transaction is worth keeping (a savepoint is unreliable on SQLite's driver).
        session.rollback()
        raise OverrideConflict(
            f"Someone has just opened this item to {agency.name}: it is in the list below."
        ) from None
    audit.record(
        "disclosure_override.create",
        user=user,
        object_type="disclosure_override",
        object_id=override.id,
        detail=(
            f"{case.reference}: item {item.id} opened to agency {agency.id} ({agency.name}); "
            f"ground {ground.value}"
        ),
        session=session,
    )
    return override, agency_reads_item(session, agency, case, item)


def revoke_override(
    session: Session, *, case: Case, override: DisclosureOverride, reason: str, user: User
) -> list[IssuedDocument]:
    """Close the item to the agency again. Only a standing override is revoked: if someone else
    revoked it first, theirs is the revocation on record.

    The agency's copies of papers issued while the override stood are withdrawn with it (they
    hold the item as issued); returns them, so the revoker is told to issue those papers again.
    """
    reason = reason.strip()
    if not reason:
        raise OverrideRefused("reason", "Say why the override is revoked.")
    if len(reason) > REASON_LIMIT:
        raise OverrideRefused("reason", f"Keep the reason to {REASON_LIMIT} characters or fewer.")
    # One statement that changes the row only if it still stands: of two people revoking at
    # once, the second changes nothing (PostgreSQL re-reads the row after the first commits).
    result = session.execute(
        sa.update(DisclosureOverride)
        .where(DisclosureOverride.id == override.id, DisclosureOverride.revoked_at.is_(None))
        .values(revoked_at=clock.utc_now(), revoked_by_id=user.id, revoke_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise OverrideConflict(
            "This override had already been revoked by someone else: see their reason below."
        )
    session.expire(override)
    audit.record(
        "disclosure_override.revoke",
        user=user,
        object_type="disclosure_override",
        object_id=override.id,
        detail=(
            f"{case.reference}: item {override.item_id} closed again to agency "
            f"{override.agency_id} ({override.agency.name})"
        ),
        session=session,
    )
    return withdraw_copies_holding(
        session,
        case_id=case.id,
        agency_id=override.agency_id,
        since=override.created_at,
        user=user,
    )


def override_of_case(session: Session, case: Case, override_id: int) -> DisclosureOverride | None:
    override = session.get(DisclosureOverride, override_id)
    if override is None:
        return None
    item_case = session.scalar(
        sa.select(InformationItem.case_id).where(InformationItem.id == override.item_id)
    )
    return override if item_case == case.id else None


_creator = sa.orm.aliased(User)
_revoker = sa.orm.aliased(User)
# Built once: the case page asks for it on every view by a coordinator or chair.
_CASE_OVERRIDES = (
    sa.select(DisclosureOverride, Agency.name, _creator.display_name, _revoker.display_name)
    .join(InformationItem, InformationItem.id == DisclosureOverride.item_id)
    .join(Agency, Agency.id == DisclosureOverride.agency_id)
    .join(_creator, _creator.id == DisclosureOverride.created_by_id)
    .outerjoin(_revoker, _revoker.id == DisclosureOverride.revoked_by_id)
    .where(InformationItem.case_id == sa.bindparam("case_id"))
    .order_by(
        DisclosureOverride.revoked_at.is_not(None),
        DisclosureOverride.created_at.desc(),
        DisclosureOverride.id.desc(),
    )
)


def case_overrides(
    session: Session, viewer: Viewer, links: CaseLinks, case_id: int
) -> list[PresentedOverride]:
    """Every override on the case's items, standing first, newest first. Only for a viewer the
    policy lets manage them: the caller asks ``policy.may_manage_overrides``."""
    if not policy.may_manage_overrides(viewer, links).full:
        return []
    rows = session.execute(_CASE_OVERRIDES, {"case_id": case_id}).all()
    if not rows:
        # The case page asks for every case the coordinator or chair opens: no more queries.
        return []
    labels = {
        c.item_id: c.label
        for c in item_labels(
            session, viewer, links, case_id, item_ids={o.item_id for o, *_ in rows}
        )
    }
    return [
        PresentedOverride(
            override_id=o.id,
            item_label=labels.get(o.item_id, f"Item {o.item_id}"),
            agency_name=agency_name,
            ground_label=o.ground.label,
            reason=o.reason,
            created_by=created_by,
            created_at=o.created_at,
            revoked_at=o.revoked_at,
            revoked_by=revoked_by,
            revoke_reason=o.revoke_reason,
        )
        for o, agency_name, created_by, revoked_by in rows
    ]
