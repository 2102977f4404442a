from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photoid.data import UNKNOWN_LABEL, load_dataset, save_metadata
from photoid.errors import DatasetError


def _write(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "metadata.csv").write_text(text, encoding="utf-8")
    return root


def test_labels_are_sorted_identity_indices_and_unknown_is_minus_one(tmp_path: Path) -> None:
    root = _write(
        tmp_path / "ds",
        "image,identity,split\n"
        "a.jpg,zebra_2,train\n"
        "b.jpg,zebra_1,test\n"
        "c.jpg,unknown,test\n"
        "d.jpg,zebra_2,\n",
    )
    ds = load_dataset(root)
    assert ds.identities == ("zebra_1", "zebra_2")
    assert ds.labels.tolist() == [1, 0, UNKNOWN_LABEL, 1]
    assert ds.labels.dtype == np.int64
    assert ds.split_columns == ["split"]
    assert ds.split("split", "test").table["image"].tolist() == ["b.jpg", "c.jpg"]
    assert ds.table.index.tolist() == [2, 3, 4, 5]  # CSV line numbers
    assert ds.image_path(0) == root / "a.jpg"


def test_optional_columns_are_typed(tmp_path: Path) -> None:
    root = _write(
        tmp_path / "ds",
        "image,identity,species,viewpoint,bbox,date,encounter,width\n"
        'a.jpg,A,whale,left,"10,20,30,40",2024-05-01,e1,640\n'
        "b.jpg,A,,,,,,\n",
    )
    table = load_dataset(root).table
    assert table["bbox"].tolist() == [(10.0, 20.0, 30.0, 40.0), None]
    assert table["date"].iloc[0] == pd.Timestamp("2024-05-01")
    assert pd.isna(table["date"].iloc[1])
    assert table["species"].tolist()[0] == "whale"
    assert table["viewpoint"].iloc[1] is None or pd.isna(table["viewpoint"].iloc[1])
    assert table["width"].tolist() == ["640", ""]


def test_bad_cells_are_reported_by_line(tmp_path: Path) -> None:
    root = _write(
        tmp_path / "ds",
        "image,identity,bbox,date,wd_split\n"
        'a.jpg,A,"1,2,3",2024-01-01,train\n'
        "b.jpg, ,,not-a-date,holdout\n",
    )
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    message = str(info.value)
    assert "metadata.csv" in message
    assert "row 2: bbox must be 4 numbers" in message
    assert "row 3: the identity cell is empty" in message
    assert "row 3: date 'not-a-date'" in message
    assert "row 3: wd_split value 'holdout'" in message


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    root = _write(
        tmp_path / "ds",
        'image,identity,bbox,date,split\na.jpg,A,"1.5,2,3,4",2024-01-31,train\nb.jpg,B,,,test\n',
    )
    ds = load_dataset(root)
    save_metadata(ds.table, tmp_path / "copy")
    text = (tmp_path / "copy" / "metadata.csv").read_text()
    assert text.splitlines() == [
        "image,identity,bbox,date,split",
        'a.jpg,A,"1.5,2,3,4",2024-01-31,train',
        "b.jpg,B,,,test",
    ]
    again = load_dataset(tmp_path / "copy")
    assert again.identities == ds.identities
    assert again.labels.tolist() == ds.labels.tolist()


def test_missing_split_column_is_a_clear_error(tmp_path: Path) -> None:
    ds = load_dataset(_write(tmp_path / "ds", "image,identity\na.jpg,A\n"))
    with pytest.raises(DatasetError, match="no split column 'wd_split'"):
        ds.split("wd_split", "test")


@pytest.mark.shared
def test_shared_datasets_load(shared_datasets: Path) -> None:
    expected = {"LionData": (740, 94), "CTai_subset": (300, 10), "KoiVideo": (1635, 9)}
    for name, (images, identities) in expected.items():
        ds = load_dataset(shared_datasets / name)
        assert (len(ds), len(ds.identities)) == (images, identities)
