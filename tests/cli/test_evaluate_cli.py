"""``photoid evaluate``: a table, an optional HTML report, and the numbers as the last JSON line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.data.synth import generate

FAST = ["--set", "max_side=256"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 individuals x 3 photos; individuals 0-3: photos 0-1 train, photo 2 test; 4: all test."""
    root = tmp_path_factory.mktemp("synth") / "animals"
    csv = generate(root, individuals=5, images_per=3, seed=7, size=192)
    cells = pd.read_csv(csv, dtype=str, keep_default_na=False)
    individual, photo = np.repeat(np.arange(5), 3), np.tile(np.arange(3), 5)
    cells["split"] = np.where((individual < 4) & (photo < 2), "train", "test")
    cells.to_csv(csv, index=False)
    return root


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def test_evaluate_prints_json_and_writes_the_report(dataset: Path, tmp_path: Path) -> None:
    report, cache = tmp_path / "R.html", tmp_path / "C"
    args = ["evaluate", str(dataset), "--split-column", "split", "--report", str(report)]
    code, out, err = _run([*args, "--cache", str(cache), "--new-individual", "never", *FAST])
    assert code == 0, out + err
    # The split has unseen individuals and the policy was told never to answer new_individual.
    assert "warning: 3 queries show individuals absent from the gallery" in err
    summary = json.loads(out.strip().splitlines()[-1])
    assert {"top1", "map5", "queries", "gallery", "seconds"} <= set(summary)
    assert summary["queries"] == 7 and summary["gallery"] == 8
    assert summary["acc_new"] == 0.0  # no threshold: the 3 unseen photos are never called new
    assert summary["acc_known"] >= 0.75  # measured: 1.0, all 4 known queries right
    assert summary["top1"] == round(summary["acc_known"] * 4 / 7, 4)
    assert f"report: {report}" in out
    page = report.read_text(encoding="utf-8")
    assert "<img src='data:image/jpeg;base64," in page
    assert "<div class='q wrong'>" in page  # the unseen individual is always wrong
    assert list(cache.rglob("*.npz"))  # features were cached where asked


def test_an_open_split_fits_the_new_individual_policy_by_default(
    dataset: Path, tmp_path: Path
) -> None:
    code, out, err = _run(["evaluate", str(dataset), "--cache", str(tmp_path), *FAST])
    assert code == 0, out + err
    summary = json.loads(out.strip().splitlines()[-1])
    fit = summary["new_threshold_fit"]
    # No val rows: fitted on the gallery's own photos left out, for MAP@5.
    assert (fit["rule"], fit["source"]) == ("threshold", "gallery")
    assert summary["new_threshold"] == pytest.approx(fit["threshold"], abs=1e-4)
    assert "no answer is new_individual" not in err


def test_a_huge_threshold_calls_every_query_new(dataset: Path, tmp_path: Path) -> None:
    args = ["evaluate", str(dataset), "--new-individual", "1e9", "--cache", str(tmp_path), *FAST]
    code, out, err = _run(args)
    assert code == 0, out + err
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["acc_known"], summary["acc_new"]) == (0.0, 1.0)
    assert summary["top1"] == round(3 / 7, 4)
    assert summary["new_threshold"] == 1e9


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "shortlist=abc"], "Error: setting shortlist: 'abc' is not a valid int"),
        (["--method", "deep"], "Error: --method deep needs --model CHECKPOINT"),
        (["--method", "magic"], "Error: unknown method 'magic'; choose one of local, deep, fused"),
        (["--new-individual", "high"], "Error: --new-individual 'high': give 'auto', 'never'"),
        (["--split-column", "wd_split"], "no split column 'wd_split'"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(
    dataset: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    code, out, err = _run(["evaluate", str(dataset), "--cache", str(tmp_path), *extra])
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert message in lines[0]
    assert "Traceback" not in out + err


def test_the_old_threshold_option_still_works_with_a_note(dataset: Path, tmp_path: Path) -> None:
    args = ["evaluate", str(dataset), "--new-threshold", "1e9", "--cache", str(tmp_path), *FAST]
    code, out, err = _run(args)
    assert code == 0, out + err
    assert "--new-threshold is deprecated; use --new-individual" in err
    assert json.loads(out.strip().splitlines()[-1])["acc_new"] == 1.0


@pytest.fixture(scope="module")
def boxed_wrong(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 individuals x 3 photos (0-1 train, 2 test); individuals 0-1 have boxes far outside
    their photos, as KoiVideo's boxes in the video frame: 4 of 8 gallery photos, 2 of 4
    queries."""
    root = tmp_path_factory.mktemp("boxes") / "animals"
    csv = generate(root, individuals=4, images_per=3, seed=7, size=128)
    cells = pd.read_csv(csv, dtype=str, keep_default_na=False)
    individual, photo = np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)
    cells["split"] = np.where(photo < 2, "train", "test")
    cells.loc[individual < 2, "bbox"] = "1000,1000,10,10"
    cells.to_csv(csv, index=False)
    return root


def test_too_many_skipped_photos_fail_with_the_reason_and_the_fix(
    boxed_wrong: Path, tmp_path: Path
) -> None:
    args = ["evaluate", str(boxed_wrong), "--new-individual", "never", "--cache", str(tmp_path)]
    code, out, err = _run([*args, *FAST])
    assert code == 2, out + err
    assert "\nError: 4 of 8 gallery photos (50.0%): bbox_outside 4 (e.g. row 2, " in err
    assert "lies outside the" in err and "--set use_bbox=false" in err
    assert "top1" not in out  # no numbers
    # Ignoring the boxes, as the message says, gives numbers; so does accepting the loss.
    code, out, err = _run([*args, *FAST, "--set", "use_bbox=false"])
    assert code == 0, out + err
    assert json.loads(out.strip().splitlines()[-1])["skipped"] == 0
    code, out, err = _run([*args, *FAST, "--max-skipped", "0.6"])
    assert code == 0, out + err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["skipped"] == 6 and summary["gallery"] == 4
    assert summary["skipped_reasons"] == {
        "gallery": {"bbox_outside": 4},
        "queries": {"bbox_outside": 2},
    }
    assert "warning: skipped 4 of 8 gallery photos (50.0%): bbox_outside 4" in err
    assert "warning: skipped 2 of 4 queries (50.0%): bbox_outside 2" in err
