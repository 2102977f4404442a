"""The local-feature engine under the engine contract (RootSIFT keypoints, LNBNN votes,
geometric verification; :mod:`photoid.local`). Scores are raw (summed verified votes), so the
new-individual policy is a score threshold fitted for MAP@5."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from photoid.calibrate.groups import dataset_groups
from photoid.core import Identification
from photoid.data.table import Dataset
from photoid.engines.base import GalleryEngine, StageProgress
from photoid.fusion.config import Queries
from photoid.fusion.rows import text_cell
from photoid.local.engine import LocalEngine
from photoid.local.extraction import extract_many
from photoid.progress import stage_callback


class LocalFeatures(GalleryEngine):
    """Keypoint matching; needs no trained weights and runs on CPU."""

    method = "local"
    removes = True
    engine: LocalEngine

    def _fit_gallery(
        self, gallery: Dataset, calibration: Dataset | None, progress: StageProgress | None
    ) -> None:
        # Six candidates, so that a query playing a new individual still has five.
        config = self.options.local.with_overrides(top=max(self.options.local.top, 6))
        self.engine = LocalEngine.from_dataset(
            gallery,
            config,
            self.options.cache_dir,
            stage_callback(progress, "gallery", len(gallery)),
        )
        self.engine.build_index(progress)
        self.skipped = list(self.engine.skipped)

    def identify(
        self, queries: Queries, progress: Callable[[int], None] | None = None
    ) -> list[Identification]:
        return self.engine.identify(
            queries.paths,
            bboxes=queries.bboxes,
            viewpoints=queries.viewpoints,
            names=queries.names,
            progress=progress,
        )

    def add(
        self,
        photos: Queries,
        identities: Sequence[str],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        added = self.engine.add(
            photos.paths,
            identities,
            bboxes=photos.bboxes,
            viewpoints=photos.viewpoints,
            names=photos.names,
            progress=progress,
        )
        self.skipped = list(self.engine.skipped)
        return added

    def remove(self, names: Sequence[str]) -> int:
        return self.engine.remove(names)

    def left_out(
        self,
        photos: Queries,
        rows: Sequence[int],
        excluded: Sequence[Collection[int]] | None = None,
        top: int | None = None,
    ) -> list[Identification]:
        engine = self.engine
        extracted = extract_many(
            photos.paths, photos.bboxes or [None] * len(rows), engine.config, engine.cache
        )
        views = photos.viewpoints or [None] * len(rows)
        out = []
        for i, (row, result) in enumerate(zip(rows, extracted, strict=True)):
            name = photos.names[i]
            if result.features is None:
                out.append(Identification(name, warning=result.error))
                continue
            gone = [row] if excluded is None else excluded[i]
            answer = engine.identify_features(name, result.features, text_cell(views[i]), gone)
            out.append(
                answer if top is None else replace(answer, candidates=answer.candidates[:top])
            )
        return out

    def _gallery_left_out(
        self, gallery: Dataset, rows: Sequence[int], progress: StageProgress | None
    ) -> list[Identification]:
        """Each photo asked with its whole group (encounter, date or near-duplicate cluster:
        :func:`photoid.calibrate.groups.dataset_groups`) left out, from its stored features."""
        engine = self.engine
        groups = dataset_groups(gallery, use_bbox=engine.config.use_bbox)
        row_of = {str(name): r for r, name in enumerate(gallery.table["image"])}
        position = {name: p for p, name in enumerate(engine.images)}
        step = stage_callback(progress, "calibration", len(rows))
        out = []
        for p in rows:
            name = engine.images[p]
            members = groups.members(row_of[name])
            gone = [position[n] for n in gallery.table["image"].iloc[members] if n in position]
            features = engine.photo_features(p)
            out.append(engine.identify_features(name, features, engine.viewpoints[p], gone))
            if step is not None:
                step(1)
        return out
