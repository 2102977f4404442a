"""Labelled gallery embeddings in a faiss index, ranked per identity; a photo can be left out of
its own ranking (leave-one-out), which the new-individual threshold fit needs."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np

from photoid.core import Box, Candidate, Identification, Match
from photoid.data.schema import UNKNOWN_IDENTITY
from photoid.search import IdentityRanking, VectorIndex, rank_identities_by_images

Aggregate = Literal["max", "centroid"]
V = TypeVar("V")  # one embedding array, or one per model of an ensemble
_EMPTY = np.zeros((0, 2), np.float32)


class Gallery:
    """``(N, D)`` float32 unit embeddings of labelled photos. Identity score = cosine similarity
    of its best image (``max``, from the ``neighbours`` nearest images) or of its centroid."""

    def __init__(self, dim: int, *, aggregate: Aggregate = "max", neighbours: int = 100) -> None:
        self.aggregate = aggregate
        self.neighbours = neighbours
        self.index = VectorIndex(dim)
        self.images: list[str] = []
        self.identities: list[str] = []
        self.names: list[str] = []
        self._lookup: dict[str, int] = {}
        self.labels = np.zeros(0, np.int64)
        self.embeddings = np.zeros((0, dim), np.float32)

    def __len__(self) -> int:
        return len(self.images)

    def add(self, vectors: np.ndarray, identities: Sequence[str], images: Sequence[str]) -> None:
        """Add ``(n, D)`` unit vectors with each photo's identity and image name."""
        labels = []
        for identity in identities:
            if identity not in self._lookup:
                self._lookup[identity] = len(self.names)
                self.names.append(identity)
            labels.append(self._lookup[identity])
        start = len(self.labels)
        self.index.add(vectors, np.arange(start, start + len(labels), dtype=np.int64))
        self.images.extend(images)
        self.identities.extend(identities)
        self.labels = np.concatenate([self.labels, np.asarray(labels, np.int64)])
        self.embeddings = np.concatenate([self.embeddings, vectors.astype(np.float32)])

    def rank(
        self, vectors: np.ndarray, k: int, *, exclude: np.ndarray | None = None
    ) -> IdentityRanking:
        """The ``k`` best identities for ``(n, D)`` unit query vectors.

        ``exclude``: ``(n,)`` int64 gallery row left out of query ``i``'s ranking (-1: none),
        so a gallery photo can query the rest of the gallery.
        """
        n = vectors.shape[0]
        if len(self) == 0:
            return IdentityRanking(
                np.full((n, k), -1, np.int64), np.full((n, k), -np.inf, np.float32)
            )
        if self.aggregate == "centroid":
            return self._rank_centroids(vectors, k, exclude)
        extra = 0 if exclude is None else 1
        similarity, rows = self.index.search(vectors, min(self.neighbours + extra, len(self)))
        owners = np.where(rows >= 0, self.labels[np.maximum(rows, 0)], -1)
        if exclude is not None:
            owners = np.where(rows == exclude[:, None], -1, owners)
        return rank_identities_by_images(similarity, owners, k)

    def _rank_centroids(
        self, vectors: np.ndarray, k: int, exclude: np.ndarray | None, chunk: int = 1024
    ) -> IdentityRanking:
        """Centroid scores, ``chunk`` queries at a time (an ``(chunk, C)`` matrix in memory)."""
        sums = np.zeros((len(self.names), self.embeddings.shape[1]), np.float64)
        np.add.at(sums, self.labels, self.embeddings)
        means = _unit(sums)
        counts = np.bincount(self.labels, minlength=len(self.names))
        parts = []
        for start in range(0, max(vectors.shape[0], 1), chunk):
            queries = vectors[start : start + chunk]
            scores = queries @ means.T
            if exclude is not None:
                rows = exclude[start : start + chunk]
                i = np.flatnonzero(rows >= 0)
                label = self.labels[rows[i]]
                # The identity's centroid without the left-out photo; gone if it was the only one.
                rest = _unit(sums[label] - self.embeddings[rows[i]])
                own = np.einsum("nd,nd->n", queries[i], rest)
                scores[i, label] = np.where(counts[label] > 1, own, -np.inf)
            order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            ranked = np.take_along_axis(scores, order, axis=1).astype(np.float32)
            labels = np.where(np.isfinite(ranked), order, -1).astype(np.int64)
            parts.append(_padded(IdentityRanking(labels, ranked), k))
        return IdentityRanking(
            np.concatenate([p.labels for p in parts]), np.concatenate([p.scores for p in parts])
        )

    def similarities(self, label: int, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gallery rows of identity ``label`` and their cosine similarity to ``(D,)`` ``vector``."""
        members = np.flatnonzero(self.labels == label)
        return members, self.embeddings[members] @ vector


def answers(
    names: Sequence[str],
    ranking: IdentityRanking,
    galleries: Sequence[Gallery],
    vectors: Sequence[np.ndarray],
) -> list[Identification]:
    """Identifications from a ranking over labels shared by ``galleries`` (one per model, same
    photos in the same order); ``vectors[m]`` the ``(n, D_m)`` queries of gallery ``m``. Each
    candidate's evidence is its photo with the highest similarity summed over the models."""
    first = galleries[0]
    out = []
    for i, name in enumerate(names):
        candidates = []
        for label, score in zip(
            ranking.labels[i].tolist(), ranking.scores[i].tolist(), strict=True
        ):
            if label < 0:
                break
            members, total = first.similarities(label, vectors[0][i])
            for gallery, query in zip(galleries[1:], vectors[1:], strict=True):
                total = total + gallery.similarities(label, query[i])[1]
            best = int(members[np.argmax(total)])
            match = Match(first.images[best], float(score), 0, _EMPTY, _EMPTY)
            candidates.append(Candidate(first.names[label], float(score), match))
        out.append(Identification(name, candidates))
    return out


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: np.ndarray = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def _padded(ranking: IdentityRanking, k: int) -> IdentityRanking:
    """Pad to ``k`` columns (-1 labels, -inf scores) when there are fewer identities."""
    pad = k - ranking.labels.shape[1]
    if pad <= 0:
        return ranking
    labels = np.pad(ranking.labels, ((0, 0), (0, pad)), constant_values=-1)
    scores = np.pad(ranking.scores, ((0, 0), (0, pad)), constant_values=-np.inf)
    return IdentityRanking(labels, scores)


def with_warnings(
    result: list[Identification], errors: Sequence[str | None]
) -> list[Identification]:
    """``result`` with each query whose photo failed (``errors[i]`` not None) replaced by an
    empty answer carrying the error as its warning (also issued as a Python warning)."""
    for i, error in enumerate(errors):
        if error is not None:
            warnings.warn(f"skipped query: {error}", stacklevel=3)
            result[i] = Identification(result[i].query, warning=error)
    return result


@dataclass(frozen=True)
class Embedded:
    """Which labelled photos embedded: ``rows`` index the embedding arrays; ``identities`` and
    ``names`` are theirs, in the same order."""

    rows: list[int]
    identities: list[str]
    names: list[str]


def embed_labelled(
    embed: Callable[..., tuple[V, list[str | None]]],
    paths: Sequence[Path],
    identities: Sequence[str],
    bboxes: Sequence[Box | None] | None,
    names: Sequence[str] | None,
    skipped: list[str],
    progress: Callable[[int], None] | None = None,
) -> tuple[V, Embedded]:
    """Embed the photos of known identity (``unknown`` ones are left out) with
    ``embed(paths, boxes, progress=...) -> (vectors, errors)``; a photo that fails is warned
    about and its name appended to ``skipped``."""
    keep = [i for i, name in enumerate(identities) if name != UNKNOWN_IDENTITY]
    labels = list(names) if names is not None else [str(p) for p in paths]
    boxes = list(bboxes) if bboxes is not None else [None] * len(paths)
    vectors, errors = embed([paths[i] for i in keep], [boxes[i] for i in keep], progress=progress)
    good = [j for j, error in enumerate(errors) if error is None]
    for j, error in enumerate(errors):
        if error is not None:
            skipped.append(labels[keep[j]])
            warnings.warn(f"skipped gallery image: {error}", stacklevel=3)
    return vectors, Embedded(
        good, [identities[keep[j]] for j in good], [labels[keep[j]] for j in good]
    )
