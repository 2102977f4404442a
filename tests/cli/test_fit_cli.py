"""`photoid fit` once, then `photoid identify --engine`: the same answers as fitting in the
call, without refitting."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.data.synth import generate

FAST = ["--set", "max_side=192"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 individuals x 3 photos: photos 0-1 are the gallery, photo 2 the query."""
    root = tmp_path_factory.mktemp("fit") / "animals"
    csv_path = generate(root, individuals=5, images_per=3, seed=4, size=128)
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    cells["split"] = np.where(np.tile(np.arange(3), 5) < 2, "train", "test")
    cells.to_csv(csv_path, index=False)
    return root


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_fit_then_identify_with_the_engine(dataset: Path, tmp_path: Path) -> None:
    engine = tmp_path / "engine"
    base = ["fit", str(dataset), "--out", str(engine), "--split-column", "split", *FAST]
    code, out, err = _run(base)
    assert code == 0, out + err
    assert "local engine fitted: 10 photos of 5 individuals" in out
    assert f"photoid identify --engine {engine}" in out
    manifest = json.loads((engine / "engine.json").read_text())
    assert manifest["method"] == "local" and manifest["gallery"]["photos"] == 10
    assert list((engine / "features").rglob("*.npz"))  # cached inside the engine folder
    code, out, _ = _run(base)
    assert code == 0 and "already up to date" in out

    queries = sorted((dataset / "images").glob("*/*_002.jpg"))
    saved = tmp_path / "saved.csv"
    args = ["identify", "--engine", str(engine), *map(str, queries), "--out", str(saved)]
    code, out, err = _run(args)
    assert code == 0, out + err
    fresh = tmp_path / "fresh.csv"
    args = ["identify", "--gallery", str(dataset), "--split-column", "split", *map(str, queries)]
    code, out, err = _run([*args, "--out", str(fresh), "--no-cache", *FAST])
    assert code == 0, out + err
    assert _rows(saved) == _rows(fresh)
    first = [r for r in _rows(saved) if r["rank"] == "1"]
    assert len(first) == 5 and sum(r["identity"] in r["query"] for r in first) >= 4


def test_engine_and_gallery_options_do_not_mix(dataset: Path, tmp_path: Path) -> None:
    query = str(sorted((dataset / "images").glob("*/*_002.jpg"))[0])
    code, _, err = _run(["identify", query])
    assert code == 2 and "give --engine FOLDER (from photoid fit) or --gallery DATASET" in err
    code, _, err = _run(["identify", "--engine", str(tmp_path), "--gallery", str(dataset), query])
    assert code == 2 and "drop --gallery and --model" in err
    code, _, err = _run(["identify", "--engine", str(tmp_path), query])
    assert code == 2 and "no fitted engine here" in err
    code, _, err = _run(["identify", "--engine", str(tmp_path), "--new-individual", "never", query])
    assert code == 2 and "give it to `photoid fit`" in err


def test_identify_warns_when_the_gallery_changed_after_fitting(
    dataset: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    engine = tmp_path / "engine"
    code, out, err = _run(
        ["fit", str(copy), "--out", str(engine), "--split-column", "split", *FAST]
    )
    assert code == 0, out + err
    query = str(sorted((copy / "images").glob("*/*_002.jpg"))[0])
    code, _, err = _run(["identify", "--engine", str(engine), query])
    assert code == 0 and "changed after" not in err
    manifest = engine / "engine.json"
    later = manifest.stat().st_mtime + 10
    os.utime(copy / "metadata.csv", (later, later))
    code, _, err = _run(["identify", "--engine", str(engine), query])
    assert code == 0
    assert "metadata.csv changed after the engine" in err and "refit it: photoid fit" in err
