"""Procedural backgrounds: grass, dry savanna, foliage and rippled water.

Each maker returns an ``(H, W, 3)`` float32 RGB image in [0, 1]. ``tint`` (3 gains) is shared by
the photos of one encounter, so one sighting looks like one place and one day; ``scale`` is the
scene size / 256, so texture grain keeps its look at any size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from photoid.data.synth.noise import value_noise

Background = Callable[[np.random.Generator, tuple[int, int], np.ndarray, float], np.ndarray]


def _strokes(
    rng: np.random.Generator,
    image: np.ndarray,
    count: int,
    length: tuple[float, float],
    tilt: float,
    colours: np.ndarray,
) -> None:
    """Draw ``count`` near-vertical blades in place, longer toward the bottom (nearer)."""
    height, width = image.shape[:2]
    x0 = rng.uniform(0, width, count)
    y0 = rng.uniform(0, height, count)
    size = rng.uniform(*length, count) * (0.5 + y0 / height)
    angle = rng.normal(-np.pi / 2, tilt, count)
    x1, y1 = x0 + size * np.cos(angle), y0 + size * np.sin(angle)
    lines = np.stack([x0, y0, x1, y1], axis=1).reshape(-1, 2, 2) * 16
    groups = rng.integers(0, len(colours), count)
    for g, colour in enumerate(colours):
        pts = list(lines[groups == g].round().astype(np.int32))
        cv2.polylines(image, pts, False, colour.tolist(), 1, cv2.LINE_AA, 4)


def _grass(
    rng: np.random.Generator, shape: tuple[int, int], tint: np.ndarray, scale: float
) -> np.ndarray:
    base = np.array([0.30, 0.42, 0.16], np.float32) * tint
    field = 0.75 + 0.3 * value_noise(rng, shape, 4.0, 3)[..., None]
    image = np.ascontiguousarray(base * field, np.float32)
    colours = base * rng.uniform(0.55, 1.6, (5, 1)) * np.array([1.0, 1.0, 0.9], np.float32)
    _strokes(rng, image, int(shape[0] * shape[1] / 45), (4 * scale, 12 * scale), 0.3, colours)
    return image


def _savanna(
    rng: np.random.Generator, shape: tuple[int, int], tint: np.ndarray, scale: float
) -> np.ndarray:
    base = np.array([0.62, 0.52, 0.36], np.float32) * tint
    field = 0.8 + 0.25 * value_noise(rng, shape, 6.0, 4)[..., None]
    image = np.ascontiguousarray(base * field, np.float32)
    height, width = shape
    count = int(height * width / 400)  # pebbles and clods, bigger toward the bottom
    xs, ys = rng.integers(0, width, count), rng.integers(0, height, count)
    radii = np.maximum(1, np.round(rng.uniform(0.5, 2.5, count) * scale * (0.4 + ys / height)))
    tones = base * rng.uniform(0.55, 1.3, (count, 1))
    for x, y, radius, colour in zip(xs, ys, radii, tones.tolist(), strict=True):
        cv2.circle(image, (int(x), int(y)), int(radius), colour, -1, cv2.LINE_AA)
    colours = np.array([[0.80, 0.70, 0.45], [0.55, 0.47, 0.30], [0.70, 0.62, 0.38]], np.float32)
    _strokes(rng, image, int(height * width / 120), (4 * scale, 10 * scale), 0.5, colours * tint)
    return image


def _foliage(
    rng: np.random.Generator, shape: tuple[int, int], tint: np.ndarray, scale: float
) -> np.ndarray:
    base = np.array([0.12, 0.20, 0.08], np.float32) * tint
    image = np.ascontiguousarray(
        base * (0.8 + 0.4 * value_noise(rng, shape, 3.0, 2)[..., None]), np.float32
    )
    height, width = shape
    count = int(height * width / 90)
    xs, ys = rng.integers(0, width, count), rng.integers(0, height, count)
    long = np.maximum(1, np.round(rng.uniform(2, 6, count) * scale)).astype(int)
    short = np.maximum(1, np.round(rng.uniform(1, 3, count) * scale)).astype(int)
    tones = rng.uniform(0.7, 2.8, (count, 1)) * np.stack(
        [np.ones(count), rng.uniform(0.9, 1.25, count), np.full(count, 0.8)], axis=1
    )
    colours = np.clip(base * tones, 0.0, 1.0).tolist()
    angles = rng.uniform(0, 180, count).tolist()
    for k in range(count):
        centre, axes = (int(xs[k]), int(ys[k])), (int(long[k]), int(short[k]))
        cv2.ellipse(image, centre, axes, angles[k], 0, 360, colours[k], -1, cv2.LINE_AA)
    return image


def _water(
    rng: np.random.Generator, shape: tuple[int, int], tint: np.ndarray, scale: float
) -> np.ndarray:
    y = np.linspace(0.0, 1.0, shape[0], dtype=np.float32)[:, None]
    far = np.array([0.42, 0.52, 0.58], np.float32) * tint
    near = np.array([0.10, 0.22, 0.30], np.float32) * tint
    image = far * (1 - y[..., None]) + near * y[..., None]
    wobble = value_noise(rng, shape, 3.0, 2)
    frequency = rng.uniform(10.0, 16.0) * (1.8 - y)  # ripples per frame height, denser far away
    phase = 2 * np.pi * (y * frequency + 0.8 * wobble) + rng.uniform(0, 2 * np.pi)
    ripple = np.sin(phase) * (0.6 + 0.4 * value_noise(rng, shape, 6.0, 1))
    glint = np.clip(ripple, 0.0, 1.0) ** 6 * (value_noise(rng, shape, 8.0, 1) > 0.1)
    image = image * (1.0 + 0.25 * ripple[..., None]) + 0.45 * glint[..., None]
    return np.ascontiguousarray(image, np.float32)


@dataclass(frozen=True)
class Habitat:
    """A background maker and whether leaf shadows may dapple it."""

    make: Background
    dappled: bool


HABITATS: dict[str, Habitat] = {
    "grass": Habitat(_grass, dappled=True),
    "savanna": Habitat(_savanna, dappled=True),
    "foliage": Habitat(_foliage, dappled=True),
    "water": Habitat(_water, dappled=False),
}


def make_background(
    habitat: str, rng: np.random.Generator, shape: tuple[int, int], tint: np.ndarray, scale: float
) -> np.ndarray:
    """An ``(H, W, 3)`` float32 background of ``habitat`` (a key of :data:`HABITATS`)."""
    return np.clip(HABITATS[habitat].make(rng, shape, tint.astype(np.float32), scale), 0.0, 1.0)
