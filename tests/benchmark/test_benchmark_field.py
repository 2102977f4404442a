"""The ``field`` benchmark dataset: field-preset photos whose own split keeps every query at
another encounter than its individual's gallery photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from photoid.benchmark.sources import FieldSettings, field_dataset
from photoid.benchmark.splits import (
    ENCOUNTER_COLUMN,
    closed_split,
    encounter_split_values,
    open_split,
)


def test_earlier_half_of_each_identitys_encounters_is_the_gallery() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, -1])
    encounters = ["a0", "a0", "a1", "a2", "b0", "b1", "b2", "b3", "c0", "c0", "u0"]
    dates = [
        "2020-01-01", "2020-01-01", "2021-01-01", "2020-06-01",  # a: a0, a2, a1 in time
        "2020-03-01", "2020-01-01", "2020-02-01", "2020-04-01",  # b: b1, b2, b0, b3
        "2020-01-01", "2020-01-01", "2020-01-01",
    ]  # fmt: skip
    values = encounter_split_values(labels, encounters, dates)
    assert values.tolist() == [
        "train", "train", "test", "test",  # a: 3 encounters, the first one in the gallery
        "test", "train", "train", "test",  # b: 4 encounters, the first two
        "train", "train",  # c: seen once, gallery only
        "",  # unknown identity: not used
    ]  # fmt: skip


def test_field_source_splits_by_encounter(tmp_path: Path) -> None:
    data = field_dataset(tmp_path, FieldSettings(individuals=2, images_per=3, seed=1))
    assert data.name == "field" and "--preset field" in data.note
    assert (tmp_path / "field-2x3-seed1" / "metadata.csv").is_file()
    table = data.dataset.table
    split = closed_split(data.dataset)
    assert split.column == ENCOUNTER_COLUMN and not split.open
    assert set(table[ENCOUNTER_COLUMN]) == {"train", "test"}
    for _, rows in table.groupby("identity"):
        train = set(rows.loc[rows[ENCOUNTER_COLUMN] == "train", "encounter"])
        test = set(rows.loc[rows[ENCOUNTER_COLUMN] == "test", "encounter"])
        assert train and not train & test
        assert (
            rows.loc[rows["encounter"].isin(train), "date"].max()
            < rows.loc[rows["encounter"].isin(test), "date"].min()
        )
    assert open_split(data.dataset).open
