"""Pictures of evidence: a query beside a gallery image with matched keypoints joined by lines,
and the box around the animal (the ``bbox`` the engines cropped to) drawn on each."""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np

from photoid.core import Box
from photoid.data.images import load_image
from photoid.errors import ImageLoadError

BOX_COLOUR = (255, 210, 0)


def _fit(pixels: np.ndarray, height: int) -> tuple[np.ndarray, float]:
    scale = height / pixels.shape[0]
    width = max(1, round(pixels.shape[1] * scale))
    return cv2.resize(pixels, (width, height), interpolation=cv2.INTER_AREA), scale


def draw_pair(
    query: np.ndarray,
    gallery: np.ndarray,
    query_points: np.ndarray,
    gallery_points: np.ndarray,
    height: int = 220,
    max_lines: int = 60,
    query_box: Box | None = None,
    gallery_box: Box | None = None,
) -> np.ndarray:
    """Side-by-side RGB picture, both images scaled to ``height`` px, matches drawn as lines.

    ``query_points``/``gallery_points``: ``(m, 2)`` x, y in pixels of each original image;
    ``query_box``/``gallery_box``: the animal's box (x, y, w, h in those pixels), drawn in
    yellow where given.
    """
    left, left_scale = _fit(query, height)
    right, right_scale = _fit(gallery, height)
    gap = 8
    canvas = np.full((height, left.shape[1] + gap + right.shape[1], 3), 255, np.uint8)
    canvas[:, : left.shape[1]] = left
    canvas[:, left.shape[1] + gap :] = right
    shift = left.shape[1] + gap
    for box, scale, dx in ((query_box, left_scale, 0), (gallery_box, right_scale, shift)):
        if box is not None:
            x, y, w, h = (v * scale for v in box)
            corner0 = (round(x) + dx, round(y))
            corner1 = (round(x + w) + dx - 1, round(y + h) - 1)
            cv2.rectangle(canvas, corner0, corner1, BOX_COLOUR, 2, cv2.LINE_AA)
    rng = np.random.default_rng(0)
    for i in range(min(len(query_points), max_lines)):
        colour = tuple(int(c) for c in rng.integers(64, 256, 3))
        x0, y0 = (query_points[i] * left_scale).round().astype(int)
        x1, y1 = (gallery_points[i] * right_scale).round().astype(int)
        cv2.line(canvas, (int(x0), int(y0)), (int(x1) + shift, int(y1)), colour, 1, cv2.LINE_AA)
        cv2.circle(canvas, (int(x0), int(y0)), 3, colour, 1, cv2.LINE_AA)
        cv2.circle(canvas, (int(x1) + shift, int(y1)), 3, colour, 1, cv2.LINE_AA)
    return canvas


def load_or_blank(path: Path) -> np.ndarray:
    """The image, or a grey tile when it cannot be read (a report never fails on one image)."""
    try:
        return load_image(path)
    except ImageLoadError:
        return np.full((64, 64, 3), 200, np.uint8)


def to_data_uri(pixels: np.ndarray, quality: int = 85) -> str:
    """RGB pixels as a ``data:image/jpeg;base64,...`` URI for a self-contained HTML page."""
    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("could not encode the picture as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")
