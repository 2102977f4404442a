"""The pretrained-embedder engine: a timm model used as it is, with no training
(``--method pretrained --set pretrained.model=NAME --set pretrained.weights=PATH``), ranked
like the deep engine (cosine similarity per identity, a score-threshold new-individual policy)."""

from __future__ import annotations

from photoid.data.table import Dataset
from photoid.deep.engine import DeepEngine
from photoid.engines.base import StageProgress
from photoid.engines.deep import DeepEmbeddings
from photoid.progress import stage_callback


class PretrainedEmbeddings(DeepEmbeddings):
    """The model of ``options.pretrained``, with its own input size, mean and std; answers
    rank ``options.local.top`` identities (at least 6). A fitted engine keeps the model's
    weights (saved with it), so it answers without the weights file or the network."""

    method = "pretrained"

    def _fit_gallery(
        self, gallery: Dataset, calibration: Dataset | None, progress: StageProgress | None
    ) -> None:
        self.engine = DeepEngine.from_pretrained(
            self.options.pretrained,
            gallery,
            tta=self.options.tta,
            aggregate=self.options.aggregate,
            progress=stage_callback(progress, "gallery", len(gallery)),
            precision=self.options.precision,
        )
        self.skipped = list(self.engine.skipped)
