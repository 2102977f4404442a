"""Every gallery photo's keypoints and descriptors on disk, read only for the photos asked.

Descriptors are stored as one byte per dimension (binary descriptors as they are; SIFT as its
whole-number values; RootSIFT times :data:`ROOT_SCALE`, whose largest values stay under 0.5),
four times smaller than float32. In memory stay only five numbers per photo (where its rows
start, how many, and the resize scale and crop offset that map points back to the original).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from photoid.local.features import Features
from photoid.local.storage import AppendArray, StoreFolder

ROOT_SCALE = 510.0
_SCALES = {"rootsift": ROOT_SCALE, "sift": 1.0}


class FeatureStore:
    """Features of photos ``0..len-1``, appended in gallery order."""

    def __init__(self, detector: str, width: int, *, binary: bool) -> None:
        self.binary = binary
        self.scale = 1.0 if binary else _SCALES.get(detector, 1.0)
        self.folder = StoreFolder()
        self.descriptors = AppendArray(self.folder, "descriptors", width, "uint8")
        self.points = AppendArray(self.folder, "points", 2, "float32")
        self.start = np.zeros(0, np.int64)
        self.count = np.zeros(0, np.int32)
        self.geometry = np.zeros((0, 3), np.float32)  # resize scale, offset x, offset y

    def __len__(self) -> int:
        return int(self.start.shape[0])

    @property
    def disk_bytes(self) -> int:
        return self.descriptors.nbytes + self.points.nbytes

    def append(self, batch: Sequence[Features]) -> None:
        """Store ``batch`` as the next photos."""
        if not batch:
            return
        counts = np.array([len(f) for f in batch], np.int32)
        before = (self.points.rows, self.descriptors.rows)
        try:
            first = self.points.append(np.concatenate([f.points for f in batch]).reshape(-1, 2))
            self.descriptors.append(self._encode(np.concatenate([f.descriptors for f in batch])))
        except BaseException:
            self.points.rows, self.descriptors.rows = before  # the next append overwrites
            raise
        starts = first + np.concatenate([[0], np.cumsum(counts[:-1], dtype=np.int64)])
        self.start = np.concatenate([self.start, starts.astype(np.int64)])
        self.count = np.concatenate([self.count, counts])
        rows = [(f.scale, f.offset[0], f.offset[1]) for f in batch]
        self.geometry = np.concatenate([self.geometry, np.array(rows, np.float32)])

    def _encode(self, descriptors: np.ndarray) -> np.ndarray:
        if self.binary:
            return descriptors.astype(np.uint8)
        return np.clip(np.rint(descriptors * self.scale), 0, 255).astype(np.uint8)

    def decode(self, stored: np.ndarray) -> np.ndarray:
        """Stored bytes back to the detector's descriptors (float32, or bytes for binary)."""
        if self.binary:
            return np.ascontiguousarray(stored, np.uint8)
        return stored.astype(np.float32) / np.float32(self.scale)

    def rows(self, photo: int) -> tuple[int, int]:
        start = int(self.start[photo])
        return start, start + int(self.count[photo])

    def photo_points(self, photo: int) -> Features:
        """Photo ``photo``'s keypoints, with no descriptors (geometric verification)."""
        start, stop = self.rows(photo)
        empty = np.zeros((0, self.descriptors.width), np.uint8 if self.binary else np.float32)
        return self._features(photo, np.array(self.points.read(start, stop)), empty)

    def features(self, photo: int) -> Features:
        """Photo ``photo``'s keypoints and descriptors."""
        start, stop = self.rows(photo)
        points = np.array(self.points.read(start, stop))
        return self._features(photo, points, self.decode(self.descriptors.read(start, stop)))

    def _features(self, photo: int, points: np.ndarray, descriptors: np.ndarray) -> Features:
        scale, x, y = (float(v) for v in self.geometry[photo])
        return Features(points, descriptors, scale, (x, y))

    def gather(self, photos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The descriptors of ``photos`` (int rows) stacked: ``(m, d)`` decoded descriptors,
        and each one's owner photo and keypoint number, ``(m,)`` int64 each."""
        counts = self.count[photos].astype(np.int64)
        total = int(counts.sum())
        owners = np.repeat(photos.astype(np.int64), counts)
        firsts = np.repeat(np.cumsum(counts) - counts, counts)
        keypoints = np.arange(total, dtype=np.int64) - firsts
        rows = np.repeat(self.start[photos], counts) + keypoints
        return self.decode(self.descriptors.take(rows)), owners, keypoints
