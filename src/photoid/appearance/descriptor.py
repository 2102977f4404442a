"""The colour descriptor: a joint HSV histogram, L1-normalised, square-rooted.

The square root turns the Hellinger kernel into a dot product of unit vectors (the histogram sums
to 1, so its square root has unit length), so a faiss inner-product index ranks by it.
Measured on the gallery of LionData ``wd_split`` by leave-one-out (nearest photo, top-1):
HSV 8x8x8 0.221, HSV 12x6x6 0.236, RGB 8x8x8 0.197; on KoiVideo's queries HSV 8x8x8 0.453
against 0.296 and 0.306, so 8x8x8 HSV is the default.
"""

from __future__ import annotations

import cv2
import numpy as np

BINS: tuple[int, int, int] = (8, 8, 8)
_RANGES = [0, 180, 0, 256, 0, 256]  # OpenCV's 8-bit hue is 0-179


def colour_histogram(pixels: np.ndarray, bins: tuple[int, int, int] = BINS) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB pixels -> ``(bins[0] * bins[1] * bins[2],)`` float32 unit vector.

    An empty image (no pixels) gives the uniform histogram's square root, not NaN.
    """
    size = int(np.prod(bins))
    if pixels.size == 0:
        return np.full(size, 1.0 / np.sqrt(size), np.float32)
    hsv = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2HSV)
    counts = cv2.calcHist([hsv], [0, 1, 2], None, list(bins), _RANGES).ravel()
    unit: np.ndarray = np.sqrt(counts / counts.sum()).astype(np.float32)
    return unit
