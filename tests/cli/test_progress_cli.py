"""Progress bars: every stage of a long command reported with its count and time remaining on
stderr, nothing on stdout; ``--quiet`` (or ``PHOTOID_QUIET=1``) silences them and nothing
else."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.data.synth import generate


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("progress") / "animals"
    generate(root, individuals=3, images_per=2, seed=3, size=96)
    return root


def _fit(dataset: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> tuple:
    args = ["fit", str(dataset), "--out", str(out), "--set", "max_side=96", *extra]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120", **(env or {})})
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_each_stage_gets_a_bar_with_its_count_and_time_left(dataset: Path, tmp_path: Path) -> None:
    stdout, stderr = _fit(dataset, tmp_path / "engine")
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert [line.split()[0] for line in lines] == ["gallery", "calibration"]
    assert all("6/6" in line and "eta" in line for line in lines)
    assert "━" not in stdout and "local engine fitted: 6 photos of 3 individuals" in stdout


def test_quiet_silences_the_bars_and_nothing_else(dataset: Path, tmp_path: Path) -> None:
    stdout, stderr = _fit(dataset, tmp_path / "engine", "--quiet")
    assert stderr == ""
    assert "local engine fitted: 6 photos of 3 individuals" in stdout
    _, from_env = _fit(dataset, tmp_path / "again", env={"PHOTOID_QUIET": "1"})
    assert from_env == ""
    _, loud = _fit(dataset, tmp_path / "loud")  # --quiet lasts one command, not the process
    assert "gallery" in loud
