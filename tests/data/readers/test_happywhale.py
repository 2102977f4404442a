from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from photoid.data import load_dataset
from photoid.data.readers import convert
from photoid.errors import DatasetError


def _folder(root: Path, csv_text: str) -> Path:
    (root / "train_images").mkdir(parents=True)
    (root / "test_images").mkdir()
    (root / "train.csv").write_text(csv_text, encoding="utf-8")
    for line in csv_text.splitlines()[1:]:
        Image.new("RGB", (6, 6), (9, 9, 9)).save(root / "train_images" / line.split(",")[0])
    return root


def test_species_misspellings_are_fixed_and_others_kept(tmp_path: Path) -> None:
    root = _folder(
        tmp_path / "hw",
        "image,species,individual_id\n"
        "a.jpg,bottlenose_dolpin,id1\n"
        "b.jpg,kiler_whale,id2\n"
        "c.jpg,globis,id3\n"
        "d.jpg,pilot_whale,id3\n"
        "e.jpg,beluga,id4\n"
        "f.jpg,short_finned_pilot_whale,id5\n",
    )
    dataset = load_dataset(convert("happywhale", root, tmp_path / "out"))
    assert dataset.table["image"].tolist() == [f"images/{c}.jpg" for c in "abcdef"]
    assert dataset.table["identity"].tolist() == ["id1", "id2", "id3", "id3", "id4", "id5"]
    assert dataset.table["species"].tolist() == [
        "bottlenose_dolphin",
        "killer_whale",
        "short_finned_pilot_whale",
        "short_finned_pilot_whale",
        "beluga",
        "short_finned_pilot_whale",
    ]
    assert dataset.identities == ("id1", "id2", "id3", "id4", "id5")


def test_missing_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    root = _folder(tmp_path / "hw", "image,species,whale_id\na.jpg,beluga,x\n")
    with pytest.raises(DatasetError) as caught:
        convert("happywhale", root, tmp_path / "out")
    assert str(root / "train.csv") in str(caught.value)
    assert "'individual_id'" in str(caught.value)


def test_ragged_row_is_named(tmp_path: Path) -> None:
    root = _folder(tmp_path / "hw", "image,species,individual_id\na.jpg,beluga,x\n")
    with (root / "train.csv").open("a", encoding="utf-8") as handle:
        handle.write("b.jpg,beluga\n")
    with pytest.raises(DatasetError, match=r"train\.csv, row 3: has 2 cells but the header has 3"):
        convert("happywhale", root, tmp_path / "out")
