"""``photoid benchmark`` end to end on tiny synthetic data with the local engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import photoid.cli.benchmark  # noqa: F401  (registers the command until app.py imports it)
from photoid.benchmark.docs import BEGIN, END
from photoid.cli.app import app
from photoid.data.synth import generate


@pytest.fixture(scope="module")
def animals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "animals"
    generate(root, individuals=4, images_per=4, seed=0, size=64)
    return root


def test_benchmark_prints_runs_and_writes_out_and_docs(animals: Path, tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# B\n\n{BEGIN}\nold\n{END}\n\nend\n", encoding="utf-8")
    out = tmp_path / "table.md"
    args = ["benchmark", str(animals), "--methods", "local", "--work", str(tmp_path / "w")]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--docs", str(docs)])
    assert result.exit_code == 0, result.output
    runs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    # Printed as each run finishes, then again in the markdown's details block.
    assert [(r["split"], r["method"]) for r in runs[:2]] == [
        ("closed 20%", "local"),
        ("open 20%", "local"),
    ]
    assert [(r["gallery"], r["queries"]) for r in runs[:2]] == [(12, 4), (9, 4)]
    markdown = out.read_text(encoding="utf-8")
    assert f"Command: `photoid benchmark {animals} --methods local`" in markdown
    assert "| animals | closed 20% | local | 12 | 4 |" in markdown
    assert "| animals | open 20% | local | 9 | 4 |" in markdown
    assert markdown.rstrip("\n") in result.stdout
    updated = docs.read_text(encoding="utf-8")
    assert updated == f"# B\n\n{BEGIN}\n\n{markdown.rstrip(chr(10))}\n\n{END}\n\nend\n"


def test_missing_markers_stop_the_benchmark_before_it_runs(animals: Path, tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# no markers\n", encoding="utf-8")
    work = tmp_path / "w"
    args = ["benchmark", str(animals), "--methods", "local", "--work", str(work)]
    result = CliRunner().invoke(app, [*args, "--docs", str(docs)])
    assert result.exit_code == 2
    assert f"{docs}: needs exactly one line" in result.stderr
    assert not work.exists()


def test_a_bad_method_is_a_one_line_error() -> None:
    result = CliRunner().invoke(app, ["benchmark", "--methods", "sift"])
    assert result.exit_code == 2 and "--methods 'sift'" in result.stderr
