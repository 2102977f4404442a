"""Cosine-similarity search over L2-normalised float32 embeddings with faiss.

Exact inner product (``IndexFlatIP``) by default; above ``approximate_above`` vectors, HNSW
(Malkov & Yashunin, TPAMI 2018) or IVF. Vectors are added incrementally with integer ids.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from photoid.errors import PhotoidError
from photoid.search.faiss_state import index_state, restore_index

Kind = Literal["auto", "exact", "hnsw", "ivf"]


class VectorIndex:
    """Nearest neighbours by cosine similarity of ``(N, D)`` unit vectors."""

    def __init__(
        self, dim: int, *, kind: Kind = "auto", approximate_above: int = 1_000_000
    ) -> None:
        if dim < 1:
            raise PhotoidError("embedding dimension must be at least 1")
        self.dim = dim
        self.kind = kind
        self.approximate_above = approximate_above
        self._index: Any = faiss.IndexFlatIP(dim)
        self._approximate = False
        self.ids = np.zeros(0, np.int64)

    def __getstate__(self) -> dict[str, Any]:
        return index_state(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(restore_index(state))

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

    @property
    def approximate(self) -> bool:
        return self._approximate

    def add(self, vectors: np.ndarray, ids: np.ndarray | None = None) -> None:
        """Add ``(n, D)`` float32 unit vectors; ``ids`` ``(n,)`` int64 default to 0, 1, 2, ..."""
        vectors = self._check(vectors)
        if ids is None:
            ids = np.arange(self.size, self.size + vectors.shape[0], dtype=np.int64)
        ids = np.asarray(ids, np.int64)
        if ids.shape != (vectors.shape[0],):
            raise PhotoidError(f"ids must have shape ({vectors.shape[0]},), got {ids.shape}")
        self.ids = np.concatenate([self.ids, ids])
        self._index.add(vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(n, k)`` float32 cosine similarities (descending) and int64 ids (-1 where missing)."""
        queries = self._check(queries)
        if self._should_switch():
            self._switch()
        n = queries.shape[0]
        if self.size == 0 or n == 0:
            return np.full((n, k), -np.inf, np.float32), np.full((n, k), -1, np.int64)
        scores, rows = self._index.search(queries, min(k, self.size))
        if rows.shape[1] < k:
            pad = k - rows.shape[1]
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=-np.inf)
            rows = np.pad(rows, ((0, 0), (0, pad)), constant_values=-1)
        missing = rows < 0
        ids = np.where(missing, -1, self.ids[np.where(missing, 0, rows)])
        scores = np.where(missing, -np.inf, scores).astype(np.float32)
        return scores, ids

    def save(self, folder: Path) -> Path:
        """Write ``folder/index.faiss`` and ``folder/ids.npy``."""
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(folder / "index.faiss"))
        np.save(folder / "ids.npy", self.ids)
        return folder

    @classmethod
    def load(cls, folder: Path) -> VectorIndex:
        """Read an index written by :meth:`save`."""
        try:
            index = faiss.read_index(str(folder / "index.faiss"))
            ids = np.load(folder / "ids.npy")
        except (OSError, RuntimeError, ValueError) as exc:
            raise PhotoidError(f"{folder}: not a photoid vector index ({exc})") from None
        loaded = cls(index.d, kind="exact")
        loaded._index = index
        loaded._approximate = not isinstance(index, faiss.IndexFlat)
        loaded.ids = ids.astype(np.int64)
        return loaded

    def _check(self, vectors: np.ndarray) -> np.ndarray:
        array = np.ascontiguousarray(vectors, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise PhotoidError(f"expected embeddings of shape (n, {self.dim}), got {array.shape}")
        if not np.isfinite(array).all():
            raise PhotoidError("embeddings contain NaN or infinite values")
        return array

    def _should_switch(self) -> bool:
        if self._approximate or self.kind == "exact":
            return False
        return self.kind in ("hnsw", "ivf") or self.size >= self.approximate_above

    def _switch(self) -> None:
        data = self._index.reconstruct_n(0, self._index.ntotal)
        index: Any
        if self.kind == "ivf":
            lists = max(1, min(65536, int(4 * math.sqrt(len(data))), len(data) // 39))
            quantizer: Any = faiss.IndexFlatIP(self.dim)
            index = faiss.IndexIVFFlat(quantizer, self.dim, lists, faiss.METRIC_INNER_PRODUCT)
            index.own_fields = True
            quantizer.this.disown()
            index.train(data)
            index.nprobe = min(lists, 32)
        else:
            index = faiss.IndexHNSWFlat(self.dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = 128
        index.add(data)
        self._index = index
        self._approximate = True
