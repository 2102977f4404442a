"""Answers written as CSV (one row per query and candidate) or JSON (with the evidence)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from photoid.core import Identification
from photoid.errors import PhotoidError
from photoid.metrics import insert_new_individual

CSV_COLUMNS = (
    "query",
    "rank",
    "identity",
    "score",
    "probability",
    "inliers",
    "gallery_image",
    "warning",
)


def answers_to_rows(answers: list[Identification]) -> list[dict[str, Any]]:
    """Flat rows: one per (query, candidate); a query without candidates gets one empty row."""
    rows: list[dict[str, Any]] = []
    for answer in answers:
        if not answer.candidates:
            rows.append({"query": answer.query, "rank": "", "warning": answer.warning or ""})
        for rank, candidate in enumerate(answer.candidates, start=1):
            rows.append(
                {
                    "query": answer.query,
                    "rank": rank,
                    "identity": candidate.identity,
                    "score": round(candidate.score, 6),
                    "probability": _maybe(candidate.probability),
                    "inliers": candidate.best.inliers,
                    "gallery_image": candidate.best.image,
                    "warning": "",
                }
            )
    return rows


def answers_to_json(answers: list[Identification]) -> list[dict[str, Any]]:
    """Everything, including the matched keypoint pairs (x, y in original image pixels)."""
    return [
        {
            "query": a.query,
            "keypoints": a.keypoints,
            "warning": a.warning,
            "new_probability": a.new_probability,
            "candidates": [
                {
                    "identity": c.identity,
                    "score": c.score,
                    "probability": c.probability,
                    "gallery_image": c.best.image,
                    "inliers": c.best.inliers,
                    "query_points": _rounded(c.best.query_points),
                    "gallery_points": _rounded(c.best.gallery_points),
                }
                for c in a.candidates
            ],
        }
        for a in answers
    ]


def write_answers(answers: list[Identification], out: Path) -> Path:
    """Write by the suffix of ``out``: ``.csv`` or ``.json``."""
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, restval="")
            writer.writeheader()
            writer.writerows(answers_to_rows(answers))
    elif suffix == ".json":
        out.write_text(json.dumps(answers_to_json(answers), indent=1), encoding="utf-8")
    else:
        raise PhotoidError(f"{out}: --out must end in .csv or .json")
    return out


def _maybe(value: float | None) -> float | str:
    """A probability rounded for the CSV; empty where the engine gives none."""
    return "" if value is None else round(value, 6)


def _rounded(points: np.ndarray) -> list[list[float]]:
    """``(m, 2)`` points to 2 decimals, in float64 so float32 noise does not reach the JSON."""
    rounded: list[list[float]] = np.asarray(points, np.float64).round(2).tolist()
    return rounded


def write_submission(
    answers: list[Identification], out: Path, new_threshold: float | None = None, k: int = 5
) -> Path:
    """A Kaggle-style submission: ``image,predictions`` with ``k`` space-separated identities.

    With ``new_threshold``, ``new_individual`` is inserted where the scores fall below it (the
    competitions' rule); a query without candidates predicts ``new_individual`` alone.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "predictions"])
        for answer in answers:
            ranked = [c.identity for c in answer.candidates]
            scores = np.array([[c.score for c in answer.candidates] or [-np.inf]])
            if new_threshold is not None or not ranked:
                threshold = np.inf if new_threshold is None else new_threshold
                ranked = [str(x) for x in insert_new_individual([ranked], scores, threshold, k)[0]]
            writer.writerow([Path(answer.query).name, " ".join(ranked[:k])])
    return out
