"""Correspondences between a query's learned keypoints and gallery photos'.

LightGlue matches one query against many gallery photos in batches (photos with equal keypoint
counts share a batch); mutual nearest neighbours compare L2-normalised descriptors directly.
Either gives one-to-one pairs weighted by their confidence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from photoid.keypoints.config import KeypointConfig
from photoid.keypoints.models import lightglue, matcher_features, resolve_device
from photoid.local.features import Features
from photoid.local.verify import Correspondences

_EMPTY = Correspondences(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))


def mutual_pairs(query: np.ndarray, gallery: np.ndarray, ratio: float) -> Correspondences:
    """Mutual nearest neighbours of ``(n, d)`` and ``(m, d)`` unit descriptors whose best
    distance is below ``ratio`` times the second best; each pair weighs its cosine similarity."""
    if query.shape[0] < 1 or gallery.shape[0] < 2:
        return _EMPTY
    similarity = query @ gallery.T
    forward = similarity.argmax(axis=1)
    backward = similarity.argmax(axis=0)
    rows = np.arange(query.shape[0])
    mutual = backward[forward] == rows
    top2 = -np.partition(-similarity, 1, axis=1)[:, :2]
    distance = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * top2))
    distinct = distance[:, 0] < ratio * distance[:, 1]
    keep = np.flatnonzero(mutual & distinct)
    weights = np.clip(similarity[keep, forward[keep]], 0.0, 1.0).astype(np.float32)
    return Correspondences(keep.astype(np.int64), forward[keep].astype(np.int64), weights)


def lightglue_pairs(
    query: Features, gallery: Sequence[Features], config: KeypointConfig
) -> list[Correspondences]:
    """LightGlue's matches of ``query`` against each gallery photo (batched), in order."""
    device = str(resolve_device(config.device))
    out: list[Correspondences] = [_EMPTY] * len(gallery)
    if len(query) == 0:
        return out
    groups: dict[int, list[int]] = {}
    for i, features in enumerate(gallery):
        if len(features) > 0:
            groups.setdefault(len(features), []).append(i)
    q = _side(query, device)
    for members in groups.values():
        for start in range(0, len(members), config.batch):
            chunk = members[start : start + config.batch]
            sides = [_side(gallery[i], device) for i in chunk]
            model = lightglue(
                matcher_features(config.extractor), config.filter_threshold, device, len(chunk) == 1
            )
            data = {
                "image0": {key: torch.cat([value] * len(chunk)) for key, value in q.items()},
                "image1": {key: torch.cat([s[key] for s in sides]) for key in q},
            }
            with torch.inference_mode():
                found = model(data)
            matches = found["matches0"].cpu().numpy()
            scores = found["matching_scores0"].float().cpu().numpy()
            for j, i in enumerate(chunk):
                rows = np.flatnonzero(matches[j] >= 0)
                out[i] = Correspondences(
                    rows.astype(np.int64),
                    matches[j][rows].astype(np.int64),
                    scores[j][rows].astype(np.float32),
                )
    return out


def _side(features: Features, device: str) -> dict[str, torch.Tensor]:
    """One photo's keypoints as LightGlue's batch-of-one input."""
    width, height = features.size
    if width <= 0 or height <= 0:  # no recorded size: the keypoints' extent
        width, height = (features.points.max(axis=0) + 1.0).tolist() if len(features) else (1, 1)
    return {
        "keypoints": torch.from_numpy(features.points)[None].to(device),
        "descriptors": torch.from_numpy(features.descriptors)[None].to(device),
        "image_size": torch.tensor([[float(width), float(height)]], device=device),
    }


def match_gallery(
    query: Features, gallery: Sequence[Features], config: KeypointConfig
) -> list[Correspondences]:
    """The configured matcher's pairs between ``query`` and each gallery photo."""
    if config.matcher == "lightglue":
        return lightglue_pairs(query, gallery, config)
    return [mutual_pairs(query.descriptors, g.descriptors, config.ratio) for g in gallery]
