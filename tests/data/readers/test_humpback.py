from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from photoid.data import UNKNOWN_LABEL, load_dataset
from photoid.data.readers import convert
from photoid.data.readers.humpback import SPECIES
from photoid.errors import DatasetError


def _jpeg(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (10, 4), (40, 40, 40)).save(path, format="JPEG")


def _competition(root: Path, csv_text: str, images: list[str]) -> Path:
    root.mkdir(parents=True)
    (root / "train.csv").write_text(csv_text, encoding="utf-8")
    for name in images:
        _jpeg(root / "train" / name)
    _jpeg(root / "test" / "ffff.jpg")
    (root / "sample_submission.csv").write_text("Image,Id\nffff.jpg,new_whale\n", encoding="utf-8")
    return root


def test_rows_species_and_new_whale_as_unknown(tmp_path: Path) -> None:
    root = _competition(
        tmp_path / "hw",
        "Image,Id\n0001.jpg,w_f48451c\n0002.jpg,new_whale\n0003.jpg,w_0a4bd1d\n",
        ["0001.jpg", "0002.jpg", "0003.jpg"],
    )
    out = convert("humpback", root, tmp_path / "out")
    lines = (out / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [
        "image,identity,species",
        f"images/0001.jpg,w_f48451c,{SPECIES}",
        f"images/0002.jpg,unknown,{SPECIES}",
        f"images/0003.jpg,w_0a4bd1d,{SPECIES}",
    ]
    dataset = load_dataset(out)
    assert dataset.identities == ("w_0a4bd1d", "w_f48451c")
    assert dataset.labels.tolist() == [1, UNKNOWN_LABEL, 0]
    assert sorted(p.name for p in (out / "images").iterdir()) == [
        "0001.jpg",
        "0002.jpg",
        "0003.jpg",
    ]


def test_missing_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    root = _competition(tmp_path / "hw", "Image,Whale\n0001.jpg,w_1\n", ["0001.jpg"])
    with pytest.raises(DatasetError) as caught:
        convert("humpback", root, tmp_path / "out")
    message = str(caught.value)
    assert str(root / "train.csv") in message
    assert "row 1" in message
    assert "missing column(s) 'Id'" in message
    assert not (tmp_path / "out").exists()


def test_missing_image_names_the_row_unless_skipped(tmp_path: Path) -> None:
    root = _competition(tmp_path / "hw", "Image,Id\n0001.jpg,w_1\n0002.jpg,w_2\n", ["0001.jpg"])
    with pytest.raises(DatasetError) as caught:
        convert("humpback", root, tmp_path / "out")
    message = str(caught.value)
    assert f"{root / 'train.csv'}, row 3:" in message
    assert str(root / "train" / "0002.jpg") in message
    assert "--skip-missing" in message
    with pytest.warns(UserWarning, match=r"skipped 1 listed image\(s\).*0002\.jpg.*row 3"):
        out = convert("humpback", root, tmp_path / "out", skip_missing=True)
    assert load_dataset(out).table["image"].tolist() == ["images/0001.jpg"]


def test_missing_train_csv_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "hw").mkdir()
    with pytest.raises(DatasetError, match=r"train\.csv: file not found.*Image, Id"):
        convert("humpback", tmp_path / "hw", tmp_path / "out")
