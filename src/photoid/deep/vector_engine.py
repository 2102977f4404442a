"""What every engine over one vector per photo shares (the deep engine's embeddings, the colour
engine's histograms): the labelled gallery, identification and leave-one-out ranking. A subclass
sets ``gallery``, ``top`` and ``skipped`` and defines :meth:`VectorEngine.embed`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from photoid.data.table import Dataset
from photoid.deep.embed import Box
from photoid.deep.gallery import Gallery, answers, embed_labelled
from photoid.deep.photo_queries import PhotoQueries
from photoid.local.results import Identification


class VectorEngine(PhotoQueries[np.ndarray]):
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
        self.gallery.add(vectors[kept.rows], kept.identities, kept.names)
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
