"""The demo seed: loads, and loads again without duplicating anything."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from flask import Flask

from marac.domain import ActionStatus, AgencyKind, CaseRole, CaseStatus, Role
from marac.extensions import db
from marac.models import Agency, Case, CasePerson, Involvement, Person, User
from marac.seeding import load_demo


def _counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_demo_loads_twice_without_duplicating(app: Flask) -> None:
    load_demo(db.session, "hash-1")
    db.session.commit()
    first = _counts()
    load_demo(db.session, "hash-2")
    db.session.commit()
    assert _counts() == first
    # A second load does not reset passwords unless asked to.
    assert (
        db.session.scalar(sa.select(User.password_hash).where(User.username == "chair")) == "hash-1"
    )


def test_demo_has_what_the_product_needs(app: Flask) -> None:
    load_demo(db.session, "hash")
    db.session.commit()
    northmere = [a for a in db.session.scalars(sa.select(Agency)) if a.area.code == "NM"]
    assert len(northmere) >= 12
    assert {a.kind for a in northmere} == set(AgencyKind)
    assert {u.role for u in db.session.scalars(sa.select(User))} == set(Role)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) >= 30

    # A man with three partners in three separate cases.
    kieran = db.session.scalar(sa.select(Person).where(Person.family_name == "Ashdown"))
    his_cases = db.session.scalars(
        sa.select(CasePerson.case_id).where(
            CasePerson.person_id == kieran.id, CasePerson.role == CaseRole.PERPETRATOR
        )
    ).all()
    victims = db.session.scalars(
        sa.select(CasePerson.person_id).where(
            CasePerson.case_id.in_(his_cases), CasePerson.role == CaseRole.VICTIM
        )
    ).all()
    assert len(set(his_cases)) == 3 and len(set(victims)) == 3
    # ...in a behaviour-change programme.
    assert db.session.scalar(
        sa.select(Involvement)
        .where(Involvement.person_id == kieran.id)
        .join(Agency)
        .where(Agency.kind == AgencyKind.PERPETRATOR_PROGRAMME)
    )
    # A child in two households (two cases).
    shared_children = db.session.execute(
        sa.select(CasePerson.person_id)
        .where(CasePerson.role == CaseRole.CHILD)
        .group_by(CasePerson.person_id)
        .having(sa.func.count(CasePerson.case_id) > 1)
    ).all()
    assert shared_children
    # A repeat: the same victim in a closed case and a new one.
    repeats = db.session.execute(
        sa.select(CasePerson.person_id)
        .join(Case, Case.id == CasePerson.case_id)
        .where(CasePerson.role == CaseRole.VICTIM)
        .group_by(CasePerson.person_id)
        .having(sa.func.count(Case.id) > 1)
    ).all()
    assert repeats
    assert CaseStatus.CLOSED in {
        c.status
        for c in db.session.scalars(
            sa.select(Case).join(CasePerson).where(CasePerson.person_id == repeats[0][0])
        )
    }


def test_demo_action_histories_follow_on_from_one_status_to_the_next(app: Flask) -> None:
    """The loader builds actions with the service's own helpers: each change starts from the
    status the one before ended on, and the action stands where its last change left it."""
    from marac.models import Action

    load_demo(db.session, "hash")
    db.session.commit()
    actions = db.session.scalars(sa.select(Action)).all()
    assert any(len(a.history) > 1 for a in actions)  # the demo really has histories
    for action in actions:
        steps = [(c.from_status, c.to_status) for c in action.history]
        assert steps[0] == (None, ActionStatus.OPEN), action.text
        for (_before, reached), (left, _after) in itertools.pairwise(steps):
            assert left is reached, action.text
        assert action.status is steps[-1][1]
        assert action.updated_at == action.history[-1].changed_at
