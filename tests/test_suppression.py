"""Small-number suppression: no suppressed count can be worked back from what is published.

Two attackers. The first tries every table the published figures allow (small tables only, so
it can try them all): each suppressed cell must have at least two possible values. It does not
share any code with the suppression it attacks. The second is the module's own interval
attack, used on tables the size of a real return.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marac import reporting, suppression
from marac.reporting import DataReturn, MeetingColumn, Quarter
from marac.suppression import Shown, Sum

# A return cut down to what can be tried exhaustively: two meetings, two referring agencies
# (their counts add up to the cases heard), and the totals.
AGENCIES = ("a", "b")
COLUMNS = (0, 1, "total")
LIMIT = 11  # every value the attacker tries for a free cell (counts go up to 9)


def _small_table(a0: int, a1: int, b0: int, b1: int) -> dict[tuple[str, object], int]:
    table = {("a", 0): a0, ("a", 1): a1, ("b", 0): b0, ("b", 1): b1}
    for agency in AGENCIES:
        table[(agency, "total")] = table[(agency, 0)] + table[(agency, 1)]
    for column in COLUMNS:
        table[("heard", column)] = table[("a", column)] + table[("b", column)]
    # Row by row, as the return reads.
    return {(row, c): table[(row, c)] for row in ("heard", *AGENCIES) for c in COLUMNS}


SMALL_SUMS = [
    *(Sum((row, "total"), ((row, 0), (row, 1))) for row in ("heard", *AGENCIES)),
    *(Sum(("heard", c), tuple((agency, c) for agency in AGENCIES)) for c in COLUMNS),
]


def _consistent(candidate: dict, published: dict, shown: dict) -> bool:
    """Could this table be the one behind what was published, as a reader understands it?"""
    for cell, how in shown.items():
        value = candidate[cell]
        if how is Shown.EXACT and value != published[cell]:
            return False
        if how is Shown.SMALL and not 1 <= value <= 5:
            return False
        if how is Shown.HIDDEN and value < 1:  # zero is always shown
            return False
    return True


counts = st.integers(min_value=0, max_value=9)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts, counts, counts, counts)
def test_no_suppressed_cell_of_a_small_table_can_be_recovered(
    a0: int, a1: int, b0: int, b1: int
) -> None:
    published = _small_table(a0, a1, b0, b1)
    shown = suppression.suppress(published, SMALL_SUMS)
    # Primary suppression: 1 to 5 never shown as a number; nothing else is shown as "5 or fewer".
    for cell, value in published.items():
        if 1 <= value <= 5:
            assert shown[cell] is not Shown.EXACT, cell
        if value == 0:
            assert shown[cell] is Shown.EXACT, cell
        if shown[cell] is Shown.SMALL:
            assert 1 <= value <= 5
    possible: dict = {cell: set() for cell, how in shown.items() if how is not Shown.EXACT}
    for free in itertools.product(range(LIMIT), repeat=4):
        candidate = _small_table(*free)
        if _consistent(candidate, published, shown):
            for cell in possible:
                possible[cell].add(candidate[cell])
    for cell, values in possible.items():
        assert published[cell] in values, cell
        assert len(values) >= 2, f"{cell} can be worked out as {values} from {published}"


def test_the_classic_subtraction_is_closed() -> None:
    # 3 + 10 = 13 with the total shown would give the 3 away.
    values = {("r", 0): 3, ("r", 1): 10, ("r", "total"): 13}
    sums = [Sum(("r", "total"), (("r", 0), ("r", 1)))]
    shown = suppression.suppress(values, sums)
    assert shown[("r", 0)] is Shown.SMALL
    assert Shown.HIDDEN in (shown[("r", 1)], shown[("r", "total")])
    assert suppression.pinned(shown, values, sums) == []
    # The part is hidden before the total: the total stays useful.
    assert shown[("r", 1)] is Shown.HIDDEN and shown[("r", "total")] is Shown.EXACT


def test_small_parts_that_fill_a_small_total_are_opened() -> None:
    # Five meetings of one case each, total 5: "5 or fewer" five times under "5 or fewer"
    # would mean exactly 1 each.
    values = {("r", i): 1 for i in range(5)} | {("r", "total"): 5}
    sums = [Sum(("r", "total"), tuple(("r", i) for i in range(5)))]
    shown = suppression.suppress(values, sums)
    assert suppression.pinned(shown, values, sums) == []
    assert all(how is not Shown.EXACT for how in shown.values())


def _return(meetings: list[dict[str, int]]) -> DataReturn:
    columns = tuple(
        MeetingColumn(n, Quarter(2026, 3).start, counts) for n, counts in enumerate(meetings)
    )
    total = {k: sum(m[k] for m in meetings) for k in reporting.MEASURE_KEYS}
    return DataReturn("Area", Quarter(2026, 3), columns, total)


@st.composite
def meetings(draw: st.DrawFn) -> list[dict[str, int]]:
    found = []
    for _n in range(draw(st.integers(min_value=1, max_value=6))):
        referred = {key: draw(st.integers(0, 12)) for key in reporting.REFERRER_KEYS}
        counts = {key: draw(st.integers(0, 20)) for key in reporting.MEASURE_KEYS}
        counts.update(referred)
        counts["cases_heard"] = sum(referred.values())
        found.append(counts)
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meetings())
def test_a_published_return_gives_no_suppressed_count_away(rows: list[dict[str, int]]) -> None:
    data = _return(rows)
    published = reporting.publish(data)
    values = {}
    shown = {}
    wording = {
        suppression.SMALL_WORDING: Shown.SMALL,
        suppression.HIDDEN_WORDING: Shown.HIDDEN,
    }
    columns = [*range(len(rows)), reporting.TOTAL]
    for (key, _label), (_text_label, cells) in zip(reporting.MEASURES, published.rows, strict=True):
        for column, text in zip(columns, cells, strict=True):
            true = data.total[key] if column == reporting.TOTAL else rows[column][key]
            values[(key, column)] = true
            shown[(key, column)] = wording.get(text, Shown.EXACT)
            if text not in wording:
                assert int(text) == true and not 1 <= true <= 5
            if 1 <= true <= 5:
                assert text in wording
    sums = reporting.return_sums(len(rows))
    # Read back from the words alone, the published table pins nothing.
    assert suppression.pinned(shown, values, sums) == []
    assert published.suppressed == sum(how is not Shown.EXACT for how in shown.values())
