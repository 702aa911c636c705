"""The "Agencies involved" section of a case as one viewer may see it, and what they may allocate.

Only involvements the policy shows (``policy.involvement``) are listed, and only the people,
agencies and workers the viewer may allocate (``policy.may_allocate``) are offered in the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marac import policy
from marac.models import Agency, Involvement, User
from marac.present import ROLE_ORDER, person_names
from marac.viewer import CaseLinks, Viewer


@dataclass(frozen=True)
class PresentedInvolvement:
    involvement_id: int
    version: int
    person_label: str
    agency_name: str
    kind_label: str
    worker_name: str | None
    started_on: date
    may_end: bool


@dataclass(frozen=True)
class AllocationChoices:
    people: tuple[tuple[int, str], ...]
    agencies: tuple[tuple[int, str], ...]
    workers: tuple[tuple[int, str], ...]

    @property
    def any(self) -> bool:
        return bool(self.people and self.agencies)


def _shown_people(session: Session, viewer: Viewer, links: CaseLinks) -> dict[int, str]:
    """Names of the people of the case the viewer sees in full, in the case page's order."""
    full = [pid for pid in links.roles if policy.person_identity(viewer, links, pid).full]
    names = person_names(session, full)
    order = sorted(full, key=lambda pid: (ROLE_ORDER[links.roles[pid]], names[pid], pid))
    return {pid: names[pid] for pid in order}


def present_involvements(
    session: Session, viewer: Viewer, links: CaseLinks, today: date
) -> list[PresentedInvolvement]:
    people = _shown_people(session, viewer, links)
    if not people:
        return []
    rows = session.execute(
        sa.select(Involvement, Agency.name, User.display_name)
        .join(Agency, Agency.id == Involvement.agency_id)
        .outerjoin(User, User.id == Involvement.worker_id)
        .where(
            Involvement.person_id.in_(list(people)),
            sa.or_(Involvement.ended_on.is_(None), Involvement.ended_on > today),
        )
        .order_by(Agency.name, Involvement.started_on, Involvement.id)
    ).all()
    order = {pid: index for index, pid in enumerate(people)}
    presented: list[tuple[int, PresentedInvolvement]] = []
    for involvement, agency_name, worker_name in rows:
        pid, agency_id = involvement.person_id, involvement.agency_id
        if not policy.involvement(viewer, links, pid, agency_id).full:
            continue
        presented.append(
            (
                order[pid],
                PresentedInvolvement(
                    involvement_id=involvement.id,
                    version=involvement.version,
                    person_label=people[pid],
                    agency_name=agency_name,
                    kind_label=involvement.kind.label,
                    worker_name=worker_name,
                    started_on=involvement.started_on,
                    may_end=policy.may_allocate(viewer, links, pid, agency_id).full,
                ),
            )
        )
    # Stable: within a person, the query's order (agency name, start date).
    presented.sort(key=lambda pair: pair[0])
    return [item for _, item in presented]


def allocation_choices(session: Session, viewer: Viewer, links: CaseLinks) -> AllocationChoices:
    """The people, agencies and workers the viewer may choose from (each pair is checked again
    with ``policy.may_allocate`` when the form is sent)."""
    people = _shown_people(session, viewer, links)
    agencies = session.execute(
        sa.select(Agency.id, Agency.name)
        .where(Agency.area_id == links.area_id, Agency.is_active.is_(True))
        .order_by(Agency.name)
    ).all()
    allowed_agencies = tuple(
        (agency_id, name)
        for agency_id, name in agencies
        if any(policy.may_allocate(viewer, links, pid, agency_id).full for pid in people)
    )
    allowed_people = tuple(
        (pid, name)
        for pid, name in people.items()
        if any(policy.may_allocate(viewer, links, pid, aid).full for aid, _ in allowed_agencies)
    )
    agency_names = dict(allowed_agencies)
    workers = session.execute(
        sa.select(User.id, User.display_name, User.agency_id)
        .where(User.agency_id.in_(list(agency_names)), User.is_enabled.is_(True))
        .order_by(User.display_name, User.id)
    ).all()
    several = len(agency_names) > 1
    worker_choices = tuple(
        (uid, f"{name} ({agency_names[agency_id]})" if several else name)
        for uid, name, agency_id in workers
    )
    return AllocationChoices(allowed_people, allowed_agencies, worker_choices)
