"""The local-feature identification engine: needs no trained weights and runs on CPU.

Gallery descriptors live in one faiss index; a query's descriptors vote for gallery images
(LNBNN), the shortlist is verified geometrically, and verified scores are aggregated per identity.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np

from photoid.core import Box, Candidate, Identification, Match
from photoid.data.schema import UNKNOWN_IDENTITY
from photoid.data.table import Dataset
from photoid.local.cache import FeatureCache
from photoid.local.config import Aggregate, LocalConfig
from photoid.local.extraction import Extracted, extract_many
from photoid.local.features import Features, get_detector
from photoid.local.geometry import judge
from photoid.local.index import DescriptorIndex
from photoid.local.neighbours import clean_viewpoint, drop_owner, excluded_rows
from photoid.local.scoring import identity_scores
from photoid.local.verify import Correspondences, one_to_one, ransac_fit, ratio_matches
from photoid.local.voting import image_votes, lnbnn_weights
from photoid.progress import StageProgress, stage_callback

Progress = Callable[[int], None]
# A query descriptor's neighbours rarely hold more than a few keypoints of one gallery image.
_DEPTH = 16


class LocalEngine:
    """Identify photos against a gallery of labelled photos by keypoint matching.

    Build with :meth:`from_dataset` or add images with :meth:`add`; ask with :meth:`identify`.
    """

    def __init__(
        self,
        config: LocalConfig | None = None,
        cache_dir: Path | None = None,
        *,
        keep_descriptors: bool = False,
    ) -> None:
        self.config = config or LocalConfig()
        # LNBNN verification needs only the gallery's keypoint positions; descriptors are kept
        # for pairwise matching or when the gallery will be queried against itself.
        self._keep_descriptors = keep_descriptors or self.config.matching != "lnbnn"
        detector = get_detector(self.config.detector)
        self._binary = detector.binary
        self.cache = (
            FeatureCache(cache_dir, self.config.fingerprint()) if cache_dir is not None else None
        )
        self.index = DescriptorIndex(
            detector.dim,
            binary=detector.binary,
            kind=self.config.index,
            approximate_above=self.config.approximate_above,
            ivf_above=self.config.ivf_above,
            probes=self.config.ivf_probes,
        )
        self.images: list[str] = []
        self.identities: list[str] = []
        self.viewpoints: list[str | None] = []
        self._features: list[Features] = []
        self._identity_names: list[str] = []
        self._identity_lookup: dict[str, int] = {}
        self._labels = np.zeros(0, np.int64)
        self.skipped: list[str] = []

    # -- building the gallery -------------------------------------------------------------

    @classmethod
    def from_dataset(
        cls,
        dataset: Dataset,
        config: LocalConfig | None = None,
        cache_dir: Path | None = None,
        progress: Progress | None = None,
        *,
        keep_descriptors: bool = False,
    ) -> LocalEngine:
        """A gallery of every row of ``dataset`` with a known identity.

        ``keep_descriptors`` keeps each gallery image's descriptors in memory (see
        :attr:`gallery_features`), for leave-one-out queries of the gallery against itself.
        """
        engine = cls(config, cache_dir, keep_descriptors=keep_descriptors)
        engine.add(
            dataset.paths(),
            list(dataset.table["identity"]),
            bboxes=dataset.cells("bbox"),
            viewpoints=dataset.cells("viewpoint"),
            names=list(dataset.table["image"]),
            progress=progress,
        )
        return engine

    def build_index(self, progress: StageProgress | None = None, label: str = "index") -> None:
        """Build the approximate descriptor index now when it is due (else the first query
        waits for it), reported as one stage of ``progress``."""
        if not self.index.due:
            return
        step = stage_callback(progress, f"{label} of {self.index.size:,} descriptors", 1)
        self.index.prepare()
        if step is not None:
            step(1)

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
        """Add labelled images to the gallery (incrementally); returns how many were added.

        Images of the ``unknown`` identity are left out (nothing to match them to). Unreadable
        images are skipped with a warning naming them (see ``skipped``); an image without
        keypoints is kept but can never be matched.
        """
        count = len(paths)
        boxes = list(bboxes) if bboxes is not None else [None] * count
        views = list(viewpoints) if viewpoints is not None else [None] * count
        labels = list(names) if names is not None else [str(p) for p in paths]
        keep = [i for i in range(count) if identities[i] != UNKNOWN_IDENTITY]
        extracted = extract_many(
            [paths[i] for i in keep],
            [boxes[i] for i in keep],
            self.config,
            self.cache,
            progress=progress,
        )
        added = 0
        for i, result in zip(keep, extracted, strict=True):
            if result.features is None:
                self._skip(labels[i], result)
                continue
            self._add_one(labels[i], identities[i], views[i], result.features)
            added += 1
        return added

    def _skip(self, name: str, result: Extracted) -> None:
        self.skipped.append(name)
        warnings.warn(f"skipped gallery image: {result.error}", stacklevel=3)

    def _add_one(self, name: str, identity: str, viewpoint: str | None, features: Features) -> None:
        if identity not in self._identity_lookup:
            self._identity_lookup[identity] = len(self._identity_names)
            self._identity_names.append(identity)
        owner = len(self.images)
        self.images.append(name)
        self.identities.append(identity)
        self.viewpoints.append(clean_viewpoint(viewpoint))
        self._features.append(self._stored(features))
        self._labels = np.append(self._labels, self._identity_lookup[identity])
        self.index.add(features.descriptors, owner)

    def _stored(self, features: Features) -> Features:
        if self._keep_descriptors:
            return features
        empty = features.descriptors[:0]
        return Features(features.points, empty, features.scale, features.offset)

    @property
    def gallery_features(self) -> list[Features]:
        """Features of each gallery image, in gallery order; descriptors are empty unless the
        engine was built with ``keep_descriptors`` (or a pairwise ``matching``)."""
        return list(self._features)

    def __len__(self) -> int:
        return len(self.images)

    def drop_descriptors(self) -> None:
        """Forget the gallery's per-photo descriptors once leave-one-out queries are done (LNBNN
        verification needs only keypoint positions; the index keeps the descriptors)."""
        if self.config.matching != "lnbnn":
            return
        self._keep_descriptors = False
        self._features = [self._stored(features) for features in self._features]

    # -- identification -------------------------------------------------------------------

    def identify(
        self,
        paths: Sequence[Path],
        *,
        bboxes: Sequence[Box | None] | None = None,
        viewpoints: Sequence[str | None] | None = None,
        names: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> list[Identification]:
        """Rank gallery identities for each query photo, best first (``config.top`` of them).

        A query that cannot be read or has no keypoints gets no candidates and a warning.
        """
        count = len(paths)
        boxes = list(bboxes) if bboxes is not None else [None] * count
        views = list(viewpoints) if viewpoints is not None else [None] * count
        labels = list(names) if names is not None else [str(p) for p in paths]
        extracted = extract_many(paths, boxes, self.config, self.cache)
        answers: list[Identification] = []
        for name, view, result in zip(labels, views, extracted, strict=True):
            if result.features is None:
                warnings.warn(f"skipped query: {result.error}", stacklevel=2)
                answers.append(Identification(name, warning=result.error))
            else:
                answers.append(self.identify_features(name, result.features, clean_viewpoint(view)))
            if progress is not None:
                progress(1)
        return answers

    def identify_features(
        self,
        name: str,
        features: Features,
        viewpoint: str | None = None,
        exclude: int | Collection[int] | None = None,
    ) -> Identification:
        """Identify one query from its features; ``exclude``: gallery image rows (one or
        several, e.g. a group of near-duplicates) left out as if never added."""
        if len(features) == 0:
            return Identification(name, warning="no keypoints found in the image")
        if len(self) == 0:
            return Identification(name, keypoints=len(features), warning="the gallery is empty")
        image_scores, matches, allowed = self.score_images(features, viewpoint, exclude)
        return Identification(
            name, self.rank(image_scores, matches, allowed), keypoints=len(features)
        )

    def score_images(
        self,
        features: Features,
        viewpoint: str | None = None,
        exclude: int | Collection[int] | None = None,
    ) -> tuple[np.ndarray, dict[int, Match], np.ndarray | None]:
        """Every gallery photo's score for one query: ``(G,)`` float64 (verified score plus a
        vanishing share of the vote, so unverified photos keep the vote's order), the evidence
        of each verified photo by gallery row, and the bool ``(G,)`` mask of photos allowed
        (None: all; ``exclude`` and another viewpoint are not)."""
        k = self.config.knn
        left_out = excluded_rows(exclude)
        distances, owners, keypoints = self._neighbours(features.descriptors, k + 1, left_out)
        weights = lnbnn_weights(distances, k)
        allowed = self._allowed(viewpoint, left_out)
        votes = image_votes(weights, owners, len(self), allowed)
        ranked = np.argsort(-votes, kind="stable")[: self.config.shortlist]
        shortlist = ranked[votes[ranked] > 0]
        image_scores = np.zeros(len(self), np.float64)
        matches: dict[int, Match] = {}
        for owner in shortlist.tolist():
            match = self._verify(features, owner, weights, owners[:, :k], keypoints[:, :k])
            matches[owner] = match
            image_scores[owner] = match.score
        # A vanishing share of the unverified vote breaks ties between equal verified scores.
        image_scores += 1e-6 * votes / max(1.0, float(votes.max(initial=0.0)))
        return image_scores, matches, allowed

    def _neighbours(
        self, descriptors: np.ndarray, keep: int, left_out: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``keep`` nearest neighbours of each descriptor among the images not in
        ``left_out``. A left-out image may hold many of a descriptor's neighbours (a group of
        near-duplicates holds most), so the rows left short are searched again, deeper, down
        to ``_DEPTH`` neighbours per left-out image; rows still short keep missing neighbours."""
        if left_out.size == 0:
            return self.index.search(descriptors, keep)
        limit = min(self.index.size, keep + _DEPTH * left_out.size)
        depth = min(limit, keep + left_out.size)
        rows = np.arange(descriptors.shape[0])
        out = drop_owner(*self.index.search(descriptors, depth), left_out, keep)
        while True:
            short = rows[(out[1][rows] < 0).any(axis=1)]
            if short.size == 0 or depth >= limit:
                return out
            depth = min(limit, 4 * depth)
            deeper = drop_owner(*self.index.search(descriptors[short], depth), left_out, keep)
            for mine, theirs in zip(out, deeper, strict=True):
                mine[short] = theirs
            rows = short

    def _allowed(self, viewpoint: str | None, left_out: np.ndarray) -> np.ndarray | None:
        allowed: np.ndarray | None = None
        if self.config.viewpoint_aware and viewpoint is not None:
            views = np.array([v is None or v == viewpoint for v in self.viewpoints])
            allowed = views if views.any() else None
        if left_out.size:
            allowed = np.ones(len(self), bool) if allowed is None else allowed.copy()
            allowed[left_out] = False
        return allowed

    def _verify(
        self,
        query: Features,
        owner: int,
        weights: np.ndarray,
        owners: np.ndarray,
        keypoints: np.ndarray,
    ) -> Match:
        gallery = self._features[owner]
        if self.config.matching == "lnbnn":
            rows, cols = np.nonzero(owners == owner)
            pairs = Correspondences(
                rows.astype(np.int64), keypoints[rows, cols], weights[rows, cols]
            )
        else:
            pairs = ratio_matches(
                query.descriptors,
                gallery.descriptors,
                self.config.ratio,
                binary=self._binary,
                mutual=self.config.matching == "mutual",
            )
        if self.config.unique_locations:
            pairs = one_to_one(pairs, query.points, gallery.points)
        elif self.config.unique_pairs:
            pairs = one_to_one(pairs)
        src = query.points[pairs.query_index]
        dst = gallery.points[pairs.gallery_index]
        inliers, model = ransac_fit(src, dst, self.config.geometry, self.config.ransac_threshold)
        count = int(inliers.sum())
        verdict = judge(
            model,
            src[inliers],
            dst[inliers],
            query.points,
            gallery.points,
            max_scale_change=self.config.max_scale_change,
            min_spread=self.config.min_spread,
        )
        rejected = verdict.reason
        if count < self.config.min_inliers:
            rejected = f"{count} inliers, fewer than {self.config.min_inliers}"
        score = float(pairs.weights[inliers].sum()) if rejected is None else 0.0
        q_points = query.original_points()[pairs.query_index[inliers]]
        g_points = gallery.original_points()[pairs.gallery_index[inliers]]
        return Match(self.images[owner], score, count, q_points, g_points, verdict.spread, rejected)

    def rank(
        self,
        image_scores: np.ndarray,
        matches: dict[int, Match],
        allowed: np.ndarray | None,
        aggregate: Aggregate | None = None,
        top: int | None = None,
    ) -> list[Candidate]:
        """Identities best first by ``(G,)`` photo scores aggregated per identity (default:
        this engine's ``aggregate`` and ``top``), each shown by its best allowed photo (its
        evidence from ``matches`` by gallery row); identities with no allowed photo left out."""
        aggregate = aggregate or self.config.aggregate
        top = top or self.config.top
        per_identity = identity_scores(image_scores, self._labels, aggregate)
        usable = np.ones(len(self), bool) if allowed is None else allowed
        candidates: list[Candidate] = []
        for label in np.argsort(-per_identity, kind="stable").tolist():
            if len(candidates) == top:
                break
            members = np.flatnonzero((self._labels == label) & usable)
            if members.size == 0:
                continue
            best = int(members[np.argmax(image_scores[members])])
            match = matches.get(best) or Match(
                self.images[best],
                0.0,
                0,
                np.zeros((0, 2), np.float32),
                np.zeros((0, 2), np.float32),
            )
            candidates.append(
                Candidate(self._identity_names[label], float(per_identity[label]), match)
            )
        return candidates
