"""One calibrator per candidate rank bucket, saved and loaded as JSON.

The same score means more at rank 1 than at rank 3: the top candidate of a gallery photo is its
own individual most of the time even when nothing was verified (score 0, order from the
unverified vote), while lower ranks with that score almost never are. Pooled over ranks, a
calibrator averages these apart (CTai_subset, local engine: ECE of top-1 probabilities 0.22
pooled, 0.06-0.08 with rank 1 calibrated on its own). Bucket ``b`` holds rank ``b`` (0-based);
the last bucket also holds every later rank.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from photoid.calibrate.calibrator import Calibrator, Method, calibrator_from_dict, fit_calibrator
from photoid.calibrate.pairs import ScorePairs
from photoid.errors import PhotoidError

FORMAT = "photoid-calibration-1"


@dataclass(frozen=True)
class RankedCalibrator:
    """``calibrators[b]`` turns the scores of candidates in rank bucket ``b`` into probabilities."""

    calibrators: tuple[Calibrator, ...]

    def buckets(self, ranks: np.ndarray) -> np.ndarray:
        """Bucket ``(n,)`` int64 of each 0-based candidate rank."""
        return np.minimum(np.asarray(ranks, np.int64), len(self.calibrators) - 1)

    def predict(self, scores: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """Probabilities ``(n,)`` float64 of ``(n,)`` raw candidate scores at ``(n,)`` ranks."""
        scores = np.asarray(scores, np.float64)
        bucket = self.buckets(ranks)
        out = np.empty(scores.shape, np.float64)
        for b, calibrator in enumerate(self.calibrators):
            mine = bucket == b
            out[mine] = calibrator.predict(scores[mine])
        return out

    def predict_ranking(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, m)`` for ``(n, m)`` scores of ranked candidates (column = rank)."""
        scores = np.asarray(scores, np.float64)
        ranks = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
        return self.predict(scores.ravel(), ranks.ravel()).reshape(scores.shape)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "by_rank": [c.to_dict() for c in self.calibrators]}

    def save(self, path: Path) -> Path:
        """Write as JSON to ``path`` (folders created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        return path


def fit_ranked(
    pairs: ScorePairs,
    method: Method = "isotonic",
    transform: str = "identity",
    buckets: int = 2,
) -> RankedCalibrator:
    """Fit one calibrator per rank bucket on ``pairs``; fewer buckets when fewer ranks occur."""
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, got {buckets}")
    if len(pairs) == 0:
        raise PhotoidError("no (score, same?) pairs to calibrate on: the gallery gave no answers")
    used = min(buckets, int(pairs.rank.max()) + 1)
    bucket = np.minimum(pairs.rank, used - 1)
    fitted: list[Calibrator] = []
    for b in range(used):
        mine = bucket == b
        if not mine.any():  # a rank absent from these pairs gets the pooled calibration
            mine = np.ones(len(pairs), bool)
        fitted.append(fit_calibrator(pairs.scores[mine], pairs.same[mine], method, transform))
    return RankedCalibrator(tuple(fitted))


def load_calibration(path: Path) -> RankedCalibrator:
    """Read what :meth:`RankedCalibrator.save` wrote; PhotoidError naming the file if bad."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PhotoidError(f"{path}: cannot read the calibration ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PhotoidError(f"{path}: not a photoid calibration (expected format {FORMAT!r})")
    parts = data.get("by_rank")
    if not isinstance(parts, list) or not parts:
        raise PhotoidError(f"{path}: 'by_rank' must be a non-empty list of calibrators")
    return RankedCalibrator(
        tuple(calibrator_from_dict(part, f"{path} rank {i + 1}") for i, part in enumerate(parts))
    )
