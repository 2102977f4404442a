"""The engine contract: fit on a gallery, identify photos, save to a folder, load from it.

Every identification method (local features, deep embeddings, their fusion, and the engines to
come) is one :class:`Engine` subclass registered by name in :mod:`photoid.engines.registry`.
Commands, the benchmark and the catalog ask engines only through this contract:

- :meth:`Engine.fit` builds the gallery from a dataset's labelled rows, calibrates, and fits the
  new-individual policy (on ``calibration`` rows when given, else on the gallery itself);
- :meth:`Engine.identify` ranks the gallery's identities for each query photo: one
  :class:`photoid.core.Identification` per photo, candidates best first with their raw score,
  their calibrated probability where the engine has one, and the evidence (a gallery photo and
  matched keypoints);
- :meth:`Engine.answer` applies the fitted policy: ``new_individual`` enters the top 5 where it
  belongs;
- :func:`photoid.engines.store.save_engine` / :func:`photoid.engines.store.load_engine` keep a
  fitted engine in a folder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

from photoid.core import Identification
from photoid.data.boxes import grown, with_margin
from photoid.data.table import Dataset
from photoid.decide.policy import (
    NewIndividualPolicy,
    NewIndividualSetting,
    Prior,
    fit_threshold_policy,
)
from photoid.engines.leave_out import left_out_rows
from photoid.engines.pretrained_config import PretrainedConfig
from photoid.errors import PhotoidError
from photoid.fusion.config import FusedConfig, Queries
from photoid.fusion.rows import text_cell
from photoid.keypoints.config import KeypointConfig
from photoid.local.config import LocalConfig
from photoid.progress import stage_callback

StageProgress = Callable[[str, int, int], None]
POLICY_QUERIES = 150
"""Gallery photos left out and asked when a raw-score engine's policy is fitted on its gallery."""
Combine = Literal["mean", "concat"]


@dataclass(frozen=True)
class EngineOptions:
    """Everything an engine may be built with; each engine reads what concerns it.

    ``local``: local-feature settings; ``keypoints``: the learned-keypoint engine's settings
    (``--set keypoints.NAME=VALUE``); ``cache_dir``: the feature cache (features keyed by image
    content, so refitting extracts only new photos); ``models``: deep checkpoints or run
    folders (several: an ensemble combined by ``ensemble``); ``tta``: test-time views of the
    deep engine; ``fused``: the fused engine's settings; ``pretrained``: the pretrained
    embedder (``--set pretrained.NAME=VALUE``), also the fused engine's deep input when no
    ``models`` are given; ``new_individual``: the policy to fit; ``device`` and ``precision``:
    where a trained model runs and with which arithmetic (:mod:`photoid.devices`; not saved:
    :meth:`Engine.use_device` sets them again after loading); ``crop_margin``: every box
    (``bbox`` cell, a detector's box) grown by this share of its width and height on each side
    before the photo is cropped to it, in fitting and in identification alike
    (:mod:`photoid.data.boxes`).
    """

    local: LocalConfig = field(default_factory=LocalConfig)
    keypoints: KeypointConfig = field(default_factory=KeypointConfig)
    cache_dir: Path | None = None
    models: tuple[Path, ...] = ()
    tta: tuple[str, ...] = ()
    ensemble: Combine = "mean"
    aggregate: Literal["max", "centroid"] = "max"
    fused: FusedConfig = field(default_factory=FusedConfig)
    pretrained: PretrainedConfig = field(default_factory=PretrainedConfig)
    new_individual: NewIndividualSetting = field(default_factory=NewIndividualSetting)
    device: str = "auto"
    precision: str = "auto"
    crop_margin: float = 0.0

    def describe(self) -> dict[str, Any]:
        """The options as plain JSON data (saved with a fitted engine)."""
        # Only when set, so engines fitted before the pretrained engine existed are not refitted.
        pretrained = {"pretrained": self.pretrained.to_dict()} if self.pretrained.model else {}
        margin = {"crop_margin": self.crop_margin} if self.crop_margin else {}
        return {
            "local": self.local.to_dict(),
            "keypoints": self.keypoints.to_dict(),
            "models": [str(m) for m in self.models],
            "tta": list(self.tta),
            "ensemble": self.ensemble,
            "aggregate": self.aggregate,
            "fused": {
                k: list(v) if isinstance(v, tuple) else v for k, v in self.fused.__dict__.items()
            },
            **pretrained,
            **margin,
            "new_individual": str(self.new_individual),
            "new_prior": self.new_individual.prior,
        }


class Engine(ABC):
    """One identification method. Subclasses set :attr:`method` and implement
    :meth:`_fit_gallery`, :meth:`identify` and :attr:`identities`; raw-score engines rank their
    own gallery in :meth:`_gallery_left_out`, calibrated ones fit their own
    :meth:`_fit_policy`."""

    method: ClassVar[str]
    """The name the registry knows the engine by (``--method``)."""
    calibrated: ClassVar[bool] = False
    """Whether candidates carry calibrated probabilities and rankings P(new)."""
    removes: ClassVar[bool] = False
    """Whether :meth:`remove` takes photos out of a fitted gallery without a rebuild."""

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()
        self.policy = NewIndividualPolicy.never()
        self.calibration: dict[str, Any] = {}
        self.skipped: list[str] = []

    # -- the contract -----------------------------------------------------------------------

    def fit(
        self,
        gallery: Dataset,
        *,
        calibration: Dataset | None = None,
        progress: StageProgress | None = None,
    ) -> Engine:
        """Build the gallery from ``gallery``'s labelled rows, calibrate, and fit the
        new-individual policy of :attr:`options` (on ``calibration`` rows when given)."""
        margin = self.options.crop_margin
        gallery = with_margin(gallery, margin)
        held_out = None
        if calibration is not None and len(calibration):
            held_out = with_margin(calibration, margin)
        self._fit_gallery(gallery, held_out, progress)
        setting = self.options.new_individual
        if setting.mode == "never":
            self.policy = NewIndividualPolicy.never()
        elif setting.mode == "threshold" and setting.threshold is not None:
            self.policy = NewIndividualPolicy.fixed(setting.threshold)
        else:
            self.policy = replace(
                self._fit_policy(gallery, held_out, progress), prior=setting.prior
            )
        return self

    @abstractmethod
    def identify(
        self, queries: Queries, progress: Callable[[int], None] | None = None
    ) -> list[Identification]:
        """Rank the gallery's identities for each query photo, best first."""

    def answer(
        self,
        queries: Queries,
        progress: Callable[[int], None] | None = None,
        prior: Prior = None,
    ) -> tuple[list[Identification], list[Identification]]:
        """The rankings of :meth:`identify` and the same with the policy applied (top 5,
        ``new_individual`` inserted where it belongs; ``prior``: the share of new individuals
        among these queries, for calibrated engines, see :mod:`photoid.decide.policy`)."""
        rankings = self.identify(self.cropped(queries), progress)
        return rankings, self.decide(rankings, queries.species, prior)

    def cropped(self, photos: Queries) -> Queries:
        """``photos`` with their boxes grown by the ``crop_margin`` the engine was fitted
        with: what :meth:`answer` identifies, and what a caller of :meth:`identify` or
        :meth:`add` passes to crop as fitting did."""
        margin = self.options.crop_margin
        if not margin or photos.bboxes is None:
            return photos
        return replace(photos, bboxes=grown(photos.bboxes, margin))

    def decide(
        self,
        rankings: Sequence[Identification],
        species: Sequence[Any] | None = None,
        prior: Prior = None,
    ) -> list[Identification]:
        """Apply the fitted new-individual policy to rankings."""
        kinds = None if species is None else [text_cell(s) for s in species]
        return self.policy.decide(rankings, kinds, prior=prior)

    def add(
        self,
        photos: Queries,
        identities: Sequence[str],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Add labelled photos to a fitted gallery without refitting (a catalog growing as
        reviewers confirm identities); returns how many were added. Calibration and policy are
        not refitted. Engines that cannot grow say so."""
        raise PhotoidError(
            f"the {self.method} engine cannot add photos to its gallery: fit it again "
            "(`photoid fit` reuses the cached features of the photos it already had)"
        )

    def remove(self, names: Sequence[str]) -> int:
        """Take the gallery photos named ``names`` out of every later answer without refitting
        (a catalog image detached or replaced); returns how many were in the gallery. Engines
        that cannot (:attr:`removes` False) say so."""
        raise PhotoidError(f"the {self.method} engine cannot remove photos from its gallery")

    def use_device(self, device: str = "auto", precision: str = "auto") -> Engine:
        """Run the engine's networks (embedders, learned keypoints) on ``device`` (``auto``,
        ``cpu``, ``cuda``, ``cuda:N``) with ``precision`` (``auto``: mixed on a GPU, float32 on
        the CPU); the gallery and the answers' meaning do not change. Returns the engine."""
        self.options = replace(
            self.options,
            device=device,
            precision=precision,
            keypoints=self.options.keypoints.with_overrides(device=device),
            pretrained=replace(self.options.pretrained, device=device),
        )
        self._use_device(device, precision)
        return self

    def _use_device(self, device: str, precision: str) -> None:  # noqa: B027 - optional hook
        """Move the fitted engine's networks; engines without one have nothing to move."""

    def left_out(
        self,
        photos: Queries,
        rows: Sequence[int],
        excluded: Sequence[Collection[int]] | None = None,
        top: int | None = None,
    ) -> list[Identification]:
        """Gallery photos ranked against the rest of the gallery, as a new photo would be:
        ``photos[i]`` is the photo at gallery position ``rows[i]``, asked with the positions
        ``excluded[i]`` (default: ``rows[i]`` alone; a whole encounter or cluster of
        near-duplicates, where photos depend on each other) left out of the gallery."""
        raise PhotoidError(f"the {self.method} engine cannot rank its gallery against itself")

    @property
    @abstractmethod
    def identities(self) -> list[str]:
        """The identity of each gallery photo, in gallery order."""

    @property
    def images(self) -> list[str]:
        """The name of each gallery photo, in gallery order."""
        return []

    # -- what subclasses implement ----------------------------------------------------------

    @abstractmethod
    def _fit_gallery(
        self, gallery: Dataset, calibration: Dataset | None, progress: StageProgress | None
    ) -> None:
        """Build the gallery (and calibrate, where the engine does)."""

    def _fit_policy(
        self, gallery: Dataset, calibration: Dataset | None, progress: StageProgress | None
    ) -> NewIndividualPolicy:
        """The ``auto`` new-individual policy of an engine with raw scores: a score threshold
        fitted for MAP@5 on the calibration rows, else on up to :data:`POLICY_QUERIES` gallery
        photos each ranked with its group left out (:meth:`_gallery_left_out`)."""
        counts = Counter(self.identities)
        if calibration is not None:
            asked = Queries.of(calibration)
            step = stage_callback(progress, "calibration", len(asked.paths))
            rankings = self.identify(asked, step)
            truth = [str(t) for t in calibration.table["identity"]]
            species = None if asked.species is None else [text_cell(s) for s in asked.species]
            return fit_threshold_policy(
                truth, rankings, counts, species, left_out=False, source="val"
            )
        rows = left_out_rows(len(self.identities), POLICY_QUERIES, self.options.fused.seed)
        rankings = self._gallery_left_out(gallery, rows, progress)
        by_image = dict(
            zip(gallery.table["image"].astype(str), gallery.cells("species") or [], strict=False)
        )
        images = self.images
        species = [text_cell(by_image.get(images[r])) for r in rows] if by_image else None
        truth = [self.identities[r] for r in rows]
        return fit_threshold_policy(
            truth, rankings, counts, species, left_out=True, source="gallery"
        )

    def _gallery_left_out(
        self, gallery: Dataset, rows: Sequence[int], progress: StageProgress | None
    ) -> list[Identification]:
        """Gallery photos at positions ``rows`` ranked against the rest of the gallery."""
        raise PhotoidError(f"the {self.method} engine cannot rank its gallery against itself")


class GalleryEngine(Engine):
    """An engine whose gallery is one object of :mod:`photoid.local` or :mod:`photoid.deep`
    (``engine``) that lists its photos' ``identities`` and ``images``."""

    engine: Any

    @property
    def identities(self) -> list[str]:
        return list(self.engine.identities)

    @property
    def images(self) -> list[str]:
        return list(self.engine.images)
