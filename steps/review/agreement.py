"""Agreement between reviewers: pure maths over plain data, no Django import.

The input of every function is one rubric item's ratings::

    {unit: {rater: value}}      # unit: a queue item's id; rater: a reviewer's id; value: the score

- **alpha**: Krippendorff's alpha, computed by the ``krippendorff`` package (a kept library, not a
  formula of ours) from the units' value counts. Nominal for thumbs, labels, yes/no and pairwise
  choices; ordinal for scales, over the scale's points in order. ``None`` when alpha is undefined:
  no unit has two ratings, or every rating is the same value (no disagreement is expected, so
  Krippendorff's ratio of observed to expected disagreement is 0/0).
- **percent**: of all pairs of ratings of the same unit, the share that are equal, in percent.
- **n**: the units alpha and percent are computed over (those with at least two ratings).

Units with a single rating carry no information about agreement and are left out of all three, as
Krippendorff's alpha leaves them out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np

NOMINAL, ORDINAL = "nominal", "ordinal"
# rubric item kind -> Krippendorff's level of measurement; free text has no agreement
LEVELS = {"thumbs": NOMINAL, "categorical": NOMINAL, "boolean": NOMINAL, "scale": ORDINAL}
PAIRWISE_LEVEL = NOMINAL  # "a" / "b" / "tie" are names, not an order

Ratings = Mapping[Hashable, Mapping[Hashable, Any]]


@dataclass(frozen=True, slots=True)
class ItemAgreement:
    alpha: float | None
    percent: float | None  # 0-100; None when no unit has two ratings
    n: int  # units with at least two ratings

    def as_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "percent": self.percent, "n": self.n}


def level_of(kind: str, *, pairwise: bool = False) -> str | None:
    """The level of measurement of a rubric item's kind; None for free text (not compared)."""
    if kind not in LEVELS:
        return None
    return PAIRWISE_LEVEL if pairwise else LEVELS[kind]


def paired(ratings: Ratings) -> dict[Hashable, list[Any]]:
    """The units with at least two (hashable, non-None) ratings, as lists of their values."""
    out = {}
    for unit, by_rater in ratings.items():
        values = [comparable(v) for v in by_rater.values() if v is not None]
        if len(values) >= 2:
            out[unit] = values
    return out


def item_agreement(
    ratings: Ratings, level: str = NOMINAL, domain: Sequence[Any] | None = None
) -> ItemAgreement:
    """Alpha, percent and n of one rubric item. `domain`: the ordered values of an ordinal item (a
    scale's points); values outside it are left out (no value from outside a rubric is scored)."""
    units = paired(ratings)
    if domain is not None:
        allowed = {comparable(v) for v in domain}
        units = {u: [v for v in vs if v in allowed] for u, vs in units.items()}
        units = {u: vs for u, vs in units.items() if len(vs) >= 2}
    if not units:
        return ItemAgreement(None, None, 0)
    return ItemAgreement(alpha(units.values(), level, domain), percent(units.values()), len(units))


def alpha(
    units: Iterable[list[Any]], level: str = NOMINAL, domain: Sequence[Any] | None = None
) -> float | None:
    """Krippendorff's alpha of units given as lists of their ratings (two or more each)."""
    units = list(units)
    if domain is not None and level == ORDINAL:
        values = [comparable(v) for v in domain]
    else:
        # nominal: the order is irrelevant; an ordinal item without a domain orders what it sees
        values = sorted({v for vs in units for v in vs}, key=_order)
    if len({v for vs in units for v in vs}) < 2:
        return None  # one value throughout: no disagreement expected, alpha is 0/0
    index = {v: i for i, v in enumerate(values)}
    counts = np.zeros((len(units), len(values)), dtype=np.float64)
    for row, vs in enumerate(units):
        for v in vs:
            counts[row, index[v]] += 1
    # value_counts (units x values) instead of a raters x units matrix: its size does not grow with
    # the number of reviewers, and the unit's rater identities do not enter alpha anyway
    result = krippendorff.alpha(
        value_counts=counts, value_domain=list(range(len(values))), level_of_measurement=level
    )
    return float(result)


def percent(units: Iterable[list[Any]]) -> float | None:
    """Pairwise percent agreement: equal pairs of ratings of a unit over all such pairs, 0-100."""
    agree = total = 0
    for vs in units:
        m = len(vs)
        total += m * (m - 1) // 2
        counts: dict[Any, int] = defaultdict(int)
        for v in vs:
            counts[v] += 1
        agree += sum(c * (c - 1) // 2 for c in counts.values())
    return 100.0 * agree / total if total else None


def disagreements(ratings: Ratings) -> list[Hashable]:
    """The units whose ratings are not all equal (units with fewer than two ratings never are)."""
    return [unit for unit, vs in paired(ratings).items() if len(set(vs)) > 1]


@dataclass(slots=True)
class PairCount:
    agree: int = 0
    total: int = 0  # units (of any item compared) both reviewers rated

    @property
    def percent(self) -> float | None:
        return 100.0 * self.agree / self.total if self.total else None


def reviewer_pairs(items: Iterable[Ratings]) -> dict[tuple[Hashable, Hashable], PairCount]:
    """Reviewer-by-reviewer agreement over any number of rubric items: for each pair of raters
    (lower id first), how many (unit, item) ratings they share and how many of those are equal."""
    pairs: dict[tuple[Hashable, Hashable], PairCount] = defaultdict(PairCount)
    for ratings in items:
        for by_rater in ratings.values():
            rated = sorted(
                ((r, comparable(v)) for r, v in by_rater.items() if v is not None),
                key=lambda rv: _order(rv[0]),
            )
            for (a, va), (b, vb) in combinations(rated, 2):
                count = pairs[(a, b)]
                count.total += 1
                count.agree += va == vb
    return dict(pairs)


def comparable(value: Any) -> Any:
    """A value as agreement compares it (hashable)."""
    # JSON scores may hold lists (never from a valid rubric, but from the admin): compare them as tuples
    return tuple(value) if isinstance(value, list) else value


def _order(value: Any) -> tuple:
    # a total order over mixed values (numbers before text), so sorting never raises
    if isinstance(value, bool):
        return (0, int(value), "")
    if isinstance(value, int | float):
        return (1, value, "")
    return (2, 0, str(value))
