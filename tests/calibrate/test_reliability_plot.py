from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from photoid.calibrate import reliability_diagram, save_reliability_diagram
from photoid.calibrate.plot import COLOURS
from photoid.metrics import reliability_curve


def test_diagram_draws_each_bin_where_it_belongs(tmp_path: Path) -> None:
    first = reliability_curve([0.5, 0.5, 0.5, 0.5], [1, 0, 0, 0], bins=10)  # (0.5, 0.25)
    second = reliability_curve([0.9, 0.9], [1, 1], bins=10)  # (0.9, 1.0)
    pixels = reliability_diagram({"isotonic": first, "logistic": second}, size=480)
    assert pixels.shape == (480, 480, 3) and pixels.dtype == np.uint8
    # Plot area: x from 64 to 460 (396 px), y from 424 (p = 0) up to 40 (384 px).
    x, y = round(64 + 0.5 * 396), round(424 - 0.25 * 384)
    assert tuple(pixels[y, x]) == COLOURS[0]
    x, y = round(64 + 0.9 * 396), round(424 - 1.0 * 384)
    assert tuple(pixels[y + 2, x]) == COLOURS[1]
    # Far from the curves, the grid and the legend (bottom right) at p = 0.1, q = 0.9: white.
    assert tuple(pixels[round(424 - 0.9 * 384), round(64 + 0.1 * 396)]) == (255, 255, 255)
    path = save_reliability_diagram({"isotonic": first}, tmp_path / "plots" / "reliability.png")
    with Image.open(path) as image:
        assert (image.format, image.size) == ("PNG", (480, 480))


def test_each_bin_count_is_written_beside_its_dot() -> None:
    curve = reliability_curve([0.5] * 12, [1, 1, 1] + [0] * 9, bins=10)  # one bin: (0.5, 0.25)
    assert curve.counts.tolist() == [12]
    pixels = reliability_diagram({"answers": curve}, size=480, ece=False)
    # The dot at x 262, y 328 has radius 2 + 8 = 10: "n=12" starts 12 px to its right and sits
    # on a baseline 2 px above its centre, in dark grey; left of the dot stays free of text.
    x, y = round(64 + 0.5 * 396), round(424 - 0.25 * 384)
    label = pixels[y - 16 : y - 1, x + 12 : x + 50]
    assert (label.max(axis=2) < 120).any()
    left = pixels[y - 16 : y - 1, x - 50 : x - 12]
    assert not (left.max(axis=2) < 120).any()
