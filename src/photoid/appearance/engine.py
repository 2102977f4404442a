"""Colour histograms of labelled photos in a faiss index, ranked per identity like the deep
engine's embeddings (:class:`photoid.search.gallery.Gallery`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from photoid.appearance.descriptor import BINS, colour_histogram
from photoid.core import Box
from photoid.data.images import load_image
from photoid.data.table import Dataset
from photoid.errors import ImageLoadError
from photoid.search.gallery import Gallery
from photoid.search.vector_engine import VectorEngine


class ColourEngine(VectorEngine):
    """Identity score = Hellinger similarity (in [0, 1]) of the identity's most similar photo;
    ``bins``: of :func:`colour_histogram` (two: hue and saturation only)."""

    def __init__(
        self, *, bins: tuple[int, ...] = BINS, use_bbox: bool = True, top: int = 5
    ) -> None:
        self.bins = bins
        self.use_bbox = use_bbox
        self.top = top
        self.gallery = Gallery(int(np.prod(bins)), aggregate="max")
        self.skipped: list[str] = []

    @classmethod
    def from_dataset(
        cls,
        dataset: Dataset,
        *,
        bins: tuple[int, ...] = BINS,
        use_bbox: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> ColourEngine:
        """A gallery of every row of ``dataset`` with a known identity."""
        engine = cls(bins=bins, use_bbox=use_bbox)
        engine.add_dataset(dataset, progress)
        return engine

    def embed(
        self,
        paths: Sequence[Path],
        bboxes: Sequence[Box | None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[str | None]]:
        """``(n, D)`` float32 descriptors (zeros where a photo failed) and each load error."""
        boxes = list(bboxes) if bboxes is not None and self.use_bbox else [None] * len(paths)
        vectors = np.zeros((len(paths), int(np.prod(self.bins))), np.float32)
        errors: list[str | None] = []
        for i, (path, box) in enumerate(zip(paths, boxes, strict=True)):
            try:
                vectors[i] = colour_histogram(load_image(Path(path), box), self.bins)
                errors.append(None)
            except ImageLoadError as error:
                errors.append(str(error))
            if progress is not None:
                progress(1)
        return vectors, errors
