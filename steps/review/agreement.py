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
        if len(by_rater) < 2:
            continue  # most units of a queue still short of its k: no list built
        values = [v if type(v) is not list else tuple(v) for v in by_rater.values() if v is not None]
        if len(values) >= 2:
            out[unit] = values
    return out


@dataclass(frozen=True, slots=True)
class ItemFigures:
    agreement: ItemAgreement
    disagreements: list[Hashable]  # the units whose ratings are not all equal


def item_figures(ratings: Ratings, level: str = NOMINAL, domain: Sequence[Any] | None = None) -> ItemFigures:
    """Alpha, percent and n of one rubric item, and its disagreeing units, from one pass over the
    ratings. `domain`: the ordered values of an ordinal item (a scale's points); values outside it
    are left out of alpha, percent and n (no value from outside a rubric is scored).

    The pass only numbers each rating's value; the rest is arithmetic on the units x values count
    matrix (numpy), the form Krippendorff's coincidences are built from anyway."""
    index: dict[Any, int] = {comparable(v): i for i, v in enumerate(domain)} if domain is not None else {}
    in_domain = len(index) if domain is not None else None
    units: list[Hashable] = []
    rows: list[int] = []
    codes: list[int] = []
    for unit, by_rater in ratings.items():
        if len(by_rater) < 2:
            continue  # most units of a queue short of its k: nothing to compare
        values = [v for v in by_rater.values() if v is not None]
        if len(values) < 2:
            continue
        row = len(units)
        units.append(unit)
        for value in values:
            value = comparable(value)
            code = index.get(value)
            if code is None:
                code = index[value] = len(index)
            rows.append(row)
            codes.append(code)
    if not units:
        return ItemFigures(ItemAgreement(None, None, 0), [])
    counts = np.zeros((len(units), len(index)), dtype=np.float64)
    np.add.at(counts, (rows, codes), 1)
    differing = [units[i] for i in np.flatnonzero(counts.max(axis=1) < counts.sum(axis=1))]
    if in_domain is not None:
        counts = counts[:, :in_domain]
    elif level == ORDINAL:
        # no scale given: order the values seen, as an ordinal metric needs
        order = sorted(index, key=_order)
        counts = counts[:, [index[v] for v in order]]
    per_unit = counts.sum(axis=1)
    counts, per_unit = counts[per_unit >= 2], per_unit[per_unit >= 2]
    if not len(counts):
        return ItemFigures(ItemAgreement(None, None, 0), differing)
    total = float((per_unit * (per_unit - 1) / 2).sum())
    agree = float((counts * (counts - 1) / 2).sum())
    found = ItemAgreement(alpha_of_counts(counts, level), 100.0 * agree / total, len(counts))
    return ItemFigures(found, differing)


def alpha_of_counts(counts: np.ndarray, level: str = NOMINAL) -> float | None:
    """Krippendorff's alpha from a units x values matrix of how many raters gave each value (the
    values in order for an ordinal level; units with fewer than two ratings already left out)."""
    if np.count_nonzero(counts.sum(axis=0)) < 2:
        return None  # one value throughout: no disagreement expected, alpha is 0/0
    # value_counts (units x values) instead of a raters x units matrix: its size does not grow with
    # the number of reviewers, and the unit's rater identities do not enter alpha anyway
    result = krippendorff.alpha(
        value_counts=counts, value_domain=list(range(counts.shape[1])), level_of_measurement=level
    )
    return float(result)


def item_agreement(
    ratings: Ratings, level: str = NOMINAL, domain: Sequence[Any] | None = None
) -> ItemAgreement:
    """Alpha, percent and n of one rubric item (see item_figures)."""
    return item_figures(ratings, level, domain).agreement


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
    total: dict[tuple, int] = defaultdict(int)
    agree: dict[tuple, int] = defaultdict(int)
    for ratings in items:
        for by_rater in ratings.values():
            if len(by_rater) < 2:
                continue
            rated = [(r, v) for r, v in by_rater.items() if v is not None]
            for (a, va), (b, vb) in combinations(rated, 2):
                key = _pair(a, b)
                total[key] += 1
                if va == vb:
                    agree[key] += 1
    return {key: PairCount(agree[key], count) for key, count in total.items()}


def _pair(a: Hashable, b: Hashable) -> tuple[Hashable, Hashable]:
    try:
        return (a, b) if a <= b else (b, a)  # reviewer ids: plain ints, the fast path
    except TypeError:
        return (a, b) if _order(a) <= _order(b) else (b, a)


def comparable(value: Any) -> Any:
    """A value as agreement compares it (hashable)."""
    # JSON scores may hold lists (never from a valid rubric, but from the admin): compare them as tuples
    return tuple(value) if type(value) is list else value


def _order(value: Any) -> tuple:
    # a total order over mixed values (numbers before text), so sorting never raises
    if isinstance(value, bool):
        return (0, int(value), "")
    if isinstance(value, int | float):
        return (1, value, "")
    return (2, 0, str(value))
