"""Deep `--model` folders and ensembles, `--new-threshold auto`, `photoid pseudo-label`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from checkpoint_support import random_checkpoint
from photoid.cli.app import app
from photoid.data.synth import generate
from photoid.data.table import load_dataset


def _checkpoint(path: Path, seed: int) -> Path:
    return random_checkpoint(path, seed)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """4 individuals x 3 photos: 0-2 photos 0-1 train, photo 2 test; 3: one train photo, two
    test. Two fold runs, one with a best checkpoint."""
    root = tmp_path_factory.mktemp("cli_deep")
    csv_path = generate(root / "data", individuals=4, images_per=3, seed=9, size=64)
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    individual, photo = np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)
    cells["split"] = np.where(photo < 2 - (individual == 3), "train", "test")
    cells.to_csv(csv_path, index=False)
    _checkpoint(root / "runs" / "fold0" / "checkpoints" / "last.ckpt", 0)
    _checkpoint(root / "runs" / "fold1" / "checkpoints" / "best-epoch=0.ckpt", 1)
    return root / "data", root / "runs"


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def test_evaluate_a_fold_ensemble_with_an_auto_threshold(setup: tuple[Path, Path]) -> None:
    data, runs = setup
    args = ["evaluate", str(data), "--method", "deep", "--model", str(runs)]
    code, out, err = _run([*args, "--ensemble", "concat", "--new-threshold", "auto"])
    assert code == 0, out + err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["method"] == "deep" and (summary["gallery"], summary["queries"]) == (7, 5)
    assert summary["new_threshold_fit"]["queries"] == 7
    assert summary["new_threshold_fit"]["new"] == 1  # individual 3 has one gallery photo


def test_identify_with_two_models_as_an_ensemble(setup: tuple[Path, Path], tmp_path: Path) -> None:
    data, runs = setup
    query = data / load_dataset(data).table["image"].iloc[0]
    out = tmp_path / "answers.csv"
    models = ["--model", str(runs / "fold0"), "--model", str(runs / "fold1")]
    args = ["identify", "--gallery", str(data), "--query", str(query), "--method", "deep"]
    code, stdout, err = _run([*args, *models, "--out", str(out)])
    assert code == 0, stdout + err
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    known = [r for r in rows if r["identity"] != "new_individual"]
    assert len(known) == 4  # 4 identities in the gallery, new_individual where the policy puts it
    assert len(rows) - len(known) <= 1
    assert rows[0]["gallery_image"] == str(query.relative_to(data))
    assert float(rows[0]["score"]) == pytest.approx(1.0, abs=1e-4)


def test_pseudo_label_writes_a_new_dataset(setup: tuple[Path, Path], tmp_path: Path) -> None:
    data, runs = setup
    out = tmp_path / "round2"
    args = ["pseudo-label", str(data), "--model", str(runs / "fold0"), "--min-score", "-1"]
    code, stdout, err = _run([*args, "--out", str(out)])
    assert code == 0, stdout + err
    summary = json.loads(stdout.strip().splitlines()[-1])
    # A score of at least -1 accepts every query: all 5 test rows.
    assert summary["queries"] == 5 and summary["labelled"] == 5 and summary["checked"] == 5
    assert 0 <= summary["right"] <= 5
    assert summary["column"] == "pseudo_split"
    assert summary["written"] == str(out / "metadata.csv")
    assert f"labelled 5 of 5 queries ({summary['right']} of 5 checked" in stdout
    table = load_dataset(out).table
    assert (table["pseudo_split"] == "train").all()
    moved = table["identity"] != table["identity_before_pseudo"]
    assert int((moved & (table["identity_before_pseudo"] != "")).sum()) == 5 - summary["right"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--in-place", "--out", "x"], "Error: give either --out FOLDER or --in-place, not both"),
        (["--ensemble", "vote"], "Error: --ensemble 'vote': choose one of mean, concat"),
        (["--column", "guess"], "Error: --column 'guess': a new split column must be named"),
    ],
)
def test_pseudo_label_bad_options(setup: tuple[Path, Path], extra: list[str], message: str) -> None:
    data, runs = setup
    args = ["pseudo-label", str(data), "--model", str(runs), "--min-score", "0.5", *extra]
    code, out, err = _run(args)
    assert code == 2, out + err
    assert err.strip().splitlines()[-1].startswith(message)


def test_pseudo_label_needs_a_model(setup: tuple[Path, Path]) -> None:
    data, _ = setup
    code, _, err = _run(["pseudo-label", str(data), "--min-score", "0.5"])
    assert code == 2 and "needs --model CHECKPOINT" in err
