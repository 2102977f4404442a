"""Plausibility of a verified transform: its scale and how far its inliers spread."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.local.geometry import coverage, hull_area, judge, transform_scale


def _square(x: float, y: float, side: float) -> np.ndarray:
    return np.array([[x, y], [x + side, y], [x + side, y + side], [x, y + side]], np.float32)


def test_scale_of_affine_and_homography_maps() -> None:
    rotation = np.deg2rad(30.0)
    similarity = 2.0 * np.array(
        [[np.cos(rotation), -np.sin(rotation), 5.0], [np.sin(rotation), np.cos(rotation), 1.0]]
    )
    assert transform_scale(similarity, np.zeros(2)) == pytest.approx(2.0)
    # Affine: area scale det = 3 * 0.5 = 1.5, length scale sqrt(1.5).
    assert transform_scale(np.array([[3.0, 0, 0], [0, 0.5, 0]]), np.zeros(2)) == pytest.approx(
        np.sqrt(1.5)
    )
    # A homography that is a pure scaling by 0.25 has scale 0.25 everywhere.
    homography = np.diag([0.25, 0.25, 1.0])
    assert transform_scale(homography, np.array([40.0, 7.0])) == pytest.approx(0.25)
    # Projective: x' = x / w with w = 1 + x / 100; at x = 100 the Jacobian is diag(1/4, 1/2)
    # (d(x/w)/dx = 1/w^2 = 1/4, d(y/w)/dy = 1/w = 1/2): scale sqrt(1/8).
    projective = np.array([[1.0, 0, 0], [0, 1.0, 0], [0.01, 0, 1.0]])
    assert transform_scale(projective, np.array([100.0, 0.0])) == pytest.approx(np.sqrt(1 / 8))
    assert transform_scale(None, np.zeros(2)) == 0.0


def test_coverage_is_the_share_of_the_keypoint_hull() -> None:
    keypoints = _square(0, 0, 100)
    assert hull_area(keypoints) == pytest.approx(10_000)
    assert coverage(_square(10, 10, 20), keypoints) == pytest.approx(400 / 10_000)
    assert coverage(keypoints[:2], keypoints) == 0.0  # two points span no area
    assert coverage(_square(0, 0, 5), keypoints[:2]) == 0.0  # nor do two keypoints


def _verdict(scale: float, inlier_side: float) -> object:
    keypoints = _square(0, 0, 200)
    query = _square(50, 50, inlier_side)
    model = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    gallery = query * scale
    return judge(
        model,
        query,
        gallery,
        keypoints,
        keypoints * scale,
        max_scale_change=4.0,
        min_spread=0.02,
    )


def test_judge_rejects_collapsing_scales_and_crowded_inliers() -> None:
    fine = _verdict(1.2, 100)
    assert fine.ok and fine.scale == pytest.approx(1.2) and fine.spread == pytest.approx(0.25)
    shrunk = _verdict(0.15, 100)  # the whole query squeezed onto a sixth of its size
    assert not shrunk.ok and "scale" in str(shrunk.reason)
    crowded = _verdict(1.0, 20)  # 20 x 20 px of a 200 x 200 px keypoint area: 1%
    assert not crowded.ok and crowded.spread == pytest.approx(0.01)
    assert "cover" in str(crowded.reason)


def test_a_degenerate_model_has_no_scale_and_is_rejected() -> None:
    broken = np.array([[np.inf, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert transform_scale(broken, np.zeros(2)) == 0.0
    keypoints = _square(0, 0, 100)
    verdict = judge(
        broken, keypoints, keypoints, keypoints, keypoints, max_scale_change=6.0, min_spread=0.0
    )
    assert not verdict.ok and "scale" in str(verdict.reason)
