"""The types every stage shares: a box, the evidence of a match, a candidate, a ranking.

Plain data only; this module imports nothing heavy (numpy and the standard library), so the
command line, the catalog and every engine can use it without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]
"""``x, y, w, h`` in pixels of the original image (top-left corner, width, height)."""

NEW_INDIVIDUAL = "new_individual"
"""The identity an answer gives when the photo shows an individual not in the gallery."""

_NO_POINTS = np.zeros((0, 2), np.float32)


@dataclass(frozen=True)
class Match:
    """Evidence that a query matches one gallery image.

    ``query_points`` and ``gallery_points``: ``(m, 2)`` float32 x, y of the verified keypoint
    pairs, in pixels of each original (uncropped) image, pair i matched to pair i; empty for
    engines that compare whole photos. ``spread``: the smaller share (0 to 1) of either photo's
    keypoint area that the pairs cover (a match crowded into one spot proves little), where
    keypoints were matched; ``rejected``: why the pairs did not verify, where they did not.
    """

    image: str
    score: float
    inliers: int
    query_points: np.ndarray
    gallery_points: np.ndarray
    spread: float | None = None
    rejected: str | None = None

    @classmethod
    def photo(cls, image: str, score: float = 0.0) -> Match:
        """Evidence that names a gallery photo without keypoint pairs."""
        return cls(image, score, 0, _NO_POINTS, _NO_POINTS)


Evidence = Match


@dataclass(frozen=True)
class Candidate:
    """One identity of a ranking.

    ``score``: what the ranking is ordered by (an engine's raw score, or a probability for
    calibrated engines); ``best``: the gallery photo that supports it; ``probability``: the
    calibrated probability that this identity is the query's individual, where the engine
    estimates one.
    """

    identity: str
    score: float
    best: Match
    probability: float | None = None


@dataclass(frozen=True)
class Identification:
    """The answer for one query photo: candidates best first, or a warning why there are none.

    ``new_probability``: the probability that the photo shows an individual absent from the
    gallery, where the engine estimates one. ``shortlist``: the identities a re-ranking engine
    looked at closely (a failure with the right one absent lies in retrieval, with it present in
    verification), where the engine re-ranks.
    """

    query: str
    candidates: list[Candidate] = field(default_factory=list)
    keypoints: int = 0
    warning: str | None = None
    new_probability: float | None = None
    shortlist: tuple[str, ...] | None = None

    @property
    def top_score(self) -> float:
        """Score of the best candidate; 0 without candidates."""
        return self.candidates[0].score if self.candidates else 0.0


Ranking = Identification
