from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from photoid.data import UNKNOWN_LABEL, load_dataset
from photoid.data.csvio import read_metadata_csv
from photoid.data.readers import convert
from photoid.data.readers.wildlife import frame_entries, read_wildlife
from photoid.errors import DatasetError


def test_frame_columns_map_to_native_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "image_id": [1, 2, 3, 4],
            "identity": ["Ayo", np.nan, "unknown", 7],
            "path": ["a/1.png", "a/2.png", "b/3.png", "b/4.png"],
            "bbox": [[10, 20, 30.5, 40], "[1, 2, 3, 4]", np.nan, [5, 5, 0, 9]],
            "date": [pd.Timestamp("2020-03-01"), "2021-07-09 14:30:00", np.nan, "not a date"],
            "orientation": ["left", "right", np.nan, "top"],
            "species": ["lion", ["lion", "leopard"], np.nan, "lion"],
            "original_split": ["train", "valid", "database", "weird"],
            "keypoints": [[1.5, 2.0], np.nan, np.nan, np.nan],
            "label": [0, 1, 2, 3],
        }
    )
    with pytest.warns(UserWarning) as caught:
        entries = frame_entries(frame, tmp_path, unknown_name="unknown")
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 3
    assert messages[0].startswith("wildlife-datasets column 'bbox': 1 value(s)")
    assert (
        "'original_split': 1 value(s) could not be used as original_split (e.g. 'weird')"
        in (messages[2])
    )
    assert [e.image for e in entries] == [
        "images/a/1.png",
        "images/a/2.png",
        "images/b/3.png",
        "images/b/4.png",
    ]
    assert entries[0].source == tmp_path / "a" / "1.png"
    cells = pd.DataFrame([dict(e.cells) for e in entries])
    assert cells["identity"].tolist() == ["Ayo", "unknown", "unknown", "7"]
    assert cells["bbox"].tolist() == ["10,20,30.5,40", "1,2,3,4", "", ""]
    assert cells["bbox_raw"].tolist() == ["[10, 20, 30.5, 40]", "[1, 2, 3, 4]", "", "[5, 5, 0, 9]"]
    assert cells["date"].tolist() == ["2020-03-01", "2021-07-09", "", ""]
    assert cells["date_raw"].tolist() == [
        "2020-03-01 00:00:00",
        "2021-07-09 14:30:00",
        "",
        "not a date",
    ]
    assert cells["viewpoint"].tolist() == ["left", "right", "", "top"]
    assert cells["species"].tolist() == ["lion", "lion, leopard", "", "lion"]
    assert cells["original_split"].tolist() == ["train", "val", "gallery", ""]
    assert cells["original_split_raw"].tolist() == ["train", "valid", "database", "weird"]
    assert cells["image_id"].tolist() == ["1", "2", "3", "4"]
    assert cells["keypoints"].tolist() == ["[1.5, 2.0]", "", "", ""]
    assert cells["wd_label"].tolist() == ["0", "1", "2", "3"]
    assert "orientation" not in cells.columns


def test_clean_columns_get_no_raw_copy(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "identity": ["a", "b"],
            "path": ["1.jpg", "2.jpg"],
            "date": ["2020-01-02", pd.NaT],
            "original_split": ["Training", "test"],
            "viewpoint": ["left", "right"],
            "orientation": ["up", "down"],
        }
    )
    cells = pd.DataFrame([dict(e.cells) for e in frame_entries(frame, tmp_path)])
    assert list(cells.columns) == ["identity", "date", "original_split", "viewpoint", "orientation"]
    assert cells["original_split"].tolist() == ["train", "test"]
    assert cells["date"].tolist() == ["2020-01-02", ""]


def _metadata_dataset(root: Path) -> Path:
    """A source for wildlife-datasets' generic Dataset_Metadata class: root/metadata.csv."""
    for name in ("x/1.png", "x/2.png", "y/3.png"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4), (5, 6, 7)).save(root / name)
    (root / "metadata.csv").write_text(
        "image_id,identity,path,orientation,original_split,date\n"
        "1,Ayo,x/1.png,left,train,2019-05-01\n"
        "2,unknown,x/2.png,right,validation,\n"
        "3,Bo,y/3.png,left,test,2019-06-30\n",
        encoding="utf-8",
    )
    return root


def test_convert_through_a_wildlife_datasets_class(tmp_path: Path) -> None:
    source = _metadata_dataset(tmp_path / "wd")
    out = convert("wildlife", source, tmp_path / "out", dataset="Dataset_Metadata")
    dataset = load_dataset(out)
    table = dataset.table
    assert table["image"].tolist() == ["images/x/1.png", "images/x/2.png", "images/y/3.png"]
    assert dataset.labels.tolist() == [0, UNKNOWN_LABEL, 1]
    assert table["viewpoint"].tolist() == ["left", "right", "left"]
    assert table["original_split"].tolist() == ["train", "val", "test"]
    assert [str(d.date()) if not pd.isna(d) else "" for d in table["date"]] == [
        "2019-05-01",
        "",
        "2019-06-30",
    ]
    assert dataset.split_columns == ["original_split"]


def test_unknown_class_name_suggests_close_names(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no dataset class 'Liondata'; did you mean LionData"):
        read_wildlife(tmp_path, dataset="Liondata")


def test_a_layout_the_class_cannot_read_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"wildlife_datasets\.datasets\.LionData could not read"):
        read_wildlife(tmp_path, dataset="LionData")


@pytest.mark.shared
def test_real_lion_data_through_the_package_class(tmp_path: Path, shared_datasets: Path) -> None:
    lions = shared_datasets / "LionData"
    shared = read_metadata_csv(lions / "metadata.csv")
    # The layout LionData.create_catalogue expects: the identity is the 4th folder level.
    zero = tmp_path / "wd" / "wildlife_reidentification-main" / "Lion_Data_Zero"
    for image in shared["image"]:
        relative = Path(image).relative_to("images")
        (zero / relative).parent.mkdir(parents=True, exist_ok=True)
        (zero / relative).symlink_to(lions / image)
    out = convert("wildlife", tmp_path / "wd", tmp_path / "out", dataset="LionData", link=True)
    dataset = load_dataset(out)
    assert len(dataset) == 740
    assert len(dataset.identities) == 94
    prefix = "images/wildlife_reidentification-main/Lion_Data_Zero/"
    converted = {
        "images/" + image.removeprefix(prefix): identity
        for image, identity in zip(dataset.table["image"], dataset.table["identity"], strict=True)
    }
    assert converted == dict(zip(shared["image"], shared["identity"], strict=True))
    first = dataset.image_path(0)
    assert not first.is_symlink()  # a hard link, or a copy where the shared data lies elsewhere
    original = lions / ("images/" + first.relative_to(out / prefix).as_posix())
    assert first.read_bytes() == original.read_bytes()
