"""The gallery photos asked when an engine calibrates on its own gallery."""

from __future__ import annotations

import numpy as np


def left_out_rows(size: int, count: int, seed: int) -> list[int]:
    """A seeded sample of ``count`` gallery positions out of ``size`` (all when fewer),
    sorted, so that the same gallery and seed always give the same calibration queries."""
    order = np.random.default_rng(seed).permutation(size)
    return sorted(order[:count].tolist())
