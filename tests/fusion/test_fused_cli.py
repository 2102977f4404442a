"""``--method fused`` for ``photoid evaluate`` and ``photoid identify``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.data.synth import generate
from photoid.metrics import NEW_INDIVIDUAL

FAST = ["--set", "max_side=192"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 individuals x 4 photos; photos 0-2 of individuals 0-4 are the gallery, photo 3 of each
    individual a query, so individual 5 is new."""
    root = tmp_path_factory.mktemp("synth") / "animals"
    csv_path = generate(root, individuals=6, images_per=4, seed=3, size=128)
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    individual = np.repeat(np.arange(6), 4)
    photo = np.tile(np.arange(4), 6)
    cells["split"] = np.where((individual < 5) & (photo < 3), "train", "")
    cells.loc[photo == 3, "split"] = "test"
    cells.to_csv(csv_path, index=False)
    return root


def _run(args: list[str]) -> tuple[int, str]:
    """Exit code, and stdout followed by stderr (the JSON summary ends stdout)."""
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout + "\n--stderr--\n" + result.stderr


def test_evaluate_fused_reports_calibrated_numbers(dataset: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    code, out = _run(
        [
            *("evaluate", str(dataset), "--method", "fused", "--new-threshold", "auto"),
            *("--report", str(report), "--cache", str(tmp_path / "c"), *FAST),
        ]
    )
    assert code == 0, out
    summary = json.loads(out.split("\n--stderr--\n")[0].strip().splitlines()[-1])
    assert summary["method"] == "fused"
    assert summary["queries"] == 6 and summary["gallery"] == 15
    assert 0.0 <= summary["ece"] <= 1.0
    assert summary["calibration"]["engines"] == [
        "local",
        "local@768",
        "colour",
        "hue-saturation",
    ]
    assert summary["calibration"]["source"] == "gallery leave-one-out"
    assert summary["acc_new"] is not None  # individual 5 is new: scored apart
    assert "No reliability diagram for the first suggestions: 6 of them" in report.read_text(
        encoding="utf-8"
    )


def test_fused_takes_a_probability_threshold(dataset: Path, tmp_path: Path) -> None:
    # A number means the same for every engine: new_individual first when the best score (for
    # the fused engine a probability) is below it. Above every probability: all are new.
    args = ["evaluate", str(dataset), "--method", "fused", "--new-individual", "1.01"]
    code, out = _run([*args, "--cache", str(tmp_path / "c"), *FAST])
    assert code == 0, out
    summary = json.loads(out.split("\n--stderr--\n")[0].strip().splitlines()[-1])
    assert summary["acc_new"] == 1.0 and summary["acc_known"] == 0.0


def test_identify_fused_writes_a_submission_with_probabilities(
    dataset: Path, tmp_path: Path
) -> None:
    query = dataset / "images" / "finned_0002" / "finned_0002_003.jpg"
    if not query.exists():  # the generator names photos by species and individual
        query = sorted((dataset / "images").glob("*/*_003.jpg"))[0]
    out = tmp_path / "answers.csv"
    code, text = _run(
        [
            *("identify", "--gallery", str(dataset), "--method", "fused", "--query", str(query)),
            *("--out", str(out), "--cache", str(tmp_path / "c"), *FAST),
        ]
    )
    assert code == 0, text
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5
    scores = [float(r["score"]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert sum(scores) <= 1.0 + 1e-6  # probabilities of exclusive answers
    names = [r["identity"] for r in rows]
    assert names.count(NEW_INDIVIDUAL) == 1  # this query's P(new) earns a place in its top 5
