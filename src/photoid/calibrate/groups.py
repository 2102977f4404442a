"""Groups of dependent gallery photos, left out together when the gallery calibrates itself.

Leave-one-out over photos that are not independent (frames of one video, a burst of one
sighting) learns from near-duplicates: every engine looks almost perfect. A calibration query
is honest only when the photos taken with it are left out too. A photo's group is, by the first
column that the gallery fills: its ``encounter`` (every photo of that sighting); its ``date``
(photos of the same identity on the same day); else its near-duplicate cluster: photos of the
same identity are linked when both their layout (grayscale thumbnails) and their colours
(the colour engine's histograms) are more alike than a threshold each, and clusters are the
connected components. A photo whose cell is empty in the chosen column is clustered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from photoid.appearance.descriptor import BINS, colour_histogram
from photoid.core import Box
from photoid.data.images import load_image
from photoid.data.table import Dataset
from photoid.errors import ImageLoadError

# KoiVideo (video frames), colour engine top-1 with each gallery photo's cluster left out:
# 0.999 with one frame out, 0.74 with these clusters (189 groups of 916), 0.453 on its later
# frames. Thumbnails alone at 0.8 also link C-Tai faces of different sessions (thumbnails of
# two chimpanzees reach 0.81): the colours must agree too (2 links in its 245 photos then).
# LionData has no pair above either.
NEAR_DUPLICATE = 0.8
SAME_COLOURS = 0.98
THUMBNAIL_SIDE = 16


@dataclass(frozen=True)
class PhotoGroups:
    """``ids``: ``(N,)`` int64 group of each photo, numbered 0.. in order of first photo;
    ``kind``: how they were formed (``encounter``, ``date``, ``near-duplicate clusters``, or
    ``photos``: each photo alone)."""

    ids: np.ndarray
    kind: str

    @property
    def count(self) -> int:
        return int(self.ids.max()) + 1 if self.ids.size else 0

    def members(self, position: int) -> np.ndarray:
        """``(m,)`` int64 positions of every photo in ``position``'s group (itself included)."""
        return np.flatnonzero(self.ids == self.ids[position])


def _cell(value: object) -> str | None:
    """A cell as text, None when empty; a date or date-time becomes its day."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    text = str(value).strip()
    return text or None


def near_duplicate_clusters(
    identities: Sequence[str], vectors: Sequence[np.ndarray], thresholds: Sequence[float]
) -> np.ndarray:
    """``(N,)`` int64 cluster of each photo: two photos of one identity are linked when, for
    every ``(N, D)`` array of unit descriptors ``vectors[d]``, their dot product is above
    ``thresholds[d]``; clusters are the connected components, numbered in order of first
    photo."""
    names = np.asarray([str(t) for t in identities])
    first: list[np.ndarray] = []
    second: list[np.ndarray] = []
    for name in dict.fromkeys(names.tolist()):
        rows = np.flatnonzero(names == name)
        linked = np.ones((rows.size, rows.size), bool)
        for descriptors, threshold in zip(vectors, thresholds, strict=True):
            linked &= descriptors[rows] @ descriptors[rows].T > threshold
        a, b = np.nonzero(np.triu(linked, k=1))
        first.append(rows[a])
        second.append(rows[b])
    n = len(names)
    a_all = np.concatenate([*first, np.zeros(0, np.int64)])
    b_all = np.concatenate([*second, np.zeros(0, np.int64)])
    graph = coo_matrix((np.ones(a_all.size), (a_all, b_all)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return _renumber(labels.tolist())


def photo_groups(
    identities: Sequence[str],
    *,
    encounters: Sequence[object] | None = None,
    dates: Sequence[object] | None = None,
    vectors: Sequence[np.ndarray] | None = None,
    thresholds: Sequence[float] = (NEAR_DUPLICATE, SAME_COLOURS),
) -> PhotoGroups:
    """Each photo's group by its ``encounter`` cell, else ``date`` (with the identity), else
    its near-duplicate cluster (:func:`near_duplicate_clusters` of ``vectors``, each ``(N, D)``
    unit descriptors whose rows of photos with a cell go unused, by ``thresholds``) among the
    photos left without a cell; ``vectors`` None: each of those photos alone."""
    n = len(identities)
    keys: list[tuple[str, ...] | None] = [None] * n
    kind = "near-duplicate clusters"
    encounter_cells = [_cell(v) for v in encounters] if encounters is not None else []
    date_cells = [_cell(v) for v in dates] if dates is not None else []
    if any(c is not None for c in encounter_cells):
        kind = "encounter"
        keys = [None if c is None else ("encounter", c) for c in encounter_cells]
    elif any(c is not None for c in date_cells):
        kind = "date"
        keys = [
            None if c is None else ("date", str(t), c)
            for t, c in zip(identities, date_cells, strict=True)
        ]
    rest = [i for i in range(n) if keys[i] is None]
    if rest:
        if vectors is None:
            kind = "photos" if len(rest) == n else kind
            clusters = np.arange(len(rest))
        else:
            clusters = near_duplicate_clusters(
                [identities[i] for i in rest], [v[rest] for v in vectors], thresholds
            )
        for i, c in zip(rest, clusters.tolist(), strict=True):
            keys[i] = ("cluster", str(c))
    return PhotoGroups(_renumber(keys), kind)


def thumbnail(image: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB -> ``(side * side,)`` float32 grayscale thumbnail, mean 0 and
    unit length (brightness and contrast left aside; a flat image gives zeros)."""
    gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    centred: np.ndarray = small.ravel() - small.mean()
    norm = float(np.linalg.norm(centred))
    return centred / norm if norm > 0 else np.zeros_like(centred)


def looks(
    paths: Sequence[Path], boxes: Sequence[Box | None] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each photo's ``(N, 256)`` float32 :func:`thumbnail` and ``(N, 512)`` float32 colour
    histogram (:func:`photoid.appearance.descriptor.colour_histogram`), one read each; zeros
    where a photo cannot be read (linked to nothing)."""
    thumbs = np.zeros((len(paths), THUMBNAIL_SIDE * THUMBNAIL_SIDE), np.float32)
    colours = np.zeros((len(paths), int(np.prod(BINS))), np.float32)
    for i, path in enumerate(paths):
        try:
            image = load_image(Path(path), None if boxes is None else boxes[i])
        except ImageLoadError:
            continue
        thumbs[i] = thumbnail(image)
        colours[i] = colour_histogram(image)
    return thumbs, colours


def dataset_groups(
    dataset: Dataset,
    *,
    use_bbox: bool = True,
    thresholds: Sequence[float] = (NEAR_DUPLICATE, SAME_COLOURS),
) -> PhotoGroups:
    """:func:`photo_groups` of a dataset's rows (``thresholds``: of thumbnails and colours);
    photos are read only for the rows whose ``encounter`` or ``date`` cell leaves them
    ungrouped."""
    identities = [str(t) for t in dataset.table["identity"]]
    encounters = dataset.cells("encounter")
    dates = dataset.cells("date")
    grouped = photo_groups(identities, encounters=encounters, dates=dates)
    keyed = _keyed(grouped.kind, encounters, dates, len(identities))
    if keyed.all():
        return grouped
    rest = np.flatnonzero(~keyed)
    paths = dataset.paths()
    boxes = dataset.cells("bbox") if use_bbox else None
    found = looks([paths[i] for i in rest], None if boxes is None else [boxes[i] for i in rest])
    vectors = []
    for part in found:
        full = np.zeros((len(identities), part.shape[1]), np.float32)
        full[rest] = part
        vectors.append(full)
    return photo_groups(
        identities, encounters=encounters, dates=dates, vectors=vectors, thresholds=thresholds
    )


def _keyed(
    kind: str, encounters: Sequence[object] | None, dates: Sequence[object] | None, n: int
) -> np.ndarray:
    """``(N,)`` bool: the photo has a cell in the column its groups were formed by."""
    cells = {"encounter": encounters, "date": dates}.get(kind)
    if cells is None:
        return np.zeros(n, bool)
    return np.asarray([_cell(v) is not None for v in cells], bool)


def _renumber(keys: Sequence[object]) -> np.ndarray:
    """``(N,)`` int64: equal keys get one number, 0.. in order of first appearance."""
    numbers: dict[object, int] = {}
    return np.asarray([numbers.setdefault(k, len(numbers)) for k in keys], np.int64)
