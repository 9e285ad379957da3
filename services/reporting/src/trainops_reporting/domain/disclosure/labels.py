"""What each suppression label tells whoever reads a report, as bounds on the hidden count.

The labels are part of what is published, so the attacker's linear program uses them exactly
as a reader would, and the planner picks its hidden cells knowing that:

* ``primary``: the count is from 1 to k-1 (every such count of the universe is hidden);
* ``complementary``: the count is k or more. Counts of 1..k-1 are all primary and zeros are
  never hidden, so the remaining hidden counts cannot be smaller, and anyone who knows the rule
  knows it; saying so in the label costs nothing and keeps the proof honest.

``line_bounds`` applies these bounds to one adding-up line at a time. It is the planner's cheap
first look (a partner that would narrow a primary cell beside it costs more; a pruning try that
would narrow one is not even proven); the linear program over all lines decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final, Literal

Reason = Literal["primary", "complementary"]
REASONS: Final[tuple[Reason, ...]] = ("primary", "complementary")


def label_interval(reason: Reason, k: int) -> tuple[float, float]:
    """The interval a label alone proves of the count it hides (``inf`` when unbounded)."""
    if reason == "primary":
        return 1.0, float(k - 1)
    return float(k), math.inf


def line_bounds(
    members: Sequence[tuple[int, int]], hidden: Mapping[int, Reason], k: int
) -> dict[int, tuple[float, float]]:
    """What one line alone proves of each of its primary members.

    ``members`` are ``(sign, value)`` of the line's non-zero cells (``+1`` children, ``-1`` the
    parent, so the signed values sum to zero); ``hidden`` maps member positions to labels. The
    visible values are known; every other hidden member lies within its label's bounds.
    """
    rest = -sum(sign * value for i, (sign, value) in enumerate(members) if i not in hidden)
    signed: dict[int, tuple[float, float]] = {}
    for i, why in hidden.items():
        low, high = label_interval(why, k)
        signed[i] = (low, high) if members[i][0] > 0 else (-high, -low)
    out: dict[int, tuple[float, float]] = {}
    for i, why in hidden.items():
        if why != "primary":
            continue
        # sign * x_i = rest - (the other hidden members, each within its label's bounds)
        others_low = sum(signed[j][0] for j in hidden if j != i)
        others_high = sum(signed[j][1] for j in hidden if j != i)
        low, high = rest - others_high, rest - others_low
        if members[i][0] < 0:
            low, high = -high, -low
        out[i] = (max(low, 1.0), min(high, k - 1.0))
    return out


def line_narrowed(members: Sequence[tuple[int, int]], hidden: Mapping[int, Reason], k: int) -> int:
    """How many primary members of one line the line alone pins inside [1, k-1] (for instance
    a partner of 5 beside a primary 2 on a line whose other cells are visible proves the
    primary is at most 2: the two add up to 7 and the partner is at least k)."""
    return sum(
        low > 1.0 + 1e-9 or high < k - 1.0 - 1e-9
        for low, high in line_bounds(members, hidden, k).values()
    )
