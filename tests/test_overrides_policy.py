"""Who keeps overrides, whom they may name, and who reviews retention: truth tables written by
hand from marac/policy.py's docstring ("Information items" and "Retention")."""

from __future__ import annotations

import pytest

from marac import policy
from marac.domain import CaseStatus, Role
from marac.policy import Level

from .test_policy import AREA, OTHER_AREA, PERP, PF, VF, F, W, links, viewer

KEEPERS = [
    # (viewer, links, expected, why)
    (viewer(Role.COORDINATOR), links(), F, "coordinator of the area"),
    (viewer(Role.CHAIR), links(status=CaseStatus.REFERRED), F, "chair, even before listing"),
    (viewer(Role.COORDINATOR, area=OTHER_AREA), links(), W, "another area's coordinator"),
    (viewer(Role.CHAIR, area=OTHER_AREA), links(), W, "another area's chair"),
    (viewer(Role.ADMINISTRATOR), links(), W, "administrators manage accounts"),
    (viewer(Role.AGENCY_REP), links(), W, "a representative reads, does not open"),
    (viewer(Role.REVIEWER), links(), W, "a reviewer reads, does not open"),
    (viewer(Role.SUPPORT_WORKER, VF), links(allocated=(1,)), W, "her own worker"),
    (viewer(Role.AGENCY_REP, PF), links(works_with=(PERP,)), W, "his programme"),
    # A programme's coordinator (if one were made) is limited as its agency is.
    (viewer(Role.COORDINATOR, PF), links(works_with=(PERP,)), W, "perpetrator-facing"),
]


@pytest.mark.parametrize(("who", "case", "expected", "why"), KEEPERS)
def test_who_records_revokes_and_lists_overrides(who, case, expected, why) -> None:  # noqa: ANN001
    assert policy.may_manage_overrides(who, case).level is expected, why


@pytest.mark.parametrize(
    ("agency_area", "perpetrator_facing", "expected", "why"),
    [
        (AREA, False, F, "an agency of the case's area"),
        (AREA, True, W, "never a perpetrator-facing agency"),
        (OTHER_AREA, False, W, "never an agency of another area"),
        (OTHER_AREA, True, W, "neither"),
    ],
)
def test_whom_an_override_may_name(agency_area, perpetrator_facing, expected, why) -> None:  # noqa: ANN001
    decision = policy.override_recipient(links(), agency_area, perpetrator_facing)
    assert decision.level is expected, why


@pytest.mark.parametrize(
    ("who", "area", "expected"),
    [
        (viewer(Role.COORDINATOR), AREA, F),
        (viewer(Role.ADMINISTRATOR), AREA, F),
        (viewer(Role.COORDINATOR), OTHER_AREA, W),
        (viewer(Role.ADMINISTRATOR), OTHER_AREA, W),
        (viewer(Role.CHAIR), AREA, W),
        (viewer(Role.AGENCY_REP), AREA, W),
        (viewer(Role.REVIEWER), AREA, W),
        (viewer(Role.SUPPORT_WORKER, VF), AREA, W),
        (viewer(Role.COORDINATOR, PF), AREA, W),
    ],
)
def test_who_reviews_retention(who, area, expected: Level) -> None:  # noqa: ANN001
    assert policy.may_review_retention(who, area).level is expected
