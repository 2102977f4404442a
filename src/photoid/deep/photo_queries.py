"""Identification of photo files for engines that embed photos and rank their embeddings (the
vector engines and the deep ensemble): embed, rank, attach each photo's load error."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from photoid.deep.embed import Box
from photoid.deep.gallery import with_warnings
from photoid.local.results import Identification

Vectors = TypeVar("Vectors")


class PhotoQueries(ABC, Generic[Vectors]):
    """``identify`` on photo files, given ``embed`` (photos -> ``Vectors``) and
    ``identify_embeddings`` (``Vectors`` -> ranked identities)."""

    @abstractmethod
    def embed(
        self,
        paths: Sequence[Path],
        bboxes: Sequence[Box | None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[Vectors, list[str | None]]:
        """The photos' embeddings and each photo's load error or None."""

    @abstractmethod
    def identify_embeddings(
        self, names: list[str], vectors: Vectors, top: int | None = None
    ) -> list[Identification]:
        """Ranked identities for the embedded queries (``top`` of them, default the engine's)."""

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
