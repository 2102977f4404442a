"""Answers written as CSV (one row per candidate) or JSON (with the matched points)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from photoid.core import Candidate, Identification, Match
from photoid.errors import PhotoidError
from photoid.identify import write_answers
from photoid.identify.output import CSV_COLUMNS

ANSWERS = [
    Identification(
        "q/one.jpg",
        [
            Candidate(
                "lion_A",
                2.1234567,
                Match(
                    "g/a1.jpg",
                    2.1,
                    2,
                    np.array([[1.234, 2.0], [3.0, 4.0]], np.float32),
                    np.array([[10.0, 20.0], [30.0, 40.555]], np.float32),
                ),
            ),
            Candidate(
                "lion_B",
                0.0,
                Match("g/b1.jpg", 0.0, 0, np.zeros((0, 2)), np.zeros((0, 2))),
                probability=0.25,
            ),
        ],
        keypoints=120,
    ),
    Identification("q/two.jpg", warning="no keypoints found in the image"),
]


def test_csv_has_one_row_per_candidate(tmp_path: Path) -> None:
    out = write_answers(ANSWERS, tmp_path / "deep" / "answers.csv")
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        list(CSV_COLUMNS),
        ["q/one.jpg", "1", "lion_A", "2.123457", "", "2", "g/a1.jpg", ""],
        ["q/one.jpg", "2", "lion_B", "0.0", "0.25", "0", "g/b1.jpg", ""],
        ["q/two.jpg", "", "", "", "", "", "", "no keypoints found in the image"],
    ]


def test_json_keeps_the_evidence(tmp_path: Path) -> None:
    out = write_answers(ANSWERS, tmp_path / "answers.JSON")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [a["query"] for a in data] == ["q/one.jpg", "q/two.jpg"]
    first = data[0]
    assert first["keypoints"] == 120 and first["warning"] is None
    assert first["candidates"][0] == {
        "identity": "lion_A",
        "score": 2.1234567,
        "probability": None,
        "gallery_image": "g/a1.jpg",
        "inliers": 2,
        "query_points": [[1.23, 2.0], [3.0, 4.0]],
        "gallery_points": [[10.0, 20.0], [30.0, 40.56]],
    }
    assert data[1] == {
        "query": "q/two.jpg",
        "keypoints": 0,
        "warning": "no keypoints found in the image",
        "new_probability": None,
        "candidates": [],
    }


def test_other_suffixes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PhotoidError, match=r"answers\.txt: --out must end in \.csv or \.json"):
        write_answers(ANSWERS, tmp_path / "answers.txt")
    assert not (tmp_path / "answers.txt").exists()


def test_kaggle_submission_inserts_new_individual(tmp_path: Path) -> None:
    from photoid.core import Candidate, Identification, Match
    from photoid.identify import write_submission

    def cand(name: str, score: float) -> Candidate:
        empty = np.zeros((0, 2), np.float32)
        return Candidate(name, score, Match("g.jpg", score, 0, empty, empty))

    answers = [
        Identification("q/a.jpg", [cand("w1", 9.0), cand("w2", 2.0), cand("w3", 1.0)]),
        Identification("q/b.jpg", [cand("w2", 0.5)]),
        Identification("q/c.jpg", [], warning="no keypoints found in the image"),
    ]
    out = write_submission(answers, tmp_path / "sub.csv", new_threshold=3.0)
    # a.jpg: 9.0 >= 3 stays first, 2.0 < 3 -> new_individual at rank 2.
    # b.jpg: 0.5 < 3 -> new_individual first. c.jpg: no candidates -> new_individual alone.
    assert out.read_text().splitlines() == [
        "image,predictions",
        "a.jpg,w1 new_individual w2 w3",
        "b.jpg,new_individual w2",
        "c.jpg,new_individual",
    ]
    plain = write_submission(answers[:1], tmp_path / "plain.csv")
    assert plain.read_text().splitlines()[1] == "a.jpg,w1 w2 w3"
