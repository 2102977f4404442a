"""Colour histograms of labelled photos in a faiss index, ranked per identity like the deep
engine's embeddings (:class:`photoid.deep.gallery.Gallery`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from photoid.appearance.descriptor import BINS, colour_histogram
from photoid.data.images import load_image
from photoid.data.table import Dataset
from photoid.deep.embed import Box
from photoid.deep.gallery import Gallery, answers, embed_labelled, with_warnings
from photoid.errors import ImageLoadError
from photoid.local.results import Identification


class ColourEngine:
    """Identity score = Hellinger similarity (in [0, 1]) of the identity's most similar photo."""

    def __init__(
        self, *, bins: tuple[int, int, int] = BINS, use_bbox: bool = True, top: int = 5
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
        use_bbox: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> ColourEngine:
        """A gallery of every row of ``dataset`` with a known identity."""
        engine = cls(use_bbox=use_bbox)
        engine.add(
            dataset.paths(),
            list(dataset.table["identity"]),
            bboxes=dataset.cells("bbox"),
            names=list(dataset.table["image"]),
            progress=progress,
        )
        return engine

    def __len__(self) -> int:
        return len(self.gallery)

    @property
    def images(self) -> list[str]:
        return self.gallery.images

    @property
    def identities(self) -> list[str]:
        return self.gallery.identities

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

    def add(
        self,
        paths: Sequence[Path],
        identities: Sequence[str],
        *,
        bboxes: Sequence[Box | None] | None = None,
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Describe and add labelled photos (``unknown`` ones are left out); returns how many."""
        vectors, kept = embed_labelled(
            self.embed, paths, identities, bboxes, names, self.skipped, progress
        )
        self.gallery.add(vectors[kept.rows], kept.identities, kept.names)
        return len(kept.rows)

    def identify(
        self,
        paths: Sequence[Path],
        *,
        bboxes: Sequence[Box | None] | None = None,
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[Identification]:
        """Rank gallery identities for each query photo, best first (``top`` of them)."""
        labels = list(names) if names is not None else [str(p) for p in paths]
        vectors, errors = self.embed(paths, bboxes, progress=progress)
        if len(self) == 0:
            return [Identification(n, warning="the gallery is empty") for n in labels]
        ranking = self.gallery.rank(vectors, self.top)
        return with_warnings(answers(labels, ranking, [self.gallery], [vectors]), errors)
