"""A learned pair verifier: are two embeddings the same individual?

The Siamese head of the Humpback Whale Identification (2019) best public kernel (Martin Piotte):
the symmetric features ``x1 + x2, x1 * x2, |x1 - x2|, (x1 - x2)^2`` of two embeddings go into a
small MLP that outputs a same/different logit, so ``f(a, b) == f(b, a)`` exactly. Each epoch
pairs every photo with a random photo of its own individual (positives) and with a distinct
photo of another individual chosen by a linear assignment on the similarity matrix that
maximises the total similarity (hard negatives that no single photo monopolises, as that kernel
did with ``lapjv``; here scipy's ``linear_sum_assignment``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from scipy.optimize import linear_sum_assignment
from torch import nn

from photoid.errors import PhotoidError

MASKED = -1e6  # similarity given to same-identity pairs so the assignment avoids them


class PairVerifier(nn.Module):
    """``(B, D)`` x ``(B, D)`` float32 embeddings -> ``(B,)`` same-individual logits."""

    def __init__(self, dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.dim = dim
        self.hidden = hidden
        self.mlp = nn.Sequential(nn.Linear(4 * dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        diff = a - b
        features = torch.cat([a + b, a * b, diff.abs(), diff * diff], dim=1)
        logits: torch.Tensor = self.mlp(features)
        return logits.squeeze(1)


def assign_hard_negatives(similarity: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Partner of each row ``(N,)`` int64: a distinct column of another identity, chosen to
    maximise the total ``(N, N)`` similarity; ``-1`` where only same-identity columns were left."""
    labels = np.asarray(labels)
    scores = np.where(labels[:, None] == labels[None, :], MASKED, similarity)
    rows, cols = linear_sum_assignment(scores, maximize=True)
    partners = np.full(labels.size, -1, np.int64)
    partners[rows] = cols
    partners[labels[partners] == labels] = -1
    return partners


def mine_pairs(
    embeddings: np.ndarray, labels: np.ndarray, rng: np.random.Generator, block: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """One epoch's pairs ``(P, 2)`` int64 and their ``(P,)`` float32 labels (1 = same).

    Positives: each photo with a random other photo of its identity (if it has one).
    Negatives: hard ones by :func:`assign_hard_negatives` on the cosine similarity of unit
    embeddings, within shuffled blocks of ``block`` photos (the assignment costs ``O(block^3)``).
    """
    pairs: list[tuple[int, int]] = []
    same: list[float] = []
    for members in _groups(labels).values():
        if members.size < 2:
            continue
        for i in members.tolist():
            partner = int(rng.choice(members[members != i]))
            pairs.append((i, partner))
            same.append(1.0)
    order = rng.permutation(labels.size)
    for start in range(0, order.size, block):
        chunk = order[start : start + block]
        x = embeddings[chunk]
        partners = assign_hard_negatives(x @ x.T, labels[chunk])
        for i, j in zip(chunk.tolist(), partners.tolist(), strict=True):
            if j >= 0:
                pairs.append((i, int(chunk[j])))
                same.append(0.0)
    return np.asarray(pairs, np.int64).reshape(-1, 2), np.asarray(same, np.float32)


def _groups(labels: np.ndarray) -> dict[int, np.ndarray]:
    return {int(v): np.flatnonzero(labels == v) for v in np.unique(labels)}


def train_verifier(
    embeddings: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 20,
    seed: int = 0,
    hidden: int = 64,
    lr: float = 1e-3,
    batch_size: int = 256,
    block: int = 1024,
) -> PairVerifier:
    """Train a verifier on ``(N, D)`` float32 unit embeddings and ``(N,)`` int identity labels.

    Pairs are mined anew each epoch (:func:`mine_pairs`); the binary cross-entropy weighs
    positives and negatives equally in total. Deterministic for a given ``seed`` on CPU.
    """
    x = np.ascontiguousarray(embeddings, np.float32)
    labels = np.asarray(labels)
    if x.ndim != 2 or labels.shape != (x.shape[0],):
        raise PhotoidError(f"embeddings {x.shape} and labels {labels.shape}: need (N, D) and (N,)")
    if np.unique(labels).size < 2 or not any(g.size > 1 for g in _groups(labels).values()):
        raise PhotoidError("the verifier needs two identities and one with at least two photos")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = PairVerifier(x.shape[1], hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    vectors = torch.from_numpy(x)
    model.train()
    for _ in range(epochs):
        pairs, same = mine_pairs(x, labels, rng, block)
        positives = max(float(same.sum()), 1.0)
        negatives = max(float(same.size - same.sum()), 1.0)
        # Each class carries half the loss; weights average to 1 over the epoch.
        weights = np.where(same == 1.0, same.size / (2 * positives), same.size / (2 * negatives))
        weights = weights.astype(np.float32)
        order = rng.permutation(same.size)
        for start in range(0, order.size, batch_size):
            batch = order[start : start + batch_size]
            logits = model(vectors[pairs[batch, 0]], vectors[pairs[batch, 1]])
            loss = nn.functional.binary_cross_entropy_with_logits(
                logits, torch.from_numpy(same[batch]), weight=torch.from_numpy(weights[batch])
            )
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    model.eval()
    return model


def score_pairs(model: PairVerifier, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Probability ``(n,)`` float64 that rows of ``(n, D)`` ``a`` and ``b`` show one individual."""
    model.eval()
    with torch.no_grad():
        logits = model(
            torch.from_numpy(np.ascontiguousarray(a, np.float32)),
            torch.from_numpy(np.ascontiguousarray(b, np.float32)),
        )
    return torch.sigmoid(logits).double().numpy()


def score_candidates(
    model: PairVerifier,
    queries: np.ndarray,
    gallery: np.ndarray,
    gallery_labels: np.ndarray,
    candidates: np.ndarray,
) -> np.ndarray:
    """Verifier score of each candidate identity: the best probability over its gallery photos.

    ``queries`` ``(n, D)`` and ``gallery`` ``(G, D)`` float32 embeddings, ``gallery_labels``
    ``(G,)`` int identity labels, ``candidates`` ``(n, m)`` int labels (``-1`` = none).
    Returns ``(n, m)`` float64 probabilities, 0 where there is no candidate or no photo.
    """
    out = np.zeros(candidates.shape, np.float64)
    for i, row in enumerate(np.asarray(candidates)):
        members = np.flatnonzero(np.isin(gallery_labels, row[row >= 0]))
        if members.size == 0:
            continue
        query = np.repeat(queries[i : i + 1], members.size, axis=0)
        probability = score_pairs(model, query, gallery[members])
        for j, label in enumerate(row.tolist()):
            mine = gallery_labels[members] == label
            if label >= 0 and mine.any():
                out[i, j] = probability[mine].max()
    return out


def save_verifier(model: PairVerifier, path: Path) -> Path:
    """Weights and sizes in one safetensors file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sizes = json.dumps({"dim": model.dim, "hidden": model.hidden})
    save_file(model.state_dict(), str(path), metadata={"photoid_verifier": sizes})
    return path


def load_verifier(path: Path) -> PairVerifier:
    """Read a verifier written by :func:`save_verifier`; PhotoidError naming the file if bad."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        sizes = json.loads(metadata["photoid_verifier"])
        model = PairVerifier(int(sizes["dim"]), int(sizes["hidden"]))
        model.load_state_dict(load_file(str(path)))
    except (OSError, KeyError, ValueError, RuntimeError, SafetensorError) as error:
        raise PhotoidError(f"{path}: not a photoid pair verifier ({error})") from None
    model.eval()
    return model
