"""Per-identity aggregation of image scores."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.local.scoring import identity_scores
from photoid.local.voting import best_first

# Identity 0 owns images scoring 5, 1, 3; identity 1 owns 4, 2; identity 2 has no image;
# identity 3 owns one image scoring 0.
SCORES = np.array([5.0, 1.0, 4.0, 3.0, 2.0, 0.0])
LABELS = np.array([0, 0, 1, 0, 1, 3])


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [
        ("max", [5.0, 4.0, 0.0, 0.0]),
        ("top2", [5.0 + 3.0, 4.0 + 2.0, 0.0, 0.0]),
        ("top3", [5.0 + 3.0 + 1.0, 4.0 + 2.0, 0.0, 0.0]),
    ],
)
def test_identity_scores(aggregate: str, expected: list[float]) -> None:
    scores = identity_scores(SCORES, LABELS, aggregate)  # type: ignore[arg-type]
    np.testing.assert_allclose(scores, expected)
    assert scores.dtype == np.float64


def test_no_images_gives_no_identities() -> None:
    scores = identity_scores(np.zeros(0), np.zeros(0, np.int64), "top2")
    assert scores.shape == (0,)


def test_identity_count_can_exceed_the_labels_seen() -> None:
    # Only the photos that scored are passed (engine.rank): identities 4 and 5 exist unseen.
    scores = identity_scores(SCORES[:5], LABELS[:5], "top2", identities=6)
    np.testing.assert_allclose(scores, [8.0, 6.0, 0.0, 0.0, 0.0, 0.0])
    assert identity_scores(np.zeros(0), np.zeros(0, np.int64), "max", identities=3).tolist() == [
        0.0,
        0.0,
        0.0,
    ]


@pytest.mark.parametrize(
    ("count", "expected"),
    [(3, [1, 3, 4]), (2, [1, 3]), (10, [1, 3, 4, 0]), (5, [1, 3, 4, 0])],
)
def test_best_first_keeps_the_largest_positive_values_in_order(
    count: int, expected: list[int]
) -> None:
    # 2.0 twice (indices 1 and 3: the smaller index first, as a stable sort), then 1.0, 0.5;
    # zeros and negatives never.
    values = np.array([0.5, 2.0, 0.0, 2.0, 1.0, -1.0])
    assert best_first(values, count).tolist() == expected
