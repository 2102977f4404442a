"""The learned-keypoint engine under the engine contract (ALIKED or DISK keypoints matched with
LightGlue or mutual nearest neighbours over a RootSIFT short list; :mod:`photoid.keypoints`).
Scores are raw (summed inlier confidences), so the new-individual policy is a score threshold."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from photoid.calibrate.groups import dataset_groups
from photoid.core import Identification
from photoid.data.table import Dataset
from photoid.engines.base import StageProgress
from photoid.engines.local import LocalFeatures
from photoid.fusion.config import Queries
from photoid.fusion.rows import text_cell
from photoid.keypoints.engine import KeypointEngine
from photoid.progress import stage_callback


class LearnedKeypoints(LocalFeatures):
    """Learned keypoints re-ranking RootSIFT's short list; a GPU helps (``keypoints.device``).
    Answers and grows its gallery as the local engine does (same calls, other engine)."""

    method = "keypoints"
    removes = False  # the learned features are kept per photo row, with no removal yet
    engine: KeypointEngine  # type: ignore[assignment]  # same calls as LocalEngine

    def _fit_gallery(
        self, gallery: Dataset, calibration: Dataset | None, progress: StageProgress | None
    ) -> None:
        config = self.options.keypoints.with_overrides(top=max(self.options.keypoints.top, 6))
        self.engine = KeypointEngine.from_dataset(
            gallery,
            config,
            self.options.local,
            self.options.cache_dir,
            stage_callback(progress, "gallery", len(gallery)),
        )
        self.skipped = list(self.engine.skipped)

    def _use_device(self, device: str, precision: str) -> None:
        if hasattr(self, "engine"):
            self.engine.use_device(device)

    def left_out(
        self,
        photos: Queries,
        rows: Sequence[int],
        excluded: Sequence[Collection[int]] | None = None,
        top: int | None = None,
    ) -> list[Identification]:
        engine = self.engine
        views = photos.viewpoints or [None] * len(rows)
        out = []
        for i, (local, learned) in enumerate(engine.extract(photos.paths, photos.bboxes)):
            gone = [rows[i]] if excluded is None else excluded[i]
            answer = engine.identify_extracted(
                photos.names[i], local, learned, text_cell(views[i]), gone
            )
            out.append(
                answer if top is None else replace(answer, candidates=answer.candidates[:top])
            )
        return out

    def _gallery_left_out(
        self, gallery: Dataset, rows: Sequence[int], progress: StageProgress | None
    ) -> list[Identification]:
        """Each photo asked with its whole group (encounter, date or near-duplicates) left out,
        from its stored features."""
        engine = self.engine
        retrieval = engine.retrieval
        groups = dataset_groups(gallery, use_bbox=retrieval.config.use_bbox)
        row_of = {str(name): r for r, name in enumerate(gallery.table["image"])}
        position = {name: p for p, name in enumerate(engine.images)}
        learned = engine.gallery_features
        step = stage_callback(progress, "calibration", len(rows))
        out = []
        for p in rows:
            name = engine.images[p]
            members = groups.members(row_of[name])
            gone = [position[n] for n in gallery.table["image"].iloc[members] if n in position]
            out.append(
                engine.identify_features(
                    name, retrieval.photo_features(p), learned[p], engine.viewpoints[p], gone
                )
            )
            if step is not None:
                step(1)
        return out
