"""The report's calibration section: held-out ECE and Brier of the answers and of P(new), the
reliability diagrams, and the probabilities beside each sample query's answers."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from pathlib import Path

from photoid.core import Identification
from photoid.evaluation.report import write_report
from photoid.evaluation.result import EvaluationResult
from photoid.metrics import NEW_INDIVIDUAL

PNG = re.compile(r"<img alt='[^']*' src='data:image/png;base64,([A-Za-z0-9+/=]+)'>")


def _result(root: Path) -> EvaluationResult:
    """Query 0 is A, answered [A, B]; query 1 is new, answered [new_individual, C]."""
    return EvaluationResult(
        method="fused",
        dataset=str(root),
        split_column="split",
        gallery=3,
        queries=2,
        top1=1.0,
        top5=1.0,
        map5=1.0,
        acc_known=1.0,
        acc_new=1.0,
        new_threshold=None,
        oracle_threshold=0.5,
        oracle_map5=1.0,
        seconds=1.0,
        gallery_seconds=0.5,
        truth=["A", NEW_INDIVIDUAL],
        predictions=[["A", "B"], [NEW_INDIVIDUAL, "C"]],
        identifications=[Identification("q0.jpg"), Identification("q1.jpg")],
        # Every value in its own of the 15 bins, away from the edges.
        probabilities=[[0.82, 0.1], [0.62, 0.3]],
        new_probability=[0.2, 0.62],
    )


def test_calibration_section_by_hand(tmp_path: Path) -> None:
    page = write_report(_result(tmp_path), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Calibration</h2>" in page
    # One pair per bin, so ECE = mean |y - p|: all (0.18 + 0.1 + 0.38 + 0.3) / 4 = 0.24,
    # top-1 (0.18 + 0.38) / 2 = 0.28. Brier: (0.0324 + 0.01 + 0.1444 + 0.09) / 4 = 0.0692 and
    # (0.0324 + 0.1444) / 2 = 0.0884.
    assert "<tr><th>all top-5 entries</th><td>0.2400</td><td>0.0692</td><td>4</td></tr>" in page
    assert "<tr><th>top-1 only</th><td>0.2800</td><td>0.0884</td><td>2</td></tr>" in page
    # P(new) [0.2, 0.62] against [not new, new]: ECE (0.2 + 0.38) / 2 = 0.29, Brier
    # (0.04 + 0.1444) / 2 = 0.0922.
    assert "<h3>New individuals</h3>" in page
    assert "<tr><th>all queries</th><td>0.2900</td><td>0.0922</td><td>2</td></tr>" in page
    assert "on known individuals: 1.0000; on new individuals: 1.0000." in page
    charts = PNG.findall(page)
    assert len(charts) == 2  # the answers' diagram and P(new)'s
    for encoded in charts:
        assert base64.b64decode(encoded)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "answer: A (p = 0.82), B (p = 0.10); P(new) = 0.20" in page
    assert f"answer: {NEW_INDIVIDUAL} (p = 0.62), C (p = 0.30); P(new) = 0.62" in page


def test_without_p_new_only_the_answers_part(tmp_path: Path) -> None:
    result = replace(_result(tmp_path), new_probability=[])
    page = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Calibration</h2>" in page
    assert "New individuals" not in page
    assert len(PNG.findall(page)) == 1
    assert "answer: A (p = 0.82), B (p = 0.10)\n" in page


def test_without_probabilities_no_section(tmp_path: Path) -> None:
    result = replace(_result(tmp_path), probabilities=[], new_probability=[])
    page = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Calibration" not in page
    assert "p = " not in page and "P(new)" not in page
    assert "answer: A, B\n" in page
    assert not PNG.findall(page)
