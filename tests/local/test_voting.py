"""LNBNN weights and per-image votes, against hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.local.voting import image_votes, lnbnn_weights

INF = np.inf


def test_weights_are_normaliser_minus_distance() -> None:
    # k = 3: the 4th column is the normaliser.
    distances = np.array([[0.1, 0.3, 0.5, 1.0]], np.float32)
    weights = lnbnn_weights(distances, 3)
    # 1.0 - 0.1, 1.0 - 0.3, 1.0 - 0.5
    np.testing.assert_allclose(weights, [[0.9, 0.7, 0.5]], rtol=1e-6)
    assert weights.dtype == np.float32
    assert weights.shape == (1, 3)


def test_missing_normaliser_uses_largest_finite_distance() -> None:
    # Only two neighbours exist: the normaliser falls back to max(0.2, 0.4) = 0.4.
    distances = np.array([[0.2, 0.4, INF, INF]], np.float32)
    weights = lnbnn_weights(distances, 3)
    # 0.4 - 0.2, 0.4 - 0.4, missing neighbour -> 0
    np.testing.assert_allclose(weights, [[0.2, 0.0, 0.0]], atol=1e-7)


def test_weights_clip_at_zero_and_empty_rows_give_zero() -> None:
    distances = np.array(
        [
            [0.5, 0.6, 0.7, 0.55],  # normaliser closer than two matches: 0.05, -0.05, -0.15
            [INF, INF, INF, INF],  # no neighbour at all
        ],
        np.float32,
    )
    weights = lnbnn_weights(distances, 3)
    np.testing.assert_allclose(weights, [[0.05, 0.0, 0.0], [0.0, 0.0, 0.0]], atol=1e-6)
    assert np.isfinite(weights).all()


def test_too_few_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="need 4 neighbours"):
        lnbnn_weights(np.zeros((2, 3), np.float32), 3)


WEIGHTS = np.array([[0.9, 0.7, 0.5], [0.2, 0.1, 0.0], [0.4, 0.3, 0.2]], np.float32)
# A 4th column (the normaliser's owner) must be ignored: owner 0 there would add 5.0 if counted.
OWNERS = np.array([[1, 1, 2, 0], [0, -1, 2, 0], [3, 0, 3, 0]], np.int64)


def test_each_descriptor_votes_once_per_image_with_its_best_weight() -> None:
    votes = image_votes(WEIGHTS, OWNERS, 4)
    # image 0: row 1 (0.2) + row 2 (0.3) = 0.5
    # image 1: row 0 best of 0.9 and 0.7 = 0.9 (not 1.6)
    # image 2: row 0 (0.5) + row 1 (0.0) = 0.5; the -1 owner in row 1 is ignored
    # image 3: row 2 best of 0.4 and 0.2 = 0.4
    np.testing.assert_allclose(votes, [0.5, 0.9, 0.5, 0.4], rtol=1e-6)
    assert votes.dtype == np.float64


def test_allowed_mask_zeroes_left_out_images() -> None:
    allowed = np.array([True, False, True, True])
    votes = image_votes(WEIGHTS, OWNERS, 4, allowed)
    np.testing.assert_allclose(votes, [0.5, 0.0, 0.5, 0.4], rtol=1e-6)


def test_no_owner_gives_zero_votes() -> None:
    votes = image_votes(WEIGHTS, np.full((3, 4), -1, np.int64), 2)
    np.testing.assert_array_equal(votes, [0.0, 0.0])
