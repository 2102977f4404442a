"""A picture of why two photos match: side by side, with the keypoint pairs the engine
verified (stored with the candidate) drawn as lines between them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from photoid.data.images import load_image

HEIGHT = 320
GAP = 8
LINE = (255, 200, 0)
POINT = (0, 200, 0)


def draw_matches(
    left: np.ndarray, right: np.ndarray, pairs: Sequence[Sequence[float]]
) -> np.ndarray:
    """``left`` and ``right`` (RGB ``(H, W, 3)`` uint8) scaled to ``HEIGHT`` px high, side by
    side ``GAP`` px apart, with a line per pair ``[lx, ly, rx, ry]`` (pixels of each photo).
    Returns the RGB canvas ``(HEIGHT, W, 3)`` uint8."""
    scales = [HEIGHT / image.shape[0] for image in (left, right)]
    resized = [
        cv2.resize(image, (max(1, round(image.shape[1] * s)), HEIGHT), interpolation=cv2.INTER_AREA)
        for image, s in zip((left, right), scales, strict=True)
    ]
    shift = resized[0].shape[1] + GAP
    canvas = np.full((HEIGHT, shift + resized[1].shape[1], 3), 255, np.uint8)
    canvas[:, : resized[0].shape[1]] = resized[0]
    canvas[:, shift:] = resized[1]
    for lx, ly, rx, ry in pairs:
        start = (round(lx * scales[0]), round(ly * scales[0]))
        end = (shift + round(rx * scales[1]), round(ry * scales[1]))
        cv2.line(canvas, start, end, LINE, 1, cv2.LINE_AA)
        cv2.circle(canvas, start, 3, POINT, -1, cv2.LINE_AA)
        cv2.circle(canvas, end, 3, POINT, -1, cv2.LINE_AA)
    return canvas


def match_picture(query: Path, gallery: Path, pairs: Sequence[Sequence[float]]) -> bytes:
    """PNG bytes of the query photo and the gallery photo with the matched keypoint ``pairs``
    (``[[qx, qy, gx, gy], ...]`` in pixels of each original photo) drawn between them."""
    canvas = draw_matches(load_image(query), load_image(gallery), pairs)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("OpenCV could not encode the match picture as PNG")
    return bytes(encoded.tobytes())
