"""Engine scores -> probability that the candidate is the query's individual.

Two methods (Zadrozny & Elkan, KDD 2002; Platt 1999): ``isotonic`` fits a non-decreasing step
function (sklearn ``IsotonicRegression``), applied by linear interpolation between its
thresholds and clipped outside them; ``logistic`` fits ``sigmoid(a * f(score) + b)`` (sklearn
``LogisticRegression``). ``f`` is a feature transform chosen per engine (:data:`ENGINE_TRANSFORMS`):
``identity`` for the deep engine's cosine similarities in ``[-1, 1]`` and, measured, for the local
engine's sums of LNBNN inlier weights too (CTai_subset, 5-fold ECE over gallery queries: 0.021 on
the raw score, 0.027 on ``log1p``; most scores are 0-10 there, where ``log1p`` is nearly linear);
``log1p`` suits raw inlier counts, long-tailed (200 inliers are not 10x as certain as 20).
Isotonic calibration is unchanged by a monotone transform; it is stored for the record.
Probabilities stay within ``[eps, 1 - eps]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from photoid.errors import PhotoidError

Method = Literal["isotonic", "logistic"]
EPSILON = 1e-3


def _log1p(scores: np.ndarray) -> np.ndarray:
    return np.asarray(np.log1p(np.maximum(scores, 0.0)), np.float64)


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda scores: scores,
    "log1p": _log1p,
}
ENGINE_TRANSFORMS: dict[str, str] = {
    "local": "identity",
    "deep": "identity",
    "verifier": "identity",
}


@dataclass(frozen=True)
class Calibrator:
    """A fitted calibration: ``method``, feature ``transform`` and the method's parameters.

    isotonic: ``x`` (transformed score thresholds, increasing) and ``y`` (probabilities there);
    logistic: ``x = [a]`` (slope) and ``y = [b]`` (intercept). Both float64 arrays.
    """

    method: Method
    transform: str
    x: np.ndarray
    y: np.ndarray

    def predict(self, scores: np.ndarray | list[float]) -> np.ndarray:
        """Probabilities ``(n,)`` float64 in ``[eps, 1 - eps]`` for ``(n,)`` raw engine scores."""
        features = TRANSFORMS[self.transform](np.asarray(scores, np.float64))
        if self.method == "isotonic":
            out = np.interp(features, self.x, self.y)
        else:
            out = 1.0 / (1.0 + np.exp(-(self.x[0] * features + self.y[0])))
        return np.asarray(np.clip(out, EPSILON, 1.0 - EPSILON), np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "transform": self.transform,
            "x": self.x.tolist(),
            "y": self.y.tolist(),
        }


def fit_calibrator(
    scores: np.ndarray, same: np.ndarray, method: Method = "isotonic", transform: str = "identity"
) -> Calibrator:
    """Fit on ``(P,)`` float scores and their ``(P,)`` bool labels (candidate is the query's
    individual). With a single class in ``same`` the fit is the constant share of positives."""
    if transform not in TRANSFORMS:
        raise PhotoidError(f"unknown score transform {transform!r}; known: {sorted(TRANSFORMS)}")
    if method not in FITTERS:
        raise PhotoidError(f"unknown calibration method {method!r}; known: {sorted(FITTERS)}")
    labels = np.asarray(same, bool)
    if labels.size == 0:
        raise PhotoidError("no (score, same?) pairs to calibrate on: the gallery gave no answers")
    features = TRANSFORMS[transform](np.asarray(scores, np.float64))
    x, y = FITTERS[method](features, labels)
    return Calibrator(method, transform, x, y)


def _fit_isotonic(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    model = IsotonicRegression(y_min=EPSILON, y_max=1.0 - EPSILON, out_of_bounds="clip")
    model.fit(features, labels.astype(np.float64))
    return np.asarray(model.X_thresholds_, np.float64), np.asarray(model.y_thresholds_, np.float64)


def _fit_logistic(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if labels.all() or not labels.any():
        share = float(np.clip(labels.mean(), EPSILON, 1.0 - EPSILON))
        return np.zeros(1), np.array([np.log(share / (1.0 - share))])
    # Nearly unregularised: one slope and one intercept, and many pairs.
    model = LogisticRegression(C=1e4, max_iter=1000)
    model.fit(features[:, None], labels)
    return np.asarray(model.coef_[0], np.float64), np.asarray(model.intercept_, np.float64)


FITTERS: dict[str, Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "isotonic": _fit_isotonic,
    "logistic": _fit_logistic,
}


def calibrator_from_dict(data: object, source: str) -> Calibrator:
    """The inverse of :meth:`Calibrator.to_dict`; PhotoidError naming ``source`` if malformed."""
    if not isinstance(data, dict):
        raise PhotoidError(f"{source}: a calibrator must be a JSON object")
    method, transform = data.get("method"), data.get("transform")
    if method not in FITTERS or transform not in TRANSFORMS:
        raise PhotoidError(f"{source}: unknown method {method!r} or transform {transform!r}")
    try:
        x = np.asarray(data.get("x", []), np.float64)
        y = np.asarray(data.get("y", []), np.float64)
    except (TypeError, ValueError):
        x = y = np.zeros(0)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise PhotoidError(f"{source}: x and y must be equal-length non-empty lists of numbers")
    return Calibrator(method, transform, x, y)
