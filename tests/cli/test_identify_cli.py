"""``photoid identify``: rank the gallery's identities for query photos; CSV, JSON or a table."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.data.synth import generate

FAST = ["--set", "max_side=256"]
QUERY = "images/striped_0001/striped_0001_001.jpg"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "animals"
    generate(root, individuals=6, images_per=2, seed=11, size=192)
    return root


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_identify_writes_csv_rows(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    args = ["identify", "--gallery", str(dataset), "--query", str(dataset / QUERY)]
    code, stdout, err = _run([*args, "--out", str(out), "--cache", str(tmp_path / "c"), *FAST])
    assert code == 0, stdout + err
    assert f"wrote {out}" in stdout
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "5"]  # 6 identities, top 5
    assert {r["query"] for r in rows} == {str(dataset / QUERY)}
    # The query is a gallery photo itself: whole-image features match it exactly.
    assert rows[0]["identity"] == "striped_0001"
    assert rows[0]["gallery_image"] == QUERY
    assert int(rows[0]["inliers"]) > int(rows[1]["inliers"])


def test_identify_a_folder_to_json(dataset: Path, tmp_path: Path) -> None:
    folder = tmp_path / "queries"
    (folder / "more").mkdir(parents=True)
    shutil.copy(dataset / QUERY, folder / "b.jpg")
    shutil.copy(dataset / "images/finned_0002/finned_0002_000.jpg", folder / "more" / "a.jpg")
    (folder / "more" / "broken.jpg").write_text("not a photo", encoding="utf-8")
    out = tmp_path / "a.json"
    args = ["identify", "--gallery", str(dataset), "--query", str(folder), "--out", str(out)]
    with pytest.warns(UserWarning, match=r"skipped query: .*broken\.jpg"):
        code, stdout, err = _run([*args, "--no-cache", *FAST])
    assert code == 0, stdout + err
    answers = json.loads(out.read_text(encoding="utf-8"))
    assert [Path(a["query"]).name for a in answers] == ["b.jpg", "a.jpg", "broken.jpg"]
    assert answers[0]["candidates"][0]["identity"] == "striped_0001"
    assert answers[1]["candidates"][0]["identity"] == "finned_0002"
    assert answers[2]["candidates"] == [] and "broken.jpg" in answers[2]["warning"]


def test_identify_prints_a_table_and_uses_the_default_cache(dataset: Path, tmp_path: Path) -> None:
    args = ["identify", "--gallery", str(dataset), "--query", str(dataset / QUERY), *FAST]
    code, stdout, err = _run(args, env={"PHOTOID_CACHE": str(tmp_path), "COLUMNS": "200"})
    assert code == 0, stdout + err
    assert "striped_0001" in stdout and QUERY in stdout
    assert len(list((tmp_path / "features").rglob("*.npz"))) == 13  # 12 gallery + 1 query


def test_a_narrow_terminal_gets_whole_paths_one_candidate_per_line(
    dataset: Path, tmp_path: Path
) -> None:
    deep = tmp_path / "a rather long folder name of field photos" / "survey [2026-12-03]"
    deep.mkdir(parents=True)
    query = deep / "a_long_query_photo_name_from_the_camera_trap_0001.jpg"
    shutil.copy(dataset / QUERY, query)
    args = ["identify", "--gallery", str(dataset), str(query), *FAST]
    code, stdout, err = _run(args, env={"PHOTOID_CACHE": str(tmp_path), "COLUMNS": "60"})
    assert code == 0, stdout + err
    lines = stdout.splitlines()
    assert lines[1] == str(query)  # whole, brackets and all, on its own line
    candidates = [line for line in lines[2:] if line.startswith("  ")]
    assert [line.split()[0] for line in candidates] == ["1.", "2.", "3.", "4.", "5."]
    assert candidates[0].split()[1] == "striped_0001"
    assert candidates[0].endswith("images/striped_0001/striped_0001_001.jpg")  # its twin
    assert "…" not in stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "shortlist=abc"], "Error: setting shortlist: 'abc' is not a valid int"),
        (["--method", "deep"], "Error: --method deep needs --model CHECKPOINT"),
        (["--method", "magic"], "Error: unknown method 'magic'; choose one of local, deep"),
        (["--out", "answers.txt"], "--out must end in .csv or .json"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(
    dataset: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    args = ["identify", "--gallery", str(dataset), "--query", str(dataset / QUERY)]
    code, out, err = _run([*args, "--cache", str(tmp_path), *FAST, *extra])
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("Error: ") and message in lines[-1]
    assert "Traceback" not in out + err


def test_missing_query_is_an_error(dataset: Path, tmp_path: Path) -> None:
    args = ["identify", "--gallery", str(dataset), "--query", str(tmp_path / "nope.jpg")]
    code, _, err = _run(args)
    assert code == 2
    assert err.strip() == f"Error: {tmp_path / 'nope.jpg'}: no such file or folder"


def test_queries_as_arguments_after_query(dataset: Path, tmp_path: Path) -> None:
    other = dataset / "images/finned_0002/finned_0002_000.jpg"
    out = tmp_path / "a.csv"
    args = ["identify", "--gallery", str(dataset), "--query", str(dataset / QUERY), str(other)]
    code, stdout, err = _run([*args, "--out", str(out), "--no-cache", *FAST])
    assert code == 0, stdout + err
    with out.open(encoding="utf-8", newline="") as handle:
        firsts = [r for r in csv.DictReader(handle) if r["rank"] == "1"]
    assert [(r["query"], r["identity"]) for r in firsts] == [
        (str(dataset / QUERY), "striped_0001"),
        (str(other), "finned_0002"),
    ]


def test_no_query_is_an_error(dataset: Path) -> None:
    code, _, err = _run(["identify", "--gallery", str(dataset)])
    assert code == 2
    assert err.strip() == "Error: no query given: pass image files or folders with --query"
