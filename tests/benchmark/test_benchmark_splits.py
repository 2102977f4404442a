"""The benchmark's two splits per dataset: its own column, and the open split made in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photoid.benchmark.splits import (
    CLOSED_COLUMN,
    CLOSED_LABEL,
    OPEN_COLUMN,
    OPEN_LABEL,
    closed_split,
    open_split,
    open_split_values,
    with_calibration_rows,
)
from photoid.data.table import Dataset
from photoid.errors import PhotoidError


def _dataset(ids: int = 10, per: int = 5, **columns: list[str]) -> Dataset:
    """``ids`` identities x ``per`` photos, rows identity by identity, images ``a{i}/{j}.jpg``."""
    names = [f"a{i}" for i in range(ids)]
    table = pd.DataFrame(
        {
            "image": [f"{name}/{j}.jpg" for name in names for j in range(per)],
            "identity": np.repeat(names, per),
            "label": np.repeat(np.arange(ids, dtype=np.int64), per),
            **columns,
        }
    )
    return Dataset(Path("/nowhere"), table, tuple(names))


def test_open_split_counts_10_identities_x_5_photos() -> None:
    data = _dataset()
    values = open_split_values(data.labels, list(data.table["image"]))
    # 2 of 10 identities unseen (0.2 * 10); each known one has 5 photos, so fold 0 of 5 takes
    # exactly one of them: 8 known queries, 32 train. New queries: 8 * 0.2 / 0.8 = 2, the first
    # photo (by path) of each unseen identity; their other 8 photos are left out.
    assert (values == "train").sum() == 32
    assert (values == "test").sum() == 10
    assert (values == "").sum() == 8
    train_ids = set(data.labels[values == "train"])
    unseen = sorted(set(range(10)) - train_ids)
    assert len(unseen) == 2
    for label in range(10):
        rows = values[data.labels == label]
        if label in unseen:
            assert list(rows) == ["test", "", "", "", ""]
        else:
            assert sorted(rows) == ["test", "train", "train", "train", "train"]


def test_open_split_spreads_new_queries_evenly_and_ignores_row_order() -> None:
    data = _dataset()
    keys = list(data.table["image"])
    # new_share 0.5: as many new queries as known ones (8), 4 from each unseen identity, its
    # photos 0-3 by path.
    values = open_split_values(data.labels, keys, new_share=0.5)
    assert (values == "test").sum() == 16
    train_ids = set(data.labels[values == "train"])
    for label in sorted(set(range(10)) - train_ids):
        assert list(values[data.labels == label]) == ["test", "test", "test", "test", ""]
    order = np.random.default_rng(3).permutation(len(keys))
    shuffled = open_split_values(data.labels[order], [keys[i] for i in order], new_share=0.5)
    assert list(shuffled) == list(values[order])


def test_unknown_rows_count_as_new_individuals() -> None:
    data = _dataset(ids=10, per=5)
    labels = np.concatenate([data.labels, [-1, -1]])
    keys = [*data.table["image"], "unknown/0.jpg", "unknown/1.jpg"]
    values = open_split_values(labels, keys)
    # Still 8 known queries and 2 new ones: one unknown photo first (label -1 sorts first at
    # each rank), then the first photo of the first unseen identity.
    assert (values == "test").sum() == 10
    assert list(values[-2:]) == ["test", ""]


def test_new_share_must_be_below_one() -> None:
    data = _dataset()
    with pytest.raises(PhotoidError, match="new_share"):
        open_split_values(data.labels, list(data.table["image"]), new_share=1.0)


def test_open_split_keeps_the_own_split_of_the_known_identities() -> None:
    data = _dataset()
    own = np.tile(["train", "train", "", "train", "test"], 10)
    values = open_split_values(data.labels, list(data.table["image"]), own)
    # The same 2 unseen identities as without the own split; the 8 others keep theirs: photos
    # 0, 1, 3 train, 2 unused, 4 test. New queries: round(8 / 4) = 2, photo 0 of each unseen.
    plain = open_split_values(data.labels, list(data.table["image"]))
    unseen = sorted(set(range(10)) - set(data.labels[plain == "train"]))
    for label in range(10):
        rows = list(values[data.labels == label])
        expected = (
            ["test", "", "", "", ""] if label in unseen else ["train", "train", "", "train", "test"]
        )
        assert rows == expected
    table_split = open_split(_dataset(split=list(own)))
    assert list(table_split.dataset.table[OPEN_COLUMN]) == list(values)


def test_open_split_adds_its_column_in_memory_only() -> None:
    data = _dataset()
    split = open_split(data)
    assert (split.label, split.column, split.open) == (OPEN_LABEL, OPEN_COLUMN, True)
    assert OPEN_COLUMN in split.dataset.table.columns
    assert OPEN_COLUMN not in data.table.columns
    assert split.dataset.root == data.root and split.dataset.identities == data.identities


def test_own_split_is_the_first_of_split_wd_split_original_split() -> None:
    cells = ["train"] * 4 + ["test"]
    both = _dataset(ids=2, original_split=cells * 2, wd_split=cells * 2)
    assert closed_split(both).column == "wd_split"
    assert closed_split(both).label == "wd_split"
    three = _dataset(ids=2, original_split=cells * 2, wd_split=cells * 2, split=cells * 2)
    chosen = closed_split(three)
    assert (chosen.column, chosen.open) == ("split", False)
    assert chosen.dataset is three


def test_own_split_with_an_identity_absent_from_the_gallery_is_open() -> None:
    # Identity a1 has no train row: its test photos are new individuals.
    data = _dataset(ids=2, split=["train"] * 4 + ["test"] + ["test"] * 5)
    assert closed_split(data).open is True


def test_without_a_split_column_a_closed_fold_is_made() -> None:
    data = _dataset()
    split = closed_split(data)
    assert (split.label, split.column, split.open) == (CLOSED_LABEL, CLOSED_COLUMN, False)
    values = split.dataset.table[CLOSED_COLUMN]
    # 5 photos per identity over 5 folds: one test photo per identity in fold 0.
    assert (values == "test").sum() == 10 and (values == "train").sum() == 40
    assert set(split.dataset.table.loc[values == "test", "identity"]) == set(data.identities)


def test_calibration_rows_take_a_fifth_of_each_gallery_keeping_two() -> None:
    """Identity a0: 10 gallery photos -> 2 val; a1: 3 -> 1 (two stay); a2: 2 -> none. Queries
    and unknown-identity rows are never taken."""
    split = ["train"] * 10 + ["test"] + ["train"] * 3 + ["train"] * 2
    names = ["a0"] * 11 + ["a1"] * 3 + ["a2"] * 2
    table = pd.DataFrame(
        {
            "image": [f"{i}.jpg" for i in range(16)],
            "identity": names,
            "label": [int(n[1]) for n in names],
            "split": split,
        }
    )
    data = Dataset(Path("/nowhere"), table, ("a0", "a1", "a2"))
    own = closed_split(data)
    calibrated = with_calibration_rows(own)
    values = calibrated.dataset.table[calibrated.column].to_numpy(dtype=str)
    assert calibrated.column == "calibration_split" and calibrated.label == own.label
    assert (values[:10] == "val").sum() == 2
    assert values[10] == "test"
    assert (values[11:14] == "val").sum() == 1
    assert (values[14:] == "train").all()
    # Seeded: the same rows every time.
    again = with_calibration_rows(own).dataset.table[calibrated.column].to_numpy(dtype=str)
    assert (again == values).all()
