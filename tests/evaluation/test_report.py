"""The HTML report: the opening paragraph's numbers, the headline table, right and wrong samples
with embedded evidence pictures, and the raw numbers collapsed at the end."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from photoid.core import Candidate, Identification, Match
from photoid.evaluation.narrative import tally
from photoid.evaluation.report import write_report
from photoid.evaluation.result import EvaluationResult
from photoid.metrics import NEW_INDIVIDUAL

IMG = re.compile(r"<img src='data:image/jpeg;base64,([A-Za-z0-9+/=]+)'>")


def _match(image: str, inliers: int) -> Match:
    points = np.tile(np.array([[10.0, 12.0]], np.float32), (inliers, 1))
    return Match(image, float(inliers), inliers, points, points + 5)


def _result(root: Path, truth: list[str], answers: list[list[str]]) -> EvaluationResult:
    """Query ``q<i>.jpg`` answered ``answers[i]``; each identity's photo is ``g_<identity>.jpg``.
    The rates are placeholders: the report counts right answers from ``truth``/``answers``."""
    for name in {f"q{i}.jpg" for i in range(len(truth))} | {
        f"g_{a}.jpg" for r in answers for a in r
    }:
        Image.new("RGB", (60, 40), (120, 80, 40)).save(root / name)
    identifications = [
        Identification(
            f"q{i}.jpg",
            [
                Candidate(a, 3.0 - rank, _match(f"g_{a}.jpg", 4))
                for rank, a in enumerate(row)
                if a != NEW_INDIVIDUAL
            ],
            keypoints=50,
        )
        for i, row in enumerate(answers)
    ]
    return EvaluationResult(
        method="local",
        dataset=str(root),
        split_column="split",
        gallery=7,
        queries=len(truth),
        top1=0.5,
        top5=1.0,
        map5=0.75,
        acc_known=0.5,
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


def _open_set(root: Path) -> EvaluationResult:
    """Ten queries: seven of gallery individuals, three new.

    Known: K0-K3 right first, K4 right second, K5 right fifth, K6 missed (not in the five):
    4 right first, 6 among the five. New: N0 and N1 answered new_individual first, N2 second:
    2 right first, 3 among the five. Altogether 6 of 10 first, 9 of 10 among the five.
    """
    truth = [f"K{i}" for i in range(7)] + [NEW_INDIVIDUAL] * 3
    new = NEW_INDIVIDUAL
    answers = [
        ["K0", "X"],
        ["K1"],
        ["K2", new],
        ["K3", "X", "Y"],
        ["X", "K4"],
        ["X", "Y", "Z", "W", "K5"],
        ["X", "Y", "Z", "W", "V"],
        [new, "X"],
        [new],
        ["X", new],
    ]
    return replace(_result(root, truth, answers), map5=0.6, gallery=12, queries=10)


def test_tally_counts_by_hand(tmp_path: Path) -> None:
    counts = tally(_open_set(tmp_path))
    assert (counts.queries, counts.first, counts.top5) == (10, 6, 9)
    assert (counts.known, counts.known_first, counts.new, counts.new_first) == (7, 4, 3, 2)


def test_opening_paragraph_and_headline_numbers(tmp_path: Path) -> None:
    page = write_report(_open_set(tmp_path), tmp_path / "r.html").read_text(encoding="utf-8")
    lead = re.findall(r"<p class='lead'>(.*?)</p>", page, re.S)
    assert len(lead) == 2  # what was run; how well it did
    text = re.sub(r"<[^>]+>", "", " ".join(lead))
    assert "identified 10 query photos of the dataset " + tmp_path.name in text
    # No metadata.csv to read the individuals back from: photos only.
    assert "against a gallery of 12 photos (gallery and queries as the split column" in text
    assert "3 of 10 photos show an individual that is not in the gallery" in text
    assert (
        "The right answer was the first suggestion for 6 of 10 photos and among the five "
        "suggestions for 9 of 10 photos." in text
    )
    assert "MAP@5 is 0.60" in text
    assert "4 of 7 photos were matched to the right one first" in text
    assert "2 of 3 photos were recognised as new" in text
    assert "Building the gallery took 0.5 s and answering the queries 1.2 s" in text
    # The headline table comes right after the paragraph, before any sample.
    table = page.index("<table class='headline'>")
    assert page.index("<p class='lead'>") < table < page.index("<h2>Sample queries</h2>")
    assert "<tr><th>Right answer first (top-1)</th><td>60% (6 of 10)</td></tr>" in page
    assert "<tr><th>Right answer among the five (top-5)</th><td>90% (9 of 10)</td></tr>" in page
    assert "<td>0.60</td>" in page
    assert "<tr><th>Gallery individuals, right first</th><td>57% (4 of 7)</td></tr>" in page
    assert "<tr><th>New individuals, recognised as new</th><td>67% (2 of 3)</td></tr>" in page


def test_gallery_individuals_read_back_from_the_dataset(tmp_path: Path) -> None:
    rows = ["image,identity,split"]
    for i, name in enumerate(["A", "A", "B", "C", "C", "C"]):
        Image.new("RGB", (8, 8)).save(tmp_path / f"g{i}.jpg")
        rows.append(f"g{i}.jpg,{name},train")
    rows.append("q0.jpg,A,test")
    (tmp_path / "metadata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = replace(_result(tmp_path, ["A"], [["A"]]), gallery=6)
    page = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "against a gallery of 6 photos of 3 individuals" in page
    assert "The right answer was the first suggestion for 1 of 1 photo and" in page
    assert "New individuals" not in page  # closed set: no known/new rows


def test_report_has_right_and_wrong_pictures_and_raw_numbers(tmp_path: Path) -> None:
    result = _result(tmp_path, ["A", "B"], [["A", "B", "C", "D"], ["C", "B"]])
    result = replace(result, threshold_fit={"rule": "threshold", "map5": {"global": 0.9}})
    path = write_report(result, tmp_path / "out" / "report.html")
    assert path == tmp_path / "out" / "report.html"
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert page.count("<div class='q right'>") == 1
    assert page.count("<div class='q wrong'>") == 1
    pictures = IMG.findall(page)
    assert len(pictures) == 3 + 2  # first 3 candidates of query 0, both of query 1
    for encoded in pictures:
        assert base64.b64decode(encoded)[:2] == b"\xff\xd8"
    assert "<span class='hit'>#1 A</span>: 4 matched keypoints" in page
    assert "<span class='hit'>#2 B</span>" in page
    assert "#4 D" not in page  # evidence of 3 candidates only
    assert "<li>D</li>" in page  # but the whole answer is listed
    # The raw numbers come last, collapsed, with the JSON keys and a word on each.
    details = page.index("<details class='raw'>")
    assert details > page.rindex("<div class='q ")
    assert (
        "<tr><th>top1<br><small>share of queries with the right answer first</small></th>"
        in (page[details:])
    )
    assert "<tr><th>acc_new<br><small>top-1 on queries of new individuals</small></th>" in page
    assert "<td>n/a</td>" in page[details:]  # NaN acc_new
    assert "<tr><th>gallery</th><td>{" not in page  # nested values are tables, not dumps
    assert (
        "<th>new_threshold_fit</th><td><table><tr><th>rule</th><td>threshold</td></tr>"
        "<tr><th>map5</th><td><table><tr><th>global</th><td>0.9</td></tr></table>" in page
    )
    assert "<th>skipped_reasons</th><td>none</td>" in page


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
    assert "<p>1 queries answered right and 3 answered wrong" not in text
    assert "1 query answered right and 3 answered wrong" in text


def test_new_individual_warning_and_escaping(tmp_path: Path) -> None:
    result = _result(tmp_path, [NEW_INDIVIDUAL, "<b>"], [["A"], []])
    answers = list(result.identifications)
    answers[1] = Identification("q1.jpg", warning="no keypoints found in the image")
    result = replace(result, identifications=answers)
    text = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "shows <b>a new individual (not in the gallery)</b>" in text
    assert "<p>warning: no keypoints found in the image</p>" in text
    assert "shows <b>&lt;b&gt;</b>" in text
    assert "<p>No answer.</p>" in text
    assert len(IMG.findall(text)) == 1
