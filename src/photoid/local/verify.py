"""Geometric verification: keep only correspondences that agree on one image transform.

RANSAC (Fischler & Bolles, CACM 1981) on a similarity, affine or homography model; homographies
use OpenCV's USAC MAGSAC++ (Barath et al., CVPR 2020). The score of a verified pair is the sum of
the correspondences' weights over the inliers (their LNBNN distinctiveness, or 1 each), provided
the transform is plausible (:mod:`photoid.local.geometry`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from photoid.local.config import Geometry

_MIN_POINTS = {"similarity": 2, "affine": 3, "homography": 4}


@dataclass(frozen=True)
class Correspondences:
    """Candidate point pairs between a query and one gallery image.

    ``query_index`` and ``gallery_index``: ``(m,)`` int64 keypoint numbers; ``weights``: ``(m,)``
    float32, the evidence each pair carries.
    """

    query_index: np.ndarray
    gallery_index: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return int(self.query_index.shape[0])


def one_to_one(
    pairs: Correspondences,
    query_points: np.ndarray | None = None,
    gallery_points: np.ndarray | None = None,
) -> Correspondences:
    """Keep each query and each gallery keypoint in at most one pair (the heaviest).

    With the ``(n, 2)`` keypoint positions of both images, keypoints at the same pixel count as
    one: SIFT describes one location several times (one descriptor per dominant orientation),
    and without this a single spot matched several times would count as several inliers.
    """
    q_keys = _location_keys(pairs.query_index, query_points)
    g_keys = _location_keys(pairs.gallery_index, gallery_points)
    order = np.argsort(-pairs.weights, kind="stable")
    used_q: set[int] = set()
    used_g: set[int] = set()
    keep: list[int] = []
    for i in order.tolist():
        q, g = int(q_keys[i]), int(g_keys[i])
        if q in used_q or g in used_g:
            continue
        used_q.add(q)
        used_g.add(g)
        keep.append(i)
    index = np.asarray(sorted(keep), np.int64)
    return Correspondences(
        pairs.query_index[index], pairs.gallery_index[index], pairs.weights[index]
    )


def _location_keys(index: np.ndarray, points: np.ndarray | None) -> np.ndarray:
    """One int64 key per pair: the keypoint number, or its pixel (rounded) when ``points``."""
    if points is None or index.size == 0:
        return index
    pixel = np.round(points[index]).astype(np.int64)
    keys: np.ndarray = pixel[:, 0] * np.int64(1 << 32) + pixel[:, 1]
    return keys


def ransac_inliers(
    src: np.ndarray, dst: np.ndarray, geometry: Geometry, threshold: float, seed: int = 0
) -> np.ndarray:
    """Bool ``(m,)`` inlier mask of the model fitted from ``src`` to ``dst`` (``(m, 2)`` px).

    All false when there are too few points for the model or no model is found.
    """
    return ransac_fit(src, dst, geometry, threshold, seed)[0]


def ransac_fit(
    src: np.ndarray, dst: np.ndarray, geometry: Geometry, threshold: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """The inlier mask (as :func:`ransac_inliers`) and the fitted model: ``(2, 3)`` float64 for
    a similarity or affine map, ``(3, 3)`` for a homography, None when none was found."""
    count = src.shape[0]
    if count < _MIN_POINTS[geometry]:
        return np.zeros(count, bool), None
    cv2.setRNGSeed(seed)  # RANSAC samples at random: fixed seed, same answer every run
    src32 = np.ascontiguousarray(src, np.float32)
    dst32 = np.ascontiguousarray(dst, np.float32)
    if geometry == "homography":
        model, mask = cv2.findHomography(src32, dst32, cv2.USAC_MAGSAC, threshold)
    elif geometry == "affine":
        model, mask = cv2.estimateAffine2D(
            src32, dst32, method=cv2.RANSAC, ransacReprojThreshold=threshold, maxIters=1000
        )
    else:
        model, mask = cv2.estimateAffinePartial2D(
            src32, dst32, method=cv2.RANSAC, ransacReprojThreshold=threshold, maxIters=1000
        )
    if model is None or mask is None:
        return np.zeros(count, bool), None
    return mask.ravel().astype(bool), np.asarray(model, np.float64)


def ratio_matches(
    query: np.ndarray, gallery: np.ndarray, ratio: float, *, binary: bool, mutual: bool = False
) -> Correspondences:
    """Pairwise matching: Lowe's ratio test (Lowe, IJCV 2004), optionally mutual nearest only.

    Each pair weighs ``1 - d1 / d2`` (how much better than the second-best it is).
    """
    empty = Correspondences(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    if query.shape[0] < 1 or gallery.shape[0] < 2:
        return empty
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING if binary else cv2.NORM_L2)
    forward = matcher.knnMatch(query, gallery, k=2)
    back: dict[int, int] = {}
    if mutual:
        back = {m[0].queryIdx: m[0].trainIdx for m in matcher.knnMatch(gallery, query, k=1) if m}
    q_idx: list[int] = []
    g_idx: list[int] = []
    weights: list[float] = []
    for pair in forward:
        if len(pair) < 2:
            continue
        best, second = pair
        if best.distance >= ratio * second.distance:
            continue
        if mutual and back.get(best.trainIdx) != best.queryIdx:
            continue
        q_idx.append(best.queryIdx)
        g_idx.append(best.trainIdx)
        weights.append(1.0 - best.distance / max(second.distance, 1e-9))
    if not q_idx:
        return empty
    return Correspondences(
        np.asarray(q_idx, np.int64), np.asarray(g_idx, np.int64), np.asarray(weights, np.float32)
    )
