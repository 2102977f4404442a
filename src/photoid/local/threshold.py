"""The new-individual threshold, fitted on the gallery alone by leave-one-out.

Each sampled gallery photo is identified against the rest of the gallery. The score its own
identity gets is a *genuine* score (what a known individual looks like); the best score of any
other identity is an *impostor* score (what the top answer for a new individual looks like, since
that individual is then absent). The threshold maximises balanced accuracy between the two:
known photos scoring at or above it, new ones below. No query labels are used.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from photoid.local.engine import LocalEngine
from photoid.local.features import Features


@dataclass(frozen=True)
class ThresholdFit:
    """The fitted threshold and the leave-one-out scores behind it (float64 arrays)."""

    threshold: float
    balanced_accuracy: float
    genuine: np.ndarray
    impostor: np.ndarray


def fit_new_threshold(
    engine: LocalEngine,
    features: list[Features] | None = None,
    *,
    sample: int = 150,
    seed: int = 0,
) -> ThresholdFit | None:
    """Leave-one-out over up to ``sample`` gallery photos whose identity has another photo.

    ``features[i]`` are the features of gallery image ``i`` (as added); by default the
    engine's own (build it with ``keep_descriptors=True``). Returns None when the gallery has
    no identity with two photos or only one identity (nothing to learn from).
    """
    counts = Counter(engine.identities)
    eligible = [i for i, name in enumerate(engine.identities) if counts[name] >= 2]
    if not eligible or len(counts) < 2:
        return None
    features = engine.gallery_features if features is None else features
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.permutation(eligible)[:sample].tolist())
    genuine: list[float] = []
    impostor: list[float] = []
    for i in chosen:
        answer = engine.identify_features(engine.images[i], features[i], exclude=i)
        own = engine.identities[i]
        genuine.append(next((c.score for c in answer.candidates if c.identity == own), 0.0))
        impostor.append(next((c.score for c in answer.candidates if c.identity != own), 0.0))
    g, m = np.asarray(genuine), np.asarray(impostor)
    threshold, accuracy = best_balanced_threshold(g, m)
    return ThresholdFit(threshold, accuracy, g, m)


def best_balanced_threshold(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """Threshold t maximising ``(mean(genuine >= t) + mean(impostor < t)) / 2``.

    Candidates are midpoints between consecutive distinct scores (and just above the largest);
    ties go to the smallest threshold. Returns ``(t, balanced accuracy)``.
    """
    values = np.unique(np.concatenate([genuine, impostor]))
    candidates = np.concatenate([[values[0]], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-9]])
    accept = (genuine[None, :] >= candidates[:, None]).mean(axis=1)
    reject = (impostor[None, :] < candidates[:, None]).mean(axis=1)
    balanced = (accept + reject) / 2
    best = int(np.argmax(balanced))
    return float(candidates[best]), float(balanced[best])
