"""The local-feature identification engine: needs no trained weights and runs on CPU.

Gallery descriptors live in one faiss index; a query's descriptors vote for gallery images
(LNBNN), the shortlist is verified geometrically, and verified scores are aggregated per identity.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path

import numpy as np

from photoid.core import Box, Candidate, Identification, Match
from photoid.data.schema import UNKNOWN_IDENTITY
from photoid.data.table import Dataset
from photoid.local.cache import FeatureCache
from photoid.local.config import Aggregate, LocalConfig
from photoid.local.extraction import Extracted, extract_many
from photoid.local.features import Features, get_detector
from photoid.local.geometry import hull_area, judge
from photoid.local.neighbours import clean_viewpoint, excluded_rows
from photoid.local.retrieval import Retrieval
from photoid.local.scoring import identity_scores
from photoid.local.verify import Correspondences, one_to_one, ransac_fit, ratio_matches
from photoid.local.voting import best_first, image_votes, lnbnn_weights
from photoid.progress import StageProgress, stage_callback

Progress = Callable[[int], None]
_CHUNK = 1024  # photos extracted and stored at a time by add()
_NO_POINTS = np.zeros((0, 2), np.float32)


class LocalEngine:
    """Identify photos against a gallery of labelled photos by keypoint matching.

    Build with :meth:`from_dataset` or add images with :meth:`add`; ask with :meth:`identify`.
    """

    def __init__(self, config: LocalConfig | None = None, cache_dir: Path | None = None) -> None:
        self.config = config or LocalConfig()
        self._binary = get_detector(self.config.detector).binary
        self.cache = (
            FeatureCache(cache_dir, self.config.fingerprint()) if cache_dir is not None else None
        )
        self.retrieval = Retrieval(self.config)
        self.images: list[str] = []
        self.identities: list[str] = []
        self.viewpoints: list[str | None] = []
        self._identity_names: list[str] = []
        self._identity_lookup: dict[str, int] = {}
        self._labels = np.zeros(0, np.int64)
        self._rows: dict[str, int] = {}
        self.skipped: list[str] = []

    # -- building the gallery -------------------------------------------------------------

    @classmethod
    def from_dataset(
        cls,
        dataset: Dataset,
        config: LocalConfig | None = None,
        cache_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> LocalEngine:
        """A gallery of every row of ``dataset`` with a known identity."""
        engine = cls(config, cache_dir)
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
        """Build the index now when it is due (the first stage of two-stage retrieval, or the
        single stage's approximate index; else the first query waits for it), reported as one
        stage of ``progress``."""
        if not self.retrieval.due:
            return
        step = stage_callback(progress, f"{label} of {len(self):,} photos", 1)
        self.retrieval.prepare()
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
        added = 0
        # In chunks, so that only one chunk's descriptors are in memory at a time.
        for start in range(0, len(keep), _CHUNK):
            chunk = keep[start : start + _CHUNK]
            extracted = extract_many(
                [paths[i] for i in chunk],
                [boxes[i] for i in chunk],
                self.config,
                self.cache,
                progress=progress,
            )
            batch: list[Features] = []
            stored: list[int] = []
            for i, result in zip(chunk, extracted, strict=True):
                if result.features is None:
                    self._skip(labels[i], result)
                    continue
                stored.append(i)
                batch.append(result.features)
            self.retrieval.add(batch)  # first: if it fails, nothing of the chunk is recorded
            numbers = [self._add_one(labels[i], identities[i], views[i]) for i in stored]
            self._labels = np.concatenate([self._labels, np.asarray(numbers, np.int64)])
            added += len(batch)
        return added

    def _skip(self, name: str, result: Extracted) -> None:
        self.skipped.append(name)
        warnings.warn(f"skipped gallery image: {result.error}", stacklevel=3)

    def _add_one(self, name: str, identity: str, viewpoint: str | None) -> int:
        """Record one photo's name, identity and viewpoint; returns its identity's number."""
        if identity not in self._identity_lookup:
            self._identity_lookup[identity] = len(self._identity_names)
            self._identity_names.append(identity)
        self._rows[name] = len(self.images)
        self.images.append(name)
        self.identities.append(identity)
        self.viewpoints.append(clean_viewpoint(viewpoint))
        return self._identity_lookup[identity]

    def remove(self, names: Sequence[str]) -> int:
        """Take the gallery photos named ``names`` out of every answer from now on (no
        rebuild: their rows stay, marked removed); returns how many were there to remove.
        A name added again later is a new photo."""
        rows = [self._rows.pop(name) for name in dict.fromkeys(names) if name in self._rows]
        self.retrieval.remove(np.asarray(rows, np.int64))
        return len(rows)

    def photo_features(self, row: int) -> Features:
        """Features (keypoints and descriptors) of the gallery photo at ``row``, read from the
        store on disk."""
        return self.retrieval.store.features(row)

    def __len__(self) -> int:
        return len(self.images)

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
        if self.retrieval.live == 0:
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
        allowed = self._allowed(viewpoint, left_out)
        gone = np.flatnonzero(~self.retrieval.alive)
        skipped = np.union1d(left_out, gone) if gone.size else left_out
        distances, owners, keypoints = self.retrieval.neighbours(
            features.descriptors, k + 1, skipped, allowed
        )
        weights = lnbnn_weights(distances, k)
        votes = image_votes(weights, owners, len(self), allowed)
        shortlist = best_first(votes, self.config.shortlist)
        image_scores = np.zeros(len(self), np.float64)
        matches: dict[int, Match] = {}
        area = hull_area(features.points)
        # With LNBNN a photo's correspondences are its neighbour entries: a photo with fewer
        # than min_inliers of them cannot be verified, so it is rejected without reading it.
        found = owners[:, :k][owners[:, :k] >= 0]
        pairs = np.bincount(found, minlength=len(self)) if found.size else np.zeros(len(self))
        least = self.config.min_inliers if self.config.matching == "lnbnn" else 0
        for owner in shortlist.tolist():
            if pairs[owner] < least:
                reason = f"{int(pairs[owner])} correspondences, fewer than {least}"
                matches[owner] = Match(
                    self.images[owner], 0.0, 0, _NO_POINTS, _NO_POINTS, 0.0, reason
                )
                continue
            match = self._verify(features, area, owner, weights, owners[:, :k], keypoints[:, :k])
            matches[owner] = match
            image_scores[owner] = match.score
        # A vanishing share of the unverified vote breaks ties between equal verified scores.
        image_scores += 1e-6 * votes / max(1.0, float(votes.max(initial=0.0)))
        return image_scores, matches, allowed

    def _allowed(self, viewpoint: str | None, left_out: np.ndarray) -> np.ndarray | None:
        """Bool by gallery row of the photos a query may be matched to (None: all): not
        removed, not left out, and of the query's viewpoint when the engine minds it."""
        alive = self.retrieval.alive
        allowed: np.ndarray | None = None if alive.all() else alive.copy()
        if self.config.viewpoint_aware and viewpoint is not None:
            views = np.array([v is None or v == viewpoint for v in self.viewpoints])
            if (views & alive).any():
                allowed = views & alive
        if left_out.size:
            allowed = alive.copy() if allowed is None else allowed
            allowed[left_out] = False
        return allowed

    def _verify(
        self,
        query: Features,
        query_area: float,
        owner: int,
        weights: np.ndarray,
        owners: np.ndarray,
        keypoints: np.ndarray,
    ) -> Match:
        store = self.retrieval.store
        lnbnn = self.config.matching == "lnbnn"
        gallery = store.photo_points(owner) if lnbnn else store.features(owner)
        if lnbnn:
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
            query_area=query_area,
        )
        rejected = verdict.reason
        if count < self.config.min_inliers:
            rejected = f"{count} inliers, fewer than {self.config.min_inliers}"
        score = float(pairs.weights[inliers].sum()) if rejected is None else 0.0
        q_points = query.original_points(pairs.query_index[inliers])
        g_points = gallery.original_points(pairs.gallery_index[inliers])
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
        # Photos scoring 0 add nothing to any identity: only the others are aggregated (a
        # query scores a few hundred photos of a gallery that may hold a million).
        scored = np.flatnonzero(image_scores > 0)
        per_identity = identity_scores(
            image_scores[scored], self._labels[scored], aggregate, len(self._identity_names)
        )
        usable = np.ones(len(self), bool) if allowed is None else allowed
        candidates: list[Candidate] = []
        for label in _identities_best_first(per_identity):
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


def _identities_best_first(scores: np.ndarray) -> Iterator[int]:
    """Identity labels by score, highest first, ties by label (as a stable sort would), the
    unscored ones last without sorting them."""
    yield from best_first(scores, scores.size).tolist()
    yield from np.flatnonzero(scores <= 0).tolist()
