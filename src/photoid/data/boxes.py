"""Boxes grown by a margin before cropping: a detector's box hugs the animal, and a fin's
trailing edge or a flank's outline at the box's border is part of what identifies it.

A box is ``(x, y, w, h)`` in pixels; the margin is a share of the box's own width and height
added on each side (0.1: 10% left and right, 10% above and below). Cropping clips the grown
box to the photo (:func:`photoid.data.images.crop`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace as replaced
from typing import Any

import pandas as pd

from photoid.core import Box
from photoid.data.table import Dataset
from photoid.errors import PhotoidError


def check_margin(margin: float) -> float:
    if not 0.0 <= margin <= 2.0:
        raise PhotoidError(f"crop margin {margin} must lie between 0 and 2 (a share of the box)")
    return margin


def grow_box(box: Box | None, margin: float) -> Box | None:
    """``box`` with ``margin`` x its width added left and right and x its height above and
    below; None stays None."""
    if box is None or margin == 0.0:
        return box
    x, y, w, h = box
    return (x - margin * w, y - margin * h, w * (1 + 2 * margin), h * (1 + 2 * margin))


def grown(boxes: Sequence[Any] | None, margin: float) -> list[Any] | None:
    """:func:`grow_box` on each cell (None without boxes)."""
    if boxes is None:
        return None
    return [grow_box(b, margin) for b in boxes]


def with_margin(dataset: Dataset, margin: float) -> Dataset:
    """``dataset`` (same rows, in memory) with every ``bbox`` grown by ``margin``."""
    check_margin(margin)
    if margin == 0.0 or "bbox" not in dataset.table.columns:
        return dataset
    table = dataset.table.copy()
    table["bbox"] = pd.Series(grown(list(table["bbox"]), margin), index=table.index, dtype=object)
    return replaced(dataset, table=table)
