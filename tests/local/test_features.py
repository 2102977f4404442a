"""Keypoint extraction: RootSIFT arithmetic, resizing, coordinates back in the original image."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.errors import PhotoidError
from photoid.local.config import LocalConfig
from photoid.local.features import extract, prepare_gray

# Dark Gaussian blobs (sigma 5 px) on a light background: SIFT puts keypoints on their centres.
CENTRES = np.array([(30, 25), (80, 40), (130, 30), (50, 90), (110, 95)], np.float64)  # x, y


def _blobs(height: int = 120, width: int = 160) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    gray = np.full((height, width), 220.0)
    for cx, cy in CENTRES:
        gray -= 150 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 5.0**2))
    return np.repeat(gray.clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Distance from each centre to its nearest point, ``(len(centres),)``."""
    return np.hypot(*(points[None, :, :] - centres[:, None, :]).transpose(2, 0, 1)).min(axis=1)


def test_rootsift_is_the_square_root_of_l1_normalised_sift() -> None:
    image = _blobs()
    sift = extract(image, LocalConfig(detector="sift", max_side=320))
    root = extract(image, LocalConfig(detector="rootsift", max_side=320))
    assert len(root) == len(sift) > 5
    np.testing.assert_array_equal(root.points, sift.points)
    assert root.descriptors.dtype == np.float32
    assert (root.descriptors >= 0).all()
    np.testing.assert_allclose(np.linalg.norm(root.descriptors, axis=1), 1.0, atol=1e-4)
    expected = np.sqrt(sift.descriptors / sift.descriptors.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(root.descriptors, expected, atol=1e-5)


def test_points_are_in_resized_pixels_and_map_back() -> None:
    features = extract(_blobs(), LocalConfig(detector="sift", max_side=320))
    assert features.scale == 2.0  # longest side 160 -> 320
    assert features.offset == (0.0, 0.0)
    assert features.points.dtype == np.float32
    assert (features.points >= 0).all()
    assert (features.points[:, 0] < 320).all() and (features.points[:, 1] < 240).all()
    # Every blob centre has a keypoint within 1.5 px, in resized (x2) and in original pixels.
    assert (_nearest(features.points, CENTRES * 2) < 3.0).all()
    assert (_nearest(features.original_points(), CENTRES) < 1.5).all()


def test_a_crop_maps_back_to_the_uncropped_image() -> None:
    crop = _blobs()[5:, 10:]  # the box's top-left corner is x=10, y=5
    features = extract(crop, LocalConfig(detector="sift", max_side=300), offset=(10.0, 5.0))
    assert features.scale == 2.0  # 150 px wide -> 300
    original = features.original_points()
    np.testing.assert_allclose(original, features.points / 2.0 + np.array([10.0, 5.0]), rtol=1e-6)
    assert (_nearest(original, CENTRES) < 1.5).all()


def test_prepare_gray_resizes_the_longest_side() -> None:
    gray, scale = prepare_gray(np.zeros((50, 200, 3), np.uint8), LocalConfig(max_side=100))
    assert gray.shape == (25, 100)
    assert scale == 0.5
    gray, scale = prepare_gray(np.zeros((40, 20, 3), np.uint8), LocalConfig(max_side=80))
    assert gray.shape == (80, 40)
    assert scale == 2.0


def test_max_keypoints_caps_the_count() -> None:
    features = extract(_blobs(), LocalConfig(detector="rootsift", max_side=320, max_keypoints=3))
    assert 1 <= len(features) <= 3
    assert features.descriptors.shape == (len(features), 128)


@pytest.mark.parametrize(
    ("detector", "width", "dtype"),
    [("sift", 128, np.float32), ("rootsift", 128, np.float32), ("orb", 32, np.uint8)],
)
def test_blank_image_has_no_keypoints(detector: str, width: int, dtype: type) -> None:
    blank = np.full((100, 120, 3), 128, np.uint8)
    features = extract(blank, LocalConfig(detector=detector, max_side=120))
    assert len(features) == 0
    assert features.points.shape == (0, 2) and features.points.dtype == np.float32
    assert features.descriptors.shape == (0, width) and features.descriptors.dtype == dtype
    assert features.original_points().shape == (0, 2)


def test_orb_descriptors_are_32_bytes() -> None:
    features = extract(_blobs(), LocalConfig(detector="orb", max_side=320))
    assert len(features) > 0
    assert features.descriptors.dtype == np.uint8
    assert features.descriptors.shape == (len(features), 32)


def test_unknown_detector_is_refused() -> None:
    with pytest.raises(
        PhotoidError, match=r"unknown detector 'surf'; choose one of orb, rootsift, sift"
    ):
        extract(_blobs(), LocalConfig(detector="surf"))
