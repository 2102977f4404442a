"""Is a verified transform plausible? Scale change and inlier spread.

RANSAC finds the transform most correspondences agree on, but agreement alone is no proof: a
transform that shrinks the whole query onto a few pixels of the gallery photo (scale near zero)
agrees with any pile of matches that landed on one spot, and inliers crowded into a tiny patch
of either photo say little about the animal. A verified pair must map the query at a believable
scale and its inliers must spread over a fair share of both photos' keypoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Plausibility:
    """The verdict on one verified transform.

    ``scale``: how much the transform enlarges the query around its inliers (gallery length /
    query length; 1 = same size, 0 when unknown); ``spread``: the smaller of the two photos'
    inlier coverage (area of the inliers' convex hull / area of all that photo's keypoints'
    hull, 0 to 1); ``reason``: why it is implausible, None when it is plausible.
    """

    scale: float
    spread: float
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.reason is None


def transform_scale(model: np.ndarray | None, at: np.ndarray) -> float:
    """Area scale factor's square root of ``model`` (``(2, 3)`` affine or ``(3, 3)``
    homography) at the point ``at`` (``(2,)`` px of the source image); 0 without a model or
    for a degenerate one (not finite)."""
    if model is None or not np.isfinite(model).all() or not np.isfinite(at).all():
        return 0.0
    if model.shape == (2, 3):
        jacobian = model[:, :2]
    else:
        x, y = float(at[0]), float(at[1])
        w = model[2, 0] * x + model[2, 1] * y + model[2, 2]
        if abs(w) < 1e-12:
            return 0.0
        u = (model[0, 0] * x + model[0, 1] * y + model[0, 2]) / w
        v = (model[1, 0] * x + model[1, 1] * y + model[1, 2]) / w
        jacobian = (model[:2, :2] - np.outer([u, v], model[2, :2])) / w
    if not np.isfinite(jacobian).all():
        return 0.0
    return float(np.sqrt(abs(np.linalg.det(jacobian))))


def hull_area(points: np.ndarray) -> float:
    """Area in px^2 of the convex hull of ``(n, 2)`` points (0 for fewer than 3)."""
    if points.shape[0] < 3:
        return 0.0
    hull = cv2.convexHull(np.ascontiguousarray(points, np.float32))
    return float(cv2.contourArea(hull))


def coverage(inliers: np.ndarray, keypoints: np.ndarray, total: float | None = None) -> float:
    """Share (0 to 1) of the area spanned by ``keypoints`` that ``inliers`` span (hull areas;
    ``total``: the keypoints' hull area when already known)."""
    total = hull_area(keypoints) if total is None else total
    if total <= 0.0:
        return 0.0
    return min(1.0, hull_area(inliers) / total)


def judge(
    model: np.ndarray | None,
    query_inliers: np.ndarray,
    gallery_inliers: np.ndarray,
    query_keypoints: np.ndarray,
    gallery_keypoints: np.ndarray,
    *,
    max_scale_change: float,
    min_spread: float,
    query_area: float | None = None,
) -> Plausibility:
    """Judge a transform from its inlier pairs (``(m, 2)`` px each) and both photos' keypoints.

    Implausible when the scale lies outside ``[1 / max_scale_change, max_scale_change]`` or the
    inliers cover less than ``min_spread`` of either photo's keypoint area. Points must be in
    the pixels the model was fitted in (the engine's resized images, so that two photos of the
    same animal framed alike have scale near 1). ``query_area``: the hull area of the query's
    keypoints, when the caller judges one query against many photos.
    """
    centre = query_inliers.mean(axis=0) if query_inliers.shape[0] else np.zeros(2)
    scale = transform_scale(model, centre)
    spread = min(
        coverage(query_inliers, query_keypoints, query_area),
        coverage(gallery_inliers, gallery_keypoints),
    )
    reason = None
    if model is not None and not 1.0 / max_scale_change <= scale <= max_scale_change:
        reason = f"implausible scale change x{scale:.2f}"
    elif spread < min_spread:
        reason = f"inliers cover {spread:.1%} of a photo's keypoint area"
    return Plausibility(scale, spread, reason)
