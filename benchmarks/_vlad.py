"""One vector per photo from its local descriptors: VLAD over a codebook, reduced by PCA.

VLAD (Jegou et al., "Aggregating local descriptors into a compact image representation", CVPR
2010): each descriptor's residual to its nearest codeword is summed per codeword. Then
signed square root and per-codeword (intra) normalisation (Arandjelovic & Zisserman, "All about
VLAD", CVPR 2013), and a PCA with whitening learnt on the gallery (Jegou & Chum, "Negative
evidences and co-occurrences in image retrieval", ECCV 2012), each vector L2-normalised.
All functions are pure: arrays in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

_EPS = 1e-12


def train_codebook(sample: np.ndarray, words: int, seed: int = 0) -> np.ndarray:
    """``(words, d)`` float32 k-means centroids of ``(n, d)`` descriptors (faiss k-means)."""
    data = np.ascontiguousarray(sample, np.float32)
    words = max(1, min(words, data.shape[0]))
    kmeans = faiss.Kmeans(data.shape[1], words, niter=20, seed=seed, spherical=False)
    kmeans.train(data)
    return np.asarray(kmeans.centroids, np.float32).reshape(words, data.shape[1])


def vlad(
    descriptors: np.ndarray, owners: np.ndarray, photos: int, codebook: np.ndarray
) -> np.ndarray:
    """``(photos, words * d)`` float32 VLAD vectors of descriptors ``(m, d)`` owned by photo
    ``owners[i]`` in ``0..photos-1``; a photo without descriptors gets a zero vector."""
    words, dim = codebook.shape
    out = np.zeros((photos * words, dim), np.float32)
    if descriptors.shape[0]:
        data = np.ascontiguousarray(descriptors, np.float32)
        search = faiss.IndexFlatL2(dim)
        search.add(codebook)
        _, nearest = search.search(data, 1)
        word = nearest[:, 0].astype(np.int64)
        cell = owners.astype(np.int64) * words + word
        order = np.argsort(cell, kind="stable")
        cells, starts = np.unique(cell[order], return_index=True)
        residual = (data - codebook[word])[order]
        out[cells] = np.add.reduceat(residual, starts, axis=0)
    out = np.sign(out) * np.sqrt(np.abs(out))
    out /= np.linalg.norm(out, axis=1, keepdims=True) + _EPS
    flat = out.reshape(photos, words * dim)
    flat /= np.linalg.norm(flat, axis=1, keepdims=True) + _EPS
    return flat


@dataclass(frozen=True)
class Projection:
    """PCA with whitening: ``(x - mean) @ basis / sqrt(variance + eps)``, then L2."""

    mean: np.ndarray  # (D,) float32
    basis: np.ndarray  # (D, k) float32, orthonormal columns
    scale: np.ndarray  # (k,) float32

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """``(n, D)`` -> ``(n, k)`` float32, each row of unit length (zero rows stay zero)."""
        reduced = ((vectors - self.mean) @ self.basis) * self.scale
        norms = np.linalg.norm(reduced, axis=1, keepdims=True)
        empty = ~np.any(vectors, axis=1)
        reduced = reduced / (norms + _EPS)
        reduced[empty] = 0.0
        return np.ascontiguousarray(reduced, np.float32)


def fit_projection(sample: np.ndarray, dim: int, seed: int = 0) -> Projection:
    """PCA of ``(n, D)`` vectors to ``min(dim, n - 1, D)`` whitened dimensions by randomised SVD
    (Halko et al. 2011: two power iterations), cheap for D in the thousands."""
    data = np.asarray(sample, np.float32)
    mean = data.mean(axis=0)
    centred = data - mean
    rank = max(1, min(dim, data.shape[0] - 1, data.shape[1]))
    rng = np.random.default_rng(seed)
    probe = rng.standard_normal((data.shape[1], min(rank + 16, data.shape[1]))).astype(np.float32)
    basis, _ = np.linalg.qr(centred @ probe)
    for _ in range(2):
        basis, _ = np.linalg.qr(centred @ (centred.T @ basis))
    _, singular, right = np.linalg.svd(basis.T @ centred, full_matrices=False)
    variance = singular[:rank] ** 2 / max(1, data.shape[0] - 1)
    # Whitening flattens the spectrum; the floor keeps near-empty directions from blowing up.
    floor = variance.max(initial=0.0) * 1e-3 + _EPS
    scale = 1.0 / np.sqrt(variance + floor)
    return Projection(mean, right[:rank].T.astype(np.float32), scale.astype(np.float32))
