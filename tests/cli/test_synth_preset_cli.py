"""``photoid synth OUT --preset field``: field photos (sizes drawn per photo, small animals), and
an explicit ``--size`` refused with it."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from typer.testing import CliRunner, Result

from photoid.cli.app import app
from photoid.cli.synth import Preset
from photoid.data import load_dataset
from photoid.data.images import read_info
from photoid.data.synth.presets import PRESETS


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["synth", *args], env={"COLUMNS": "200"})


def test_the_option_offers_every_preset() -> None:
    assert get_args(Preset) == tuple(PRESETS)
    result = _run("--help")
    assert result.exit_code == 0, result.output
    assert "--preset" in result.output and "field" in result.output


def test_field_preset_writes_large_photos_with_boxes_in_their_own_pixels(tmp_path: Path) -> None:
    out = tmp_path / "field"
    result = _run(str(out), "--preset", "field", "--individuals", "1", "--images-per", "2")
    assert result.exit_code == 0, result.output
    dataset = load_dataset(out)
    assert len(dataset) == 2
    low, high = PRESETS["field"].size_range or (0, 0)
    for row in range(2):
        info = read_info(dataset.image_path(row))
        assert low <= max(info.width, info.height) <= high
        x, y, w, h = dataset.table["bbox"].iloc[row]
        assert 0 <= x < x + w <= info.width and 0 <= y < y + h <= info.height
        assert w <= 0.5 * info.width + 1  # the animal fills at most half the frame


def test_field_preset_refuses_an_explicit_size(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "out"), "--preset", "field", "--size", "512")
    assert result.exit_code == 2
    assert "--size" in result.output and "field" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_default_preset_keeps_size(tmp_path: Path) -> None:
    args = ["--individuals", "1", "--images-per", "1", "--size", "64"]
    assert _run(str(tmp_path / "a"), *args).exit_code == 0
    assert _run(str(tmp_path / "b"), *args, "--preset", "default").exit_code == 0
    first = (tmp_path / "a" / "metadata.csv").read_bytes()
    assert first == (tmp_path / "b" / "metadata.csv").read_bytes()
    assert read_info(load_dataset(tmp_path / "b").image_path(0)).width == 64


def test_wide_preset_puts_a_small_animal_anywhere_in_the_frame(tmp_path: Path) -> None:
    out = tmp_path / "wide"
    args = ["--preset", "wide", "--individuals", "3", "--images-per", "4", "--seed", "1"]
    result = _run(str(out), *args)
    assert result.exit_code == 0, result.output
    dataset = load_dataset(out)
    centres = []
    for row in range(len(dataset)):
        info = read_info(dataset.image_path(row))
        assert (info.width, info.height) == (768, 512)
        x, y, w, h = dataset.table["bbox"].iloc[row]
        assert 0 <= x < x + w <= info.width and 0 <= y < y + h <= info.height
        assert w * h < 0.2 * info.width * info.height  # under a fifth of the frame's area
        centres.append((x + w / 2) / info.width)
    assert min(centres) < 0.4 and max(centres) > 0.6  # not always in the middle


def test_wide_preset_takes_another_size(tmp_path: Path) -> None:
    args = ["--preset", "wide", "--individuals", "1", "--images-per", "1", "--size", "384"]
    assert _run(str(tmp_path / "w"), *args).exit_code == 0
    info = read_info(load_dataset(tmp_path / "w").image_path(0))
    assert (info.width, info.height) == (384, 256)
