from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from photoid.data import UNKNOWN_LABEL, load_dataset
from photoid.data.readers import convert
from photoid.errors import DatasetError

TRAIN = "image_id,image_location,turtle_id\nID_1,top,t_A\nID_2,left,t_B\nID_3,right,t_A\n"
EXTRA = "image_id,image_location,turtle_id\nID_4,Top,t_A\nID_5,LEFT,t_X\nID_6,right,t_Y\n"


def _folder(root: Path, *, extra: bool = True, files: tuple[str, ...] = ()) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "train.csv").write_text(TRAIN, encoding="utf-8")
    if extra:
        (root / "extra_images.csv").write_text(EXTRA, encoding="utf-8")
    names = files or ("ID_1.JPG", "ID_2.jpg", "ID_3.JPG", "ID_4.JPG", "ID_5.JPG", "ID_6.Jpg")
    for name in names:
        Image.new("RGB", (5, 5), (1, 2, 3)).save(root / "images" / name, format="JPEG")
    return root


def test_extra_only_ids_become_unknown_and_viewpoint_and_source_are_kept(tmp_path: Path) -> None:
    dataset = load_dataset(convert("turtle_recall", _folder(tmp_path / "tr"), tmp_path / "out"))
    table = dataset.table
    assert table["image"].tolist() == [
        "images/ID_1.JPG",
        "images/ID_2.jpg",
        "images/ID_3.JPG",
        "images/ID_4.JPG",
        "images/ID_5.JPG",
        "images/ID_6.Jpg",
    ]
    assert table["identity"].tolist() == ["t_A", "t_B", "t_A", "t_A", "unknown", "unknown"]
    assert table["viewpoint"].tolist() == ["top", "left", "right", "top", "left", "right"]
    assert table["source"].tolist() == ["train", "train", "train", "extra", "extra", "extra"]
    assert dataset.identities == ("t_A", "t_B")
    assert dataset.labels.tolist() == [0, 1, 0, 0, UNKNOWN_LABEL, UNKNOWN_LABEL]


def test_keep_extra_ids_keeps_every_turtle(tmp_path: Path) -> None:
    root = _folder(tmp_path / "tr")
    dataset = load_dataset(convert("turtle_recall", root, tmp_path / "out", keep_extra_ids=True))
    assert dataset.table["identity"].tolist() == ["t_A", "t_B", "t_A", "t_A", "t_X", "t_Y"]
    assert dataset.identities == ("t_A", "t_B", "t_X", "t_Y")


def test_extra_images_csv_is_optional(tmp_path: Path) -> None:
    root = _folder(tmp_path / "tr", extra=False)
    dataset = load_dataset(convert("turtle_recall", root, tmp_path / "out"))
    assert dataset.table["image"].tolist() == [
        "images/ID_1.JPG",
        "images/ID_2.jpg",
        "images/ID_3.JPG",
    ]


def test_image_listed_twice_names_both_rows(tmp_path: Path) -> None:
    root = _folder(tmp_path / "tr")
    (root / "extra_images.csv").write_text(
        "image_id,image_location,turtle_id\nID_2,left,t_B\n", encoding="utf-8"
    )
    with pytest.raises(DatasetError) as caught:
        convert("turtle_recall", root, tmp_path / "out")
    message = str(caught.value)
    assert f"{root / 'extra_images.csv'}, row 2:" in message
    assert f"image_id 'ID_2' is listed again (first in {root / 'train.csv'}, row 3)" in message


def test_missing_image_names_the_row(tmp_path: Path) -> None:
    root = _folder(tmp_path / "tr", extra=False, files=("ID_1.JPG", "ID_3.jpg"))
    with pytest.raises(DatasetError, match=r"train\.csv, row 3: lists image .*ID_2\.JPG"):
        convert("turtle_recall", root, tmp_path / "out")


def test_missing_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    root = _folder(tmp_path / "tr")
    (root / "extra_images.csv").write_text("image_id,turtle_id\nID_4,t_A\n", encoding="utf-8")
    with pytest.raises(
        DatasetError, match=r"extra_images\.csv, row 1: missing column\(s\) 'image_location'"
    ):
        convert("turtle_recall", root, tmp_path / "out")
