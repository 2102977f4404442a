"""One split vocabulary: gallery, query and calibration rows of a split column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from photoid.data.selection import CALIBRATION_VALUES, GALLERY_VALUES, QUERY_VALUES, select_rows
from photoid.data.synth import generate
from photoid.data.table import load_dataset
from photoid.errors import DatasetError


def test_rows_are_chosen_by_the_one_vocabulary(tmp_path: Path) -> None:
    csv_path = generate(tmp_path / "d", individuals=2, images_per=4, seed=2, size=64)
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    cells["split"] = ["train", "gallery", "val", "test", "query", "", "train", "test"]
    cells.to_csv(csv_path, index=False)
    rows = select_rows(load_dataset(tmp_path / "d"), "split")
    assert (len(rows.gallery), len(rows.queries), len(rows.calibration)) == (3, 3, 1)
    assert set(rows.gallery.table["split"]) == set(GALLERY_VALUES)
    assert set(rows.queries.table["split"]) == set(QUERY_VALUES)
    assert set(rows.calibration.table["split"]) == set(CALIBRATION_VALUES)


def test_missing_column_or_rows_name_the_file(tmp_path: Path) -> None:
    csv_path = generate(tmp_path / "d", individuals=2, images_per=2, seed=2, size=64)
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    cells["split"] = "train"
    cells.to_csv(csv_path, index=False)
    dataset = load_dataset(tmp_path / "d")
    with pytest.raises(DatasetError, match=r"metadata\.csv.*no split column 'other'"):
        select_rows(dataset, "other")
    with pytest.raises(DatasetError, match="has 4 gallery and 0 query rows"):
        select_rows(dataset, "split")
    assert len(select_rows(dataset, "split", need_queries=False).gallery) == 4
