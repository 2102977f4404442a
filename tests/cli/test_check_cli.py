"""``photoid data check``: exit 0 when clean or only warned, 1 on errors, 2 on a bad argument;
findings shown per code up to ``--max-shown``; ``--json`` writes all of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from photoid.cli.app import app

WIDE = {"COLUMNS": "200"}  # so rich does not wrap table cells


def _dataset(root: Path, rows: list[tuple[str, str]]) -> Path:
    """A dataset folder with one distinct 40x40 PNG per row (image path, identity)."""
    for value, (image, _) in enumerate(rows):
        (root / image).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 40), (20 * value, 0, 0)).save(root / image)
    lines = ["image,identity", *(f"{image},{identity}" for image, identity in rows)]
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return root


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["data", "check", *args], env=WIDE)


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    rows = [("img/a1.png", "A"), ("img/a2.png", "A"), ("img/b1.png", "B"), ("img/b2.png", "B")]
    return _dataset(tmp_path / "ds", rows)


def test_clean_dataset_exits_0(clean: Path) -> None:
    result = _run(str(clean))
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings in 4 rows (2 identities)" in result.output


def test_warnings_alone_exit_0(clean: Path) -> None:
    (clean / "metadata.csv").write_text("image,identity\nimg/a1.png,A\nimg/b1.png,B\n", "utf-8")
    result = _run(str(clean))
    assert result.exit_code == 0, result.output
    assert result.output.count("singleton_identity") == 2
    assert "0 errors, 2 warnings in 2 rows (2 identities)" in result.output


def test_errors_exit_1_and_name_row_and_path(clean: Path) -> None:
    (clean / "img/b1.png").unlink()
    result = _run(str(clean))
    assert result.exit_code == 1, result.output
    line = next(text for text in result.output.splitlines() if "file_missing" in text)
    assert "error" in line and " 4 " in line and "img/b1.png" in line and "no such file" in line
    assert "1 error, 0 warnings in 4 rows (2 identities)" in result.output


def test_unreadable_csv_is_a_finding_exit_1(clean: Path) -> None:
    (clean / "metadata.csv").write_text("image;identity\nimg/a1.png;A\n", "utf-8")
    result = _run(str(clean))
    assert result.exit_code == 1, result.output
    assert "csv_unreadable" in result.output and "separated by ';'" in result.output


def test_display_is_capped_per_code(clean: Path) -> None:
    for name in ("a1", "a2", "b1", "b2"):
        (clean / f"img/{name}.png").unlink()
    result = _run(str(clean), "--max-shown", "1")
    assert result.exit_code == 1, result.output
    assert result.output.count("no such file") == 1
    assert "... and 3 more file_missing" in result.output
    assert "4 errors, 0 warnings in 4 rows (2 identities)" in result.output


def test_json_holds_every_finding(clean: Path, tmp_path: Path) -> None:
    for name in ("a1", "a2", "b1", "b2"):
        (clean / f"img/{name}.png").unlink()
    out = tmp_path / "report.json"
    result = _run(str(clean), "--json", str(out), "--max-shown", "1")
    assert result.exit_code == 1, result.output
    data = json.loads(out.read_text("utf-8"))
    assert data["n_errors"] == 4
    assert [(f["code"], f["row"], f["path"]) for f in data["findings"]] == [
        ("file_missing", 2, "img/a1.png"),
        ("file_missing", 3, "img/a2.png"),
        ("file_missing", 4, "img/b1.png"),
        ("file_missing", 5, "img/b2.png"),
    ]


def test_min_side_option(clean: Path) -> None:
    result = _run(str(clean), "--min-side", "41")
    assert result.exit_code == 0, result.output
    assert result.output.count("tiny_image") == 4
    assert "0 errors, 4 warnings" in result.output


def test_missing_folder_is_a_one_line_error_exit_2(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "absent"))
    assert result.exit_code == 2
    assert "no such folder" in result.output


def test_a_long_path_is_shown_whole_on_an_80_column_terminal(clean: Path) -> None:
    name = "img/a_rather_long_folder_name_from_the_field/bad_bbox_outside_the_photo_0042.png"
    (clean / name).parent.mkdir(parents=True)
    (clean / name).write_bytes(b"not an image")
    with (clean / "metadata.csv").open("a", encoding="utf-8") as csv:
        csv.write(f"{name},B\n")
    result = CliRunner().invoke(app, ["data", "check", str(clean)], env={"COLUMNS": "80"})
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "│" in line]
    assert lines and max(len(line) for line in lines) <= 80
    # The path column's pieces, top to bottom, give the whole path back (nothing cut off).
    pieces = [line.split("│")[4].strip() for line in lines if line.count("│") >= 5]
    assert name in "".join(pieces)
