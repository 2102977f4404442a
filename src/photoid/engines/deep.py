"""The deep metric-learning engine under the engine contract: one trained embedder or an
ensemble (:mod:`photoid.deep`), cosine similarity per identity. Scores are cosine similarities,
so the new-individual policy is a score threshold fitted for MAP@5."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from photoid.core import Candidate, Identification, Match
from photoid.data.table import Dataset
from photoid.deep.checkpoints import load_deep_engine
from photoid.deep.engine import DeepEngine
from photoid.deep.ensemble import DeepEnsemble
from photoid.engines.base import GalleryEngine, StageProgress
from photoid.errors import PhotoidError
from photoid.fusion.config import Queries
from photoid.progress import stage_callback


class DeepEmbeddings(GalleryEngine):
    """A model trained with ``photoid train`` (or several, combined by ``ensemble``). Answers
    rank ``options.local.top`` identities (at least 6), as the local engine's do."""

    method = "deep"

    def _fit_gallery(
        self, gallery: Dataset, calibration: Dataset | None, progress: StageProgress | None
    ) -> None:
        if not self.options.models:
            raise PhotoidError("--method deep needs --model CHECKPOINT (from photoid train)")
        self.engine: DeepEngine | DeepEnsemble = load_deep_engine(
            list(self.options.models),
            gallery,
            tta=self.options.tta,
            aggregate=self.options.aggregate,
            ensemble=self.options.ensemble,
            progress=stage_callback(progress, "gallery", len(gallery)),
            device=self.options.device,
            precision=self.options.precision,
        )
        self.skipped = list(self.engine.skipped)

    def _use_device(self, device: str, precision: str) -> None:
        if hasattr(self, "engine"):
            self.engine.use_device(device, precision)

    def identify(
        self, queries: Queries, progress: Callable[[int], None] | None = None
    ) -> list[Identification]:
        return self.engine.identify(
            queries.paths,
            bboxes=queries.bboxes,
            names=queries.names,
            progress=progress,
            top=max(self.options.local.top, 6),
        )

    def add(
        self,
        photos: Queries,
        identities: Sequence[str],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        added = self.engine.add(
            photos.paths, identities, bboxes=photos.bboxes, names=photos.names, progress=progress
        )
        self.skipped = list(self.engine.skipped)
        return added

    def left_out(
        self,
        photos: Queries,
        rows: Sequence[int],
        excluded: Sequence[Collection[int]] | None = None,
        top: int | None = None,
    ) -> list[Identification]:
        """Ranked from the stored embeddings (``photos`` give the names); one photo left out
        each: a group in ``excluded`` is refused rather than half honoured."""
        if excluded is not None and any(set(e) - {r} for e, r in zip(excluded, rows, strict=True)):
            raise PhotoidError("the deep engine leaves out one photo at a time")
        ranked, scores = self.engine.leave_one_out(top or 6)
        return [
            Identification(
                photos.names[i],
                [
                    Candidate(name, float(score), Match.photo(""))
                    for name, score in zip(ranked[row], scores[row].tolist(), strict=False)
                ],
            )
            for i, row in enumerate(rows)
        ]

    def _gallery_left_out(
        self, gallery: Dataset, rows: Sequence[int], progress: StageProgress | None
    ) -> list[Identification]:
        """From the stored embeddings, each photo alone left out (a model trained on these
        photos knows them anyway: give val rows to fit on photos it never saw)."""
        return self.left_out(Queries([], [self.images[r] for r in rows]), rows)
