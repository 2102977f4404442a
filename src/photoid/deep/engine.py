"""Identify photos by embedding similarity against a gallery of labelled embeddings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from photoid.data.table import Dataset
from photoid.deep.embed import Box, embed_images, load_embedder
from photoid.deep.gallery import Aggregate, Gallery, answers, embed_labelled, with_warnings
from photoid.local.results import Identification
from photoid.models import Embedder
from photoid.search import VectorIndex


class DeepEngine:
    """A gallery of embeddings in a faiss index; identity score = cosine similarity of its best
    image (``max``) or of its centroid (``centroid``)."""

    def __init__(
        self,
        embedder: Embedder,
        image_size: int,
        *,
        use_bbox: bool = True,
        tta: Sequence[str] = (),
        aggregate: Aggregate = "max",
        top: int = 5,
        neighbours: int = 100,
    ) -> None:
        self.embedder = embedder
        self.image_size = image_size
        self.use_bbox = use_bbox
        self.tta = tuple(tta)
        self.aggregate = aggregate
        self.top = top
        self.neighbours = neighbours
        self.gallery = Gallery(
            embedder.config.embedding_size, aggregate=aggregate, neighbours=neighbours
        )
        self.skipped: list[str] = []

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: Path,
        dataset: Dataset,
        *,
        tta: Sequence[str] = (),
        aggregate: Aggregate = "max",
        progress: Callable[[int], None] | None = None,
    ) -> DeepEngine:
        """Load the embedder of ``checkpoint`` and embed every known row of ``dataset``."""
        embedder, config = load_embedder(checkpoint)
        engine = cls(
            embedder, config.image_size, use_bbox=config.use_bbox, tta=tta, aggregate=aggregate
        )
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
    def index(self) -> VectorIndex:
        return self.gallery.index

    @property
    def images(self) -> list[str]:
        """Image name of each gallery photo, in the order added."""
        return self.gallery.images

    @property
    def identities(self) -> list[str]:
        """Identity of each gallery photo, in the order added."""
        return self.gallery.identities

    def embed(
        self,
        paths: Sequence[Path],
        bboxes: Sequence[Box | None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[str | None]]:
        """``(n, D)`` unit embeddings (TTA mean; photos cropped when the model was trained on
        crops) and each photo's load error or None."""
        boxes = list(bboxes) if bboxes is not None and self.use_bbox else [None] * len(paths)
        return embed_images(
            self.embedder,
            paths,
            image_size=self.image_size,
            bboxes=boxes,
            tta=self.tta,
            progress=progress,
        )

    def add(
        self,
        paths: Sequence[Path],
        identities: Sequence[str],
        *,
        bboxes: Sequence[Box | None] | None = None,
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Embed and add labelled photos (``unknown`` ones are left out); returns how many.

        ``bboxes`` crop the photos when the model was trained on crops (``use_bbox``).
        """
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
        return with_warnings(self.identify_embeddings(labels, vectors), errors)

    def identify_embeddings(self, names: list[str], vectors: np.ndarray) -> list[Identification]:
        """Rank identities for ``(n, D)`` unit query embeddings."""
        if len(self) == 0:
            return [Identification(n, warning="the gallery is empty") for n in names]
        ranking = self.gallery.rank(vectors, self.top)
        return answers(names, ranking, [self.gallery], [vectors])

    def leave_one_out(self, k: int = 5) -> tuple[list[list[str]], np.ndarray]:
        """Each gallery photo ranked against the rest of the gallery (its own photo left out):
        the ``k`` best identity names per photo and their ``(N, k)`` float32 scores."""
        rows = np.arange(len(self), dtype=np.int64)
        ranking = self.gallery.rank(self.gallery.embeddings, k, exclude=rows)
        names = self.gallery.names
        ranked = [[names[label] for label in row if label >= 0] for row in ranking.labels.tolist()]
        return ranked, ranking.scores
