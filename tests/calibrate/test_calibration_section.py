from __future__ import annotations

import base64
import io
import re

import numpy as np
from PIL import Image

from photoid.calibrate import ScorePairs, calibration_section, evaluate_calibration


def test_section_lists_each_method_and_inlines_the_diagram() -> None:
    rng = np.random.default_rng(0)
    queries = np.repeat(np.arange(100), 3)
    scores = rng.normal(size=queries.size)
    same = rng.random(queries.size) < 1 / (1 + np.exp(-3 * scores))
    pairs = ScorePairs(scores, same, queries, np.tile(np.arange(3), 100))
    results = evaluate_calibration(pairs, pairs.subset(queries < 20), folds=4)
    section = calibration_section(results, "local")
    for method, result in results.items():
        assert f"<th>{method}</th><td>{result.fit.ece:.4f}</td><td>{result.ece:.4f}</td>" in section
    # 20 held-out queries x 3 candidates.
    assert section.count("<td>60</td>") == 2
    found = re.search(r"src='data:image/png;base64,([^']+)'", section)
    assert found is not None
    with Image.open(io.BytesIO(base64.b64decode(found.group(1)))) as image:
        assert (image.format, image.size) == ("PNG", (480, 480))


def test_no_diagram_below_the_minimum() -> None:
    rng = np.random.default_rng(1)
    queries = np.repeat(np.arange(60), 3)
    scores = rng.normal(size=queries.size)
    same = rng.random(queries.size) < 1 / (1 + np.exp(-3 * scores))
    pairs = ScorePairs(scores, same, queries, np.tile(np.arange(3), 60))
    # 16 held-out queries x 3 candidates = 48 pairs, below the 50 a diagram needs.
    results = evaluate_calibration(pairs, pairs.subset(queries < 16), folds=4)
    section = calibration_section(results, "local")
    assert section.count("<td>48</td>") == 2
    assert "<img" not in section
    assert "No reliability diagram: 48 held-out pairs, and a diagram needs at least 50" in section
