"""Small-number suppression for tables that leave the service (the return's CSV and PDF).

The rules (docs/reporting.md says the same in words):

1. Primary: a count from 1 to 5 is shown as "5 or fewer". Zero is shown as 0.
2. Secondary: a table also publishes sums (each row's total is the sum of its meetings; in each
   column the referring agencies add up to the cases heard). A reader who knows the published
   cells and the sums can work a suppressed cell back by subtraction. So the published table is
   attacked the way a reader would: every shown cell is exact, "5 or fewer" means 1 to 5, "not
   shown" means 1 or more (zero is always shown), and the bounds are pushed through every sum
   until nothing changes. While any suppressed cell comes out as one single value, one more cell
   is hidden ("not shown"): a shown, non-zero cell of a sum that pins it (the smallest, parts
   before totals), or else a "5 or fewer" cell, so that its bounds open. Each step hides one
   more cell, so it ends; at worst every non-zero cell is hidden, and then nothing has an upper
   bound and nothing can be pinned.

The attack (``bounds``) is interval propagation over the sums: it finds every value recoverable
by adding and subtracting published figures. tests/test_suppression.py also attacks small tables
exhaustively, trying every table the published figures allow.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

SMALL_MAX = 5
SMALL_WORDING = "5 or fewer"
HIDDEN_WORDING = "not shown"


class Shown(Enum):
    EXACT = "exact"
    SMALL = "small"  # primary: 1 to 5, shown as "5 or fewer"
    HIDDEN = "hidden"  # secondary: any non-zero value, "not shown"


Cell = Hashable


@dataclass(frozen=True)
class Sum:
    """``total`` is published as the sum of ``parts``."""

    total: Cell
    parts: tuple[Cell, ...]

    @property
    def cells(self) -> tuple[Cell, ...]:
        return (self.total, *self.parts)


def bounds(
    shown: Mapping[Cell, Shown], published: Mapping[Cell, int], sums: Sequence[Sum]
) -> dict[Cell, tuple[float, float]]:
    """What a reader can work out about each cell from the published table: (lowest, highest)."""
    low: dict[Cell, float] = {}
    high: dict[Cell, float] = {}
    for cell, how in shown.items():
        if how is Shown.EXACT:
            low[cell] = high[cell] = published[cell]
        elif how is Shown.SMALL:
            low[cell], high[cell] = 1, SMALL_MAX
        else:
            low[cell], high[cell] = 1, math.inf
    for _round in range(10_000):
        changed = False
        for s in sums:
            parts_low = sum(low[p] for p in s.parts)
            parts_high = sum(high[p] for p in s.parts)
            if parts_low > low[s.total]:
                low[s.total], changed = parts_low, True
            if parts_high < high[s.total]:
                high[s.total], changed = parts_high, True
            for p in s.parts:
                # Subtracting an infinite bound from an infinite sum has no meaning: add again.
                others_high = (
                    parts_high - high[p] if high[p] != math.inf else _sum_without(high, s.parts, p)
                )
                others_low = parts_low - low[p]
                new_low = low[s.total] - others_high
                new_high = high[s.total] - others_low
                if new_low > low[p]:
                    low[p], changed = new_low, True
                if new_high < high[p]:
                    high[p], changed = new_high, True
        if not changed:
            break
    return {cell: (low[cell], high[cell]) for cell in shown}


def _sum_without(values: Mapping[Cell, float], cells: Sequence[Cell], left_out: Cell) -> float:
    return sum(values[c] for c in cells if c != left_out)


def pinned(
    shown: Mapping[Cell, Shown], published: Mapping[Cell, int], sums: Sequence[Sum]
) -> list[Cell]:
    """Suppressed cells a reader can work back to one value, in the order of ``shown``."""
    found = bounds(shown, published, sums)
    return [
        cell
        for cell, how in shown.items()
        if how is not Shown.EXACT and found[cell][0] == found[cell][1]
    ]


def suppress(values: Mapping[Cell, int], sums: Sequence[Sum]) -> dict[Cell, Shown]:
    """How each cell is published. ``values`` in the order cells are read (rows, then columns)."""
    shown = {
        cell: Shown.SMALL if 1 <= value <= SMALL_MAX else Shown.EXACT
        for cell, value in values.items()
    }
    order = {cell: n for n, cell in enumerate(values)}
    totals = {s.total for s in sums}
    while recovered := pinned(shown, values, sums):
        target = recovered[0]
        around = [s for s in sums if target in s.cells]
        candidates = [
            c for s in around for c in s.cells if shown[c] is Shown.EXACT and values[c] != 0
        ]
        if not candidates:
            candidates = [c for s in around for c in s.cells if shown[c] is Shown.SMALL]
        if not candidates:
            # Pinned through a chain of sums: open the first cell that still carries a bound.
            candidates = [c for c, how in shown.items() if how is Shown.SMALL] or [
                c for c, how in shown.items() if how is Shown.EXACT and values[c] != 0
            ]
        choice = min(candidates, key=lambda c: (c in totals, values[c], order[c]))
        shown[choice] = Shown.HIDDEN
    return shown


def wording(value: int, how: Shown) -> str:
    if how is Shown.SMALL:
        return SMALL_WORDING
    if how is Shown.HIDDEN:
        return HIDDEN_WORDING
    return str(value)
