"""Query paths from the command line: files as given, folders searched for images."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoid.errors import PhotoidError
from photoid.identify import collect_images


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_folders_are_searched_recursively_and_sorted(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for name in ("b.jpg", "a.PNG", "sub/c.jpeg", "sub/deeper/d.tif", "notes.txt", ".hidden.jpg"):
        _touch(folder / name)
    single = _touch(tmp_path / "extra.webp")
    found = collect_images([single, folder])
    assert found == [
        single,
        folder / "a.PNG",
        folder / "b.jpg",
        folder / "sub" / "c.jpeg",
        folder / "sub" / "deeper" / "d.tif",
    ]


def test_a_file_is_taken_as_given(tmp_path: Path) -> None:
    odd = _touch(tmp_path / "photo.raw")  # not an image suffix, but named explicitly
    assert collect_images([odd, odd]) == [odd, odd]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PhotoidError, match=r"nope\.jpg: no such file or folder"):
        collect_images([tmp_path / "nope.jpg"])


def test_folder_without_images_is_an_error(tmp_path: Path) -> None:
    _touch(tmp_path / "empty" / "readme.txt")
    with pytest.raises(PhotoidError, match="the folder holds no images"):
        collect_images([tmp_path / "empty"])
