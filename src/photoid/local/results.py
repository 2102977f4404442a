"""What the local engine answers: ranked identities with scores and their evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Match:
    """Evidence that a query matches one gallery image.

    ``query_points`` and ``gallery_points``: ``(m, 2)`` float32 x, y of the verified keypoint
    pairs, in pixels of each original (uncropped) image, pair i matched to pair i.
    """

    image: str
    score: float
    inliers: int
    query_points: np.ndarray
    gallery_points: np.ndarray


@dataclass(frozen=True)
class Candidate:
    """One identity of the ranking; ``score`` aggregates its images' verified scores."""

    identity: str
    score: float
    best: Match


@dataclass(frozen=True)
class Identification:
    """The answer for one query photo: candidates best first, or a warning why there are none."""

    query: str
    candidates: list[Candidate] = field(default_factory=list)
    keypoints: int = 0
    warning: str | None = None

    @property
    def top_score(self) -> float:
        """Score of the best candidate; 0 without candidates."""
        return self.candidates[0].score if self.candidates else 0.0
