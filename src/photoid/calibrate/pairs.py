"""(score, same individual?) pairs from ranked candidate lists whose right answer is known.

Each query contributes its top ``k`` candidate identities: label 1 when the candidate is the
query's own identity, else 0. A query whose individual is absent (``new_individual``, or any
identity not among its candidates) contributes only 0s, as a new individual's photo does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from photoid.core import Identification


@dataclass(frozen=True)
class ScorePairs:
    """Candidate pairs, arrays of length ``P``.

    ``scores``: float64 engine scores; ``same``: bool, the candidate is the query's identity;
    ``query``: int64 index of the query each pair came from (keeps a query's pairs together
    when cross-validating); ``rank``: int64 0-based position of the candidate in its list.
    """

    scores: np.ndarray
    same: np.ndarray
    query: np.ndarray
    rank: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.size)

    def subset(self, mask: np.ndarray) -> ScorePairs:
        """The pairs where the ``(P,)`` bool ``mask`` is true."""
        return ScorePairs(self.scores[mask], self.same[mask], self.query[mask], self.rank[mask])


def pairs_from_rankings(
    truth: Sequence[str],
    ranked: Sequence[Sequence[str]],
    scores: Sequence[Sequence[float]] | np.ndarray,
    k: int = 5,
) -> ScorePairs:
    """Pairs from ``N`` queries: ``ranked[i]`` candidate identities best first and ``scores[i]``
    their scores (at least as many as candidates; extra columns, e.g. padding, are ignored)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if not len(truth) == len(ranked) == len(scores):
        raise ValueError(
            f"truth ({len(truth)}), ranked ({len(ranked)}) and scores ({len(scores)}) need one "
            "entry per query"
        )
    values: list[float] = []
    same: list[bool] = []
    query: list[int] = []
    rank: list[int] = []
    for i, (own, names, row) in enumerate(zip(truth, ranked, scores, strict=True)):
        names = list(names)[:k]
        if len(row) < len(names):
            raise ValueError(f"query {i} has {len(names)} candidates but {len(row)} scores")
        for j, name in enumerate(names):
            values.append(float(row[j]))
            same.append(name == own)
            query.append(i)
            rank.append(j)
    return ScorePairs(
        np.asarray(values, np.float64),
        np.asarray(same, bool),
        np.asarray(query, np.int64),
        np.asarray(rank, np.int64),
    )


def pairs_from_identifications(
    truth: Sequence[str], answers: Sequence[Identification], k: int = 5
) -> ScorePairs:
    """Pairs from each answer's candidates (local or deep engine) and the query's identity."""
    ranked = [[c.identity for c in answer.candidates] for answer in answers]
    scores = [[c.score for c in answer.candidates] for answer in answers]
    return pairs_from_rankings(truth, ranked, scores, k)
