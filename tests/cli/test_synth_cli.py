"""``photoid synth OUT``: writes a loadable dataset, reports it, refuses to overwrite by default."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner, Result

from photoid.cli.app import app
from photoid.data import load_dataset
from photoid.data.images import read_info


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["synth", *args], env={"COLUMNS": "200"})


def test_writes_dataset_and_says_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "synthetic"
    result = _run(
        str(out), "--individuals", "3", "--images-per", "2", "--seed", "5", "--size", "80"
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote 6 images of 3 individuals to {out / 'images'}" in result.output
    assert f"Wrote {out / 'metadata.csv'}" in result.output
    dataset = load_dataset(out)
    assert len(dataset) == 6 and len(dataset.identities) == 3
    info = read_info(dataset.image_path(0))
    assert (info.width, info.height) == (80, 60)


def test_asymmetric_and_workers_options(tmp_path: Path) -> None:
    args = ["--individuals", "2", "--images-per", "6", "--seed", "2", "--size", "64"]
    assert _run(str(tmp_path / "a"), *args, "--asymmetric").exit_code == 0
    assert _run(str(tmp_path / "b"), *args, "--asymmetric", "--workers", "2").exit_code == 0
    first = (tmp_path / "a" / "metadata.csv").read_bytes()
    assert first == (tmp_path / "b" / "metadata.csv").read_bytes()
    assert set(pd.read_csv(tmp_path / "a" / "metadata.csv")["viewpoint"]) == {"left", "right"}


def test_refuses_existing_dataset_unless_overwrite(tmp_path: Path) -> None:
    args = [str(tmp_path), "--individuals", "1", "--images-per", "1", "--size", "64"]
    assert _run(*args).exit_code == 0
    refused = _run(*args, "--seed", "9")
    assert refused.exit_code == 2
    assert "already holds a dataset" in refused.output and "--overwrite" in refused.output
    assert "Traceback" not in refused.output
    replaced = _run(*args, "--individuals", "2", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert len(pd.read_csv(tmp_path / "metadata.csv")) == 2


def test_rejects_zero_individuals(tmp_path: Path) -> None:
    result = _run(str(tmp_path), "--individuals", "0")
    assert result.exit_code == 2
    assert not (tmp_path / "metadata.csv").exists()
