"""Geometric verification: keep only correspondences that agree on one image transform.

RANSAC (Fischler & Bolles, CACM 1981) on a similarity, affine or homography model; homographies
use OpenCV's USAC MAGSAC++ (Barath et al., CVPR 2020). The score of a verified pair is the sum of
the correspondences' weights over the inliers (their LNBNN distinctiveness, or 1 each).
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


def one_to_one(pairs: Correspondences) -> Correspondences:
    """Keep each query and each gallery keypoint in at most one pair (the heaviest)."""
    order = np.argsort(-pairs.weights, kind="stable")
    used_q: set[int] = set()
    used_g: set[int] = set()
    keep: list[int] = []
    for i in order.tolist():
        q, g = int(pairs.query_index[i]), int(pairs.gallery_index[i])
        if q in used_q or g in used_g:
            continue
        used_q.add(q)
        used_g.add(g)
        keep.append(i)
    index = np.asarray(sorted(keep), np.int64)
    return Correspondences(
        pairs.query_index[index], pairs.gallery_index[index], pairs.weights[index]
    )


def ransac_inliers(
    src: np.ndarray, dst: np.ndarray, geometry: Geometry, threshold: float, seed: int = 0
) -> np.ndarray:
    """Bool ``(m,)`` inlier mask of the model fitted from ``src`` to ``dst`` (``(m, 2)`` px).

    All false when there are too few points for the model or no model is found.
    """
    count = src.shape[0]
    if count < _MIN_POINTS[geometry]:
        return np.zeros(count, bool)
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
        return np.zeros(count, bool)
    return mask.ravel().astype(bool)


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
