"""Features cached on disk, keyed by the image's content hash and the feature settings.

A re-run skips unchanged images; a changed image or setting gets a new key. Files are written
atomically, so a killed run never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from photoid.files import atomic_open
from photoid.local.features import Features


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FeatureCache:
    """``root/<settings fingerprint>/<hash[:2]>/<hash>-<bbox>.npz`` holding one image's features."""

    def __init__(self, root: Path, fingerprint: str) -> None:
        self.folder = Path(root) / fingerprint
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npz"

    def get(self, key: str) -> Features | None:
        path = self._path(key)
        if not path.is_file():
            self.misses += 1
            return None
        try:
            with np.load(path) as data:
                features = Features(
                    points=data["points"],
                    descriptors=data["descriptors"],
                    scale=float(data["scale"]),
                    offset=(float(data["offset"][0]), float(data["offset"][1])),
                    size=_size(data),
                )
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # damaged: recompute
            self.misses += 1
            return None
        self.hits += 1
        return features

    def put(self, key: str, features: Features) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path) as handle:
            np.savez(
                handle,
                points=features.points,
                descriptors=features.descriptors,
                scale=np.float64(features.scale),
                offset=np.asarray(features.offset, np.float64),
                size=np.asarray(features.size, np.int64),
            )


def _size(data: np.lib.npyio.NpzFile) -> tuple[int, int]:
    """The stored image size; entries written before sizes were kept have none: (0, 0)."""
    if "size" not in data.files:
        return (0, 0)
    return (int(data["size"][0]), int(data["size"][1]))


def cache_key(image_hash: str, bbox: tuple[float, float, float, float] | None) -> str:
    """Key of one image crop: the content hash plus the box (the same file may hold two animals)."""
    if bbox is None:
        return image_hash
    box = ",".join(f"{v:g}" for v in bbox)
    return f"{image_hash}-{hashlib.sha256(box.encode()).hexdigest()[:8]}"
