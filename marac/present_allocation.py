"""The "Agencies involved" section of a case as one viewer may see it, and what they may allocate.

Only involvements the policy shows (``policy.involvement``) are listed, and only the people,
agencies and workers the viewer may allocate (``policy.may_allocate``) are offered in the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from marac import policy
from marac.present import ROLE_ORDER, CaseReads
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


def _shown_people(reads: CaseReads, viewer: Viewer, links: CaseLinks) -> dict[int, str]:
    """Names of the people of the case the viewer sees in full, in the case page's order."""
    full = [pid for pid in links.roles if policy.person_identity(viewer, links, pid).full]
    names = reads.names(full)
    order = sorted(full, key=lambda pid: (ROLE_ORDER[links.roles[pid]], names[pid], pid))
    return {pid: names[pid] for pid in order}


def present_involvements(
    session: Session,
    viewer: Viewer,
    links: CaseLinks,
    today: date,
    reads: CaseReads | None = None,
) -> list[PresentedInvolvement]:
    reads = reads or CaseReads(session, links)
    people = _shown_people(reads, viewer, links)
    if not people:
        return []
    order = {pid: index for index, pid in enumerate(people)}
    presented: list[tuple[int, PresentedInvolvement]] = []
    for involvement in reads.involvements(today):
        pid, agency_id = involvement.person_id, involvement.agency_id
        if pid not in people:
            continue
        if not policy.involvement(viewer, links, pid, agency_id).full:
            continue
        presented.append(
            (
                order[pid],
                PresentedInvolvement(
                    involvement_id=involvement.id,
                    version=involvement.version,
                    person_label=people[pid],
                    agency_name=involvement.agency_name,
                    kind_label=involvement.kind.label,
                    worker_name=involvement.worker_name,
                    started_on=involvement.started_on,
                    may_end=policy.may_allocate(viewer, links, pid, agency_id).full,
                ),
            )
        )
    # Stable: within a person, the query's order (agency name, start date).
    presented.sort(key=lambda pair: pair[0])
    return [item for _, item in presented]


def allocation_choices(
    session: Session, viewer: Viewer, links: CaseLinks, reads: CaseReads | None = None
) -> AllocationChoices:
    """The people, agencies and workers the viewer may choose from (each pair is checked again
    with ``policy.may_allocate`` when the form is sent)."""
    reads = reads or CaseReads(session, links)
    people = _shown_people(reads, viewer, links)
    allowed_agencies = tuple(
        (agency.id, agency.name)
        for agency in reads.area_agencies()
        if agency.is_active
        and any(policy.may_allocate(viewer, links, pid, agency.id).full for pid in people)
    )
    allowed_people = tuple(
        (pid, name)
        for pid, name in people.items()
        if any(policy.may_allocate(viewer, links, pid, aid).full for aid, _ in allowed_agencies)
    )
    agency_names = dict(allowed_agencies)
    several = len(agency_names) > 1
    worker_choices = tuple(
        (
            user.id,
            f"{user.display_name} ({agency_names[user.agency_id]})"
            if several
            else user.display_name,
        )
        for user in reads.area_users()
        if user.agency_id in agency_names
    )
    return AllocationChoices(allowed_people, allowed_agencies, worker_choices)
