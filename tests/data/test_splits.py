"""Splits: hand-computed small cases, the stated guarantees on generated data, determinism,
writing the column, and an open-set split of the real LionData metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photoid.data import load_dataset
from photoid.data.splits import closed_set, disjoint, from_column, open_set, time_aware
from photoid.data.splits_apply import SplitRequest, add_split_column, make_split, summarize
from photoid.errors import DatasetError, PhotoidError

# Identities A (rows 0-3), B (rows 4-5), C (row 6): 4, 2 and 1 images.
SMALL = ["A", "A", "A", "A", "B", "B", "C"]


def _generated(seed: int = 7) -> tuple[pd.Series, pd.Series]:
    """Labels of 40 identities with 1..9 images each plus 5 unknown rows (label -1), shuffled,
    indexed like a table (CSV line numbers from 2), and their image paths."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 10, size=40)
    labels = np.concatenate([np.repeat(np.arange(40), sizes), np.full(5, -1)])
    labels = labels[rng.permutation(len(labels))]
    index = pd.RangeIndex(2, 2 + len(labels))
    paths = pd.Series([f"img/{i:04d}.jpg" for i in range(len(labels))], index=index)
    return pd.Series(labels, index=index), paths


def test_pcg64_stream_used_by_the_hand_computed_case() -> None:
    rng = np.random.Generator(np.random.PCG64(0))
    np.testing.assert_allclose(rng.random(3), [0.63696169, 0.26978671, 0.04097352], atol=1e-8)
    np.testing.assert_allclose(
        rng.random(7)[:6],
        [0.01652764, 0.81327024, 0.91275558, 0.60663578, 0.72949656, 0.54362499],
        atol=1e-8,
    )


def test_closed_set_hand_computed_4_2_1_two_folds() -> None:
    # Seed 0 draws .637, .270, .041 for A, B, C: identities are visited C, B, A. C is a
    # singleton (train, not dealt); B's 2 images are dealt first (offset 0), then A's (offset 2).
    # Per-row draws: A rows 0..3 = .017, .813, .913, .607 -> shuffled order 0, 3, 1, 2 -> folds
    # (2+0)%2=0, (2+1)%2=1, 0, 1: rows 0,1 in fold 0, rows 2,3 in fold 1. B rows 4,5 = .729,
    # .544 -> order 5, 4 -> row 5 fold 0, row 4 fold 1.
    fold0 = closed_set(SMALL, n_folds=2, fold=0, seed=0)
    fold1 = closed_set(SMALL, n_folds=2, fold=1, seed=0)
    assert fold0.tolist() == ["test", "test", "train", "train", "train", "test", "train"]
    assert fold1.tolist() == ["train", "train", "test", "test", "test", "train", "train"]
    assert list(fold0.index) == list(range(7))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_closed_set_4_2_1_structure_for_any_seed(seed: int) -> None:
    folds = [closed_set(SMALL, n_folds=2, fold=f, seed=seed).to_numpy() for f in range(2)]
    for split in folds:
        assert (split[:4] == "test").sum() == 2  # A: 4 images over 2 folds
        assert (split[4:6] == "test").sum() == 1  # B: one test, one train
        assert split[6] == "train"  # C: singleton stays in the gallery
    assert ((folds[0] == "test") ^ (folds[1] == "test"))[:6].all()


@pytest.mark.parametrize("n_folds", [2, 3, 5])
def test_closed_set_fold_guarantees(n_folds: int) -> None:
    labels, paths = _generated()
    folds = [
        closed_set(labels, n_folds=n_folds, fold=f, seed=3, keys=paths).to_numpy()
        for f in range(n_folds)
    ]
    is_test = np.stack([f == "test" for f in folds])  # (n_folds, N)
    values = labels.to_numpy()
    sizes = pd.Series(values[values >= 0]).value_counts()
    for identity, size in sizes.items():
        rows = values == identity
        if size == 1:
            assert not is_test[:, rows].any()
            continue
        assert (is_test[:, rows].sum(axis=0) == 1).all()  # each image test in exactly one fold
        assert ((~is_test[:, rows]).sum(axis=1) >= 1).all()  # train in every fold
        folds_with_test = is_test[:, rows].any(axis=1).sum()
        assert folds_with_test == min(size, n_folds)
    assert is_test[:, values == -1].all()  # unknown rows are always queries
    known_test = is_test[:, values >= 0].sum(axis=1)
    assert known_test.max() - known_test.min() <= 1


def test_closed_set_determinism_and_row_order() -> None:
    labels, paths = _generated()
    first = closed_set(labels, seed=5, keys=paths)
    assert first.equals(closed_set(labels, seed=5, keys=paths))
    assert not first.equals(closed_set(labels, seed=6, keys=paths))
    order = np.random.default_rng(1).permutation(len(labels))
    shuffled = closed_set(labels.iloc[order], seed=5, keys=paths.iloc[order])
    by_path = dict(zip(paths, first, strict=True))
    assert all(by_path[p] == s for p, s in zip(paths.iloc[order], shuffled, strict=True))
    assert shuffled.index.equals(labels.index[order])


def test_closed_set_rejects_bad_folds() -> None:
    with pytest.raises(PhotoidError, match="n_folds must be >= 2"):
        closed_set(SMALL, n_folds=1)
    with pytest.raises(PhotoidError, match=r"fold must be in 0..2, got 3"):
        closed_set(SMALL, n_folds=3, fold=3)
    with pytest.raises(PhotoidError, match="seed must be >= 0"):
        closed_set(SMALL, seed=-1)


@pytest.mark.parametrize(
    ("fraction", "n_ids", "expected"),
    [(0.2, 94, 19), (0.25, 10, 3), (0.01, 5, 1), (0.9, 3, 2), (0.0, 5, 0), (0.5, 1, 0)],
)
def test_open_set_unseen_count(fraction: float, n_ids: int, expected: int) -> None:
    labels = np.repeat(np.arange(n_ids), 3)
    split = open_set(labels, unseen_fraction=fraction, seed=0).to_numpy()
    test_only = set(labels[split == "test"]) - set(labels[split == "train"])
    assert len(test_only) == expected


def test_open_set_unseen_never_in_train_in_any_fold() -> None:
    labels, paths = _generated()
    values = labels.to_numpy()
    unseen_per_fold = []
    for fold in range(5):
        split = open_set(labels, unseen_fraction=0.3, fold=fold, seed=2, keys=paths).to_numpy()
        train_ids = set(values[split == "train"])
        unseen = set(values[(split == "test") & (values >= 0)]) - train_ids
        unseen_per_fold.append(unseen)
        assert len(unseen) == 12  # floor(0.3 * 40 + 0.5)
        for identity in set(values[values >= 0]) - unseen:
            assert identity in train_ids  # every seen identity keeps train images
        assert (split[values == -1] == "test").all()
    assert all(u == unseen_per_fold[0] for u in unseen_per_fold)
    other = open_set(labels, unseen_fraction=0.3, seed=3, keys=paths).to_numpy()
    assert set(values[other == "test"]) - set(values[other == "train"]) != unseen_per_fold[0]


def test_disjoint_split() -> None:
    labels, _ = _generated()
    values = labels.to_numpy()
    split = disjoint(labels, test_fraction=0.25, seed=4).to_numpy()
    train_ids = set(values[split == "train"])
    test_ids = set(values[(split == "test") & (values >= 0)])
    assert not train_ids & test_ids
    assert len(test_ids) == 10 and len(train_ids) == 30
    assert (split[values == -1] == "test").all()
    assert disjoint(labels, test_fraction=0.25, seed=4).equals(
        disjoint(labels, test_fraction=0.25, seed=4)
    )
    assert not disjoint(labels, test_fraction=0.25, seed=5).equals(pd.Series(split))


def test_disjoint_needs_two_identities_and_a_fraction() -> None:
    with pytest.raises(DatasetError, match="needs >= 2 known identities, got 1"):
        disjoint(["A", "A", "unknown"])
    with pytest.raises(PhotoidError, match=r"test_fraction must be in \(0, 1\)"):
        disjoint(SMALL, test_fraction=0.0)


def _days(*days: int | None) -> list[pd.Timestamp | None]:
    return [None if d is None else pd.Timestamp(2024, 1, d) for d in days]


def test_time_aware_quantile_cutoff() -> None:
    split = time_aware(_days(1, 2, 3, 4, 5), list("ABCAB"), test_fraction=0.2)
    assert split.tolist() == ["train", "train", "train", "train", "test"]
    # 6 images, target 3 test: cutoff day 2 gives 4, day 3 gives 1 -> day 2.
    tied = time_aware(_days(1, 1, 2, 2, 2, 3), list("AABBAB"), test_fraction=0.5)
    assert tied.tolist() == ["train", "train", "test", "test", "test", "test"]
    # 3 images, target 1.5: day 2 gives 2, day 3 gives 1, equally close -> the later day 3.
    even = time_aware(_days(1, 2, 3), list("ABA"), test_fraction=0.5)
    assert even.tolist() == ["train", "train", "test"]


def test_time_aware_cutoff_unknown_and_index() -> None:
    index = pd.Index([5, 3, 9, 2])
    dates = pd.Series(_days(1, 3, 2, None), index=index)
    labels = pd.Series(["A", "A", "B", "unknown"], index=index)
    split = time_aware(dates, labels, cutoff="2024-01-02")
    assert split.index.equals(index)
    assert split.tolist() == ["train", "test", "test", "test"]  # the undated unknown is a query


def test_time_aware_undated_policy() -> None:
    dates = pd.Series(_days(1, None, 3, None), index=[2, 3, 4, 5])
    labels = pd.Series(["A", "A", "B", "B"], index=[2, 3, 4, 5])
    with pytest.raises(
        DatasetError, match=r"2 image\(s\) of known identities have no date \(first: row 3\)"
    ):
        time_aware(dates, labels)
    split = time_aware(dates, labels, undated="train", cutoff="2024-01-02")
    assert split.tolist() == ["train", "train", "test", "train"]


def test_time_aware_refuses_useless_cutoffs() -> None:
    with pytest.raises(DatasetError, match="no image of a known identity has a date"):
        time_aware(_days(None, None), ["A", "B"], undated="train", cutoff="2024-01-01")
    with pytest.raises(DatasetError, match="share 1 date"):
        time_aware(_days(4, 4), ["A", "B"])
    with pytest.raises(DatasetError, match="puts all 2 dated images in train"):
        time_aware(_days(1, 2), ["A", "B"], cutoff="2025-01-01")
    with pytest.raises(PhotoidError, match="is not a date"):
        time_aware(_days(1, 2), ["A", "B"], cutoff="soon")


def test_from_column_and_summary() -> None:
    table = pd.DataFrame(
        {"label": [0, 0, 1, 2, -1], "wd_split": ["train", " test", "test", "", "test"]},
        index=[2, 3, 4, 5, 6],
    )
    split = from_column(table, "wd_split")
    assert split.tolist() == ["train", "test", "test", "", "test"]
    summary = summarize(split, table["label"])
    assert (summary.train_images, summary.test_images, summary.other_images) == (1, 3, 1)
    assert (summary.train_identities, summary.test_identities) == (1, 2)
    assert (summary.shared_identities, summary.new_identities) == (1, 1)
    assert summary.unknown_test_images == 1
    table.loc[4, "wd_split"] = "tset"
    with pytest.raises(DatasetError, match=r"first: row 4, 'tset'"):
        from_column(table, "wd_split")
    with pytest.raises(DatasetError, match="no column 'nope'"):
        from_column(table, "nope")


def test_make_split_checks_options() -> None:
    table = pd.DataFrame({"image": [f"{i}.jpg" for i in range(7)], "label": [0, 0, 0, 0, 1, 1, 2]})
    assert make_split(table, SplitRequest("closed", n_folds=2, seed=0)).tolist() == [
        "test",
        "test",
        "train",
        "train",
        "train",
        "test",
        "train",
    ]
    with pytest.raises(PhotoidError, match="does not use cutoff"):
        make_split(table, SplitRequest("closed", cutoff="2024-01-01"))
    with pytest.raises(PhotoidError, match="unknown split kind 'random'"):
        make_split(table, SplitRequest("random"))
    with pytest.raises(PhotoidError, match="needs from_column"):
        make_split(table, SplitRequest("column"))
    with pytest.raises(DatasetError, match="needs a 'date' column"):
        make_split(table, SplitRequest("time"))


CSV = (
    "image,identity,bbox,date,note\n"
    'a1.jpg,A,"10.0,20,30,40",2024-01-01,keep "this"\n'
    "a2.jpg,A,,2024-01-02,\n"
    "b1.jpg,B,,2024-01-03,x\n"
    "b2.jpg,B,,2024-01-04, spaced \n"
    "c1.jpg,C,,2024-01-05,\n"
    "u1.jpg,unknown,,,\n"
)


def test_add_split_column_keeps_other_cells(tmp_path: Path) -> None:
    (tmp_path / "metadata.csv").write_text(CSV, encoding="utf-8")
    before = pd.read_csv(tmp_path / "metadata.csv", dtype=str, keep_default_na=False)
    result = add_split_column(tmp_path, SplitRequest("closed", n_folds=2, seed=1))
    after = pd.read_csv(tmp_path / "metadata.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(after[list(before.columns)], before)
    assert list(after.columns) == [*before.columns, "split"]
    assert after["split"].iloc[4] == "train" and after["split"].iloc[5] == "test"
    assert (after["split"].iloc[:2] == "test").sum() == 1  # A: 2 images, 2 folds
    assert result.summary.new_identities == 0 and result.summary.unknown_test_images == 1
    assert load_dataset(tmp_path).table["split"].tolist() == after["split"].tolist()


def test_add_split_column_refuses_to_replace(tmp_path: Path) -> None:
    (tmp_path / "metadata.csv").write_text(CSV, encoding="utf-8")
    add_split_column(tmp_path, SplitRequest("disjoint", seed=0), column="id_split")
    text = (tmp_path / "metadata.csv").read_text(encoding="utf-8")
    with pytest.raises(DatasetError, match="already has a column 'id_split'; pass --overwrite"):
        add_split_column(tmp_path, SplitRequest("closed"), column="id_split")
    assert (tmp_path / "metadata.csv").read_text(encoding="utf-8") == text
    add_split_column(
        tmp_path, SplitRequest("time", cutoff="2024-01-04"), column="id_split", overwrite=True
    )
    after = pd.read_csv(tmp_path / "metadata.csv", dtype=str, keep_default_na=False)
    assert after["id_split"].tolist() == ["train", "train", "train", "test", "test", "test"]
    with pytest.raises(PhotoidError, match="not a split column name"):
        add_split_column(tmp_path, SplitRequest("closed"), column="note")


@pytest.mark.shared
def test_lion_open_set_has_exact_unseen_count_and_no_leak(shared_datasets: Path) -> None:
    table = load_dataset(shared_datasets / "LionData").table
    labels = table["label"].to_numpy()
    assert len(set(labels)) == 94
    split = open_set(table["label"], unseen_fraction=0.2, seed=0, keys=table["image"]).to_numpy()
    train_ids = set(labels[split == "train"])
    unseen = set(labels[split == "test"]) - train_ids
    assert len(unseen) == round(0.2 * 94) == 19
    assert not np.isin(labels[split == "train"], list(unseen)).any()
    assert all((split[labels == u] == "test").all() for u in unseen)
    assert len(train_ids) == 75
