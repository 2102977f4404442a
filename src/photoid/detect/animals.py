"""One box per animal out of a detector's raw detections."""

from __future__ import annotations

import numpy as np

from photoid.metrics.detection import box_iou


def animals(
    corners: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    several_iou: float,
    several_score: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Detections at or above ``threshold`` (each after the best also at or above
    ``several_score``), best first, leaving out those that overlap a better kept one by
    ``several_iou`` or more (parts of the same animal): ``(corners, scores)`` of one detection
    per animal."""
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    for index in order:
        if scores[index] < (max(threshold, several_score) if kept else threshold):
            break
        if kept and box_iou(corners[index : index + 1], corners[kept]).max() >= several_iou:
            continue
        kept.append(int(index))
    return corners[kept], scores[kept]
