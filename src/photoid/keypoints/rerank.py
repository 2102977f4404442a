"""Verify a query against its short list of gallery photos and score each photo.

Each photo's pairs are made one-to-one, fitted with RANSAC and judged for a plausible scale and
spread (:mod:`photoid.local.geometry`). Then scenery is discounted: a query keypoint that is an
inlier against photos of several identities lies on something they share (a rock, the shore),
not on one animal's markings, so it weighs 1 / (number of those identities). The gallery's
own scenery is found once, when a photo joins the gallery: its keypoints that verify against
photos of other individuals weigh less in every later match (:func:`scenery_weights`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from photoid.keypoints.config import KeypointConfig
from photoid.local.features import Features
from photoid.local.geometry import judge
from photoid.local.verify import Correspondences, one_to_one, ransac_fit


@dataclass(frozen=True)
class Verified:
    """One gallery photo's verified pairs: ``pairs`` restricted to the inliers; ``spread``
    (see :class:`photoid.local.geometry.Plausibility`); ``rejected``: why it did not verify."""

    pairs: Correspondences
    spread: float
    rejected: str | None


def verify(
    query: Features, gallery: Features, pairs: Correspondences, config: KeypointConfig
) -> Verified:
    """Inlier pairs of one query-gallery pair and the verdict on their transform."""
    pairs = one_to_one(pairs, query.points, gallery.points)
    src = query.points[pairs.query_index]
    dst = gallery.points[pairs.gallery_index]
    inliers, model = ransac_fit(src, dst, config.geometry, config.ransac_threshold)
    verdict = judge(
        model,
        src[inliers],
        dst[inliers],
        query.points,
        gallery.points,
        max_scale_change=config.max_scale_change,
        min_spread=config.min_spread,
    )
    kept = Correspondences(
        pairs.query_index[inliers], pairs.gallery_index[inliers], pairs.weights[inliers]
    )
    rejected = verdict.reason
    if len(kept) < config.min_inliers:
        rejected = f"{len(kept)} inliers, fewer than {config.min_inliers}"
    return Verified(kept, verdict.spread, rejected)


def background_weights(
    verified: Sequence[Verified], identities: Sequence[str], query_size: int
) -> np.ndarray:
    """``(query_size,)`` float32 weight of each query keypoint: 1 / the number of distinct
    identities whose accepted photos hold it as an inlier (1 where none does)."""
    owners = _verifying_identities(verified, identities, query_size)
    return np.asarray([1.0 / max(1, len(o)) for o in owners], np.float32)


def scenery_weights(
    verified: Sequence[Verified], identities: Sequence[str], size: int, power: float
) -> np.ndarray:
    """``(size,)`` float32 weight of each keypoint of one gallery photo, verified against
    gallery photos of OTHER individuals: ``(1 + m) ** -power`` where ``m`` is the number of
    those individuals whose accepted photos hold the keypoint as an inlier. An animal's
    markings belong to it alone; what several individuals' photos share is their scenery."""
    owners = _verifying_identities(verified, identities, size)
    shared = np.asarray([len(o) for o in owners], np.float64)
    return np.power(1.0 + shared, -power).astype(np.float32)


def _verifying_identities(
    verified: Sequence[Verified], identities: Sequence[str], size: int
) -> list[set[str]]:
    """For each of the asking photo's ``size`` keypoints, the identities whose accepted photos
    hold it as an inlier."""
    owners: list[set[str]] = [set() for _ in range(size)]
    for result, identity in zip(verified, identities, strict=True):
        if result.rejected is None:
            for q in result.pairs.query_index.tolist():
                owners[q].add(identity)
    return owners


def photo_scores(
    verified: Sequence[Verified],
    weights: np.ndarray | None,
    gallery_weights: Sequence[np.ndarray | None] | None = None,
) -> np.ndarray:
    """``(len(verified),)`` float64 score per photo: the summed confidence of its inliers,
    each times its query keypoint's background weight and its gallery keypoint's scenery
    weight (``gallery_weights[i]``, of photo ``i``'s keypoints); 0 for rejected photos."""
    scores = np.zeros(len(verified), np.float64)
    for i, result in enumerate(verified):
        if result.rejected is not None:
            continue
        pair_weights = result.pairs.weights.astype(np.float64)
        if weights is not None:
            pair_weights = pair_weights * weights[result.pairs.query_index]
        scenery = gallery_weights[i] if gallery_weights is not None else None
        if scenery is not None:
            pair_weights = pair_weights * scenery[result.pairs.gallery_index]
        scores[i] = float(pair_weights.sum())
    return scores
