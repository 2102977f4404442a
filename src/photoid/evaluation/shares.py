"""The probabilities a report shows beside one answer, made to add up: the listed individuals,
a new individual, and "another individual" (everyone off the list) share exactly 1.

An engine calibrates each candidate on its own (one-vs-rest: the probability that this one
identity is the query's individual), so candidates' values need not add up to at most 1; the
new-individual decision (:mod:`photoid.decide.policy`) shares the known mass ``1 - P(new)``
among them, but only where it places ``new_individual`` by probability. Where the listed values
and P(new) still add up to more than 1 (a policy that never answers ``new_individual``, a
threshold policy, P(new) moved to another prior), the known candidates are shown scaled to
share ``1 - P(new)``, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from photoid.core import NEW_INDIVIDUAL

_SLACK = 1e-6
"""Rounding the engine's sums may carry; beyond it, values are rescaled."""


@dataclass(frozen=True)
class Shares:
    """``listed``: ``(name, probability)`` per entry of the answer, in its order;
    ``unlisted_new``: P(new) where ``new_individual`` is not among the entries (else None);
    ``other``: the rest, for individuals off the list; ``rescaled``: the sum of the engine's
    values (listed and P(new)) where it was above 1 and the known entries were scaled down,
    else None. Everything but ``rescaled`` adds up to 1."""

    listed: list[tuple[str, float]]
    unlisted_new: float | None
    other: float
    rescaled: float | None = None


def answer_shares(names: list[str], values: list[float], p_new: float | None) -> Shares:
    """Consistent probabilities for an answer's ``names`` and their ``values`` (same order).

    ``p_new``: the query's P(new individual), used where ``new_individual`` is not listed; a
    listed ``new_individual`` keeps its own value.
    """
    pairs = list(zip(names, values, strict=False))
    listed_new = [v for n, v in pairs if n == NEW_INDIVIDUAL]
    new = listed_new[0] if listed_new else p_new
    new = min(max(new or 0.0, 0.0), 1.0)
    known = sum(max(v, 0.0) for n, v in pairs if n != NEW_INDIVIDUAL)
    total = known + new
    scale, rescaled = 1.0, None
    if total > 1.0 + _SLACK:
        scale = (1.0 - new) / known if known > 0 else 0.0
        rescaled = total
    listed = [(n, v if n == NEW_INDIVIDUAL else max(v, 0.0) * scale) for n, v in pairs]
    unlisted = None if listed_new or p_new is None else new
    other = max(0.0, 1.0 - sum(v for _, v in listed) - (unlisted or 0.0))
    return Shares(listed, unlisted, other, rescaled)


def percentages(values: list[float]) -> list[int]:
    """Whole percentages of ``values`` (adding up to 1) that add up to 100: each rounded down,
    then the largest remainders rounded up (Hamilton's method), so that what the page shows
    adds up too."""
    raw = np.asarray(values, np.float64) * 100.0
    floors = np.floor(raw + 1e-9)
    missing = round(float(100.0 - floors.sum()))
    order = np.argsort(-(raw - floors), kind="stable")
    for i in order[: max(0, missing)]:
        floors[i] += 1
    return [int(v) for v in floors]


def as_percent(value: float, shown: int) -> str:
    """``shown`` as ``"12%"``; ``"<1%"`` where a positive value rounds to 0."""
    return "<1%" if shown == 0 and value > 0.0 else f"{shown}%"
