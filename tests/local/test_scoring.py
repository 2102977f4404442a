"""Per-identity aggregation of image scores."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.local.scoring import identity_scores

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
