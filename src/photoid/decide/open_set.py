"""The open-set decision from calibrated probabilities: the probability that a query shows a new
individual (a logistic model on features of its ranking, per species where the validation set
allows), and where ``new_individual`` goes in its top ``k`` so that the expected MAP@k is largest.

Input everywhere is ``probabilities``: an ``(n, m)`` float64 array holding, per query, the
calibrated probability that each of its ranked candidate identities (best first, ``m >= 1``
columns, padded with 0.0 where a query has fewer candidates) is the query's individual.
The class-weighted fit follows the prior-shift correction of Saerens et al., Neural Computation
2002: weighting the classes sets the prior the posterior is calibrated for, and
:meth:`NewIndividualModel.with_prior` moves it to another (:mod:`photoid.decide.prior`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from photoid.decide.prior import DEFAULT_PRIOR, prior_log_odds_shift
from photoid.errors import PhotoidError
from photoid.metrics import NEW_INDIVIDUAL

EPSILON = 1e-4
FEATURES = ("logit_p1", "logit_p2", "logit_sum")


def new_features(probabilities: np.ndarray) -> np.ndarray:
    """``(n, 3)`` float64 features of each query's ranking that tell a new individual apart.

    ``logit_p1``: logit of the best candidate's probability (low for a new individual);
    ``logit_p2``: logit of the second one's (a missing or 0-padded second candidate counts as
    ``EPSILON``), which tells a confident known answer (p2 low, p1 high) from a spread one;
    ``logit_sum``: logit of the probability mass on all ``m`` candidates, clipped to
    ``[EPSILON, 1 - EPSILON]`` (how much of the answer the gallery accounts for).
    """
    p = _matrix(probabilities, "probabilities")
    second = p[:, 1] if p.shape[1] > 1 else np.zeros(p.shape[0])
    return np.stack([_logit(p[:, 0]), _logit(second), _logit(p.sum(axis=1))], axis=1)


@dataclass(frozen=True)
class Logistic:
    """``P(new) = sigmoid(coef . features + intercept)`` on :func:`new_features`; ``known`` and
    ``new``: the validation queries it was fitted on."""

    coef: tuple[float, ...]
    intercept: float
    known: int
    new: int

    def predict(self, features: np.ndarray) -> np.ndarray:
        """``(n,)`` float64 P(new) for ``(n, 3)`` features."""
        z = features @ np.asarray(self.coef, np.float64) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)), np.float64)

    def shifted(self, log_odds: float) -> Logistic:
        """The same model with ``log_odds`` added to every prediction's log-odds."""
        return replace(self, intercept=self.intercept + log_odds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "coef": list(self.coef),
            "intercept": self.intercept,
            "known": self.known,
            "new": self.new,
        }


@dataclass(frozen=True)
class NewIndividualModel:
    """P(new individual): a global logistic model and, per species with enough validation
    queries, its own; calibrated for a query stream whose share of new individuals is
    ``prior`` (``new_fraction`` at fitting, or what :meth:`with_prior` set)."""

    overall: Logistic
    prior: float
    per_species: dict[str, Logistic] = field(default_factory=dict)

    def with_prior(self, prior: float) -> NewIndividualModel:
        """The model calibrated for a stream whose share of new individuals is ``prior`` in
        ``(0, 1)``: every log-odds moves by ``logit(prior) - logit(self.prior)`` (Bayes' rule
        for a change of class priors; estimate a batch's share with
        :func:`photoid.decide.prior.estimate_prior`)."""
        shift = prior_log_odds_shift(self.prior, prior)
        return replace(
            self,
            overall=self.overall.shifted(shift),
            prior=float(prior),
            per_species={name: m.shifted(shift) for name, m in self.per_species.items()},
        )

    def predict(
        self, probabilities: np.ndarray, species: Sequence[str | None] | None = None
    ) -> np.ndarray:
        """``(n,)`` float64 P(new) for ``(n, m)`` probabilities; ``species`` (``n`` names or
        None) picks each query's species model where one was fitted, else the global one."""
        features = new_features(probabilities)
        out = self.overall.predict(features)
        if species is None:
            return out
        if len(species) != features.shape[0]:
            raise PhotoidError(
                f"{len(species)} species names for {features.shape[0]} queries; give one each"
            )
        names = np.asarray([s or "" for s in species], dtype=object)
        for name, model in self.per_species.items():
            rows = names == name
            if rows.any():
                out[rows] = model.predict(features[rows])
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: plain floats, ints and lists."""
        return {
            "features": list(FEATURES),
            "prior": self.prior,
            "overall": self.overall.to_dict(),
            "per_species": {name: m.to_dict() for name, m in self.per_species.items()},
        }

    @classmethod
    def from_dict(cls, data: object, source: str = "new-individual model") -> NewIndividualModel:
        """The inverse of :meth:`to_dict`; PhotoidError naming ``source`` if malformed. Models
        saved before ``prior`` was stored give it as ``new_fraction``, or not at all (then
        :data:`~photoid.decide.prior.DEFAULT_PRIOR`)."""
        if not isinstance(data, Mapping) or data.get("features") != list(FEATURES):
            raise PhotoidError(
                f"{source}: not a new-individual model (expected an object with features "
                f"{list(FEATURES)}); refit it with this version of photoid"
            )
        species = data.get("per_species", {})
        if not isinstance(species, Mapping):
            raise PhotoidError(f"{source}: per_species must be an object")
        prior = data.get("prior", data.get("new_fraction", DEFAULT_PRIOR))
        if isinstance(prior, bool) or not isinstance(prior, int | float) or not 0 < prior < 1:
            raise PhotoidError(f"{source}: prior must be a number strictly between 0 and 1")
        return cls(
            _logistic_from_dict(data.get("overall"), f"{source}: overall"),
            float(prior),
            {str(n): _logistic_from_dict(m, f"{source}: species {n}") for n, m in species.items()},
        )


def fit_new_individual(
    known: np.ndarray,
    new: np.ndarray,
    *,
    new_fraction: float,
    species_known: Sequence[str | None] | None = None,
    species_new: Sequence[str | None] | None = None,
    min_queries: int = 20,
) -> NewIndividualModel:
    """Fit P(new) on validation queries.

    ``known``: ``(a, m)`` probabilities of queries whose individual is in the gallery; ``new``:
    ``(b, m)`` of queries that are not (the caller simulates them by removing the query's own
    identity from its ranking). The classes are weighted so that the new share of the weighted
    set is ``new_fraction`` in ``(0, 1)``: the posterior is then calibrated for a query stream
    with that share of new individuals, whatever ``b / (a + b)`` is. A species gets its own model
    when it has at least ``min_queries`` queries of each kind (``species_*``: one name or None
    per row); the others use the global model.
    """
    known_p = _matrix(known, "known")
    new_p = _matrix(new, "new")
    if known_p.shape[0] == 0 or new_p.shape[0] == 0:
        raise PhotoidError(
            f"P(new) needs validation queries of both kinds; got {known_p.shape[0]} known and "
            f"{new_p.shape[0]} new (simulate new ones by leaving their identity out)"
        )
    if not 0.0 < new_fraction < 1.0:
        raise PhotoidError(f"new_fraction must lie strictly between 0 and 1, not {new_fraction}")
    known_x, new_x = new_features(known_p), new_features(new_p)
    per_species: dict[str, Logistic] = {}
    if species_known is not None and species_new is not None:
        names_known = _names(species_known, known_x.shape[0], "species_known")
        names_new = _names(species_new, new_x.shape[0], "species_new")
        for name in sorted(set(names_known) & set(names_new) - {""}):
            rows_known, rows_new = names_known == name, names_new == name
            if min(rows_known.sum(), rows_new.sum()) >= min_queries:
                per_species[name] = _fit(known_x[rows_known], new_x[rows_new], new_fraction)
    overall = _fit(known_x, new_x, new_fraction)
    return NewIndividualModel(overall, float(new_fraction), per_species)


def expected_map_insert(p_candidates: np.ndarray, p_new: float, k: int = 5) -> int:
    """The position ``0..min(k, m)`` at which inserting ``new_individual`` into the ranking of
    ``m`` candidates maximises the expected AP@k; ties go to the later position.

    The probability that candidate ``j`` is right is ``(1 - p_new) * p_j / max(1, sum(p))``: the
    known mass ``1 - p_new`` shared in proportion to the candidates' probabilities, renormalised
    only where they add up to more than 1 (the rest belongs to identities off the list).
    ``new_individual`` is right with ``p_new``. With one right answer, AP@k of a list is
    ``1 / (r + 1)`` for the answer at 0-based position ``r < k``, so the expected AP@k is the sum
    over the first ``k`` entries of P(entry right) / (position + 1). The answer is a position in
    the full ranking before it is cut to ``k``: ``k`` (possible when ``m >= k``) means
    ``new_individual`` is not shown; ``m < k`` means it is appended after the last candidate.
    Candidates keep their order; where their probabilities descend, the answer is the place
    ``p_new`` takes among them in descending order (rearrangement inequality).
    """
    if k < 1:
        raise PhotoidError(f"k must be at least 1, not {k}")
    q = _normalised(np.asarray(p_candidates, np.float64), p_new)
    m = q.size
    weights = 1.0 / np.arange(1, k + 2)
    best, best_value = 0, -np.inf
    for r in range(min(k, m) + 1):
        # Candidates before r keep their places; those from r on move one down.
        value = float(np.sum(q[:r] * weights[:r]))
        if r < k:
            shifted = q[r : k - 1]
            value += p_new * weights[r] + float(
                np.sum(shifted * weights[r + 1 : r + 1 + shifted.size])
            )
        if value >= best_value - 1e-12:
            best, best_value = r, max(value, best_value)
    return best


def place_new_individual(
    ranked: Sequence[Sequence[str]],
    probabilities: np.ndarray,
    p_new: np.ndarray,
    k: int = 5,
) -> tuple[list[list[str]], list[list[float]]]:
    """Per query, its top ``k`` with ``new_individual`` inserted by :func:`expected_map_insert`,
    and beside each entry the probability that it is right (the candidates' renormalised
    values; ``new_individual``'s is ``p_new``). The candidates share at most the known mass
    ``1 - p_new``, so a query's values add up to at most 1 (up to rounding).

    ``ranked``: ``n`` lists of identities, best first; ``probabilities``: ``(n, m)`` theirs
    (columns beyond a list's length are ignored); ``p_new``: ``(n,)`` P(new individual).
    """
    p = _matrix(probabilities, "probabilities")
    new = np.asarray(p_new, np.float64).reshape(-1)
    if not len(ranked) == p.shape[0] == new.size:
        raise PhotoidError(
            f"{len(ranked)} rankings, {p.shape[0]} probability rows and {new.size} P(new) values: "
            "give one of each per query"
        )
    labels: list[list[str]] = []
    values: list[list[float]] = []
    for names, row, p_row_new in zip(ranked, p, new.tolist(), strict=True):
        length = min(len(names), row.size)
        q = _normalised(row[:length], p_row_new)
        position = expected_map_insert(row[:length], p_row_new, k)
        entries = [(str(name), float(v)) for name, v in zip(names[:length], q, strict=True)]
        entries.insert(position, (NEW_INDIVIDUAL, p_row_new))
        labels.append([name for name, _ in entries[:k]])
        values.append([value for _, value in entries[:k]])
    return labels, values


def _normalised(p: np.ndarray, p_new: float) -> np.ndarray:
    """``(m,)`` probabilities that each candidate is right, adding up to at most ``1 - p_new``:
    ``p`` scaled by the known mass, renormalised where it adds up to more than 1."""
    if not 0.0 <= p_new <= 1.0:
        raise PhotoidError(f"P(new) must lie in [0, 1], not {p_new}")
    return np.asarray((1.0 - p_new) * p / max(1.0, float(p.sum())), np.float64)


def _fit(known: np.ndarray, new: np.ndarray, new_fraction: float) -> Logistic:
    a, b = known.shape[0], new.shape[0]
    # Weights that sum to a + b keep the regularisation's strength independent of the share.
    weights = {0: (1.0 - new_fraction) * (a + b) / a, 1: new_fraction * (a + b) / b}
    # lbfgs leaves the intercept unpenalised, so the weighted mean of P(new) is new_fraction.
    model = LogisticRegression(C=1.0, class_weight=weights, max_iter=1000)
    model.fit(np.concatenate([known, new]), np.r_[np.zeros(a), np.ones(b)])
    coef = tuple(float(c) for c in model.coef_[0])
    return Logistic(coef, float(model.intercept_[0]), a, b)


def _logistic_from_dict(data: object, source: str) -> Logistic:
    try:
        if not isinstance(data, Mapping):
            raise TypeError
        coef = tuple(float(c) for c in data["coef"])
        fitted = Logistic(coef, float(data["intercept"]), int(data["known"]), int(data["new"]))
    except (KeyError, TypeError, ValueError) as error:
        raise PhotoidError(
            f"{source}: expected coef (list of {len(FEATURES)} numbers), intercept, known, new"
        ) from error
    if len(coef) != len(FEATURES):
        raise PhotoidError(f"{source}: coef has {len(coef)} numbers, expected {len(FEATURES)}")
    return fitted


def _names(species: Sequence[str | None], rows: int, what: str) -> np.ndarray:
    if len(species) != rows:
        raise PhotoidError(f"{what} has {len(species)} names for {rows} queries; give one each")
    return np.asarray([s or "" for s in species], dtype=object)


def _matrix(values: np.ndarray, what: str) -> np.ndarray:
    p = np.asarray(values, np.float64)
    if p.ndim != 2 or p.shape[1] == 0:
        raise PhotoidError(f"{what} must be an (n, m) array with m >= 1 columns, not {p.shape}")
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise PhotoidError(f"{what} must hold probabilities in [0, 1] (NaN is refused too)")
    return p


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, EPSILON, 1.0 - EPSILON)
    return np.asarray(np.log(clipped / (1.0 - clipped)), np.float64)
