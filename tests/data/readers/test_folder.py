from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from photoid.data import UNKNOWN_LABEL, load_dataset
from photoid.data.readers import convert
from photoid.data.readers.folder import read_folder
from photoid.errors import DatasetError


def _image(path: Path, color: tuple[int, int, int] = (200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}[path.suffix.lower()]
    Image.new("RGB", (8, 6), color).save(path, format=fmt)
    return path


def _layout(root: Path) -> Path:
    _image(root / "Ayo" / "a.jpg")
    _image(root / "Ayo" / "2021" / "b.PNG", (0, 90, 0))
    _image(root / "Ayo" / ".hidden.jpg")
    (root / "Ayo" / "notes.txt").write_text("not an image", encoding="utf-8")
    _image(root / "Bo" / "c.jpeg", (0, 0, 250))
    _image(root / ".cache" / "x.jpg")
    _image(root / "unknown" / "d.webp")
    return root


def test_identity_is_the_top_folder_and_hidden_and_other_files_are_ignored(tmp_path: Path) -> None:
    root = _layout(tmp_path / "src")
    out = convert("folder", root, tmp_path / "out")
    metadata = (out / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert metadata == [
        "image,identity",
        "images/Ayo/2021/b.PNG,Ayo",
        "images/Ayo/a.jpg,Ayo",
        "images/Bo/c.jpeg,Bo",
        "images/unknown/d.webp,unknown",
    ]
    dataset = load_dataset(out)
    assert dataset.identities == ("Ayo", "Bo")
    assert dataset.labels.tolist() == [0, 0, 1, UNKNOWN_LABEL]
    copied = out / "images" / "Ayo" / "2021" / "b.PNG"
    assert not copied.is_symlink()
    assert copied.read_bytes() == (root / "Ayo" / "2021" / "b.PNG").read_bytes()


def test_images_lying_outside_identity_folders_are_left_out_with_a_warning(tmp_path: Path) -> None:
    root = _layout(tmp_path / "src")
    _image(root / "stray.jpg")
    with pytest.warns(UserWarning, match=r"left out 1 image.*stray\.jpg"):
        entries = read_folder(root)
    assert [e.image for e in entries][:2] == ["images/Ayo/2021/b.PNG", "images/Ayo/a.jpg"]
    assert len(entries) == 4


def test_a_folder_without_images_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "src" / "Ayo").mkdir(parents=True)
    (tmp_path / "src" / "Ayo" / "readme.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DatasetError, match="no images found in identity folders"):
        read_folder(tmp_path / "src")


def test_a_file_instead_of_a_folder_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "data.zip"
    path.write_bytes(b"PK")
    with pytest.raises(DatasetError, match=r"data\.zip: is not a folder"):
        read_folder(path)
