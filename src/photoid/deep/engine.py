"""Identify photos by embedding similarity against a gallery of labelled embeddings."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from photoid.data.schema import UNKNOWN_IDENTITY
from photoid.data.table import Dataset
from photoid.deep.embed import Box, embed_images, load_embedder
from photoid.local.results import Candidate, Identification, Match
from photoid.models import Embedder
from photoid.search import VectorIndex, rank_identities_by_images
from photoid.search.aggregate import centroids

Aggregate = Literal["max", "centroid"]
_EMPTY = np.zeros((0, 2), np.float32)


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
        self.index = VectorIndex(embedder.config.embedding_size)
        self.images: list[str] = []
        self.identities: list[str] = []
        self._names: list[str] = []
        self._lookup: dict[str, int] = {}
        self._labels = np.zeros(0, np.int64)
        self._embeddings = np.zeros((0, embedder.config.embedding_size), np.float32)
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
        return len(self.images)

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
        keep = [i for i, name in enumerate(identities) if name != UNKNOWN_IDENTITY]
        labels = list(names) if names is not None else [str(p) for p in paths]
        boxes = self._boxes(bboxes, len(paths))
        vectors, errors = embed_images(
            self.embedder,
            [paths[i] for i in keep],
            image_size=self.image_size,
            bboxes=[boxes[i] for i in keep],
            tta=self.tta,
            progress=progress,
        )
        good = [j for j, error in enumerate(errors) if error is None]
        for j, error in enumerate(errors):
            if error is not None:
                self.skipped.append(labels[keep[j]])
                warnings.warn(f"skipped gallery image: {error}", stacklevel=2)
        new_labels = []
        for j in good:
            identity = identities[keep[j]]
            if identity not in self._lookup:
                self._lookup[identity] = len(self._names)
                self._names.append(identity)
            new_labels.append(self._lookup[identity])
            self.images.append(labels[keep[j]])
            self.identities.append(identity)
        self.index.add(vectors[good], np.arange(len(self._labels), len(self._labels) + len(good)))
        self._labels = np.concatenate([self._labels, np.asarray(new_labels, np.int64)])
        self._embeddings = np.concatenate([self._embeddings, vectors[good]])
        return len(good)

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
        vectors, errors = embed_images(
            self.embedder,
            paths,
            image_size=self.image_size,
            bboxes=self._boxes(bboxes, len(paths)),
            tta=self.tta,
            progress=progress,
        )
        answers = self.identify_embeddings(labels, vectors)
        for i, error in enumerate(errors):
            if error is not None:
                warnings.warn(f"skipped query: {error}", stacklevel=2)
                answers[i] = Identification(labels[i], warning=error)
        return answers

    def _boxes(self, bboxes: Sequence[Box | None] | None, count: int) -> list[Box | None]:
        if bboxes is None or not self.use_bbox:
            return [None] * count
        return list(bboxes)

    def identify_embeddings(self, names: list[str], vectors: np.ndarray) -> list[Identification]:
        """Rank identities for ``(n, D)`` unit query embeddings."""
        if len(self) == 0:
            return [Identification(n, warning="the gallery is empty") for n in names]
        if self.aggregate == "centroid":
            means, identity_labels = centroids(self._embeddings, self._labels)
            scores = vectors @ means.T
            order = np.argsort(-scores, axis=1, kind="stable")[:, : self.top]
            ranked_labels = identity_labels[order]
            ranked_scores = np.take_along_axis(scores, order, axis=1)
        else:
            similarity, rows = self.index.search(vectors, min(self.neighbours, len(self)))
            owner_labels = np.where(rows >= 0, self._labels[np.maximum(rows, 0)], -1)
            ranking = rank_identities_by_images(similarity, owner_labels, self.top)
            ranked_labels, ranked_scores = ranking.labels, ranking.scores
        return [
            self._answer(name, ranked_labels[i], ranked_scores[i], vectors[i])
            for i, name in enumerate(names)
        ]

    def _answer(
        self, name: str, labels: np.ndarray, scores: np.ndarray, vector: np.ndarray
    ) -> Identification:
        candidates = []
        for label, score in zip(labels.tolist(), scores.tolist(), strict=True):
            if label < 0:
                break
            members = np.flatnonzero(self._labels == label)
            best = int(members[np.argmax(self._embeddings[members] @ vector)])
            match = Match(self.images[best], float(score), 0, _EMPTY, _EMPTY)
            candidates.append(Candidate(self._names[label], float(score), match))
        return Identification(name, candidates)
