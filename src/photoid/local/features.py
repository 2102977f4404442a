"""Keypoints and descriptors with OpenCV: SIFT, RootSIFT and ORB, chosen by name.

(AKAZE left OpenCV's main package in 5.0; ORB is the cheap binary option.)

RootSIFT: Arandjelovic & Zisserman, "Three things everyone should know to improve object
retrieval", CVPR 2012 (L1-normalise, then square root: Euclidean distance becomes Hellinger).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from photoid.errors import PhotoidError
from photoid.local.config import LocalConfig


@dataclass(frozen=True)
class Features:
    """Keypoints of one image.

    ``points``: ``(n, 2)`` float32 x, y in pixels of the resized image. ``descriptors``:
    ``(n, d)`` float32 (SIFT family) or ``(n, d/8)`` uint8 (binary: ORB). ``scale`` and
    ``offset`` map back to the original image: ``original = points / scale + offset``.
    ``size``: width and height of the resized image, where the extractor records it (learned
    matchers normalise keypoint positions by it); ``(0, 0)`` otherwise.
    """

    points: np.ndarray
    descriptors: np.ndarray
    scale: float
    offset: tuple[float, float]
    size: tuple[int, int] = (0, 0)

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def original_points(self, rows: np.ndarray | None = None) -> np.ndarray:
        """``(n, 2)`` float32 keypoint positions in pixels of the original (uncropped) image
        (of keypoints ``rows`` only, when given)."""
        points = self.points if rows is None else self.points[rows]
        return (points / self.scale + np.asarray(self.offset, np.float32)).astype(np.float32)


@dataclass(frozen=True)
class Detector:
    """A registered keypoint detector: how to build it and how to post-process descriptors."""

    binary: bool
    dim: int
    build: Callable[[LocalConfig], Any]
    post: Callable[[np.ndarray], np.ndarray]


def _root_sift(descriptors: np.ndarray) -> np.ndarray:
    l1 = descriptors.sum(axis=1, keepdims=True) + 1e-7
    root: np.ndarray = np.sqrt(descriptors / l1).astype(np.float32)
    return root


def _as_float(descriptors: np.ndarray) -> np.ndarray:
    return descriptors.astype(np.float32)


def _as_bytes(descriptors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(descriptors, dtype=np.uint8)


def _sift(config: LocalConfig) -> Any:
    return cv2.SIFT.create(
        nfeatures=config.max_keypoints, contrastThreshold=config.contrast_threshold
    )


def _orb(config: LocalConfig) -> Any:
    return cv2.ORB.create(nfeatures=config.max_keypoints, fastThreshold=10)


DETECTORS: dict[str, Detector] = {
    "sift": Detector(binary=False, dim=128, build=_sift, post=_as_float),
    "rootsift": Detector(binary=False, dim=128, build=_sift, post=_root_sift),
    "orb": Detector(binary=True, dim=256, build=_orb, post=_as_bytes),
}


def get_detector(name: str) -> Detector:
    try:
        return DETECTORS[name]
    except KeyError:
        raise PhotoidError(
            f"unknown detector {name!r}; choose one of {', '.join(sorted(DETECTORS))}"
        ) from None


def prepare_gray(pixels: np.ndarray, config: LocalConfig) -> tuple[np.ndarray, float]:
    """RGB ``(H, W, 3)`` uint8 -> grayscale resized so the longest side is ``max_side``.

    Small images are upscaled (cubic), large ones downscaled (area). Returns the gray image and
    the scale factor (resized / original). CLAHE contrast normalisation when configured.
    """
    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    longest = max(gray.shape[:2])
    scale = config.max_side / longest if longest else 1.0
    if scale != 1.0:
        interpolation = cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_AREA
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interpolation)
    if config.clahe:
        gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)
    return gray, scale


def extract(
    pixels: np.ndarray, config: LocalConfig, offset: tuple[float, float] = (0.0, 0.0)
) -> Features:
    """Detect keypoints and describe them; an image with no keypoints gives empty arrays.

    ``pixels`` is the RGB image (already cropped to its bbox; ``offset`` is the crop's top-left
    corner in the original image, kept so evidence can be drawn on the original).
    """
    detector = get_detector(config.detector)
    gray, scale = prepare_gray(pixels, config)
    keypoints, descriptors = detector.build(config).detectAndCompute(gray, None)
    if descriptors is None or len(keypoints) == 0:
        width = detector.dim // 8 if detector.binary else detector.dim
        dtype = np.uint8 if detector.binary else np.float32
        empty = np.zeros((0, width), dtype)
        return Features(np.zeros((0, 2), np.float32), empty, scale, offset)
    order = np.argsort([-k.response for k in keypoints], kind="stable")[: config.max_keypoints]
    points = np.array([keypoints[i].pt for i in order], dtype=np.float32).reshape(-1, 2)
    return Features(points, detector.post(descriptors[order]), scale, offset)
