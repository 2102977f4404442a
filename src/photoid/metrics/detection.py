"""Detection metrics, pure numpy: box overlap and the recall of true boxes at an IoU.

Boxes are ``(N, 4)`` arrays of corners ``x0, y0, x1, y1`` in pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def corners(boxes: Sequence[tuple[float, float, float, float] | None]) -> np.ndarray:
    """``(N, 4)`` corners of the ``(x, y, w, h)`` boxes given, None ones left out."""
    kept = [(x, y, x + w, y + h) for x, y, w, h in (b for b in boxes if b is not None)]
    return np.array(kept, np.float64).reshape(-1, 4)


def box_iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``(N, M)`` intersection over union of every box of ``first`` with every box of
    ``second`` (0 where a box has no area)."""
    a = np.asarray(first, np.float64).reshape(-1, 4)
    b = np.asarray(second, np.float64).reshape(-1, 4)
    low = np.maximum(a[:, None, :2], b[None, :, :2])
    high = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(high - low, 0.0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0.0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0.0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    out: np.ndarray = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return out


def matched_truths(truth: np.ndarray, found: np.ndarray, iou: float = 0.5) -> np.ndarray:
    """``(N,)`` bool: which true boxes a detection covers at ``iou`` or more, each detection
    taken at most once, in the order given (best score first), greedily as in PASCAL VOC."""
    truth = np.asarray(truth, np.float64).reshape(-1, 4)
    hit = np.zeros(len(truth), bool)
    if len(truth) == 0:
        return hit
    overlaps = box_iou(found, truth)
    for row in overlaps:
        free = np.where(hit, -1.0, row)
        best = int(np.argmax(free))
        if free[best] >= iou:
            hit[best] = True
    return hit


def detection_recall(
    truths: Sequence[np.ndarray], founds: Sequence[np.ndarray], iou: float = 0.5
) -> float:
    """The share of all true boxes of all photos that a detection of the same photo covers at
    ``iou`` or more (:func:`matched_truths`); nan without any true box."""
    hits = [matched_truths(t, f, iou) for t, f in zip(truths, founds, strict=True)]
    total = sum(len(h) for h in hits)
    return float(sum(int(h.sum()) for h in hits) / total) if total else float("nan")
