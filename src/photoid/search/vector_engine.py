"""What every engine over one vector per photo shares (the deep engine's embeddings, the colour
engine's histograms): the labelled gallery, identification and leave-one-out ranking. A subclass
sets ``gallery``, ``top`` and ``skipped`` and defines ``embed``; adding photos and identifying
files come from :class:`photoid.search.photo_engine.PhotoEngine`."""

from __future__ import annotations

import numpy as np

from photoid.core import Identification
from photoid.search.gallery import Embedded, Gallery, answers
from photoid.search.photo_engine import PhotoEngine


class VectorEngine(PhotoEngine[np.ndarray]):
    """A gallery of ``(N, D)`` unit vectors ranked per identity (:class:`Gallery`); ``embed``
    gives ``(n, D)`` float32 unit vectors of photos and each photo's load error or None."""

    gallery: Gallery
    top: int
    skipped: list[str]

    def __len__(self) -> int:
        return len(self.gallery)

    @property
    def images(self) -> list[str]:
        """Image name of each gallery photo, in the order added."""
        return self.gallery.images

    @property
    def identities(self) -> list[str]:
        """Identity of each gallery photo, in the order added."""
        return self.gallery.identities

    def _store(self, vectors: np.ndarray, kept: Embedded) -> None:
        self.gallery.add(vectors[kept.rows], kept.identities, kept.names)

    def identify_embeddings(
        self, names: list[str], vectors: np.ndarray, top: int | None = None
    ) -> list[Identification]:
        """Rank identities for ``(n, D)`` unit query vectors (``top`` of them, default the
        engine's)."""
        if len(self) == 0:
            return [Identification(n, warning="the gallery is empty") for n in names]
        ranking = self.gallery.rank(vectors, top or self.top)
        return answers(names, ranking, [self.gallery], [vectors])

    def leave_one_out(self, k: int = 5) -> tuple[list[list[str]], np.ndarray]:
        """Each gallery photo ranked against the rest of the gallery (its own photo left out):
        the ``k`` best identity names per photo and their ``(N, k)`` float32 scores."""
        rows = np.arange(len(self), dtype=np.int64)
        ranking = self.gallery.rank(self.gallery.embeddings, k, exclude=rows)
        names = self.gallery.names
        ranked = [[names[label] for label in row if label >= 0] for row in ranking.labels.tolist()]
        return ranked, ranking.scores
