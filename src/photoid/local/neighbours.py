"""Small helpers of the local engine's neighbour search: which gallery rows a query leaves
out, neighbours owned by them removed, and a viewpoint cell made clean text."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np


def clean_viewpoint(viewpoint: object) -> str | None:
    if viewpoint is None or (isinstance(viewpoint, float) and np.isnan(viewpoint)):
        return None
    text = str(viewpoint).strip()
    return text or None


def excluded_rows(exclude: int | Collection[int] | None) -> np.ndarray:
    """``(m,)`` int64 sorted distinct gallery rows of ``exclude`` (none: empty)."""
    if exclude is None:
        return np.zeros(0, np.int64)
    values = [exclude] if isinstance(exclude, int | np.integer) else list(exclude)
    return np.unique(np.asarray(values, np.int64))


def drop_owner(
    distances: np.ndarray,
    owners: np.ndarray,
    keypoints: np.ndarray,
    exclude: int | np.ndarray,
    keep: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove neighbours owned by ``exclude`` (one gallery row or an array of them) from each
    row, keeping the first ``keep`` others (missing: distance inf, owner and keypoint -1)."""
    dropped = np.isin(owners, exclude)
    order = np.argsort(dropped, axis=1, kind="stable")[:, :keep]
    distances = np.take_along_axis(distances, order, axis=1)
    owners = np.take_along_axis(owners, order, axis=1)
    keypoints = np.take_along_axis(keypoints, order, axis=1)
    gone = np.take_along_axis(dropped, order, axis=1)
    distances[gone] = np.inf
    owners[gone] = -1
    keypoints[gone] = -1
    return distances, owners, keypoints
