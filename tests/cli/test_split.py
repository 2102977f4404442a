"""``photoid data split``: writes the column, keeps every other cell, refuses to overwrite."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from photoid.cli.app import app

CSV = (
    "image,identity,species,bbox,date,wd_split,note\n"
    'a1.jpg,A,lion,"10.0,20,30,40",2024-01-01,train,"has, comma"\n'
    "a2.jpg,A,lion,,2024-01-02,test,\n"
    "a3.jpg,A,lion,,2024-01-03,train, spaced \n"
    "b1.jpg,B,lion,,2024-01-04,train,x\n"
    "b2.jpg,B,lion,,2024-01-05,test,\n"
    "c1.jpg,C,lion,,2024-01-06,train,\n"
    "u1.jpg,unknown,lion,,,test,\n"
)


def _dataset(tmp_path: Path) -> Path:
    (tmp_path / "metadata.csv").write_text(CSV, encoding="utf-8")
    return tmp_path


def _cells(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "metadata.csv", dtype=str, keep_default_na=False)


def test_split_adds_column_and_keeps_the_rest(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    before = _cells(root)
    args = [
        "data",
        "split",
        str(root),
        "--kind",
        "open",
        "--unseen-fraction",
        "0.34",
        "--seed",
        "0",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    after = _cells(root)
    pd.testing.assert_frame_equal(after[list(before.columns)], before)
    assert list(after.columns) == [*before.columns, "split"]
    assert after["split"].iloc[6] == "test"  # the unknown image is a query
    # 3 identities * 0.34 -> 1 unseen identity, all of whose images are test.
    split = after.set_index("image")["split"]
    test_only = {i for i in "ABC" if (split[after["identity"].to_numpy() == i] == "test").all()}
    assert len(test_only) == 1
    new_row = next(line for line in result.output.splitlines() if "new individuals" in line)
    assert new_row.split()[-2:] == ["1", "│"]


def test_split_refuses_existing_column_unless_overwrite(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    runner = CliRunner()
    text = (root / "metadata.csv").read_bytes()
    refused = runner.invoke(
        app, ["data", "split", str(root), "--kind", "closed", "--column", "wd_split"]
    )
    assert refused.exit_code == 2
    assert "already has a column 'wd_split'; pass --overwrite" in refused.output
    assert (root / "metadata.csv").read_bytes() == text
    replaced = runner.invoke(
        app,
        [
            "data",
            "split",
            str(root),
            "--kind",
            "time",
            "--cutoff",
            "2024-01-05",
            "--column",
            "wd_split",
            "--overwrite",
        ],
    )
    assert replaced.exit_code == 0, replaced.output
    after = _cells(root)
    assert after["wd_split"].tolist() == ["train"] * 4 + ["test"] * 3
    assert after["note"].tolist() == ["has, comma", "", " spaced ", "x", "", "", ""]
    assert list(after.columns) == [
        "image",
        "identity",
        "species",
        "bbox",
        "date",
        "wd_split",
        "note",
    ]


def test_split_copies_a_column_into_another(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    args = [
        "data",
        "split",
        str(root),
        "--kind",
        "column",
        "--from-column",
        "wd_split",
        "--column",
        "eval_split",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    after = _cells(root)
    assert after["eval_split"].tolist() == after["wd_split"].tolist()


def test_split_reports_option_and_data_errors(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    runner = CliRunner()
    misuse = runner.invoke(
        app, ["data", "split", str(root), "--kind", "closed", "--cutoff", "2024-01-01"]
    )
    assert misuse.exit_code == 2
    assert "does not use cutoff" in misuse.output
    (root / "metadata.csv").write_text(CSV.replace("2024-01-02", ""), encoding="utf-8")
    undated = runner.invoke(app, ["data", "split", str(root), "--kind", "time"])
    assert undated.exit_code == 2
    assert "1 image(s) of known identities have no date (first: row 3)" in undated.output
    ok = runner.invoke(app, ["data", "split", str(root), "--kind", "time", "--undated", "train"])
    assert ok.exit_code == 0, ok.output
    bad_kind = runner.invoke(app, ["data", "split", str(root), "--kind", "random"])
    assert bad_kind.exit_code == 2
