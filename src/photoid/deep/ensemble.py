"""Ensembles of deep models over one gallery: concatenated embeddings (meta-embeddings) or
identity scores averaged over the models (e.g. the fold models of ``photoid train --folds``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from photoid.cli.constants import COMBINES as COMBINES
from photoid.cli.constants import SHORTLIST as SHORTLIST
from photoid.core import Box, Identification
from photoid.data.table import Dataset
from photoid.deep.embed import load_embedder
from photoid.deep.engine import DeepEngine
from photoid.errors import PhotoidError
from photoid.search import IdentityRanking
from photoid.search.gallery import Aggregate, Embedded, Gallery, answers
from photoid.search.photo_engine import PhotoEngine

Combine = Literal["mean", "concat"]


class DeepEnsemble(PhotoEngine[Sequence[np.ndarray]]):
    """Several embedders (each with its own image size, crops and TTA) over the same photos.

    ``concat``: each model's unit embedding, concatenated and re-normalised, in one gallery; a
    photo pair's similarity is then the mean of the models' cosine similarities. ``mean``: each
    model ranks its ``shortlist`` best identities in its own gallery and an identity's score is
    the mean over the models (:func:`mean_identity_scores`). ``aggregate`` (best image or
    centroid) is the concat gallery's; in ``mean`` each member ranks with its own.
    """

    def __init__(
        self,
        members: Sequence[DeepEngine],
        *,
        combine: Combine = "mean",
        aggregate: Aggregate = "max",
        top: int = 5,
        shortlist: int = SHORTLIST,
    ) -> None:
        if not members:
            raise PhotoidError("an ensemble needs at least one model")
        if combine not in COMBINES:
            raise PhotoidError(f"unknown ensemble {combine!r}; choose one of {', '.join(COMBINES)}")
        self.members = list(members)
        self.combine = combine
        self.top = top
        self.shortlist = max(shortlist, top)
        if combine == "concat":
            dim = sum(m.embedder.embedding_size for m in self.members)
            self.galleries = [Gallery(dim, aggregate=aggregate)]
        else:
            self.galleries = [m.gallery for m in self.members]
        self.skipped: list[str] = []

    @classmethod
    def from_checkpoints(
        cls,
        checkpoints: Sequence[Path],
        dataset: Dataset,
        *,
        tta: Sequence[str] = (),
        aggregate: Aggregate = "max",
        combine: Combine = "mean",
        progress: Callable[[int], None] | None = None,
        device: str = "auto",
        precision: str = "auto",
    ) -> DeepEnsemble:
        """Load every checkpoint's embedder onto ``device`` (TTA applies to each) and embed
        every known row."""
        members = []
        for checkpoint in checkpoints:
            embedder, config = load_embedder(checkpoint)
            members.append(
                DeepEngine(
                    embedder,
                    config.image_size,
                    use_bbox=config.use_bbox,
                    tta=tta,
                    aggregate=aggregate,
                )
            )
        ensemble = cls(members, combine=combine, aggregate=aggregate)
        ensemble.use_device(device, precision)
        ensemble.add_dataset(dataset, progress)
        return ensemble

    def use_device(self, device: str = "auto", precision: str = "auto") -> None:
        """Run every member's embedder on ``device`` with ``precision``."""
        for member in self.members:
            member.use_device(device, precision)

    def __len__(self) -> int:
        return len(self.galleries[0])

    @property
    def images(self) -> list[str]:
        return self.galleries[0].images

    @property
    def identities(self) -> list[str]:
        return self.galleries[0].identities

    def embed(
        self,
        paths: Sequence[Path],
        bboxes: Sequence[Box | None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[list[np.ndarray], list[str | None]]:
        """Each model's ``(n, D_m)`` unit embeddings; a photo's first load error or None."""
        share = _shared(progress, len(self.members))
        vectors: list[np.ndarray] = []
        errors: list[str | None] = [None] * len(paths)
        for member in self.members:
            own, failures = member.embed(paths, bboxes, progress=share)
            vectors.append(own)
            errors = [e if e is not None else f for e, f in zip(errors, failures, strict=True)]
        return vectors, errors

    def _store(self, vectors: Sequence[np.ndarray], kept: Embedded) -> None:
        for gallery, own in zip(self.galleries, self._per_gallery(vectors), strict=True):
            gallery.add(own[kept.rows], kept.identities, kept.names)

    def identify_embeddings(
        self, names: list[str], vectors: Sequence[np.ndarray], top: int | None = None
    ) -> list[Identification]:
        """Rank identities for each model's ``(n, D_m)`` unit query embeddings (``top`` of
        them, default the ensemble's)."""
        if len(self) == 0:
            return [Identification(n, warning="the gallery is empty") for n in names]
        queries = self._per_gallery(vectors)
        ranking = self._rank(queries, top or self.top, None)
        return answers(names, ranking, self.galleries, queries)

    def leave_one_out(self, k: int = 5) -> tuple[list[list[str]], np.ndarray]:
        """Each gallery photo ranked against the rest of the gallery (its own photo left out):
        the ``k`` best identity names per photo and their ``(N, k)`` float32 scores."""
        rows = np.arange(len(self), dtype=np.int64)
        ranking = self._rank([g.embeddings for g in self.galleries], k, rows)
        names = self.galleries[0].names
        ranked = [[names[label] for label in row if label >= 0] for row in ranking.labels.tolist()]
        return ranked, ranking.scores

    def _rank(
        self, queries: Sequence[np.ndarray], k: int, exclude: np.ndarray | None
    ) -> IdentityRanking:
        if self.combine == "concat":
            return self.galleries[0].rank(queries[0], k, exclude=exclude)
        rankings = [
            gallery.rank(query, self.shortlist, exclude=exclude)
            for gallery, query in zip(self.galleries, queries, strict=True)
        ]
        return mean_identity_scores(rankings, k)

    def _per_gallery(self, vectors: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The query vectors each gallery expects: one concatenation, or one array per model."""
        if self.combine != "concat":
            return list(vectors)
        return [concatenate_embeddings(vectors)]


def concatenate_embeddings(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """Meta-embeddings: ``(n, D_1 + ... + D_M)`` float32, each model's ``(n, D_m)`` rows
    L2-normalised, concatenated, and the result L2-normalised again."""
    parts = [v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12) for v in vectors]
    joined = np.concatenate(parts, axis=1)
    norms = np.linalg.norm(joined, axis=1, keepdims=True)
    unit: np.ndarray = (joined / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def mean_identity_scores(rankings: Sequence[IdentityRanking], k: int) -> IdentityRanking:
    """Average each identity's score over the models' rankings (labels shared by all models).

    Each ranking holds a model's shortlist, ``(n, m)`` labels (-1 = none) and scores. An
    identity missing from a model's shortlist for a query counts with that model's lowest
    returned score for the query: with best-image scores that is an upper bound of its true
    score, and exact when the shortlist covers every identity. Ties keep the smaller label.
    Returns the ``k`` best identities per query, padded with -1 and -inf.
    """
    n = rankings[0].labels.shape[0]
    labels = np.full((n, k), -1, np.int64)
    scores = np.full((n, k), -np.inf, np.float32)
    for row in range(n):
        per_model = []
        for ranking in rankings:
            valid = ranking.labels[row] >= 0
            per_model.append(
                dict(
                    zip(
                        ranking.labels[row][valid].tolist(),
                        ranking.scores[row][valid].tolist(),
                        strict=True,
                    )
                )
            )
        union = sorted(set().union(*per_model))
        if not union:
            continue
        floors = [min(found.values(), default=-np.inf) for found in per_model]
        means = {
            label: float(
                np.mean([f.get(label, floor) for f, floor in zip(per_model, floors, strict=True)])
            )
            for label in union
        }
        best = sorted(union, key=lambda label: (-means[label], label))[:k]
        labels[row, : len(best)] = best
        scores[row, : len(best)] = [means[label] for label in best]
    return IdentityRanking(labels, scores)


def _shared(progress: Callable[[int], None] | None, parts: int) -> Callable[[int], None] | None:
    """Split a photo-count progress callback over ``parts`` passes over the same photos."""
    if progress is None or parts == 1:
        return progress
    done = [0, 0]  # photo-passes seen, photos reported

    def step(count: int) -> None:
        done[0] += count
        whole = done[0] // parts
        if whole > done[1]:
            progress(whole - done[1])
            done[1] = whole

    return step
