"""The learned-keypoint engine: RootSIFT retrieval puts forward a short list of gallery photos,
learned keypoints matched on each decide the order.

The RootSIFT engine (:class:`photoid.local.engine.LocalEngine`) is cheap over a whole gallery;
ALIKED or DISK keypoints with LightGlue cost a network pass per photo and per pair, so they
look only at the ``shortlist`` photos RootSIFT ranks best. Photos outside the short list keep
RootSIFT's order behind the verified ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np

from photoid.core import Box, Identification, Match
from photoid.data.table import Dataset
from photoid.fusion.config import Queries
from photoid.keypoints.config import KeypointConfig
from photoid.keypoints.extract import extract_photos
from photoid.keypoints.match import match_gallery
from photoid.keypoints.rerank import (
    Verified,
    background_weights,
    photo_scores,
    scenery_weights,
    verify,
)
from photoid.local.cache import FeatureCache
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.local.extraction import Extracted, extract_many
from photoid.local.features import Features

Progress = Callable[[int], None]
_NO_FEATURES = Features(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32), 1.0, (0, 0))


class KeypointEngine:
    """Identify photos by learned keypoints over a RootSIFT short list.

    Build with :meth:`from_dataset` (or :meth:`over` an existing RootSIFT engine), grow with
    :meth:`add`, ask with :meth:`identify`.
    """

    def __init__(
        self, config: KeypointConfig, retrieval: LocalEngine, cache_dir: Path | None = None
    ) -> None:
        self.config = config
        self.retrieval = retrieval
        self.cache = FeatureCache(cache_dir, config.fingerprint()) if cache_dir else None
        self._features: list[Features] = []
        self._scenery: list[np.ndarray | None] = []

    @classmethod
    def from_dataset(
        cls,
        dataset: Dataset,
        config: KeypointConfig | None = None,
        local_config: LocalConfig | None = None,
        cache_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> KeypointEngine:
        """A gallery of every labelled row of ``dataset`` (RootSIFT and learned features)."""
        retrieval = LocalEngine.from_dataset(dataset, local_config, cache_dir, progress)
        return cls.over(retrieval, dataset, config, cache_dir)

    @classmethod
    def over(
        cls,
        retrieval: LocalEngine,
        dataset: Dataset,
        config: KeypointConfig | None = None,
        cache_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> KeypointEngine:
        """Learned features for the gallery of an existing RootSIFT engine built from the rows
        of ``dataset`` (the fused engine shares its RootSIFT engine this way)."""
        engine = cls(config or KeypointConfig(), retrieval, cache_dir)
        engine._describe_gallery(
            dataset.paths(), dataset.cells("bbox"), list(dataset.table["image"]), progress
        )
        return engine

    def _describe_gallery(
        self,
        paths: Sequence[Path],
        bboxes: Sequence[Box | None] | None,
        names: Sequence[str],
        progress: Progress | None,
    ) -> None:
        """Learned features of the retrieval gallery's photos not described yet, taken from
        these rows (matched by image name)."""
        boxes = list(bboxes) if bboxes is not None else [None] * len(paths)
        where = {str(name): i for i, name in enumerate(names)}
        wanted = [where[name] for name in self.retrieval.images[len(self._features) :]]
        found = extract_photos(
            [paths[i] for i in wanted],
            [boxes[i] for i in wanted],
            self.config,
            self.cache,
            progress,
        )
        for i, result in zip(wanted, found, strict=True):
            if result.features is None:
                warnings.warn(f"no learned keypoints for {names[i]}: {result.error}", stacklevel=3)
            self._features.append(result.features or _NO_FEATURES)
        self._weigh_scenery([paths[i] for i in wanted], [boxes[i] for i in wanted])

    def _weigh_scenery(self, paths: Sequence[Path], boxes: Sequence[Box | None]) -> None:
        """Scenery weights of the gallery photos described last (``paths``, in gallery order):
        each is matched with its short list of other individuals' photos
        (:func:`photoid.keypoints.rerank.scenery_weights`); None where the setting is off."""
        scenery = self._scenery_list()
        start = len(self._features) - len(paths)
        del scenery[start:]
        if self.config.scenery <= 0.0:
            scenery.extend([None] * len(paths))
            return
        local = extract_many(paths, boxes, self.retrieval.config, self.retrieval.cache)
        rows_of: dict[str, list[int]] = {}
        for r, name in enumerate(self.identities):
            rows_of.setdefault(name, []).append(r)
        for row, found in enumerate(local, start=start):
            learned = self._features[row]
            if found.features is None or len(learned) == 0:
                scenery.append(None)
                continue
            same = rows_of[self.identities[row]]
            _, _, short, verified = self._shortlist(
                found.features, learned, self.viewpoints[row], same
            )
            owners = [self.identities[i] for i in short]
            scenery.append(scenery_weights(verified, owners, len(learned), self.config.scenery))

    def _scenery_list(self) -> list[np.ndarray | None]:
        """The per-photo scenery weights (an engine saved before they existed has none)."""
        if not hasattr(self, "_scenery"):
            self._scenery = []
        return self._scenery

    # -- the gallery ---------------------------------------------------------------------

    @property
    def images(self) -> list[str]:
        return self.retrieval.images

    @property
    def identities(self) -> list[str]:
        return self.retrieval.identities

    @property
    def viewpoints(self) -> list[str | None]:
        return self.retrieval.viewpoints

    @property
    def skipped(self) -> list[str]:
        return self.retrieval.skipped

    @property
    def gallery_features(self) -> list[Features]:
        """Learned features of each gallery photo, in gallery order."""
        return list(self._features)

    def __len__(self) -> int:
        return len(self.retrieval)

    def use_device(self, device: str) -> None:
        """Run the keypoint networks on ``device`` from now on (``keypoints.device``)."""
        self.config = self.config.with_overrides(device=device)

    def add(
        self,
        paths: Sequence[Path],
        identities: Sequence[str],
        *,
        bboxes: Sequence[Box | None] | None = None,
        viewpoints: Sequence[str | None] | None = None,
        names: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Add labelled photos (as :meth:`LocalEngine.add`); returns how many were added."""
        labels = list(names) if names is not None else [str(p) for p in paths]
        added = self.retrieval.add(
            paths, identities, bboxes=bboxes, viewpoints=viewpoints, names=labels, progress=progress
        )
        self._describe_gallery(paths, bboxes, labels, None)
        return added

    # -- identification ------------------------------------------------------------------

    def identify(
        self,
        paths: Sequence[Path],
        *,
        bboxes: Sequence[Box | None] | None = None,
        viewpoints: Sequence[str | None] | None = None,
        names: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> list[Identification]:
        """Rank gallery identities for each photo, best first (``config.top`` of them)."""
        count = len(paths)
        views = list(viewpoints) if viewpoints is not None else [None] * count
        labels = list(names) if names is not None else [str(p) for p in paths]
        answers = []
        for i, (local, learned) in enumerate(self.extract(paths, bboxes)):
            answers.append(self.identify_extracted(labels[i], local, learned, views[i]))
            if progress is not None:
                progress(1)
        return answers

    def answers(
        self,
        queries: Queries,
        exclude: Sequence[Collection[int]] | None = None,
        rows: dict[int, int] | None = None,
    ) -> list[Identification]:
        """Each query's answer, ``exclude[i]``: gallery positions left out for query ``i``
        (``rows``: position -> this engine's gallery row; default the same)."""
        answers = []
        views = queries.viewpoints or [None] * len(queries.paths)
        for i, (local, learned) in enumerate(self.extract(queries.paths, queries.bboxes)):
            gone = None
            if exclude is not None:
                gone = [rows.get(p, -1) if rows is not None else p for p in exclude[i]]
                gone = [g for g in gone if g >= 0]
            view = None if views[i] is None else str(views[i])
            answers.append(self.identify_extracted(queries.names[i], local, learned, view, gone))
        return answers

    def extract(
        self, paths: Sequence[Path], bboxes: Sequence[Box | None] | None
    ) -> list[tuple[Extracted, Extracted]]:
        """RootSIFT and learned features of each photo."""
        boxes = list(bboxes) if bboxes is not None else [None] * len(paths)
        local = extract_many(paths, boxes, self.retrieval.config, self.retrieval.cache)
        learned = extract_photos(paths, boxes, self.config, self.cache)
        return list(zip(local, learned, strict=True))

    def identify_extracted(
        self,
        name: str,
        local: Extracted,
        learned: Extracted,
        viewpoint: str | None = None,
        exclude: Collection[int] | None = None,
    ) -> Identification:
        """One photo's answer from its extracted features (an unreadable photo: a warning)."""
        if local.features is None or learned.features is None:
            error = local.error or learned.error
            warnings.warn(f"skipped query: {error}", stacklevel=2)
            return Identification(name, warning=error)
        return self.identify_features(name, local.features, learned.features, viewpoint, exclude)

    def identify_features(
        self,
        name: str,
        local: Features,
        learned: Features,
        viewpoint: str | None = None,
        exclude: Collection[int] | None = None,
    ) -> Identification:
        """Identify one photo from its RootSIFT and learned features; ``exclude``: gallery
        rows left out as if never added."""
        if len(self) == 0:
            return Identification(name, warning="the gallery is empty")
        if len(local) == 0 and len(learned) == 0:
            return Identification(name, warning="no keypoints found in the image")
        retrieved, allowed, short, verified = self._shortlist(local, learned, viewpoint, exclude)
        owners = [self.identities[i] for i in short]
        weights = (
            background_weights(verified, owners, len(learned)) if self.config.background else None
        )
        scenery = self._scenery_list()
        places = [scenery[i] if i < len(scenery) else None for i in short.tolist()]
        scores = np.zeros(len(self), np.float64)
        scores[short] = photo_scores(verified, weights, places)
        # Photos outside the short list (or not verified) keep RootSIFT's order behind.
        scores += 1e-6 * retrieved / max(1e-12, float(retrieved.max(initial=0.0)))
        matches = {
            int(row): self._evidence(int(row), learned, result, float(scores[row]))
            for row, result in zip(short.tolist(), verified, strict=True)
        }
        candidates = self.retrieval.rank(
            scores, matches, allowed, self.config.aggregate, self.config.top
        )
        return Identification(
            name,
            candidates,
            keypoints=len(learned),
            shortlist=tuple(dict.fromkeys(owners)),
        )

    def _shortlist(
        self,
        local: Features,
        learned: Features,
        viewpoint: str | None,
        exclude: Collection[int] | None,
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, list[Verified]]:
        """RootSIFT's scores of every gallery photo, the photos allowed (None: all), the
        ``shortlist`` best allowed rows, and the learned keypoints verified against each."""
        retrieved, _, allowed = self.retrieval.score_images(local, viewpoint, exclude)
        order = np.argsort(-retrieved, kind="stable")
        if allowed is not None:
            order = order[allowed[order]]
        short = order[: self.config.shortlist]
        gallery = [self._features[i] for i in short]
        pairs = match_gallery(learned, gallery, self.config)
        verified = [verify(learned, g, p, self.config) for g, p in zip(gallery, pairs, strict=True)]
        return retrieved, allowed, short, verified

    def _evidence(self, row: int, query: Features, result: Verified, score: float) -> Match:
        gallery = self._features[row]
        pairs = result.pairs
        return Match(
            self.images[row],
            score if result.rejected is None else 0.0,
            len(pairs),
            query.original_points()[pairs.query_index],
            gallery.original_points()[pairs.gallery_index],
            result.spread,
            result.rejected,
        )
