"""The result of one evaluation run: its metrics, every answer (for the report) and the
summary JSON that the CLI prints as its last line."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from photoid.core import Identification
from photoid.evaluation.skips import Skips, skipped_summary
from photoid.metrics import reliability_curve, shortlist_trace


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics of one run, and every answer for the report.

    ``truth``: each query's identity, ``new_individual`` when it is not in the gallery.
    ``predictions``: the top-5 identities per query after the new-individual decision.
    ``species_thresholds``: per-species thresholds used beside ``new_threshold`` (the global
    one); ``threshold_fit``: how an ``auto`` threshold was fitted, or None.
    ``skips``: the gallery photos and the queries left out because they could not be read
    (:mod:`photoid.evaluation.skips`); a skipped query counts as a miss.
    ``probabilities`` (calibrated engines only, else empty): per query, the probability that each
    entry of its ``predictions`` is right (``new_individual`` included), same order;
    ``new_probability``: per query, the probability that it shows a new individual;
    ``calibration``: how the calibration was fitted (JSON-ready), or None.
    """

    method: str
    dataset: str
    split_column: str
    gallery: int
    queries: int
    top1: float
    top5: float
    map5: float
    acc_known: float
    acc_new: float
    new_threshold: float | None
    oracle_threshold: float
    oracle_map5: float
    seconds: float
    gallery_seconds: float
    truth: list[str]
    predictions: list[list[str]]
    identifications: list[Identification]
    skips: tuple[Skips, ...] = ()
    species_thresholds: dict[str, float] = field(default_factory=dict)
    threshold_fit: dict[str, Any] | None = None
    probabilities: list[list[float]] = field(default_factory=list)
    new_probability: list[float] = field(default_factory=list)
    calibration: dict[str, Any] | None = None

    @property
    def skipped(self) -> list[str]:
        """Image cells of every skipped photo, gallery first."""
        return [photo.image for side in self.skips for photo in side.photos]

    def with_calibration(
        self,
        probabilities: list[list[float]],
        new_probability: list[float],
        calibration: dict[str, Any] | None,
    ) -> EvaluationResult:
        """A copy carrying calibrated probabilities (see the class docstring)."""
        return replace(
            self,
            probabilities=probabilities,
            new_probability=new_probability,
            calibration=calibration,
        )

    def held_out_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every prediction with a probability, as ``(P,)`` float64 probabilities, ``(P,)`` bool
        outcomes (the entry is the query's answer) and ``(P,)`` int64 ranks (0-based)."""
        p: list[float] = []
        right: list[bool] = []
        rank: list[int] = []
        for truth, names, values in zip(
            self.truth, self.predictions, self.probabilities, strict=False
        ):
            for j, (name, value) in enumerate(zip(names, values, strict=False)):
                p.append(value)
                right.append(name == truth)
                rank.append(j)
        return np.asarray(p, np.float64), np.asarray(right, bool), np.asarray(rank, np.int64)

    def summary(self) -> dict[str, Any]:
        """The numbers as one JSON-ready dict (the CLI prints it as its last line)."""
        summary: dict[str, Any] = {
            "method": self.method,
            "dataset": self.dataset,
            "split_column": self.split_column,
            "top1": round(self.top1, 4),
            "top5": round(self.top5, 4),
            "map5": round(self.map5, 4),
            "acc_known": _round(self.acc_known),
            "acc_new": _round(self.acc_new),
            "new_threshold": None if self.new_threshold is None else _round(self.new_threshold),
            "oracle_threshold": _round(self.oracle_threshold),
            "oracle_map5": round(self.oracle_map5, 4),
            "queries": self.queries,
            "gallery": self.gallery,
            "seconds": round(self.seconds, 2),
            "gallery_seconds": round(self.gallery_seconds, 2),
            "queries_per_second": round(self.queries / max(self.seconds, 1e-9), 3),
            **skipped_summary(self.skips),
        }
        trace = shortlist_trace(
            self.truth,
            [a.shortlist for a in self.identifications],
            [p[0] if p else None for p in self.predictions],
        )
        if trace is not None:
            summary["shortlist"] = trace.to_dict()
        if self.species_thresholds:
            summary["new_threshold_species"] = {
                name: _round(value) for name, value in self.species_thresholds.items()
            }
        if self.threshold_fit is not None:
            summary["new_threshold_fit"] = self.threshold_fit
        if self.probabilities:
            summary.update(_calibration_numbers(self))
        if self.calibration is not None:
            summary["calibration"] = self.calibration
        return summary


def _calibration_numbers(result: EvaluationResult, bins: int = 15) -> dict[str, Any]:
    """Held-out expected calibration error of the query answers' probabilities: over every
    top-5 entry (``ece``) and over the first one only (``ece_top1``)."""
    p, right, rank = result.held_out_pairs()
    if p.size == 0:
        return {}
    first = rank == 0
    return {
        "ece": round(reliability_curve(p, right, bins).ece, 4),
        "ece_top1": round(reliability_curve(p[first], right[first], bins).ece, 4),
    }


def _round(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 4)
