"""The report's calibration section (held-out ECE and Brier of the answers and of P(new), and
reliability diagrams only where there are enough answers) and the probabilities beside each
sample query's answers, which never add up to more than 100%."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from photoid.core import Identification
from photoid.evaluation.report import write_report
from photoid.evaluation.result import EvaluationResult
from photoid.metrics import NEW_INDIVIDUAL

PNG = re.compile(r"<img alt='[^']*' src='data:image/png;base64,([A-Za-z0-9+/=]+)'>")
PERCENT = re.compile(r"<span class='pct'>&lt;1%|<span class='pct'>(\d+)%")


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


def _block(page: str, query: str) -> str:
    start = page.index(f"Query <b>{query}</b>")
    return page[start : page.index("</div></div>", start)]


def test_calibration_table_by_hand_and_no_diagram_below_the_minimum(tmp_path: Path) -> None:
    page = write_report(_result(tmp_path), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>How far to trust the probabilities</h2>" in page
    # One pair per bin, so ECE = mean |y - p|: all (0.18 + 0.1 + 0.38 + 0.3) / 4 = 0.24,
    # first (0.18 + 0.38) / 2 = 0.28. Brier: (0.0324 + 0.01 + 0.1444 + 0.09) / 4 = 0.0692 and
    # (0.0324 + 0.1444) / 2 = 0.0884.
    assert "<tr><th>first suggestions</th><td>0.2800</td><td>0.0884</td><td>2</td></tr>" in page
    assert (
        "<tr><th>suggestions at every place of the list</th><td>0.2400</td><td>0.0692</td>"
        "<td>4</td></tr>" in page
    )
    # P(new) [0.2, 0.62] against [not new, new]: ECE (0.2 + 0.38) / 2 = 0.29, Brier
    # (0.04 + 0.1444) / 2 = 0.0922.
    assert (
        "<tr><th>probabilities of a new individual</th><td>0.2900</td><td>0.0922</td>"
        "<td>2</td></tr>" in page
    )
    # 2, 4 and 2 answers: below 50, so sentences instead of diagrams.
    assert not PNG.findall(page)
    assert "No reliability diagram for the first suggestions: 2 of them" in page
    assert "No reliability diagram for the suggestions at every place of the list: 4 of them" in (
        page
    )
    assert "No reliability diagram for the probabilities of a new individual: 2 of them" in page


def test_probabilities_shown_add_up_to_100(tmp_path: Path) -> None:
    page = write_report(_result(tmp_path), tmp_path / "r.html").read_text(encoding="utf-8")
    # Query 0: A 0.82 and B 0.1 with P(new) 0.2 add up to 1.12, so A and B share 1 - 0.2 = 0.8:
    # A 0.82 * 0.8 / 0.92 = 71.3%, B 0.1 * 0.8 / 0.92 = 8.7%, a new individual 20%, nobody
    # else 0%; whole percentages 71 + 8 + 20 + 0 = 99, the largest remainder (B's) rounds up.
    first = _block(page, "q0.jpg")
    assert "<span class='pct'>71%</span>A \u2714</li>" in first
    assert "<span class='pct'>9%</span>B</li>" in first
    assert "<span class='pct'>20%</span>a new individual (not listed)</li>" in first
    assert "<span class='pct'>0%</span>someone else in the gallery</li>" in first
    assert "add up to 112.0%" in first
    # Query 1: new individual 0.62 (listed) and C 0.3: 0.92, the other 8% for someone else.
    second = _block(page, "q1.jpg")
    assert "<span class='pct'>62%</span>new individual \u2714</li>" in second
    assert "<span class='pct'>30%</span>C</li>" in second
    assert "<span class='pct'>8%</span>someone else in the gallery</li>" in second
    assert "not listed" not in second and "add up to" not in second
    for block in (first, second):
        assert sum(int(n) for n in PERCENT.findall(block) if n) == 100


def test_diagrams_from_the_minimum_on(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 60
    first = rng.uniform(0.5, 0.9, n)
    second = rng.uniform(0.0, 0.1, n)
    truth = [f"I{i}" for i in range(n)]
    result = replace(
        _result(tmp_path),
        queries=n,
        truth=truth,
        predictions=[[t, "X"] if i % 3 else ["X", t] for i, t in enumerate(truth)],
        identifications=[Identification(f"q{i}.jpg") for i in range(n)],
        probabilities=[[float(a), float(b)] for a, b in zip(first, second, strict=True)],
        new_probability=[],
    )
    page = write_report(result, tmp_path / "r.html", samples=2).read_text(encoding="utf-8")
    charts = PNG.findall(page)
    assert len(charts) == 2  # 60 first suggestions, 120 in all; no P(new)
    for encoded in charts:
        assert base64.b64decode(encoded)[:8] == b"\x89PNG\r\n\x1a\n"
    # 60 distinct values: 6 groups of 10; 120: the most groups, 10, of 12.
    assert "First suggestions: 60 answers in 6 groups of 10</figcaption>" in page
    assert "Suggestions at every place of the list: 120 answers in 10 groups of 12" in page
    assert "No reliability diagram" not in page


def test_without_p_new_only_the_answers(tmp_path: Path) -> None:
    result = replace(_result(tmp_path), new_probability=[])
    page = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "probabilities of a new individual" not in page
    # Query 0 without P(new): A and B add up to 0.92, shown as they are.
    first = _block(page, "q0.jpg")
    assert "<span class='pct'>82%</span>A" in first
    assert "<span class='pct'>10%</span>B" in first
    assert "<span class='pct'>8%</span>someone else" in first
    assert "not listed" not in first


def test_without_probabilities_no_section(tmp_path: Path) -> None:
    result = replace(_result(tmp_path), probabilities=[], new_probability=[])
    page = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "How far to trust" not in page
    assert "class='pct'" not in page
    assert "<ol class='answer'><li class='hit'>A \u2714</li><li>B</li></ol>" in page
