"""The one new-individual decision: when a query's answer starts with ``new_individual``.

The user's choice is one option with one meaning in every command and in the service
(:func:`parse_new_individual`):

- ``auto`` (the default): fitted once when the engine is fitted, on held-out rows when the split
  has them (``val``), else on the gallery itself (photos left out, some playing a new individual
  with their whole identity removed). An engine with calibrated probabilities decides by the
  probability of a new individual, placing ``new_individual`` where the expected MAP@5 is
  highest; an engine with raw scores decides by a score threshold fitted to maximise MAP@5. Both
  rules maximise the same thing.
- ``never``: ``new_individual`` is never answered (a closed-set catalog).
- a number: ``new_individual`` goes first when the best candidate's score is below it (the
  competitions' rule; for calibrated engines the score is a probability).

For calibrated engines the probability of a new individual assumes a share of new individuals
among the queries (the prior, fitted with the engine: the gallery's Good-Turing share, or 20%).
Where a batch of queries differs, the prior is a setting (``--new-prior 0.5``), or is
re-estimated from the batch itself (``--new-prior estimate``: EM over the known/new mixture,
Saerens et al. 2002), and every P(new) is moved to it by Bayes' rule.

The fitted policy is plain data saved with the engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from photoid.core import NEW_INDIVIDUAL, Candidate, Identification, Match
from photoid.decide.open_set import place_new_individual
from photoid.decide.prior import DEFAULT_PRIOR, adjust_prior, estimate_prior
from photoid.decide.threshold import SpeciesThresholds, apply_thresholds, fit_thresholds
from photoid.errors import PhotoidError

Rule = Literal["never", "threshold", "probability"]
Prior = float | Literal["estimate"] | None
"""The share of new individuals among queries: a number in (0, 1), ``"estimate"`` (from the
batch of queries), or None (as fitted)."""
DEFAULT_NEW_FRACTION = DEFAULT_PRIOR
"""Share of new individuals assumed where the gallery has no singleton to estimate it from."""


@dataclass(frozen=True)
class NewIndividualSetting:
    """What the user asked for: ``auto``, ``never`` or a fixed ``threshold``."""

    mode: Literal["auto", "never", "threshold"] = "auto"
    threshold: float | None = None
    prior: Prior = None

    def __str__(self) -> str:
        return str(self.threshold) if self.mode == "threshold" else self.mode


def parse_prior(text: str | float | None) -> Prior:
    """``--new-prior``: a share in (0, 1), ``"estimate"``, or None (as fitted)."""
    if text is None or (isinstance(text, str) and text.strip().lower() in ("", "fitted")):
        return None
    if isinstance(text, str) and text.strip().lower() == "estimate":
        return "estimate"
    try:
        value = float(text)
    except ValueError:
        raise PhotoidError(
            f"--new-prior {text!r}: give the share of new individuals among the queries "
            "(a number between 0 and 1) or 'estimate'"
        ) from None
    if not 0.0 < value < 1.0:
        raise PhotoidError(f"--new-prior {text!r}: the share must lie strictly between 0 and 1")
    return value


def parse_new_individual(text: str | float | None) -> NewIndividualSetting:
    """``"auto"``, ``"never"`` (also ``"none"``, ``"off"``) or a number; None means auto."""
    if text is None:
        return NewIndividualSetting()
    if isinstance(text, int | float):
        return NewIndividualSetting("threshold", float(text))
    lowered = text.strip().lower()
    if lowered in ("auto", ""):
        return NewIndividualSetting()
    if lowered in ("never", "none", "off"):
        return NewIndividualSetting("never")
    try:
        value = float(lowered)
    except ValueError:
        raise PhotoidError(
            f"--new-individual {text!r}: give 'auto', 'never' or a score threshold (a number)"
        ) from None
    if not np.isfinite(value):
        raise PhotoidError(f"--new-individual {text!r}: the threshold must be a finite number")
    return NewIndividualSetting("threshold", value)


@dataclass(frozen=True)
class NewIndividualPolicy:
    """A fitted decision. ``rule``: ``never``, ``threshold`` (``thresholds``, global and per
    species, on the candidates' scores) or ``probability`` (each ranking's
    ``new_probability``); ``fit``: how it was fitted (source, queries, new ones, and the
    fitted prior of a calibrated engine), for summaries; ``prior``: the share of new
    individuals to decide for when a call gives none (None: as fitted)."""

    rule: Rule = "never"
    thresholds: SpeciesThresholds | None = None
    fit: dict[str, Any] = field(default_factory=dict)
    prior: Prior = None

    @classmethod
    def never(cls) -> NewIndividualPolicy:
        return cls("never", None, {"source": "never"})

    @classmethod
    def fixed(cls, threshold: float) -> NewIndividualPolicy:
        return cls("threshold", SpeciesThresholds(threshold), {"source": "given"})

    @property
    def decides(self) -> bool:
        """Whether this policy can ever answer ``new_individual``."""
        return self.rule != "never"

    def decide(
        self,
        rankings: Sequence[Identification],
        species: Sequence[str | None] | None = None,
        k: int = 5,
        prior: Prior = None,
    ) -> list[Identification]:
        """Each ranking's top ``k``, ``new_individual`` inserted as a candidate where the
        policy puts it. Under ``probability`` every entry's score and ``probability`` are the
        chance that it is right (known candidates share ``1 - P(new)``), so the ``k`` sum to at
        most 1, and ``prior`` moves P(new) to another share of new individuals (see the module
        docstring). Rankings with a warning (unreadable photo) are returned unchanged."""
        if self.rule == "probability":
            chosen = self.prior if prior is None else prior
            return _by_probability(self.reprior(rankings, chosen), k)
        if self.rule == "never" or self.thresholds is None:
            return [_top(r, k) for r in rankings]
        thresholds = self.thresholds
        out = []
        for i, ranking in enumerate(rankings):
            if ranking.warning is not None:
                out.append(ranking)
                continue
            names = [c.identity for c in ranking.candidates]
            scores = np.array([_padded([c.score for c in ranking.candidates], k)])
            kind = None if species is None else [species[i]]
            decided = apply_thresholds([names], scores, thresholds, kind, k=k)[0]
            by_name = {c.identity: c for c in ranking.candidates}
            threshold = thresholds.for_species(kind[0] if kind else None)
            p_new = ranking.new_probability
            candidates = [
                by_name.get(str(name))
                or Candidate(NEW_INDIVIDUAL, threshold, Match.photo(""), probability=p_new)
                for name in decided
            ]
            out.append(replace(ranking, candidates=_shared(candidates, p_new)))
        return out

    def reprior(self, rankings: Sequence[Identification], prior: Prior) -> list[Identification]:
        """Rankings with P(new) moved from the fitted prior to ``prior`` (``"estimate"``: the
        batch's own share, by EM). Unchanged without a prior or a fitted one."""
        fitted = self.fit.get("prior")
        rows = [i for i, r in enumerate(rankings) if r.new_probability is not None]
        if prior is None or not isinstance(fitted, float) or not rows:
            return list(rankings)
        p_new = np.array([rankings[i].new_probability for i in rows], np.float64)
        target = estimate_prior(p_new, fitted) if prior == "estimate" else float(prior)
        moved = adjust_prior(p_new, fitted, target)
        out = list(rankings)
        for i, value in zip(rows, moved.tolist(), strict=True):
            out[i] = replace(out[i], new_probability=float(value))
        return out

    def summary(self) -> dict[str, Any]:
        """Plain numbers for the run's summary JSON."""
        out: dict[str, Any] = {"rule": self.rule, **self.fit}
        if self.prior is not None:
            out["decide_prior"] = self.prior
        if self.thresholds is not None:
            out["threshold"] = _finite(self.thresholds.global_threshold)
            if self.thresholds.per_species:
                out["per_species"] = {k: _finite(v) for k, v in self.thresholds.per_species.items()}
        return out


def predictions_of(decided: Sequence[Identification], k: int = 5) -> list[list[str]]:
    """The top-``k`` identity names of decided rankings (for the metrics)."""
    return [[c.identity for c in r.candidates[:k]] for r in decided]


def fit_threshold_policy(
    truth: Sequence[str],
    rankings: Sequence[Identification],
    gallery_counts: Counter[str],
    species: Sequence[str | None] | None = None,
    *,
    left_out: bool,
    new_fraction: float | None = None,
    seed: int = 0,
    source: str,
) -> NewIndividualPolicy:
    """A ``threshold`` policy maximising MAP@5 on calibration queries with known identities.

    ``rankings[i]``: query ``i`` ranked against the gallery (at least 6 candidates where it
    may play a new individual). ``left_out``: the queries are gallery photos ranked with their
    own photo(s) left out; then an identity with no other gallery photo is a new individual.
    Otherwise (held-out rows), a query whose identity is not in ``gallery_counts`` is one.
    Where none of the queries is new, ``new_fraction`` of them (default 20%, drawn with
    ``seed``) also play a new individual with their own identity dropped from their ranking:
    weaker evidence than real unseen individuals. Without usable queries the policy
    never decides (its ``fit`` says why).
    """
    rows = [i for i, r in enumerate(rankings) if r.warning is None]
    if not rows or len(gallery_counts) < 2:
        return NewIndividualPolicy("never", None, {"source": source, "why": "too few queries"})
    fraction = DEFAULT_NEW_FRACTION if new_fraction is None else new_fraction
    if not 0.0 <= fraction < 1.0:
        raise PhotoidError(f"new_fraction must be in [0, 1), got {fraction}")
    minimum = 2 if left_out else 1

    def is_new(i: int) -> bool:
        return gallery_counts.get(truth[i], 0) < minimum

    labels: list[str] = []
    ranked: list[list[str]] = []
    scores: list[np.ndarray] = []
    kinds: list[str | None] = []
    known = [i for i in rows if not is_new(i)]
    new = [i for i in rows if is_new(i)]
    for i in rows:
        names, values = _names_scores(rankings[i], truth[i] if is_new(i) else None)
        labels.append(NEW_INDIVIDUAL if is_new(i) else truth[i])
        ranked.append(names)
        scores.append(values)
        kinds.append(None if species is None else species[i])
    wanted = 0 if new else round(fraction / (1.0 - fraction) * len(known))
    played = np.random.default_rng(seed).permutation(known)[:wanted].tolist()
    for i in played:
        names, values = _names_scores(rankings[i], truth[i])
        labels.append(NEW_INDIVIDUAL)
        ranked.append(names)
        scores.append(values)
        kinds.append(None if species is None else species[i])
    fitted = fit_thresholds(labels, ranked, np.stack(scores), kinds if species else None)
    info = {
        "source": source,
        "queries": len(labels),
        "new": len(new) + len(played),
        "new_fraction": round(fraction, 4),
        "map5": {name or "global": round(v, 4) for name, v in fitted.map5.items()},
    }
    return NewIndividualPolicy("threshold", fitted, info)


def _names_scores(ranking: Identification, drop: str | None) -> tuple[list[str], np.ndarray]:
    """The first 5 names and scores (padded with -inf), ``drop`` removed first."""
    kept = [c for c in ranking.candidates if c.identity != drop][:5]
    return [c.identity for c in kept], np.asarray(_padded([c.score for c in kept], 5))


def _by_probability(rankings: Sequence[Identification], k: int) -> list[Identification]:
    out = []
    for ranking in rankings:
        if ranking.warning is not None or ranking.new_probability is None:
            out.append(_top(ranking, k))
            continue
        names = [c.identity for c in ranking.candidates]
        values = [c.score if c.probability is None else c.probability for c in ranking.candidates]
        row = np.zeros((1, max(k, len(values))), np.float64)
        row[0, : len(values)] = values
        placed, probabilities = place_new_individual(
            [names], row, np.array([ranking.new_probability]), k
        )
        by_name = {c.identity: c for c in ranking.candidates}
        candidates = []
        for name, p in zip(placed[0], probabilities[0], strict=True):
            found = by_name.get(name)
            if found is None:
                candidates.append(Candidate(NEW_INDIVIDUAL, p, Match.photo(""), probability=p))
            else:
                candidates.append(replace(found, score=p, probability=p))
        out.append(replace(ranking, candidates=candidates))
    return out


def _top(ranking: Identification, k: int) -> Identification:
    """The first ``k`` candidates; calibrated probabilities scaled to sum to at most 1 (the
    rest of the mass belongs to identities off the list)."""
    kept = ranking.candidates[:k]
    values = [c.probability for c in kept if c.probability is not None]
    total = max(1.0, float(sum(values)))
    if values and total > 1.0:
        kept = [
            c
            if c.probability is None
            else replace(c, score=c.probability / total, probability=c.probability / total)
            for c in kept
        ]
    return replace(ranking, candidates=kept)


def _shared(candidates: list[Candidate], p_new: float | None) -> list[Candidate]:
    """Calibrated known candidates' probabilities scaled to share ``1 - p_new`` (renormalised
    only where they add up to more than 1), so that a list sums to at most 1."""
    known = [c.probability for c in candidates if c.identity != NEW_INDIVIDUAL]
    if not known or any(p is None for p in known):
        return candidates
    mass = 1.0 - (p_new or 0.0)
    scale = mass / max(1.0, sum(p for p in known if p is not None))
    return [
        c
        if c.identity == NEW_INDIVIDUAL or c.probability is None
        else replace(c, probability=c.probability * scale)
        for c in candidates
    ]


def _finite(value: float) -> float | None:
    """``value`` rounded for JSON; None for an infinite threshold (``-inf``: never new)."""
    return round(float(value), 6) if np.isfinite(value) else None


def _padded(values: list[float], width: int) -> list[float]:
    return (list(values) + [-np.inf] * width)[:width]
