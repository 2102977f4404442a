"""Plain data of the fused engine: its settings, the photos it is asked about, its answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from photoid.calibrate.calibrator import Method
from photoid.calibrate.groups import NEAR_DUPLICATE
from photoid.core import Identification
from photoid.data.table import Dataset
from photoid.errors import PhotoidError


@dataclass(frozen=True)
class FusedConfig:
    """``shortlist``: identities each engine puts forward per query; ``calibration_queries``:
    gallery photos used by leave-one-out at most (drawn with ``seed``); ``scales``: the longest
    side (pixels) of more local engines, each matching at its own scale beside the main one
    (LionData ``wd_split``, local + colour: top-1 0.600; with a second local engine at 768 px,
    0.632, though that engine alone scores 0.548); ``method``: each
    engine's calibrator; ``colour``: use the colour engine (HSV); ``hue_saturation``: a second
    colour engine over hue and saturation only, which a change of light moves less (fused
    top-1 / MAP@5 without -> with it: KoiVideo ``original_split``, whose light drifts between
    the gallery's frames and the queries', 0.643 / 0.707 -> 0.744 / 0.832; LionData
    ``wd_split`` 0.632 / 0.693 -> 0.645 / 0.694; CTai_subset ``wd_split`` 0.891 / 0.925 ->
    0.891 / 0.933; in place of the HSV engine rather than beside it, LionData falls to 0.613
    and CTai to 0.836); ``verifier``: with a deep model, a
    learned pair verifier on its embeddings (:mod:`photoid.fusion.verify`); ``keypoints``: the
    learned-keypoint engine (:mod:`photoid.keypoints`) re-ranking the RootSIFT engine's short list
    as one more input (off by default: a network pass per photo and per pair is slow on a CPU;
    see docs/benchmarks.md for what it adds); ``columns``: ranked
    candidates kept per query for the new-individual model; ``near_duplicate``: without an
    ``encounter`` or ``date`` column, two gallery photos of one identity whose grayscale
    thumbnails are more alike than this (and whose colours agree) are one group, left out
    together by leave-one-out (:mod:`photoid.calibrate.groups`)."""

    shortlist: int = 10
    scales: tuple[int, ...] = (768,)
    calibration_queries: int = 300
    method: Method = "isotonic"
    colour: bool = True
    hue_saturation: bool = True
    verifier: bool = True
    keypoints: bool = False
    seed: int = 0
    columns: int = 5
    near_duplicate: float = NEAR_DUPLICATE

    def __post_init__(self) -> None:
        if self.shortlist < 1 or self.calibration_queries < 2 or self.columns < 2:
            raise PhotoidError(
                "fusion: shortlist must be >= 1, calibration_queries and columns >= 2"
            )
        if not -1.0 <= self.near_duplicate <= 1.0:
            raise PhotoidError(
                f"fusion: near_duplicate is a cosine similarity in [-1, 1], got "
                f"{self.near_duplicate}"
            )


@dataclass(frozen=True)
class Queries:
    """Photos to identify: paths and the optional per-photo cells of a dataset."""

    paths: list[Path]
    names: list[str]
    bboxes: list[Any] | None = None
    viewpoints: list[Any] | None = None
    species: list[Any] | None = None

    def take(self, rows: Sequence[int]) -> Queries:
        """The photos at positions ``rows``."""

        def pick(cells: list[Any] | None) -> list[Any] | None:
            return None if cells is None else [cells[r] for r in rows]

        return Queries(
            [self.paths[r] for r in rows],
            [self.names[r] for r in rows],
            pick(self.bboxes),
            pick(self.viewpoints),
            pick(self.species),
        )

    @classmethod
    def of(cls, dataset: Dataset) -> Queries:
        return cls(
            dataset.paths(),
            [str(n) for n in dataset.table["image"]],
            dataset.cells("bbox"),
            dataset.cells("viewpoint"),
            dataset.cells("species"),
        )


@dataclass(frozen=True)
class FusedAnswers:
    """Answers to ``n`` queries: ``answers[i]`` candidates best first, each ``score`` the fused
    probability that it is the query's individual; ``new_probability``: ``(n,)`` float64, or
    None when the engine has no new-individual model."""

    answers: list[Identification]
    new_probability: np.ndarray | None
