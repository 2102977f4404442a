"""The calibration section of an HTML report: a table of ECE and Brier scores per method and a
reliability diagram where there are enough held-out pairs for one (``MIN_TOTAL``), as one
self-contained fragment (the picture inlined as a PNG data URI)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping

import numpy as np
from PIL import Image

from photoid.calibrate.evaluate import HeldOutCalibration
from photoid.calibrate.plot import MIN_TOTAL, reliability_diagram


def png_data_uri(pixels: np.ndarray) -> str:
    """``(H, W, 3)`` uint8 RGB pixels as a ``data:image/png;base64,...`` URI (lossless, for
    charts)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def calibration_section(
    results: Mapping[str, HeldOutCalibration], engine: str, heading: str = "Calibration"
) -> str:
    """HTML ``<h2>`` section for ``results`` (method -> result) of one ``engine``."""
    rows = "".join(
        f"<tr><th>{html.escape(method)}</th><td>{r.fit.ece:.4f}</td><td>{r.ece:.4f}</td>"
        f"<td>{r.brier:.4f}</td><td>{int(r.curve.counts.sum())}</td></tr>"
        for method, r in results.items()
    )
    curves = {f"{method} (held-out)": r.curve for method, r in results.items()}
    pairs = max((int(r.curve.counts.sum()) for r in results.values()), default=0)
    if pairs >= MIN_TOTAL:
        picture = png_data_uri(reliability_diagram(curves, f"{engine} engine: reliability"))
        figure = f"<p><img alt='reliability diagram' src='{picture}'></p>"
    else:
        figure = (
            f"<p>No reliability diagram: {pairs} held-out pairs, and a diagram needs at least "
            f"{MIN_TOTAL} to be more than noise.</p>"
        )
    return (
        f"<h2>{html.escape(heading)}</h2>"
        "<p>Probability that a candidate is the query's individual, calibrated on pairs drawn "
        "from the gallery by leave-one-out. Expected calibration error (ECE, 15 equal-width "
        "bins): cross-validated over gallery queries, and on the held-out queries.</p>"
        "<table><tr><th>method</th><th>gallery ECE (cross-validated)</th>"
        "<th>held-out ECE</th><th>held-out Brier</th><th>held-out pairs</th></tr>"
        f"{rows}</table>"
        f"{figure}"
    )
