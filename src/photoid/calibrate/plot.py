"""Reliability diagram: observed frequency against mean predicted probability per bin, one line
per calibration, the diagonal being perfect calibration, each bin's count written beside its dot;
drawn with Pillow."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from photoid.metrics.calibration import ReliabilityCurve

MIN_TOTAL = 50
"""The fewest predictions worth a diagram: below it, each bin's frequency is a share of a few
outcomes, and the picture shows noise."""
MIN_PER_BIN = 10
"""The fewest predictions a bin of a report's diagram may hold."""
COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 64, 20, 40, 56
_Rect = tuple[float, float, float, float]
"""(left, top, right, bottom) in px of the picture."""


def reliability_diagram(
    curves: Mapping[str, ReliabilityCurve],
    title: str = "Reliability diagram",
    size: int = 480,
    *,
    ece: bool = True,
) -> np.ndarray:
    """``(size, size, 3)`` uint8 RGB chart; the legend (bottom right) names each curve, with its
    ECE over its own bins when ``ece``.

    A dot's area grows with its bin's count, and the count is written beside it (``n=12``)
    where there is room: a label that would cover another is left out, so a caption should give
    the counts of crowded bins too. Bins are joined by lines in probability order.
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
    taken: list[_Rect] = []
    for n, (name, curve) in enumerate(curves.items()):
        colour = COLOURS[n % len(COLOURS)]
        points = [
            at(float(p), float(q)) for p, q in zip(curve.predicted, curve.observed, strict=True)
        ]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        radii = [2.0 + 8.0 * np.sqrt(count / total) for count in curve.counts.tolist()]
        for (x, y), radius in zip(points, radii, strict=True):
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)
        for (x, y), radius, count in zip(points, radii, curve.counts.tolist(), strict=True):
            _count_label(
                draw, (x, y), radius, f"n={count}", font, (left, top, right, bottom), taken
            )
        # The legend sits bottom right: over-confident curves rarely reach it.
        label = f"{name}: ECE {curve.ece:.3f}" if ece else name
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


def _count_label(
    draw: ImageDraw.ImageDraw,
    at: tuple[float, float],
    radius: float,
    text: str,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    area: _Rect,
    taken: list[_Rect],
) -> bool:
    """Write ``text`` beside a dot: above right, above left, below right or below left, the
    first place inside ``area`` (left, top, right, bottom) that overlaps no box in ``taken``;
    nowhere when none is free. Returns whether it was written (its box is added to ``taken``)."""
    x, y = at
    gap = radius + 2
    for anchor, place in (
        ("lb", (x + gap, y - 2)),
        ("rb", (x - gap, y - 2)),
        ("lt", (x + gap, y + 2)),
        ("rt", (x - gap, y + 2)),
    ):
        box = draw.textbbox(place, text, font=font, anchor=anchor)
        inside = box[0] >= area[0] and box[1] >= area[1] and box[2] <= area[2] and box[3] <= area[3]
        if inside and not any(_overlap(box, other) for other in taken):
            draw.text(place, text, fill=(60, 60, 60), font=font, anchor=anchor)
            taken.append(box)
            return True
    return False


def _overlap(a: _Rect, b: _Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


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
