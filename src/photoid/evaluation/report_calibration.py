"""The report's calibration section, for engines that give probabilities: how often answers given
a probability were right, as a table (ECE and Brier) and as reliability diagrams where there are
enough answers for one (:mod:`photoid.evaluation.reliability`)."""

from __future__ import annotations

import html

import numpy as np

from photoid.calibrate.plot import reliability_diagram
from photoid.calibrate.section import png_data_uri
from photoid.core import NEW_INDIVIDUAL
from photoid.evaluation.reliability import MIN_PER_BIN, MIN_TOTAL, report_bins
from photoid.evaluation.result import EvaluationResult
from photoid.metrics.calibration import brier_score, reliability_curve

ECE_BINS = 15
"""Equal-width bins of the ECE in the table, the same as the summary JSON's ``ece``."""


def calibration_section(result: EvaluationResult) -> str:
    """The ``<h2>`` section, or "" when the result has no probabilities."""
    p, right, rank = result.held_out_pairs()
    if p.size == 0:
        return ""
    first = rank == 0
    answers = {
        "first suggestions": (p[first], right[first]),
        "suggestions at every place of the list": (p, right),
    }
    if result.new_probability:
        p_new = np.asarray(result.new_probability, np.float64)
        is_new = np.asarray([t == NEW_INDIVIDUAL for t in result.truth[: p_new.size]])
        answers["probabilities of a new individual"] = (p_new, is_new)
    rows = "".join(_row(name, v, y) for name, (v, y) in answers.items() if v.size)
    figures = [_figure(name, v, y) for name, (v, y) in answers.items()]
    return "\n".join(
        [
            "<h2>How far to trust the probabilities</h2>",
            "<p>Each suggestion comes with the probability that it is right. Checked here "
            "against these queries: of the answers given 80%, about 80 in 100 should have been "
            "right. The expected calibration error (ECE) is the mean gap between the "
            "probability given and how often such answers were right (0 is perfect; "
            f"{ECE_BINS} equal-width bins, as in the summary JSON); the Brier score is the "
            "mean squared difference between the probability and the outcome (1 right, 0 "
            "wrong), lower being better.</p>",
            "<table><tr><th>answers</th><th>ECE</th><th>Brier</th><th>count</th></tr>"
            f"{rows}</table>",
            "<p>In the diagrams each dot is a group of answers with similar probabilities "
            "(groups of about equal size, the count written beside each dot): its mean "
            "probability across, the share of them that was right up. Dots on the dashed "
            "diagonal are well calibrated; below it, over-confident. A diagram is drawn "
            f"only from {MIN_TOTAL} answers on, in groups of {MIN_PER_BIN} or more.</p>",
            "<div class='figures'>" + "".join(figures) + "</div>",
        ]
    )


def _row(name: str, p: np.ndarray, right: np.ndarray) -> str:
    ece = reliability_curve(p, right, ECE_BINS).ece
    return (
        f"<tr><th>{html.escape(name)}</th><td>{ece:.4f}</td>"
        f"<td>{brier_score(p, right):.4f}</td><td>{p.size}</td></tr>"
    )


def _figure(name: str, p: np.ndarray, right: np.ndarray) -> str:
    binned = report_bins(p, right, name)
    if binned.curve is None:
        return f"<p class='nodiagram'>{html.escape(binned.reason)}</p>"
    title = name[0].upper() + name[1:]
    pixels = reliability_diagram({f"{p.size} answers": binned.curve}, title, size=400, ece=False)
    return (
        f"<figure><img alt='reliability diagram of the {html.escape(name)}' "
        f"src='{png_data_uri(pixels)}'><figcaption>{html.escape(title)}: "
        f"{_groups(binned.curve.counts)}</figcaption></figure>"
    )


def _groups(counts: np.ndarray) -> str:
    """``"220 answers in 10 groups of 21 to 23"``: the counts a crowded diagram cannot write."""
    low, high = int(counts.min()), int(counts.max())
    size = str(low) if low == high else f"{low} to {high}"
    return f"{int(counts.sum())} answers in {counts.size} groups of {size}"
