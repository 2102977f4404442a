"""Reliability diagram: observed frequency against mean predicted probability per bin, one line
per calibration, the diagonal being perfect calibration; drawn with Pillow."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from photoid.metrics.calibration import ReliabilityCurve

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 64, 20, 40, 56


def reliability_diagram(
    curves: Mapping[str, ReliabilityCurve], title: str = "Reliability diagram", size: int = 480
) -> np.ndarray:
    """``(size, size, 3)`` uint8 RGB chart; the legend (bottom right) gives each curve's ECE.

    A dot's area grows with its bin's count; bins are joined by lines in probability order.
    """
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    font_size = max(10, size // 36)
    font = ImageFont.load_default(size=font_size)
    left, top = _MARGIN_LEFT, _MARGIN_TOP
    right, bottom = size - _MARGIN_RIGHT, size - _MARGIN_BOTTOM
    width, height = right - left, bottom - top

    def at(p: float, q: float) -> tuple[float, float]:
        return left + p * width, bottom - q * height

    for tick in np.linspace(0.0, 1.0, 6):
        x, y = at(tick, tick)
        draw.line([(x, top), (x, bottom)], fill=(230, 230, 230))
        draw.line([(left, y), (right, y)], fill=(230, 230, 230))
        draw.text((x, bottom + 4), f"{tick:.1f}", fill="black", font=font, anchor="mt")
        draw.text((left - 6, y), f"{tick:.1f}", fill="black", font=font, anchor="rm")
    draw.rectangle([left, top, right, bottom], outline="black")
    _dashed(draw, at(0.0, 0.0), at(1.0, 1.0), (128, 128, 128))
    draw.text(
        (left + width / 2, size - 8),
        "mean predicted probability",
        fill="black",
        font=font,
        anchor="mb",
    )
    draw.text((8, top - 10), "observed frequency", fill="black", font=font, anchor="lm")
    draw.text((left + width / 2, 6), title, fill="black", font=font, anchor="mt")
    total = max((int(c.counts.sum()) for c in curves.values()), default=1)
    for n, (name, curve) in enumerate(curves.items()):
        colour = COLOURS[n % len(COLOURS)]
        points = [
            at(float(p), float(q)) for p, q in zip(curve.predicted, curve.observed, strict=True)
        ]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for (x, y), count in zip(points, curve.counts.tolist(), strict=True):
            radius = 2.0 + 8.0 * np.sqrt(count / total)
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)
        # The legend sits bottom right: over-confident curves rarely reach it.
        label = f"{name}: ECE {curve.ece:.3f}"
        legend_y = bottom - 12 - (len(curves) - 1 - n) * (font_size + 6)
        text_left = right - 10 - draw.textlength(label, font=font)
        draw.rectangle([text_left - 16, legend_y - 4, text_left - 6, legend_y + 4], fill=colour)
        draw.text((text_left, legend_y), label, fill="black", font=font, anchor="lm")
    return np.asarray(image, np.uint8)


def save_reliability_diagram(
    curves: Mapping[str, ReliabilityCurve], path: Path, title: str = "Reliability diagram"
) -> Path:
    """Write :func:`reliability_diagram` as a PNG file at ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(reliability_diagram(curves, title)).save(path, format="PNG")
    return path


def _dashed(
    draw: ImageDraw.ImageDraw,
    start: tuple[float, float],
    end: tuple[float, float],
    colour: tuple[int, int, int],
    dash: float = 6.0,
) -> None:
    length = float(np.hypot(end[0] - start[0], end[1] - start[1]))
    steps = int(length // dash)
    for i in range(0, steps, 2):
        a, b = i / steps, min(i + 1, steps) / steps
        draw.line(
            [
                (start[0] + a * (end[0] - start[0]), start[1] + a * (end[1] - start[1])),
                (start[0] + b * (end[0] - start[0]), start[1] + b * (end[1] - start[1])),
            ],
            fill=colour,
            width=1,
        )
