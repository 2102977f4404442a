"""The fused engine under the engine contract: local engines at two scales, colour, and a deep
model with its pair verifier when one is given (a trained ``--model``, or else a pretrained
embedder, ``--set pretrained.model=NAME``), each calibrated and stacked into one probability
per candidate, with the probability of a new individual (:mod:`photoid.fusion`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from photoid.core import Identification
from photoid.data.table import Dataset
from photoid.decide.policy import NewIndividualPolicy
from photoid.engines.base import Engine, StageProgress
from photoid.errors import PhotoidError
from photoid.fusion.config import Queries
from photoid.fusion.engine import FusedEngine
from photoid.fusion.run import load_deep
from photoid.progress import stage_callback

if TYPE_CHECKING:
    from photoid.deep.engine import DeepEngine


class Fused(Engine):
    """Calibrated fusion; candidates' scores are probabilities."""

    method = "fused"
    calibrated = True

    def _fit_gallery(
        self, gallery: Dataset, calibration: Dataset | None, progress: StageProgress | None
    ) -> None:
        self.engine = FusedEngine.build(
            gallery,
            local_config=self.options.local,
            cache_dir=self.options.cache_dir,
            deep=self._deep(gallery, progress),
            calibration=calibration,
            config=self.options.fused,
            keypoint_config=self.options.keypoints,
            progress=progress,
        )
        self.skipped = list(self.engine.local.skipped)
        self.calibration = dict(self.engine.calibration)

    def _deep(self, gallery: Dataset, progress: StageProgress | None) -> DeepEngine | None:
        """The deep input: the trained model of ``options.models``, else the pretrained
        embedder of ``options.pretrained``, else none."""
        pretrained = self.options.pretrained
        if self.options.models and pretrained.model:
            raise PhotoidError(
                "--method fused takes one deep model: give --model or --set pretrained.model"
            )
        device, precision = self.options.device, self.options.precision
        if not pretrained.model:
            models = list(self.options.models) or None
            return load_deep(models, gallery, progress, device=device, precision=precision)
        from photoid.deep.engine import DeepEngine  # torch: only with a model

        return DeepEngine.from_pretrained(
            pretrained,
            gallery,
            progress=stage_callback(progress, "deep", len(gallery)),
            precision=precision,
        )

    def _use_device(self, device: str, precision: str) -> None:
        if not hasattr(self, "engine"):
            return
        for engine in self.engine.globals.values():
            if hasattr(engine, "use_device"):  # a deep input; colour runs no network
                engine.use_device(device, precision)
        if self.engine.learned is not None:
            self.engine.learned.use_device(device)

    def identify(
        self, queries: Queries, progress: Callable[[int], None] | None = None
    ) -> list[Identification]:
        found = self.engine.identify(queries, progress)
        p_new = found.new_probability
        out = []
        for i, answer in enumerate(found.answers):
            candidates = [replace(c, probability=c.score) for c in answer.candidates]
            new = None if p_new is None or answer.warning is not None else float(p_new[i])
            out.append(replace(answer, candidates=candidates, new_probability=new))
        return out

    @property
    def identities(self) -> list[str]:
        return self.engine.local.identities

    @property
    def images(self) -> list[str]:
        return self.engine.local.images

    def _fit_policy(
        self, gallery: Dataset, calibration: Dataset | None, progress: StageProgress | None
    ) -> NewIndividualPolicy:
        info: dict[str, object] = {
            key: self.calibration[key]
            for key in ("source", "queries", "known", "new", "new_fraction")
            if key in self.calibration
        }
        if self.engine.new_model is None:
            return NewIndividualPolicy("never", None, {**info, "why": "no new-individual model"})
        return NewIndividualPolicy(
            "probability", None, {**info, "prior": float(self.engine.new_model.prior)}
        )
