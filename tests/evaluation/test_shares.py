"""The probabilities shown beside an answer: listed entries, a new individual and everyone else
add up to exactly 1, rescaled (and said so) only where the engine's values add up to more."""

from __future__ import annotations

import pytest

from photoid.core import NEW_INDIVIDUAL
from photoid.evaluation.shares import answer_shares, as_percent, percentages


def test_consistent_values_are_kept() -> None:
    shares = answer_shares(["A", "B"], [0.6, 0.3], 0.05)
    assert shares.listed == [("A", 0.6), ("B", 0.3)]
    assert shares.unlisted_new == 0.05
    assert shares.other == pytest.approx(0.05)
    assert shares.rescaled is None


def test_a_listed_new_individual_keeps_its_value() -> None:
    # The listed value wins over the query's P(new) (here a stale 0.9).
    shares = answer_shares([NEW_INDIVIDUAL, "A"], [0.5, 0.4], 0.9)
    assert shares.listed == [(NEW_INDIVIDUAL, 0.5), ("A", 0.4)]
    assert shares.unlisted_new is None
    assert shares.other == pytest.approx(0.1)


def test_one_vs_rest_values_above_1_share_what_p_new_leaves() -> None:
    # 0.9 + 0.3 + P(new) 0.2 = 1.4: A and B share 0.8 in proportion, 0.6 and 0.2.
    shares = answer_shares(["A", "B"], [0.9, 0.3], 0.2)
    assert [v for _, v in shares.listed] == pytest.approx([0.6, 0.2])
    assert shares.unlisted_new == 0.2
    assert shares.other == 0.0
    assert shares.rescaled == pytest.approx(1.4)
    # Without P(new), only the listed ones: 1.2 scaled to 1.
    alone = answer_shares(["A", "B"], [0.9, 0.3], None)
    assert [v for _, v in alone.listed] == pytest.approx([0.75, 0.25])
    assert (alone.unlisted_new, alone.other, alone.rescaled) == (None, 0.0, pytest.approx(1.2))


@pytest.mark.parametrize(
    ("names", "values", "p_new"),
    [
        (["A", "B", "C", "D", "E"], [0.99, 0.5, 0.5, 0.2, 0.1], 0.7),
        ([NEW_INDIVIDUAL, "A", "B"], [0.4, 0.9, 0.9], None),
        (["A", NEW_INDIVIDUAL], [0.3, 1.0], 0.0),
        (["A"], [1.0], 1.0),
    ],
)
def test_never_above_1(names: list[str], values: list[float], p_new: float | None) -> None:
    shares = answer_shares(names, values, p_new)
    total = sum(v for _, v in shares.listed) + (shares.unlisted_new or 0.0) + shares.other
    assert total == pytest.approx(1.0)
    assert all(0.0 <= v <= 1.0 for _, v in shares.listed)


def test_whole_percentages_add_up_to_100() -> None:
    assert percentages([1 / 3, 1 / 3, 1 / 3]) == [34, 33, 33]
    # 99.6, 0.2, 0.2: rounded down 99, 0, 0; the largest remainder (0.6) gets the last point.
    assert percentages([0.996, 0.002, 0.002]) == [100, 0, 0]
    assert percentages([0.713, 0.087, 0.2, 0.0]) == [71, 9, 20, 0]
    assert as_percent(0.002, 0) == "<1%"
    assert as_percent(0.0, 0) == "0%"
    assert as_percent(0.2, 20) == "20%"
