"""Scoring a query's short list: mutual matches, scenery discounted, rejected photos at zero."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.keypoints.match import mutual_pairs
from photoid.keypoints.rerank import Verified, background_weights, photo_scores, scenery_weights
from photoid.local.verify import Correspondences


def _unit(rows: list[list[float]]) -> np.ndarray:
    array = np.asarray(rows, np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def test_mutual_pairs_keep_mutual_and_distinct_neighbours() -> None:
    query = _unit([[1, 0, 0], [0, 1, 0], [0, 0.7, 0.7]])
    gallery = _unit([[1, 0.1, 0], [0, 1, 0.05], [0, 0.69, 0.72], [-1, 0, 0]])
    # q0 <-> g0, q1 <-> g1 and q2 <-> g2 are mutual best; with ratio 0.95, q2's best (g2, at
    # distance ~0.02) beats its second (g1) easily, as do the others.
    pairs = mutual_pairs(query, gallery, 0.95)
    np.testing.assert_array_equal(pairs.query_index, [0, 1, 2])
    np.testing.assert_array_equal(pairs.gallery_index, [0, 1, 2])
    assert pairs.weights[0] == pytest.approx(1 / np.sqrt(1.01), abs=1e-5)
    # A query that sits halfway between two gallery descriptors is ambiguous: no pair.
    halfway = _unit([[1, 1, 0]])
    assert len(mutual_pairs(halfway, _unit([[1, 0, 0], [0, 1, 0]]), 0.95)) == 0


def _verified(query: list[int], weights: list[float], rejected: str | None = None) -> Verified:
    pairs = Correspondences(
        np.asarray(query, np.int64),
        np.arange(len(query), dtype=np.int64),
        np.asarray(weights, np.float32),
    )
    return Verified(pairs, 0.3, rejected)


def test_keypoints_shared_by_several_identities_weigh_less() -> None:
    # Query keypoint 0 verifies against photos of A, B and C (a rock they all stood on),
    # keypoint 1 against A's two photos only, keypoint 2 against B, keypoint 3 nowhere.
    # The rejected photo of D does not count.
    verified = [
        _verified([0, 1], [1.0, 1.0]),  # A
        _verified([0, 1], [0.5, 0.5]),  # A again
        _verified([0, 2], [1.0, 1.0]),  # B
        _verified([0], [1.0]),  # C
        _verified([0, 2], [1.0, 1.0], rejected="implausible scale change x0.10"),  # D
    ]
    weights = background_weights(verified, ["A", "A", "B", "C", "D"], 4)
    np.testing.assert_allclose(weights, [1 / 3, 1.0, 1.0, 1.0])
    scores = photo_scores(verified, weights)
    # A: 1/3 + 1; A again: 0.5/3 + 0.5; B: 1/3 + 1; C: 1/3; D rejected: 0.
    np.testing.assert_allclose(scores, [4 / 3, 0.5 / 3 + 0.5, 4 / 3, 1 / 3, 0.0])
    np.testing.assert_allclose(photo_scores(verified, None), [2.0, 1.0, 2.0, 1.0, 0.0])


def test_gallery_keypoints_shared_with_other_individuals_are_scenery() -> None:
    # A gallery photo of X matched against photos of other individuals: its keypoint 0 verifies
    # against A and B (a landmark at their site), keypoint 1 against A twice (one individual),
    # keypoint 2 only against a rejected photo, keypoint 3 nowhere (X's own markings).
    verified = [
        _verified([0, 1], [1.0, 1.0]),  # A
        _verified([1], [1.0]),  # A again
        _verified([0], [1.0]),  # B
        _verified([2], [1.0], rejected="3 inliers, fewer than 6"),  # C
    ]
    owners = ["A", "A", "B", "C"]
    np.testing.assert_allclose(scenery_weights(verified, owners, 4, 1.0), [1 / 3, 1 / 2, 1, 1])
    np.testing.assert_allclose(scenery_weights(verified, owners, 4, 2.0), [1 / 9, 1 / 4, 1, 1])
    # In a later match, a pair on gallery keypoint g weighs its scenery weight too.
    later = [_verified([5, 6], [1.0, 1.0]), _verified([5], [1.0])]  # gallery keypoints 0, 1 / 0
    places = [np.asarray([1 / 3, 1.0], np.float32), None]
    np.testing.assert_allclose(photo_scores(later, None, places), [1 / 3 + 1.0, 1.0], rtol=1e-6)
