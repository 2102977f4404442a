"""The first stage of two-stage retrieval: which gallery photos a query is worth verifying.

Every gallery photo's strongest ``keypoints`` descriptors go into one faiss inverted file of
product-quantised residuals: a codebook trained on the gallery's descriptors (the inverted
lists) and each descriptor's residual to its codeword in 16 bytes (``PQ32x4fs``, faiss's SIMD
"fast scan" codes). A query's descriptors find their nearest compressed neighbours there and
vote for their photos as in the single-stage engine (LNBNN); the best-voted photos go to
the second stage, which re-ranks their neighbours exactly from the descriptors on disk.
Large inverted files are trained in two levels of k-means, as faiss trains its billion-scale
ones, so that the lists can keep growing with the gallery.

This is ASMK-style matching (a gallery codebook, compressed residuals compared within their
codeword's list), not one vector per photo: on 2,500 synthetic photos a PCA-whitened VLAD per
photo held the true identity among its 200 best photos for 0.84 of queries, these votes for
0.99 (docs/benchmarks.md). Memory: about 25 bytes per descriptor (16 of code, 8 of photo id).
Binary descriptors (ORB) use faiss's binary inverted file, uncompressed.
"""

from __future__ import annotations

import math
from typing import Any

import faiss
import numpy as np

from photoid.errors import PhotoidError
from photoid.search.faiss_state import index_state, restore_index

_TRAIN_PER_LIST = 48
MAX_LISTS = 65_536
TWO_LEVEL_FROM = 4096  # lists: from here on trained in two levels (flat k-means below)
KEYPOINT_BITS = 12  # an id is photo row << 12 | keypoint number: 4,096 keypoints per photo


def auto_factory(descriptors: int, *, binary: bool) -> str:
    """``auto``'s factory string for an index of ``descriptors`` vectors: about 2 sqrt(N)
    inverted lists (a power of two, with at least 39 training vectors each, at most 65,536;
    faiss's advice is 4 to 16 sqrt(N): on the real datasets 4 sqrt(N) lost a little top-1 at
    the same number of probes), over 16-byte fast-scan PQ codes (32 sub-vectors of 4 bits).
    Lists that grow with sqrt(N) keep a query's scan growing with sqrt(N), not N."""
    count = max(descriptors, 1)
    lists = 2 ** round(math.log2(max(1.0, 2 * math.sqrt(count))))
    # Binary lists train by faiss's flat k-means: kept to 8,192, minutes on two cores.
    most = 8192 if binary else MAX_LISTS
    lists = int(min(most, lists, 2 ** int(math.log2(max(1.0, count / 39)))))
    if binary:
        return f"BIVF{lists}"
    # From a thousand lists on, an HNSW graph over the codewords assigns vectors to lists in
    # logarithmic time (faiss's IVF..._HNSW32), which keeps adding millions of vectors fast.
    coarse = f"IVF{lists}_HNSW32" if lists >= 1024 else f"IVF{lists}"
    return f"{coarse},PQ32x4fs"


def two_level_centroids(sample: np.ndarray, lists: int, seed: int = 0) -> np.ndarray:
    """``lists`` k-means centroids of ``sample`` found in two levels, as faiss trains its
    largest inverted files (faiss.contrib.clustering.two_level_clustering; Douze et al., "The
    Faiss library", 2024): sqrt(lists) coarse clusters, then each split into a share of the
    lists in proportion to its size. Each level costs about sqrt(lists) distances per vector
    instead of ``lists``: seconds where flat k-means over 16,384 lists takes an hour on two
    cores. Returns ``(lists, d)`` float32; ``sample`` needs at least ``lists`` vectors."""
    sample = np.ascontiguousarray(sample, np.float32)
    if sample.shape[0] < lists:
        raise ValueError(f"{lists} centroids need at least {lists} vectors, got {sample.shape[0]}")
    dim = sample.shape[1]
    coarse = max(1, round(math.sqrt(lists)))
    top = faiss.Kmeans(dim, coarse, niter=20, seed=seed, max_points_per_centroid=2000)
    top.train(sample)
    assign = top.index.search(sample, 1)[1].ravel()
    sizes = np.bincount(assign, minlength=coarse)
    share = _shares(sizes, lists)
    parts = []
    for cluster in np.flatnonzero(share):
        members = sample[assign == cluster]
        if share[cluster] == members.shape[0]:
            parts.append(members)
            continue
        sub = faiss.Kmeans(dim, int(share[cluster]), niter=20, seed=seed)
        sub.train(members)
        parts.append(sub.centroids)
    return np.vstack(parts).astype(np.float32)


def lists_of(factory: str) -> int:
    """The number of inverted lists a factory string asks for (``IVF4096_HNSW32,...`` ->
    4096; 1,024 when it names none)."""
    for part in factory.split(","):
        head = part.removeprefix("B")
        if head.startswith("IVF"):
            digits = head[3:].split("_")[0]
            if digits.isdigit():
                return int(digits)
    return 1024


def _shares(sizes: np.ndarray, total: int) -> np.ndarray:
    """``total`` split in proportion to ``sizes`` by largest remainders; with ``sizes``
    summing to at least ``total`` no share exceeds its size."""
    exact = sizes * (total / max(1, int(sizes.sum())))
    share = np.floor(exact).astype(np.int64)
    short = total - int(share.sum())
    share[np.argsort(share - exact, kind="stable")[:short]] += 1
    return share


class FirstStage:
    """Compressed descriptors of gallery photos by photo row: ``add``, ``remove``,
    ``search``."""

    def __init__(
        self,
        dim: int,
        sample: np.ndarray,
        *,
        binary: bool,
        factory: str = "auto",
        probes: int = 16,
        knn: int = 5,
    ) -> None:
        """An empty index trained on ``sample`` descriptors; ``dim`` in bits when binary."""
        self.binary = binary
        self.knn = knn
        self.factory = (
            auto_factory(sample.shape[0], binary=binary) if factory == "auto" else factory
        )
        self._index: Any = self._build(dim, np.ascontiguousarray(sample))
        faiss.ParameterSpace().set_index_parameter(self._index, "nprobe", probes)

    def __getstate__(self) -> dict[str, Any]:
        return index_state(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(restore_index(state))

    def _build(self, dim: int, sample: np.ndarray) -> Any:
        index: Any
        try:
            if self.binary:
                index = faiss.index_binary_factory(dim, self.factory)
            else:
                index = faiss.index_factory(dim, self.factory)
        except RuntimeError as error:
            raise PhotoidError(
                f"first_stage_index {self.factory!r} is not a faiss index factory string "
                f"({str(error).splitlines()[0]})"
            ) from None
        if not hasattr(index, "nlist"):
            raise PhotoidError(
                f"first_stage_index {self.factory!r}: use an inverted file (IVF...), which "
                "adds and removes photos without a rebuild"
            )
        if not index.is_trained:
            needed = 39 * int(index.nlist)
            if sample.shape[0] < needed:
                raise PhotoidError(
                    f"first_stage_index {self.factory!r} needs {needed:,} descriptors to train "
                    f"its {index.nlist} lists; the gallery has {sample.shape[0]:,}"
                )
            try:
                self._train_lists(index, sample)
                index.train(sample)
            except RuntimeError as error:
                raise PhotoidError(
                    f"first_stage_index {self.factory!r} cannot be trained on "
                    f"{sample.shape[0]:,} descriptors ({str(error).splitlines()[0]}); use the "
                    "single stage (retrieval=single) for a gallery this small"
                ) from None
        return index

    def _train_lists(self, index: Any, sample: np.ndarray) -> None:
        """Give a large float inverted file its lists' centroids from two-level k-means (its
        ``train`` then trains only the codes); smaller ones train as faiss does."""
        if self.binary or int(index.nlist) < TWO_LEVEL_FROM or index.quantizer.ntotal:
            return  # small, binary, or its lists given already
        centroids = two_level_centroids(sample, int(index.nlist))
        index.quantizer.train(centroids)
        index.quantizer.add(centroids)

    @staticmethod
    def sample_size(lists: int) -> int:
        return _TRAIN_PER_LIST * lists

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def add(self, descriptors: np.ndarray, owners: np.ndarray, keypoints: np.ndarray) -> None:
        """Add ``(m, d)`` descriptors, each keypoint ``keypoints[i]`` of photo ``owners[i]``."""
        if descriptors.shape[0]:
            ids = (owners.astype(np.int64) << KEYPOINT_BITS) | keypoints.astype(np.int64)
            self._index.add_with_ids(np.ascontiguousarray(descriptors), ids)

    def remove(self, rows: np.ndarray, counts: np.ndarray) -> None:
        """Forget the descriptors of gallery photos ``rows``, ``counts[i]`` of photo ``rows[i]``
        (one pass over the inverted lists)."""
        counts = np.asarray(counts, np.int64)
        owners = np.repeat(np.asarray(rows, np.int64), counts)
        keypoints = np.arange(owners.size) - np.repeat(np.cumsum(counts) - counts, counts)
        ids = (owners << KEYPOINT_BITS) | keypoints
        if ids.size:
            self._index.remove_ids(faiss.IDSelectorBatch(ids))

    def compact(self) -> None:
        """Release the spare capacity the inverted lists keep after many appends (a serialise
        round trip allocates each list exactly)."""
        state = index_state({"_index": self._index})
        self._index = restore_index(state)["_index"]

    def search(
        self, descriptors: np.ndarray, depth: int, probes: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``depth`` nearest compressed neighbours of each of ``(n, d)`` query
        descriptors, ``probes`` lists searched (default: as built): their photo rows and
        keypoint numbers, ``(n, depth)`` int64 each, -1 where fewer exist, and their distances
        to the compressed descriptors (float32, Euclidean or Hamming, ascending; inf where
        missing)."""
        if probes is not None:
            self._index.nprobe = probes
        n = descriptors.shape[0]
        if n == 0 or self.size == 0:
            missing = np.full((n, depth), -1, np.int64)
            return missing, missing.copy(), np.full((n, depth), np.inf, np.float32)
        squared, ids = self._index.search(np.ascontiguousarray(descriptors), depth)
        missing = ids < 0
        photos = np.where(missing, -1, ids >> KEYPOINT_BITS)
        keypoints = np.where(missing, -1, ids & (2**KEYPOINT_BITS - 1))
        distances = np.asarray(squared, np.float32)
        if not self.binary:  # faiss's L2 distances are squared
            distances = np.sqrt(np.maximum(distances, 0.0))
        return photos, keypoints, np.where(missing, np.inf, distances).astype(np.float32)
