"""Where a re-ranking engine's misses come from: retrieval (the true identity never reached its
short list) or verification (it was there, yet did not come first)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from photoid.core import NEW_INDIVIDUAL


@dataclass(frozen=True)
class ShortlistTrace:
    """Counts over the known-individual queries that carry a short list.

    ``queries``: such queries; ``recall``: the share whose true identity was in the short list
    (NaN without queries); ``missed_retrieval``: wrong at top-1 and absent from the short list;
    ``missed_verification``: wrong at top-1 though present in it.
    """

    queries: int
    recall: float
    missed_retrieval: int
    missed_verification: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "queries": self.queries,
            "recall": round(self.recall, 4),
            "missed_retrieval": self.missed_retrieval,
            "missed_verification": self.missed_verification,
        }


def shortlist_trace(
    truth: Sequence[str],
    shortlists: Sequence[Sequence[str] | None],
    first: Sequence[str | None],
) -> ShortlistTrace | None:
    """Trace each query's miss to retrieval or verification.

    ``truth``: per query, its identity (``new_individual`` when absent from the gallery: skipped);
    ``shortlists``: per query, the identities re-ranked (None: the engine kept no short list,
    skipped); ``first``: per query, the top-1 answer. None when no query counts.
    """
    if not len(truth) == len(shortlists) == len(first):
        raise ValueError(
            f"truth, shortlists and first differ in length: "
            f"{len(truth)}, {len(shortlists)}, {len(first)}"
        )
    counted = inside = retrieval = verification = 0
    for name, short, top in zip(truth, shortlists, first, strict=True):
        if short is None or name == NEW_INDIVIDUAL:
            continue
        counted += 1
        found = name in short
        inside += found
        if top != name:
            verification += found
            retrieval += not found
    if counted == 0:
        return None
    return ShortlistTrace(counted, inside / counted, retrieval, verification)
