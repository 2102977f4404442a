"""Individual markings painted on the canonical canvas: where identity lives.

Each function returns an ``(hc, 2 * hc, 3)`` float32 RGB coat in [0, 1] covering the whole canvas
(the silhouette cuts it out later). The species palette is fixed; what differs between two
individuals is the geometry: spot positions and sizes, stripe paths, scar positions.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from photoid.data.synth.body import NEUTRAL_POSE, FinShape, QuadrupedShape, draw_body
from photoid.data.synth.noise import smoothstep, value_noise

_TAWNY = np.array([0.78, 0.58, 0.32], np.float32)
_CREAM = np.array([0.92, 0.85, 0.70], np.float32)
_SPOT = np.array([0.16, 0.11, 0.07], np.float32)
_WHITE = np.array([0.90, 0.88, 0.83], np.float32)
_BLACK = np.array([0.09, 0.08, 0.08], np.float32)
_FIN_DARK = np.array([0.30, 0.33, 0.37], np.float32)
_FIN_LIGHT = np.array([0.62, 0.64, 0.67], np.float32)
_SCAR = np.array([0.86, 0.86, 0.86], np.float32)


def _grid(hc: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in canvas heights: x ``(1, 2hc)``, y ``(hc, 1)``."""
    x = (np.arange(2 * hc, dtype=np.float32)[None, :] + 0.5) / hc
    y = (np.arange(hc, dtype=np.float32)[:, None] + 0.5) / hc
    return x, y


def _paint(coat: np.ndarray, ink: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Blend ``colour`` over ``coat`` by ``ink`` (uint8 0..255 or float 0..1), per pixel."""
    alpha = ink.astype(np.float32) / 255.0 if ink.dtype == np.uint8 else ink
    painted: np.ndarray = coat * (1.0 - alpha[..., None]) + colour * alpha[..., None]
    return painted


def _scatter(
    rng: np.random.Generator, count: int, spacing: float, hc: int, region: np.ndarray | None = None
) -> np.ndarray:
    """Up to ``count`` points (canvas heights) at least ``spacing`` apart, inside ``region``."""
    candidates = rng.uniform((0.0, 0.0), (2.0, 1.0), (count * 4, 2))
    kept = np.empty((count, 2))
    found = 0
    for point in candidates:
        if region is not None:
            col, row = min(int(point[0] * hc), 2 * hc - 1), min(int(point[1] * hc), hc - 1)
            if not region[row, col]:
                continue
        offsets = kept[:found] - point
        if found and np.min(np.einsum("ij,ij->i", offsets, offsets)) < spacing**2:
            continue
        kept[found] = point
        found += 1
        if found == count:
            break
    return kept[:found]


def spotted_coat(rng: np.random.Generator, shape: QuadrupedShape, hc: int) -> np.ndarray:
    """Tawny coat with a pale belly and dark solid spots and broken rosettes (leopard-like)."""
    _, y = _grid(hc)
    cx, cy, ax, ay = shape.torso
    belly = smoothstep(y, cy + 0.2 * ay, cy + 0.95 * ay)[..., None]
    coat = _TAWNY * (1.0 - belly) + _CREAM * belly
    coat = coat * (1.0 + 0.07 * value_noise(rng, (hc, 2 * hc), 5.0, 2))[..., None]
    ink = np.zeros((hc, 2 * hc), np.uint8)
    centres = np.zeros((hc, 2 * hc), np.uint8)
    for px, py in _scatter(rng, 420, 0.054, hc):
        radius = 0.021 * math.exp(rng.normal(0.0, 0.3))
        if py > cy + 0.8 * ay or px < cx - ax:  # legs, belly and head carry smaller spots
            radius *= 0.6
        centre = (round(px * hc * 16), round(py * hc * 16))
        axes = (round(radius * hc * 16), round(radius * rng.uniform(0.55, 1.0) * hc * 16))
        angle = float(rng.uniform(0.0, 180.0))
        if rng.random() < 0.35 and radius > 0.02:
            thickness = max(1, round(0.45 * radius * hc))
            start = float(rng.uniform(0.0, 360.0))
            for arc in range(3):  # a ring broken into three arcs
                a0 = start + arc * 120.0
                cv2.ellipse(
                    ink,
                    centre,
                    axes,
                    angle,
                    a0,
                    a0 + rng.uniform(70.0, 105.0),
                    255,
                    thickness,
                    cv2.LINE_AA,
                    4,
                )
            cv2.ellipse(centres, centre, axes, angle, 0, 360, 150, -1, cv2.LINE_AA, 4)
        else:
            cv2.ellipse(ink, centre, axes, angle, 0, 360, 255, -1, cv2.LINE_AA, 4)
    coat = _paint(coat, centres, _TAWNY * 0.62)
    return _paint(coat, ink, _SPOT).astype(np.float32)


def striped_coat(rng: np.random.Generator, shape: QuadrupedShape, hc: int) -> np.ndarray:
    """Cream coat with black stripes: wavy and branching on the body, horizontal on the legs."""
    x, y = _grid(hc)
    _, cy, _, ay = shape.torso
    period = 0.09 * rng.uniform(0.9, 1.1)
    warp = 0.16 * value_noise(rng, (hc, 2 * hc), 2.5, 3)
    width = 0.35 * value_noise(rng, (hc, 2 * hc), 5.0, 2) - 0.05
    body = np.sin(2.0 * np.pi * (x + warp) / period + rng.uniform(0.0, 2.0 * np.pi))
    legs = np.sin(2.0 * np.pi * (y + 0.4 * warp) / (0.6 * period) + rng.uniform(0.0, 6.3))
    leg_weight = smoothstep(y, cy + 0.8 * ay, cy + 1.2 * ay)
    ink = (
        smoothstep(body, width - 0.12, width + 0.12) * (1.0 - leg_weight)
        + smoothstep(legs, width - 0.12, width + 0.12) * leg_weight
    )
    gaps = smoothstep(value_noise(rng, (hc, 2 * hc), 24.0, 1), 0.5, 0.65)
    coat = (
        np.broadcast_to(_WHITE, (hc, 2 * hc, 3))
        * (1.0 + 0.05 * value_noise(rng, (hc, 2 * hc), 6.0, 2))[..., None]
    )
    return _paint(coat, ink * (1.0 - gaps), _BLACK).astype(np.float32)


def fin_coat(rng: np.random.Generator, shape: FinShape, hc: int) -> np.ndarray:
    """Grey, counter-shaded skin with pale rake marks, bite scars and blotches on fin and back."""
    x, y = _grid(hc)
    shade = smoothstep(y, 0.78, 1.0)[..., None] * np.ones_like(x)[..., None]
    coat = _FIN_DARK * (1.0 - shade) + _FIN_LIGHT * shade
    coat = coat * (1.0 + 0.06 * value_noise(rng, (hc, 2 * hc), 6.0, 2))[..., None]
    skin = draw_body(shape, NEUTRAL_POSE, hc) > 0.5
    blotches = np.zeros((hc, 2 * hc), np.uint8)
    for px, py in _scatter(rng, int(rng.integers(2, 5)), 0.15, hc, skin):
        axes = (round(rng.uniform(0.03, 0.08) * hc), round(rng.uniform(0.02, 0.05) * hc))
        cv2.ellipse(
            blotches,
            (round(px * hc), round(py * hc)),
            axes,
            float(rng.uniform(0, 180)),
            0,
            360,
            110,
            -1,
            cv2.LINE_AA,
        )
    coat = _paint(coat, cv2.GaussianBlur(blotches, (0, 0), 0.02 * hc + 0.5), _SCAR)
    marks = np.zeros((hc, 2 * hc), np.uint8)
    thickness = max(1, round(0.012 * hc))
    for px, py in _scatter(rng, int(rng.integers(2, 7)), 0.1, hc, skin):  # rake marks
        angle = rng.uniform(0.0, np.pi)
        length, gap = rng.uniform(0.08, 0.22), rng.uniform(0.03, 0.05)
        along = np.array([math.cos(angle), math.sin(angle)])
        across = np.array([-along[1], along[0]])
        for k in range(int(rng.integers(2, 6))):
            mid = np.array([px, py]) + across * gap * k
            p0 = ((mid - along * length / 2) * hc * 16).round().astype(int)
            p1 = ((mid + along * length / 2) * hc * 16).round().astype(int)
            cv2.line(
                marks, tuple(p0), tuple(p1), int(rng.integers(160, 256)), thickness, cv2.LINE_AA, 4
            )
    for px, py in _scatter(rng, int(rng.integers(6, 16)), 0.05, hc, skin):  # bite scars
        radius = rng.uniform(0.018, 0.045)
        axes = (round(radius * hc * 16), round(radius * rng.uniform(0.6, 1.0) * hc * 16))
        angle = float(rng.uniform(0, 180))
        centre = (round(px * hc * 16), round(py * hc * 16))
        cv2.ellipse(marks, centre, axes, angle, 0, 360, 230, -1, cv2.LINE_AA, 4)
    coat = _paint(coat, marks, _SCAR)
    specks = np.zeros((hc, 2 * hc), np.uint8)
    for px, py in _scatter(rng, int(rng.integers(4, 11)), 0.05, hc, skin):  # dark pigment spots
        radius = round(rng.uniform(0.012, 0.028) * hc * 16)
        centre = (round(px * hc * 16), round(py * hc * 16))
        cv2.circle(specks, centre, radius, 220, -1, cv2.LINE_AA, 4)
    return _paint(coat, specks, _FIN_DARK * 0.4).astype(np.float32)
