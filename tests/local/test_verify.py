"""Geometric verification: one-to-one pairs, RANSAC models, ratio-test matching."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.local.verify import Correspondences, one_to_one, ransac_inliers, ratio_matches


def _pairs(q: list[int], g: list[int], w: list[float]) -> Correspondences:
    return Correspondences(np.array(q, np.int64), np.array(g, np.int64), np.array(w, np.float32))


def test_one_to_one_keeps_the_heaviest_pairs() -> None:
    pairs = _pairs([0, 0, 1, 2, 3], [5, 6, 5, 7, 7], [0.5, 0.9, 0.8, 0.3, 0.4])
    kept = one_to_one(pairs)
    # By weight: (0,6) 0.9 kept; (1,5) 0.8 kept; (0,5) 0.5 query 0 used; (3,7) 0.4 kept;
    # (2,7) 0.3 gallery 7 used. Kept pairs stay in input order.
    np.testing.assert_array_equal(kept.query_index, [0, 1, 3])
    np.testing.assert_array_equal(kept.gallery_index, [6, 5, 7])
    np.testing.assert_allclose(kept.weights, [0.9, 0.8, 0.4])
    assert len(kept) == 3


def test_one_to_one_of_nothing_is_nothing() -> None:
    kept = one_to_one(_pairs([], [], []))
    assert len(kept) == 0
    assert kept.query_index.dtype == np.int64


def _similarity(points: np.ndarray) -> np.ndarray:
    angle = np.deg2rad(20.0)
    rotation = 1.3 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotation.T + np.array([15.0, -7.0])


def _affine(points: np.ndarray) -> np.ndarray:
    return points @ np.array([[1.2, 0.3], [-0.1, 0.8]]).T + np.array([4.0, 9.0])


def _homography(points: np.ndarray) -> np.ndarray:
    matrix = np.array([[1.1, 0.05, 10.0], [-0.04, 0.95, 5.0], [4e-4, -3e-4, 1.0]])
    homogeneous = np.c_[points, np.ones(len(points))] @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:]


@pytest.mark.parametrize(
    ("geometry", "transform"),
    [("similarity", _similarity), ("affine", _affine), ("homography", _homography)],
)
def test_ransac_recovers_a_known_transform(geometry: str, transform: object) -> None:
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 200, (40, 2))
    dst = transform(src)  # type: ignore[operator]
    outliers = np.zeros(40, bool)
    outliers[[3, 8, 15, 22, 30, 37]] = True
    # Outliers moved 40-80 px in a random direction: far beyond the 3 px threshold.
    angle = rng.uniform(0, 2 * np.pi, outliers.sum())
    shift = rng.uniform(40, 80, outliers.sum())[:, None]
    dst[outliers] += shift * np.c_[np.cos(angle), np.sin(angle)]
    mask = ransac_inliers(src, dst, geometry, threshold=3.0)  # type: ignore[arg-type]
    np.testing.assert_array_equal(mask, ~outliers)


@pytest.mark.parametrize(
    ("geometry", "count"), [("similarity", 1), ("affine", 2), ("homography", 3)]
)
def test_ransac_with_too_few_points_finds_nothing(geometry: str, count: int) -> None:
    points = np.arange(count * 2, dtype=np.float64).reshape(count, 2)
    mask = ransac_inliers(points, points + 1, geometry, threshold=3.0)  # type: ignore[arg-type]
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask, np.zeros(count, bool))


GALLERY = np.array([[0, 0, 0, 0], [10, 0, 0, 0], [0, 10, 0, 0]], np.float32)
QUERY = np.array(
    [
        [1, 0, 0, 0],  # gallery 0 at 1, next at 9: ratio 1/9, weight 8/9
        [5, 0, 0, 0],  # gallery 0 and 1 both at 5: ambiguous, rejected
        [0, 9, 0, 0],  # gallery 2 at 1, next at 9: weight 8/9
        [0, 8, 0, 0],  # gallery 2 at 2, next at 8: weight 0.75, but gallery 2 prefers query 2
    ],
    np.float32,
)


def test_ratio_test_rejects_ambiguous_matches() -> None:
    pairs = ratio_matches(QUERY, GALLERY, 0.8, binary=False)
    np.testing.assert_array_equal(pairs.query_index, [0, 2, 3])
    np.testing.assert_array_equal(pairs.gallery_index, [0, 2, 2])
    np.testing.assert_allclose(pairs.weights, [8 / 9, 8 / 9, 0.75], rtol=1e-5)


def test_mutual_keeps_only_mutual_nearest_neighbours() -> None:
    pairs = ratio_matches(QUERY, GALLERY, 0.8, binary=False, mutual=True)
    np.testing.assert_array_equal(pairs.query_index, [0, 2])
    np.testing.assert_array_equal(pairs.gallery_index, [0, 2])


def test_ratio_on_binary_descriptors_uses_hamming() -> None:
    gallery = np.array([[0b00000000], [0b11111111], [0b00001111]], np.uint8)
    query = np.array(
        [
            [0b00000001],  # 1 bit from gallery 0, 3 from gallery 2: weight 1 - 1/3
            [0b00000011],  # 2 bits from gallery 0 and from gallery 2: rejected
        ],
        np.uint8,
    )
    pairs = ratio_matches(query, gallery, 0.85, binary=True)
    np.testing.assert_array_equal(pairs.query_index, [0])
    np.testing.assert_array_equal(pairs.gallery_index, [0])
    np.testing.assert_allclose(pairs.weights, [2 / 3], rtol=1e-5)


def test_ratio_needs_two_gallery_descriptors_and_one_query_descriptor() -> None:
    single = ratio_matches(QUERY[:1], GALLERY, 0.8, binary=False)
    # query 0 alone still has a first and a second neighbour in the gallery: weight 8/9.
    np.testing.assert_array_equal(single.gallery_index, [0])
    np.testing.assert_allclose(single.weights, [8 / 9], rtol=1e-5)
    assert len(ratio_matches(QUERY[:0], GALLERY, 0.8, binary=False)) == 0
    assert len(ratio_matches(QUERY, GALLERY[:1], 0.8, binary=False)) == 0


def test_one_to_one_counts_keypoints_at_one_pixel_once() -> None:
    # SIFT describes one spot once per dominant orientation: gallery keypoints 0 and 1 sit at
    # the same pixel, query keypoints 0 and 1 too. By index these are two pairs; by location
    # one (the heavier), while query keypoint 2 elsewhere keeps its own pair.
    query_points = np.array([[10.0, 10.0], [10.2, 9.9], [50.0, 50.0]], np.float32)
    gallery_points = np.array([[30.0, 30.0], [30.1, 30.2], [70.0, 70.0]], np.float32)
    pairs = _pairs([0, 1, 2], [0, 1, 2], [0.4, 0.6, 0.5])
    assert len(one_to_one(pairs)) == 3
    kept = one_to_one(pairs, query_points, gallery_points)
    np.testing.assert_array_equal(kept.query_index, [1, 2])
    np.testing.assert_allclose(kept.weights, [0.6, 0.5])
