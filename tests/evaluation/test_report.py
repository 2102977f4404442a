"""The HTML report: summary table, right and wrong samples with embedded evidence pictures."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from photoid.core import Candidate, Identification, Match
from photoid.evaluation.report import write_report
from photoid.evaluation.result import EvaluationResult
from photoid.metrics import NEW_INDIVIDUAL

IMG = re.compile(r"<img src='data:image/jpeg;base64,([A-Za-z0-9+/=]+)'>")


def _match(image: str, inliers: int) -> Match:
    points = np.tile(np.array([[10.0, 12.0]], np.float32), (inliers, 1))
    return Match(image, float(inliers), inliers, points, points + 5)


def _result(root: Path, truth: list[str], answers: list[list[str]]) -> EvaluationResult:
    """Query ``q<i>.jpg`` answered ``answers[i]``; each identity's photo is ``g_<identity>.jpg``."""
    for name in {f"q{i}.jpg" for i in range(len(truth))} | {
        f"g_{a}.jpg" for r in answers for a in r
    }:
        Image.new("RGB", (60, 40), (120, 80, 40)).save(root / name)
    identifications = [
        Identification(
            f"q{i}.jpg",
            [Candidate(a, 3.0 - rank, _match(f"g_{a}.jpg", 4)) for rank, a in enumerate(row)],
            keypoints=50,
        )
        for i, row in enumerate(answers)
    ]
    top1 = float(np.mean([bool(r) and r[0] == t for r, t in zip(answers, truth, strict=True)]))
    return EvaluationResult(
        method="local",
        dataset=str(root),
        split_column="split",
        gallery=7,
        queries=len(truth),
        top1=top1,
        top5=1.0,
        map5=0.75,
        acc_known=top1,
        acc_new=float("nan"),
        new_threshold=None,
        oracle_threshold=1.5,
        oracle_map5=0.8,
        seconds=1.25,
        gallery_seconds=0.5,
        truth=truth,
        predictions=answers,
        identifications=identifications,
    )


def test_report_has_summary_and_right_and_wrong_pictures(tmp_path: Path) -> None:
    result = _result(tmp_path, ["A", "B"], [["A", "B", "C", "D"], ["C", "B"]])
    path = write_report(result, tmp_path / "out" / "report.html")
    assert path == tmp_path / "out" / "report.html"
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<tr><th>top1</th><td>0.5</td></tr>" in page
    assert "<tr><th>queries</th><td>2</td></tr>" in page
    assert "<tr><th>acc_new</th><td>None</td></tr>" in page  # NaN shown as None
    assert page.count("<div class='q right'>") == 1
    assert page.count("<div class='q wrong'>") == 1
    pictures = IMG.findall(page)
    assert len(pictures) == 3 + 2  # top 3 candidates of query 0, both of query 1
    for encoded in pictures:
        assert base64.b64decode(encoded)[:2] == b"\xff\xd8"
    assert "<span class='hit'>#1 A</span>" in page
    assert "<span class='hit'>#2 B</span>" in page
    assert "#4 D" not in page  # only 3 candidates shown
    assert "4 inliers, g_A.jpg" in page


def test_samples_are_half_right_half_wrong(tmp_path: Path) -> None:
    truth = [f"I{i}" for i in range(10)]
    answers = [[t] if i < 6 else ["X"] for i, t in enumerate(truth)]  # 6 right, 4 wrong
    page = write_report(_result(tmp_path, truth, answers), tmp_path / "r.html", samples=4)
    text = page.read_text(encoding="utf-8")
    assert text.count("<div class='q right'>") == 2
    assert text.count("<div class='q wrong'>") == 2
    # Not enough right answers: the wrong ones fill the rest.
    few_right = [["X"]] * 9 + [[truth[9]]]
    page = write_report(_result(tmp_path, truth, few_right), tmp_path / "r2.html", samples=4)
    text = page.read_text(encoding="utf-8")
    assert text.count("<div class='q right'>") == 1
    assert text.count("<div class='q wrong'>") == 3


def test_new_individual_warning_and_escaping(tmp_path: Path) -> None:
    result = _result(tmp_path, [NEW_INDIVIDUAL, "<b>"], [["A"], []])
    answers = list(result.identifications)
    answers[1] = Identification("q1.jpg", warning="no keypoints found in the image")
    result = replace(result, identifications=answers)
    text = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "This individual is not in the gallery." in text
    assert "<p>warning: no keypoints found in the image</p>" in text
    assert "truth <b>&lt;b&gt;</b>" in text
    assert len(IMG.findall(text)) == 1
