"""Finding people already known: variants that must match, near misses that must not.

Each row is checked twice: by the scoring rules alone (``compare``) and through the indexed
retrieval over a database (``find_candidates``), so the index never loses a match the rules
would accept. Expected answers are written by hand.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from marac import matching
from marac.domain import Gender
from marac.extensions import db
from marac.matching import Query

F, M = Gender.FEMALE, Gender.MALE

# key: (given, family, date of birth, gender, aliases)
PEOPLE = {
    "robert": ("Robert", "Ashdown", date(1986, 3, 14), M, ("Rob Ash",)),
    "megan": ("Megan", "Thorne", date(1991, 7, 2), F, ()),
    "john": ("John", "Smith", date(1980, 1, 1), M, ()),
    "tom": ("Tom", "Smith", date(1979, 4, 4), M, ()),
    "catherine": ("Catherine", "O'Brien", date(1975, 5, 5), F, ()),
    "steven": ("Steven", "Stephenson", None, M, ()),
    "zoe": ("Zoe", "Hartley", date(1991, 1, 31), F, ()),
    "sophie": ("Sophie", "Calder", date(1989, 11, 30), F, ("Sophie Ashdown",)),
}

MUST_MATCH = [
    # (typed given, typed family, date of birth, gender, expected, why)
    ("Robert", "Ashdown", None, None, "robert", "the same name"),
    ("Bob", "Ashdown", None, None, "robert", "Bob is a form of Robert"),
    ("Robbie", "Ashdown", date(1986, 3, 14), M, "robert", "pet name with the same date of birth"),
    ("Jon", "Smith", None, None, "john", "Jon is a form of John"),
    ("Johnny", "Smith", None, M, "john", "Johnny is a form of John"),
    ("Ashdown", "Robert", None, None, "robert", "first and last names swapped"),
    ("Smith", "John", date(1980, 1, 1), None, "john", "swapped, with the date of birth"),
    ("Megan", "Throne", None, None, "megan", "two letters transposed"),
    ("Megan", "Thorme", None, None, "megan", "one wrong letter"),
    ("Megna", "Thorne", None, None, "megan", "a typo in the first name"),
    ("Meghan", "Thorn", None, F, "megan", "another spelling and a missing letter"),
    ("Mgean", "Throne", None, None, "megan", "a typo in each name"),
    ("Megan", "Thrnoe", None, None, "megan", "two typos in a six-letter name"),
    ("Megan", "Thrnoe", date(1991, 7, 2), None, "megan", "two typos, the same date of birth"),
    ("Rob", "Ash", None, None, "robert", "an alias"),
    ("Sophie", "Ashdown", None, None, "sophie", "her alias with another family name"),
    ("Megan", "Thorne", date(1991, 2, 7), None, "megan", "day and month swapped"),
    ("Megan", "Thorne", date(1991, 7, 20), None, "megan", "the day's digits swapped"),
    ("Megan", "Thorne", date(1919, 7, 2), None, "megan", "the year's digits swapped"),
    ("Robert", "Ashdown", date(1968, 3, 14), None, "robert", "1986 typed as 1968"),
    ("Katherine", "O'Brien", None, None, "catherine", "a listed spelling of Catherine"),
    ("Cathy", "OBrien", None, F, "catherine", "short form, no apostrophe"),
    ("Catherine", "O Brien", None, None, "catherine", "a space for the apostrophe"),
    ("Stephen", "Stevenson", None, None, "steven", "forms and a sound-alike surname"),
    ("Zoë", "Hartley", None, None, "zoe", "an accent"),
    ("  megan ", "THORNE", None, None, "megan", "case and spaces"),
    ("Megan", "Thorne", None, M, "megan", "exact name, gender recorded differently"),
]

MUST_NOT_MATCH = [
    ("Morgan", "Thorne", None, None, "megan", "another first name, two letters apart"),
    ("Megan", "Thornton", None, None, "megan", "another family name"),
    ("Megan", "Thorne", date(1991, 8, 2), None, "megan", "one digit differs, not a swap"),
    ("Megan", "Thorne", date(1992, 7, 2), None, "megan", "another year of birth"),
    ("Joan", "Smith", None, F, "john", "one letter apart, but a woman and a man"),
    ("Tim", "Smith", None, None, "tom", "three-letter names allow no typo"),
    ("Mgena", "Thrnoe", None, None, "megan", "three typos"),
    ("Karen", "Ashdown", None, None, "robert", "another first name"),
    ("Christine", "O'Brien", None, None, "catherine", "another first name, same family"),
    ("Robert", "Ashdown", date(1986, 3, 15), None, "robert", "a day out, not a swap"),
]


def record(key: str, person_id: int) -> matching.Record:
    given, family, dob, gender, aliases = PEOPLE[key]
    names = [matching.KnownName(matching.normalise(given), matching.normalise(family))]
    for alias in aliases:
        alias_given, alias_family = matching.split_full_name(alias)
        names.append(
            matching.KnownName(
                matching.normalise(alias_given), matching.normalise(alias_family), alias
            )
        )
    return matching.Record(person_id, tuple(names), dob, gender)


@pytest.mark.parametrize(("given", "family", "dob", "gender", "key", "why"), MUST_MATCH)
def test_variants_match_by_the_rules(given, family, dob, gender, key, why) -> None:  # noqa: ANN001
    assert matching.compare(Query(given, family, dob, gender), record(key, 1)) is not None, why


@pytest.mark.parametrize(("given", "family", "dob", "gender", "key", "why"), MUST_NOT_MATCH)
def test_near_misses_do_not_match_by_the_rules(given, family, dob, gender, key, why) -> None:  # noqa: ANN001
    assert matching.compare(Query(given, family, dob, gender), record(key, 1)) is None, why


@pytest.fixture
def known(make_area, make_person):  # noqa: ANN001
    area = make_area()
    elsewhere = make_area()
    ids = {}
    for key, (given, family, dob, gender, aliases) in PEOPLE.items():
        ids[key] = make_person(area, given, family, dob, gender, aliases).id
    # The same Megan Thorne in another area is never offered.
    other = make_person(elsewhere, "Megan", "Thorne", date(1991, 7, 2), F).id
    return area, ids, other


def _found(area_id: int, query: Query) -> list[int]:
    return [
        c.person_id
        for c in matching.find_candidates(db.session, area_id, query, allowed=sa.true()).candidates
    ]


def test_the_index_finds_every_variant_and_no_near_miss(known) -> None:  # noqa: ANN001
    area, ids, other = known
    for given, family, dob, gender, key, why in MUST_MATCH:
        found = _found(area.id, Query(given, family, dob, gender))
        assert ids[key] in found, why
        assert other not in found
    for given, family, dob, gender, key, why in MUST_NOT_MATCH:
        assert ids[key] not in _found(area.id, Query(given, family, dob, gender)), why


def test_candidates_are_ranked_and_explained(known) -> None:  # noqa: ANN001
    area, ids, _other = known
    found = matching.find_candidates(
        db.session, area.id, Query("Bob", "Ashdown", date(1986, 3, 14)), allowed=sa.true()
    ).candidates
    assert found[0].person_id == ids["robert"]
    assert found[0].reasons == ("same date of birth", "another form of the first name")
    assert found[0].aliases == ("Rob Ash",)


def test_the_viewer_filter_is_required_and_applied(known) -> None:  # noqa: ANN001
    area, ids, _other = known
    with pytest.raises(ValueError):
        matching.find_candidates(db.session, area.id, Query("Megan", "Thorne"), allowed=None)
    assert (
        matching.find_candidates(
            db.session, area.id, Query("Megan", "Thorne"), allowed=sa.false()
        ).candidates
        == []
    )


def test_keys_follow_renames_and_aliases(known, make_person) -> None:  # noqa: ANN001
    from marac.models import Person, PersonAlias

    area, ids, _other = known
    megan = db.session.get(Person, ids["megan"])
    megan.family_name = "Okonjo"
    db.session.commit()
    assert ids["megan"] not in _found(area.id, Query("Megan", "Thorne"))
    assert ids["megan"] in _found(area.id, Query("Megan", "Okonjo"))
    megan.aliases.append(PersonAlias(name="Meg Thorne"))
    db.session.commit()
    assert ids["megan"] in _found(area.id, Query("Meg", "Thorne"))
    db.session.delete(megan.aliases[0])
    db.session.commit()
    assert ids["megan"] not in _found(area.id, Query("Meg", "Thorne"))


def test_dob_variants_are_swaps_of_adjacent_digits_and_day_month() -> None:
    assert matching.dob_variants(date(1991, 7, 2)) == {
        date(1991, 7, 20),  # 02 -> 20
        date(1991, 2, 7),  # day and month swapped
        date(1919, 7, 2),  # 1991 -> 1919
    }
    # 12 March 1989: 21 March, 3 December (day and month), and 1998; 1899 is no birth year
    # on record, and swaps that make no real date (day 10 of month 23) are left out.
    assert matching.dob_variants(date(1989, 3, 12)) == {
        date(1989, 3, 21),
        date(1989, 12, 3),
        date(1998, 3, 12),
    }
