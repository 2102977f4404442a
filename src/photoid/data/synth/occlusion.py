"""Things in front of the animal: a branch, a grass tuft, a bush, or a splash of foam.

Each maker returns ``(alpha, colour)``: an ``(H, W)`` float32 coverage in [0, 1] and an
``(H, W, 3)`` float32 RGB layer, sized so the occluder covers about ``area`` of the animal box.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from photoid.data.synth.noise import value_noise
from photoid.data.synth.scene import make_background

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1 and y1 exclusive
Occluder = Callable[
    [np.random.Generator, tuple[int, int], Box, float, float], tuple[np.ndarray, np.ndarray]
]


def _fixed(points: np.ndarray) -> np.ndarray:
    return (np.asarray(points) * 16).round().astype(np.int32)


def _speck(
    mask: np.ndarray, centre: np.ndarray, rng: np.random.Generator, scale: float, short: float
) -> None:
    """A filled ellipse (a leaf, a ragged-rim lobe) of 2-5 x 1-``short`` px times ``scale``,
    randomly turned, drawn into ``mask`` at ``centre``."""
    axes = (
        max(1, round(rng.uniform(2, 5) * scale)),
        max(1, round(rng.uniform(1, short) * scale)),
    )
    angle = float(rng.uniform(0, 180))
    cv2.ellipse(mask, tuple(int(v) for v in centre), axes, angle, 0, 360, 255, -1, cv2.LINE_AA)


def _branch(
    rng: np.random.Generator, shape: tuple[int, int], box: Box, area: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    centre = np.array(
        [rng.uniform(x0 + 0.2 * w, x1 - 0.2 * w), rng.uniform(y0 + 0.2 * h, y1 - 0.2 * h)]
    )
    angle = rng.uniform(0, np.pi)
    along = np.array([np.cos(angle), np.sin(angle)])
    reach = 1.2 * np.hypot(w, h)
    bow = np.array([-along[1], along[0]]) * rng.normal(0, 0.15) * reach
    t = np.linspace(-1, 1, 24)[:, None]
    path = centre + along * t * reach + bow * (1 - t**2)
    thickness = max(1, int(np.clip(area * w * h / max(w, h), 2 * scale, 0.3 * min(w, h))))
    alpha = np.zeros(shape, np.uint8)
    cv2.polylines(alpha, [_fixed(path)], False, 255, thickness, cv2.LINE_AA, 4)
    leaves = np.zeros(shape, np.uint8)
    for k in rng.integers(2, 22, int(rng.integers(2, 5))):  # twigs ending in leaf clusters
        direction = rng.uniform(0, 2 * np.pi)
        tip = path[k] + np.array([np.cos(direction), np.sin(direction)]) * rng.uniform(0.2, 0.4) * h
        cv2.line(
            alpha,
            tuple(_fixed(path[k])),
            tuple(_fixed(tip)),
            255,
            max(1, thickness // 2),
            cv2.LINE_AA,
            4,
        )
        for _ in range(int(rng.integers(3, 9))):
            _speck(leaves, tip + rng.normal(0, 0.06 * h, 2), rng, scale, 2.5)
    bark = (
        np.array([0.25, 0.18, 0.12], np.float32)
        * (1 + 0.3 * value_noise(rng, shape, 12.0, 2))[..., None]
    )
    green = np.array([0.18, 0.33, 0.10], np.float32) * rng.uniform(0.7, 1.4)
    leaf_alpha = leaves.astype(np.float32)[..., None] / 255.0
    colour = bark * (1 - leaf_alpha) + green * leaf_alpha
    return np.maximum(alpha, leaves).astype(np.float32) / 255.0, colour.astype(np.float32)


def _tuft(
    rng: np.random.Generator, shape: tuple[int, int], box: Box, area: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    height = rng.uniform(0.35, 0.7) * h
    spread = np.clip(area * w * h / height, 4 * scale, w)
    base_x = rng.uniform(x0 + spread / 2, x1 - spread / 2)
    count = int(np.clip(spread / scale, 10, 80))
    alpha = np.zeros(shape, np.uint8)
    shade = np.zeros(shape, np.uint8)
    for _ in range(count):
        root = np.array(
            [base_x + rng.uniform(-spread / 2, spread / 2), y1 + rng.uniform(0, 3) * scale]
        )
        lean = rng.normal(0, 0.35)
        tip = root + np.array([np.sin(lean), -np.cos(lean)]) * height * rng.uniform(0.5, 1.1)
        mid = (root + tip) / 2 + np.array([rng.normal(0, 0.1) * height, 0])
        thickness = max(1, round(rng.uniform(1, 2.5) * scale))
        value = int(rng.integers(60, 256))
        cv2.polylines(
            alpha, [_fixed(np.stack([root, mid, tip]))], False, 255, thickness, cv2.LINE_AA, 4
        )
        cv2.polylines(
            shade, [_fixed(np.stack([root, mid, tip]))], False, value, thickness, cv2.LINE_AA, 4
        )
    tone = shade.astype(np.float32)[..., None] / 255.0
    colour = (
        np.array([0.20, 0.32, 0.10], np.float32) * (1 - tone)
        + np.array([0.62, 0.62, 0.32], np.float32) * tone
    )
    return alpha.astype(np.float32) / 255.0, colour.astype(np.float32)


def _blob(
    rng: np.random.Generator, shape: tuple[int, int], box: Box, area: float, scale: float
) -> np.ndarray:
    """A ragged blob overlapping one side of the box, as an (H, W) uint8 coverage."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    radius = np.sqrt(area * w * h / np.pi) * 1.4  # about half the blob lies outside the box
    side = rng.integers(0, 4)
    edge_x = [x0, x1, rng.uniform(x0, x1), rng.uniform(x0, x1)][side]
    edge_y = [rng.uniform(y0, y1), rng.uniform(y0, y1), y1, y1][side]
    angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    radii = radius * (1 + 0.25 * rng.normal(0, 1, 32))
    points = np.stack([edge_x + radii * np.cos(angles), edge_y + 0.8 * radii * np.sin(angles)], 1)
    alpha = np.zeros(shape, np.uint8)
    cv2.fillPoly(alpha, [_fixed(points)], 255, cv2.LINE_AA, 4)
    for point in points[rng.random(32) < 0.7]:  # ragged rim
        _speck(alpha, point, rng, scale, 3.0)
    return alpha


def _bush(
    rng: np.random.Generator, shape: tuple[int, int], box: Box, area: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    alpha = _blob(rng, shape, box, area, scale)
    tint = rng.uniform(0.8, 1.4, 3)
    return alpha.astype(np.float32) / 255.0, make_background("foliage", rng, shape, tint, scale)


def _splash(
    rng: np.random.Generator, shape: tuple[int, int], box: Box, area: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    alpha = _blob(rng, shape, box, area, scale)
    foam = 0.75 + 0.2 * value_noise(rng, shape, 14.0, 2)
    colour = np.array([0.88, 0.93, 0.96], np.float32) * foam[..., None]
    soft = cv2.GaussianBlur(alpha, (0, 0), 1.0 * scale + 0.3).astype(np.float32) / 255.0
    return soft * (0.75 + 0.25 * foam), colour.astype(np.float32)


OCCLUDERS: dict[str, Occluder] = {
    "branch": _branch,
    "tuft": _tuft,
    "bush": _bush,
    "splash": _splash,
}


def make_occluder(
    kind: str,
    rng: np.random.Generator,
    shape: tuple[int, int],
    box: Box,
    area: float,
    scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``(alpha (H, W), colour (H, W, 3))`` float32 of occluder ``kind`` (a key of OCCLUDERS)."""
    return OCCLUDERS[kind](rng, shape, box, area, scale)
