from __future__ import annotations

import numpy as np
import pytest

from photoid.calibrate import pairs_from_identifications, pairs_from_rankings
from photoid.core import Candidate, Identification, Match


def test_pairs_label_the_query_identity() -> None:
    pairs = pairs_from_rankings(
        ["a", "b", "new_individual"],
        [["a", "c", "b"], ["c", "b"], ["a"]],
        [[9.0, 2.0, 1.0], [5.0, 4.0, -1.0], [3.0]],
        k=2,
    )
    # Top 2 of each list; the padding score -1 of query 1 is ignored.
    np.testing.assert_array_equal(pairs.scores, [9.0, 2.0, 5.0, 4.0, 3.0])
    np.testing.assert_array_equal(pairs.same, [True, False, False, True, False])
    np.testing.assert_array_equal(pairs.query, [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(pairs.rank, [0, 1, 0, 1, 0])
    kept = pairs.subset(pairs.rank == 0)
    np.testing.assert_array_equal(kept.scores, [9.0, 5.0, 3.0])


def test_pairs_refuse_mismatched_input() -> None:
    with pytest.raises(ValueError, match="one entry per query"):
        pairs_from_rankings(["a"], [["a"], ["b"]], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="query 0 has 2 candidates but 1 scores"):
        pairs_from_rankings(["a"], [["a", "b"]], [[1.0]])


def test_pairs_from_identifications() -> None:
    empty = np.zeros((0, 2), np.float32)

    def candidate(name: str, score: float) -> Candidate:
        return Candidate(name, score, Match("x.jpg", score, 0, empty, empty))

    answers = [
        Identification("q1", [candidate("b", 7.0), candidate("a", 3.0)]),
        Identification("q2", warning="no keypoints found in the image"),
    ]
    pairs = pairs_from_identifications(["a", "a"], answers)
    np.testing.assert_array_equal(pairs.scores, [7.0, 3.0])
    np.testing.assert_array_equal(pairs.same, [False, True])
