"""The one image-path rule (:mod:`photoid.data.paths`): relative paths inside the dataset folder,
no escape through ``..``, an absolute path or a symbolic link; links inside the folder and hard
links are fine, and nothing switches the rule off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from photoid.data import load_dataset
from photoid.data.check import check_dataset
from photoid.data.paths import ImagePathRule
from photoid.errors import DatasetError


def _png(path: Path, value: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 40), (value, 0, 0)).save(path)
    return path


def _dataset(root: Path, images: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = ["image,identity", *(f"{image},A" for image in images)]
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """An image beside the dataset folder, so only the rule can refuse it."""
    return _png(tmp_path / "elsewhere" / "x.png", 9)


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("../elsewhere/x.png", "leaves the dataset folder through '..'"),
        ("images/../../elsewhere/x.png", "leaves the dataset folder through '..'"),
        ("..\\elsewhere\\x.png", "leaves the dataset folder through '..'"),
        ("/etc/hostname", "is absolute"),
        ("C:\\photos\\x.png", "is absolute"),
        ("\\\\server\\share\\x.png", "is absolute"),
    ],
)
def test_paths_leaving_the_folder_are_refused_with_row_and_path(
    tmp_path: Path, outside: Path, cell: str, words: str
) -> None:
    root = _dataset(tmp_path / "ds", ["images/a.png", cell])
    _png(root / "images/a.png")
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    message = str(info.value)
    assert f"row 3: the image path {cell!r} {words}" in message
    assert str(root / "metadata.csv") in message
    assert "write their paths relative to it" in message


def test_a_link_to_a_file_outside_is_refused(tmp_path: Path, outside: Path) -> None:
    root = _dataset(tmp_path / "ds", ["images/a.png"])
    (root / "images").mkdir()
    (root / "images/a.png").symlink_to(outside)
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    message = str(info.value)
    assert f"row 2: the image 'images/a.png' is a symbolic link to {outside}" in message
    assert "copy them, or hard-link them" in message


def test_a_linked_folder_outside_is_refused_and_named(tmp_path: Path, outside: Path) -> None:
    root = _dataset(tmp_path / "ds", ["images/x.png"])
    (root / "images").symlink_to(outside.parent)
    with pytest.raises(DatasetError, match="through the symbolic link images -> "):
        load_dataset(root)


def test_a_relative_link_climbing_out_is_refused(tmp_path: Path, outside: Path) -> None:
    root = _dataset(tmp_path / "ds", ["images/a.png"])
    (root / "images").mkdir()
    (root / "images/a.png").symlink_to(Path("../../elsewhere/x.png"))
    assert (root / "images/a.png").is_file()
    with pytest.raises(DatasetError, match="is a symbolic link to"):
        load_dataset(root)


def test_links_inside_the_folder_and_a_linked_root_are_fine(tmp_path: Path) -> None:
    real = _dataset(tmp_path / "ds", ["images/a.png", "alias/a.png", "images/b.png"])
    _png(real / "images/a.png")
    (real / "alias").symlink_to(real / "images")
    (real / "images/b.png").symlink_to(Path("a.png"))
    linked_root = tmp_path / "linked"
    linked_root.symlink_to(real)
    assert len(load_dataset(real)) == 3
    assert len(load_dataset(linked_root)) == 3
    assert check_dataset(linked_root).codes().get("link_outside") is None


def test_a_hard_link_to_a_file_outside_is_a_file_of_the_folder(
    tmp_path: Path, outside: Path
) -> None:
    root = _dataset(tmp_path / "ds", ["images/x.png"])
    (root / "images").mkdir()
    os.link(outside, root / "images/x.png")
    assert ImagePathRule(root).problem("images/x.png") is None
    assert len(load_dataset(root)) == 1
    assert check_dataset(root).errors == []


def test_the_old_opt_out_variable_changes_nothing(
    tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHOTOID_FOLLOW_LINKS", "1")
    root = _dataset(tmp_path / "ds", ["images/x.png"])
    (root / "images").symlink_to(outside.parent)
    with pytest.raises(DatasetError, match="symbolic link"):
        load_dataset(root)
    assert check_dataset(root).codes().get("link_outside") == 1


def test_check_reports_the_link_with_the_same_rule(tmp_path: Path, outside: Path) -> None:
    root = _dataset(tmp_path / "ds", ["images/a.png", "images/b.png"])
    _png(root / "images/a.png", 1)
    (root / "images/b.png").symlink_to(outside)
    report = check_dataset(root)
    assert [(f.code, f.row, f.path) for f in report.errors] == [("link_outside", 3, "images/b.png")]
    assert "copy them, or hard-link them" in report.errors[0].message
    assert report.n_images == 1  # the file behind the link is never opened


def test_many_bad_rows_give_each_row_and_the_fix_once(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds", [f"../{i}.png" for i in range(7)])
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    message = str(info.value)
    assert "row 2:" in message and "row 6:" in message and "(and 2 more)" in message
    assert message.count("write their paths relative to it") == 1
