"""Smooth random fields (value noise) used for coats, backgrounds, shadows and bending."""

from __future__ import annotations

import cv2
import numpy as np


def value_noise(
    rng: np.random.Generator, shape: tuple[int, int], cells: float, octaves: int = 1
) -> np.ndarray:
    """A smooth ``(H, W)`` float32 field with values in about ``[-1, 1]``.

    ``cells`` is the number of random lattice cells across the longer side at the coarsest
    octave; each further octave doubles it and halves the amplitude (fractal noise).
    """
    height, width = shape
    longest = max(height, width)
    total = np.zeros(shape, np.float32)
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        per_side = cells * 2**octave
        gy = max(2, int(np.ceil(per_side * height / longest)) + 1)
        gx = max(2, int(np.ceil(per_side * width / longest)) + 1)
        lattice = rng.uniform(-1.0, 1.0, (gy, gx)).astype(np.float32)
        total += amplitude * cv2.resize(lattice, (width, height), interpolation=cv2.INTER_CUBIC)
        norm += amplitude
        amplitude *= 0.5
    field: np.ndarray = np.clip(total / norm, -1.0, 1.0)
    return field


def smoothstep(x: np.ndarray, low: float | np.ndarray, high: float | np.ndarray) -> np.ndarray:
    """0 below ``low``, 1 above ``high``, a smooth cubic ramp between, as float32.

    ``low`` and ``high`` may be arrays broadcasting against ``x`` (per-pixel thresholds).
    """
    t = np.clip((x - low) / (high - low), 0.0, 1.0)
    ramp: np.ndarray = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    return ramp
