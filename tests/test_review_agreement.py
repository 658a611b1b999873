"""Agreement maths (steps/review/agreement.py): pure code, no database.

The alpha figures are checked against an independent computation written here from Krippendorff's
definition (the coincidence matrix and the difference function), and against the figures Krippendorff
published for his own example, so a mistake in how we call the library shows as a wrong number.
"""

from __future__ import annotations

import random
from collections import Counter
from itertools import permutations

import pytest

from steps.review import agreement
from steps.review.agreement import NOMINAL, ORDINAL, item_agreement

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
# twelve units, values 1-5, "." missing. Published: nominal 0.743, ordinal 0.815.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


def by_unit(table: dict[str, list]) -> dict[int, dict[str, object]]:
    units: dict[int, dict[str, object]] = {}
    for rater, values in table.items():
        for unit, value in enumerate(values):
            if value is not None:
                units.setdefault(unit, {})[rater] = value
    return units


def alpha_by_hand(ratings: dict, level: str) -> float:
    """Krippendorff's alpha straight from its definition: no library, no shared code with the module.

    o[c][k] = sum over units of (pairs c-k within the unit) / (m_u - 1); n_c = sum_k o[c][k];
    alpha = 1 - (n - 1) * sum o[c][k] d(c,k) / sum n_c n_k d(c,k).
    """
    o: Counter = Counter()
    for values in ratings.values():
        vs = [v for v in values.values() if v is not None]
        if len(vs) < 2:
            continue
        for i, j in permutations(range(len(vs)), 2):
            o[(vs[i], vs[j])] += 1 / (len(vs) - 1)
    values = sorted({c for c, _ in o})
    n_c = {c: sum(o[(c, k)] for k in values) for c in values}
    n = sum(n_c.values())

    def delta(c, k):
        if level == NOMINAL:
            return 0.0 if c == k else 1.0
        lo, hi = sorted((values.index(c), values.index(k)))
        between = sum(n_c[values[g]] for g in range(lo, hi + 1))
        return (between - (n_c[c] + n_c[k]) / 2) ** 2

    observed = sum(o[(c, k)] * delta(c, k) for c in values for k in values)
    expected = sum(n_c[c] * n_c[k] * delta(c, k) for c in values for k in values)
    return 1 - (n - 1) * observed / expected


def test_krippendorffs_published_example():
    ratings = by_unit(KRIPPENDORFF_2011)
    nominal = item_agreement(ratings, NOMINAL)
    ordinal = item_agreement(ratings, ORDINAL, domain=[1, 2, 3, 4, 5])
    assert round(nominal.alpha, 3) == 0.743
    assert round(ordinal.alpha, 3) == 0.815
    # unit 12 has one value: it counts for nothing
    assert nominal.n == ordinal.n == 11


@pytest.mark.parametrize("level", [NOMINAL, ORDINAL])
def test_alpha_equals_the_coincidence_matrix_by_hand(level):
    ratings = by_unit(KRIPPENDORFF_2011)
    assert item_agreement(ratings, level).alpha == pytest.approx(alpha_by_hand(ratings, level), abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_alpha_equals_the_hand_computation_on_random_queues(seed):
    """Random queues the way they look: 2-3 reviewers of 8 per step, some steps with one review."""
    rng = random.Random(seed)
    reviewers = [f"r{i}" for i in range(8)]
    ratings = {}
    for unit in range(rng.randint(5, 40)):
        k = rng.choice([1, 2, 2, 3])
        truth = rng.randint(1, 5)
        ratings[unit] = {
            r: min(5, max(1, truth + rng.choice([0, 0, 0, 1, -1, 2]))) for r in rng.sample(reviewers, k)
        }
    values = {v for vs in ratings.values() for v in vs.values()}
    if len(values) < 2 or not agreement.paired(ratings):
        pytest.skip("alpha undefined for this draw")
    for level in (NOMINAL, ORDINAL):
        expected = alpha_by_hand(ratings, level)
        got = item_agreement(ratings, level, domain=[1, 2, 3, 4, 5] if level == ORDINAL else None).alpha
        assert got == pytest.approx(expected, abs=1e-9)


def test_thumbs_of_two_reviewers():
    ratings = {
        1: {"ann": "positive", "bob": "positive"},
        2: {"ann": "negative", "bob": "negative"},
        3: {"ann": "positive", "bob": "negative"},
        4: {"ann": "positive", "bob": "positive"},
        5: {"ann": "negative"},  # one review: not counted
    }
    result = item_agreement(ratings, NOMINAL)
    assert result.n == 4
    assert result.percent == 75.0
    assert result.alpha == pytest.approx(alpha_by_hand(ratings, NOMINAL))
    assert agreement.disagreements(ratings) == [3]


def test_percent_counts_pairs_of_ratings_within_a_unit():
    # three reviewers, two agree: 1 of 3 pairs; four reviewers all agree: 6 of 6 pairs
    ratings = {1: {"a": "x", "b": "x", "c": "y"}, 2: {"a": "x", "b": "x", "c": "x", "d": "x"}}
    assert item_agreement(ratings).percent == pytest.approx(100 * 7 / 9)


def test_undefined_alpha_is_none_not_an_error():
    assert item_agreement({}).as_dict() == {"alpha": None, "percent": None, "n": 0}
    single = {1: {"a": "positive"}, 2: {"b": "negative"}}
    assert item_agreement(single).as_dict() == {"alpha": None, "percent": None, "n": 0}
    # everybody always says the same thing: perfect percent, alpha undefined (0/0)
    same = {1: {"a": True, "b": True}, 2: {"a": True, "b": True}}
    assert item_agreement(same).as_dict() == {"alpha": None, "percent": 100.0, "n": 2}


def test_perfect_and_systematic_disagreement():
    perfect = {i: {"a": v, "b": v} for i, v in enumerate([1, 2, 3, 4, 5, 1])}
    assert item_agreement(perfect, ORDINAL, domain=[1, 2, 3, 4, 5]).alpha == pytest.approx(1.0)
    flipped = {i: {"a": v, "b": not v} for i, v in enumerate([True, False, True, False])}
    result = item_agreement(flipped)
    assert result.percent == 0.0
    assert result.alpha < 0  # worse than chance


def test_values_outside_the_scale_are_left_out():
    ratings = {1: {"a": 3, "b": 3}, 2: {"a": 1, "b": 5}, 3: {"a": 9, "b": 2}}
    result = item_agreement(ratings, ORDINAL, domain=[1, 2, 3, 4, 5])
    assert result.n == 2  # unit 3 keeps one value inside the scale


def test_hostile_and_odd_values_are_data():
    ratings = {
        1: {"a": "<script>alert(1)</script>", "b": "<script>alert(1)</script>"},
        2: {"a": ["x"], "b": ["x"]},  # a list from the admin: compared, not a crash
        3: {"a": None, "b": "ok"},
    }
    result = item_agreement(ratings)
    assert result.n == 2 and result.percent == 100.0


def test_level_of_kinds():
    assert agreement.level_of("thumbs") == NOMINAL
    assert agreement.level_of("categorical") == NOMINAL
    assert agreement.level_of("boolean") == NOMINAL
    assert agreement.level_of("scale") == ORDINAL
    assert agreement.level_of("scale", pairwise=True) == NOMINAL  # a / b / tie
    assert agreement.level_of("text") is None


def test_reviewer_pairs_over_items():
    thumbs = {1: {2: "positive", 1: "positive"}, 2: {1: "negative", 2: "positive", 3: "positive"}}
    scale = {1: {1: 4, 2: 4}}
    pairs = agreement.reviewer_pairs([thumbs, scale])
    assert (pairs[(1, 2)].agree, pairs[(1, 2)].total) == (2, 3)
    assert pairs[(2, 3)].percent == 100.0
    assert pairs[(1, 3)].percent == 0.0
    assert set(pairs) == {(1, 2), (1, 3), (2, 3)}


def test_the_module_imports_no_django():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(agreement.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {
        "." * node.level + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }
    assert not any(name.startswith(("django", ".")) for name in imported), imported


@pytest.mark.parametrize("seed", range(10))
def test_percent_n_and_disagreements_equal_brute_force(seed):
    from itertools import combinations

    rng = random.Random(100 + seed)
    ratings = {
        unit: {f"r{i}": rng.choice(["x", "y", "z", None]) for i in rng.sample(range(6), rng.randint(1, 4))}
        for unit in range(rng.randint(1, 30))
    }
    pairs = [
        (a == b)
        for by in ratings.values()
        for a, b in combinations([v for v in by.values() if v is not None], 2)
    ]
    rated = {u: [v for v in by.values() if v is not None] for u, by in ratings.items()}
    found = agreement.item_figures(ratings)
    assert found.agreement.n == sum(len(vs) >= 2 for vs in rated.values())
    assert found.agreement.percent == (pytest.approx(100 * sum(pairs) / len(pairs)) if pairs else None)
    assert found.disagreements == [u for u, vs in rated.items() if len(set(vs)) > 1]
    assert found.disagreements == agreement.disagreements(ratings)


def test_an_ordinal_item_without_a_scale_orders_what_it_sees():
    ratings = by_unit(KRIPPENDORFF_2011)
    assert round(item_agreement(ratings, ORDINAL).alpha, 3) == 0.815
