"""What the engines that embed photos share (the vector engines and the deep ensemble): adding
labelled photos to the gallery and identifying photo files, on top of their own ``embed``,
``_store`` and ``identify_embeddings``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from photoid.core import Box, Identification
from photoid.data.table import Dataset
from photoid.search.gallery import Embedded, embed_labelled, with_warnings

Vectors = TypeVar("Vectors")


class PhotoEngine(ABC, Generic[Vectors]):
    """``add``, ``add_dataset`` and ``identify`` on photo files, given ``embed`` (photos ->
    ``Vectors``), ``_store`` (keep embedded gallery photos) and ``identify_embeddings``
    (``Vectors`` -> ranked identities). A subclass sets ``skipped`` (names of gallery photos
    that could not be read)."""

    skipped: list[str]

    @abstractmethod
    def embed(
        self,
        paths: Sequence[Path],
        bboxes: Sequence[Box | None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[Vectors, list[str | None]]:
        """The photos' embeddings and each photo's load error or None."""

    @abstractmethod
    def _store(self, vectors: Vectors, kept: Embedded) -> None:
        """Add the embedded photos ``kept.rows`` of ``vectors`` to the gallery."""

    @abstractmethod
    def identify_embeddings(
        self, names: list[str], vectors: Vectors, top: int | None = None
    ) -> list[Identification]:
        """Ranked identities for the embedded queries (``top`` of them, default the engine's)."""

    def add(
        self,
        paths: Sequence[Path],
        identities: Sequence[str],
        *,
        bboxes: Sequence[Box | None] | None = None,
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Embed and add labelled photos (``unknown`` ones are left out); returns how many."""
        vectors, kept = embed_labelled(
            self.embed, paths, identities, bboxes, names, self.skipped, progress
        )
        self._store(vectors, kept)
        return len(kept.rows)

    def add_dataset(self, dataset: Dataset, progress: Callable[[int], None] | None = None) -> int:
        """:meth:`add` every row of ``dataset`` (its identities, boxes and image names)."""
        return self.add(
            dataset.paths(),
            list(dataset.table["identity"]),
            bboxes=dataset.cells("bbox"),
            names=list(dataset.table["image"]),
            progress=progress,
        )

    def identify(
        self,
        paths: Sequence[Path],
        *,
        bboxes: Sequence[Box | None] | None = None,
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
        top: int | None = None,
    ) -> list[Identification]:
        """Rank gallery identities for each query photo, best first (``top`` of them: the
        engine's own ``top`` unless given)."""
        labels = list(names) if names is not None else [str(p) for p in paths]
        vectors, errors = self.embed(paths, bboxes, progress=progress)
        return with_warnings(self.identify_embeddings(labels, vectors, top), errors)
