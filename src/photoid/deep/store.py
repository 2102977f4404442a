"""Embeddings on disk: float32 vectors with their image ids, identities and the model's
fingerprint, so vectors of different models are never mixed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photoid.errors import PhotoidError
from photoid.files import atomic_open


@dataclass(frozen=True)
class EmbeddingSet:
    """``vectors`` ``(N, D)`` float32 unit rows; ``images`` and ``identities`` ``(N,)`` str;
    ``model`` the fingerprint of the checkpoint that made them."""

    vectors: np.ndarray
    images: np.ndarray
    identities: np.ndarray
    model: str

    def __len__(self) -> int:
        return int(self.vectors.shape[0])


def model_fingerprint(checkpoint: Path) -> str:
    """16 hex characters of sha256 over the checkpoint file's bytes."""
    digest = hashlib.sha256()
    with checkpoint.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def save_embeddings(embeddings: EmbeddingSet, path: Path) -> Path:
    """Write ``path`` (.npz) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as handle:
        np.savez(
            handle,
            vectors=embeddings.vectors.astype(np.float32),
            images=embeddings.images.astype(str),
            identities=embeddings.identities.astype(str),
            model=np.array(embeddings.model),
        )
    return path


def load_embeddings(path: Path) -> EmbeddingSet:
    """Read a file written by :func:`save_embeddings`; a clear error for anything else."""
    try:
        with np.load(path, allow_pickle=False) as data:
            loaded = EmbeddingSet(
                vectors=data["vectors"].astype(np.float32),
                images=data["images"],
                identities=data["identities"],
                model=str(data["model"]),
            )
    except (OSError, ValueError, KeyError) as exc:
        raise PhotoidError(f"{path}: not a photoid embeddings file ({exc})") from None
    if loaded.vectors.ndim != 2 or len(loaded.images) != len(loaded):
        raise PhotoidError(f"{path}: vectors and image ids do not line up")
    return loaded
