"""Boxes grown by a crop margin: a share of the box's own size on each side, clipped only when
the photo is cropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photoid.data.boxes import grow_box, with_margin
from photoid.data.images import crop
from photoid.data.table import Dataset
from photoid.errors import PhotoidError


def test_grow_box_adds_the_share_on_each_side() -> None:
    assert grow_box((100.0, 50.0, 40.0, 20.0), 0.25) == (90.0, 45.0, 60.0, 30.0)
    assert grow_box((100.0, 50.0, 40.0, 20.0), 0.0) == (100.0, 50.0, 40.0, 20.0)
    assert grow_box(None, 0.5) is None


def test_a_grown_box_at_the_border_is_clipped_by_the_crop() -> None:
    pixels = np.zeros((100, 200, 3), np.uint8)
    box = grow_box((0.0, 80.0, 50.0, 20.0), 0.2)  # (-10, 76, 70, 28)
    assert crop(pixels, box).shape == (24, 60, 3)  # rows 76..100, columns 0..60


def test_with_margin_grows_every_box_and_leaves_the_dataset_alone() -> None:
    table = pd.DataFrame(
        {
            "image": ["a.jpg", "b.jpg"],
            "identity": ["x", "y"],
            "bbox": [(10.0, 10.0, 10.0, 10.0), None],
        },
        index=[2, 3],
    )
    dataset = Dataset(Path("."), table, ("x", "y"))
    wider = with_margin(dataset, 0.5)
    assert list(wider.table["bbox"]) == [(5.0, 5.0, 20.0, 20.0), None]
    assert list(wider.table.index) == [2, 3]
    assert dataset.table["bbox"].iloc[0] == (10.0, 10.0, 10.0, 10.0)
    assert with_margin(dataset, 0.0) is dataset


def test_a_negative_margin_is_refused_by_name() -> None:
    dataset = Dataset(Path("."), pd.DataFrame({"image": [], "identity": []}), ())
    with pytest.raises(PhotoidError, match=r"crop margin -0\.1"):
        with_margin(dataset, -0.1)
