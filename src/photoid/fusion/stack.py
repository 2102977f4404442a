"""Calibrated fusion: each engine's score becomes a probability by its own calibrator (isotonic
or logistic, one per rank bucket: :mod:`photoid.calibrate.ranked`), then one logistic regression
over the engines' log-odds gives the probability that a candidate is the query's individual.

The stacking weights say how far each engine is trusted once calibrated (two engines that agree
are not counted twice, unlike a product of probabilities); the result is itself a calibrated
probability on data like the data it was fitted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from photoid.calibrate.calibrator import Method, calibrator_from_dict
from photoid.calibrate.pairs import ScorePairs
from photoid.calibrate.ranked import RankedCalibrator, fit_ranked
from photoid.errors import PhotoidError
from photoid.fusion.scores import ScoreTable

FORMAT = "photoid-fusion-1"


@dataclass(frozen=True)
class CandidatePairs:
    """Candidate identities of queries as flat ``(P,)`` int64 arrays: ``query`` row and
    universe ``column``."""

    query: np.ndarray
    column: np.ndarray

    def __len__(self) -> int:
        return int(self.query.size)


def shortlist(tables: Sequence[ScoreTable], size: int) -> CandidatePairs:
    """Every identity that some engine ranks among its ``size`` best, per query."""
    best = np.min(np.stack([t.ranks for t in tables]), axis=0)
    query, column = np.nonzero(best < size)
    return CandidatePairs(query.astype(np.int64), column.astype(np.int64))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(p) - np.log1p(-p), np.float64)


@dataclass(frozen=True)
class FusionModel:
    """``calibrators[e]`` turns engine ``engines[e]``'s scores into probabilities; the fused
    probability is ``sigmoid(bias + sum_e weights[e] * logit(p_e))``."""

    engines: tuple[str, ...]
    calibrators: tuple[RankedCalibrator, ...]
    weights: tuple[float, ...]
    bias: float

    def engine_probabilities(
        self, tables: Sequence[ScoreTable], pairs: CandidatePairs
    ) -> np.ndarray:
        """``(P, E)`` float64 calibrated probability of each pair by each engine."""
        if len(tables) != len(self.engines):
            raise PhotoidError(
                f"the fusion was fitted on {len(self.engines)} engines "
                f"({', '.join(self.engines)}); {len(tables)} score tables given"
            )
        columns = []
        for table, calibrator in zip(tables, self.calibrators, strict=True):
            scores = table.scores[pairs.query, pairs.column]
            ranks = table.ranks[pairs.query, pairs.column]
            columns.append(calibrator.predict(scores, ranks))
        return np.stack(columns, axis=1) if columns else np.zeros((len(pairs), 0))

    def predict(self, tables: Sequence[ScoreTable], pairs: CandidatePairs) -> np.ndarray:
        """``(P,)`` float64 fused probability that each candidate is the query's individual."""
        features = _logit(self.engine_probabilities(tables, pairs))
        z = self.bias + features @ np.asarray(self.weights, np.float64)
        return np.asarray(1.0 / (1.0 + np.exp(-z)), np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "engines": list(self.engines),
            "calibrators": [c.to_dict() for c in self.calibrators],
            "weights": list(self.weights),
            "bias": self.bias,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "fusion") -> FusionModel:
        """Read what :meth:`to_dict` wrote; PhotoidError naming ``where`` when it is bad."""
        if data.get("format") != FORMAT:
            raise PhotoidError(f"{where}: not a photoid fusion model (format {FORMAT!r})")
        try:
            calibrators = tuple(
                RankedCalibrator(
                    tuple(
                        calibrator_from_dict(part, f"{where} engine {e} rank {r}")
                        for r, part in enumerate(entry["by_rank"])
                    )
                )
                for e, entry in enumerate(data["calibrators"])
            )
            return cls(
                tuple(str(name) for name in data["engines"]),
                calibrators,
                tuple(float(w) for w in data["weights"]),
                float(data["bias"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PhotoidError(f"{where}: malformed fusion model ({error})") from None


def fit_fusion(
    engines: Sequence[str],
    tables: Sequence[ScoreTable],
    pairs: CandidatePairs,
    same: np.ndarray,
    *,
    method: Method = "isotonic",
    buckets: int = 2,
) -> FusionModel:
    """Fit each engine's calibrator, then the stacking regression, on candidate ``pairs`` of
    labelled queries; ``same``: ``(P,)`` bool, the candidate is the query's individual."""
    if len(pairs) == 0 or not same.any() or same.all():
        raise PhotoidError(
            "cannot calibrate the fusion: the calibration queries gave "
            f"{int(same.sum())} right and {int((~same).sum())} wrong candidates; it needs both "
            "(a gallery with at least two photos of some individuals, and several individuals)"
        )
    calibrators = []
    for table in tables:
        scores = table.scores[pairs.query, pairs.column]
        ranks = table.ranks[pairs.query, pairs.column]
        calibrators.append(
            fit_ranked(ScorePairs(scores, same, pairs.query, ranks), method, "identity", buckets)
        )
    model = FusionModel(tuple(engines), tuple(calibrators), (1.0,) * len(tables), 0.0)
    features = _logit(model.engine_probabilities(tables, pairs))
    regression = LogisticRegression(C=1.0, max_iter=1000).fit(features, same)
    return FusionModel(
        tuple(engines),
        tuple(calibrators),
        tuple(float(w) for w in regression.coef_[0]),
        float(regression.intercept_[0]),
    )
