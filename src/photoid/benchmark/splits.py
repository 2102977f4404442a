"""The two splits a benchmark scores on each dataset: its own (closed-set) split column, and an
open-set split made in memory where 20% of the identities are never in the gallery (the rest
keep the dataset's own split: KoiVideo's frames are consecutive, so only its temporal split is
honest). A dataset of dated encounters can get its own split from :func:`with_encounter_split`:
gallery and queries from different encounters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from photoid.data.schema import UNKNOWN_LABEL
from photoid.data.selection import GALLERY_VALUES, QUERY_VALUES
from photoid.data.splits import closed_set, disjoint, open_set
from photoid.data.table import Dataset
from photoid.errors import PhotoidError

# A dataset's own split: the first of these columns it has.
ENCOUNTER_COLUMN = "encounter_split"  # made by with_encounter_split (the field data)
OWN_COLUMNS = ("split", "wd_split", "original_split", ENCOUNTER_COLUMN)
CLOSED_COLUMN = "benchmark_closed_split"
OPEN_COLUMN = "benchmark_open_split"
CLOSED_LABEL = "closed 20%"
OPEN_LABEL = "open 20%"
UNSEEN_FRACTION = 0.2
NEW_SHARE = 0.2
CALIBRATION_SHARE = 0.2
N_FOLDS = 5
SEED = 0


@dataclass(frozen=True)
class BenchmarkSplit:
    """``dataset`` with split ``column`` in its table (train/gallery rows = gallery, test/query
    rows = queries); ``label`` is what the table shows; ``open`` is true when some queries show
    individuals absent from the gallery (then ``new_individual`` is decided, threshold ``auto``)."""

    label: str
    column: str
    open: bool
    dataset: Dataset


def own_column(dataset: Dataset) -> str | None:
    """The dataset's own split: the first column of :data:`OWN_COLUMNS` it has, else None."""
    return next((c for c in OWN_COLUMNS if c in dataset.table.columns), None)


def closed_split(dataset: Dataset) -> BenchmarkSplit:
    """The dataset's own split (:func:`own_column`), shown by its name; without one, fold 0 of a
    5-fold identity-stratified split (seed 0) made in memory, shown as ``closed 20%``."""
    column = own_column(dataset)
    if column is not None:
        return BenchmarkSplit(column, column, _has_new(dataset, column), dataset)
    values = closed_set(dataset.labels, n_folds=N_FOLDS, seed=SEED, keys=dataset.table["image"])
    with_column = _with_column(dataset, CLOSED_COLUMN, values.to_numpy())
    return BenchmarkSplit(CLOSED_LABEL, CLOSED_COLUMN, False, with_column)


def open_split(dataset: Dataset) -> BenchmarkSplit:
    """The open-set split of :func:`open_split_values`, built on the dataset's own split when
    it has one, in memory, shown as ``open 20%``."""
    column = own_column(dataset)
    own = None if column is None else dataset.table[column].to_numpy(dtype=str)
    values = open_split_values(dataset.labels, list(dataset.table["image"]), own)
    return BenchmarkSplit(OPEN_LABEL, OPEN_COLUMN, True, _with_column(dataset, OPEN_COLUMN, values))


def open_split_values(
    labels: np.ndarray,
    keys: Sequence[str],
    own: np.ndarray | None = None,
    *,
    unseen_fraction: float = UNSEEN_FRACTION,
    new_share: float = NEW_SHARE,
    seed: int = SEED,
) -> np.ndarray:
    """``(N,)`` str: ``train``, ``test`` or ``""`` (not used) per row.

    ``unseen_fraction`` of the identities (chosen by ``seed``, the same ones
    :func:`photoid.data.splits.open_set` and :func:`~photoid.data.splits.disjoint` pick) never
    reach the gallery. The others keep the dataset's own split ``own`` (``(N,)`` split values)
    when given, so that a temporal split stays temporal; without it they are split as fold 0 of
    5 (:func:`~photoid.data.splits.open_set`). The queries are the test photos of the identities
    in the gallery plus as many photos of the others (unknown-identity rows included) as make
    them ``new_share`` of all queries, spread evenly: each such identity's first photo by
    ``keys`` order, then its second, and so on. ``labels``: ``(N,)`` int64 with -1 for
    unknown; ``keys``: ``(N,)`` image paths, so the split does not depend on row order.
    """
    if not 0.0 <= new_share < 1.0:
        raise PhotoidError(f"new_share must be in [0, 1), got {new_share}")
    labels = np.asarray(labels, dtype=np.int64)
    if own is None:
        split = open_set(
            labels, unseen_fraction=unseen_fraction, n_folds=N_FOLDS, seed=seed, keys=keys
        ).to_numpy()
        train, test = split == "train", split == "test"
    else:
        held_out = disjoint(labels, test_fraction=unseen_fraction, seed=seed).to_numpy() == "test"
        train = np.isin(own, list(GALLERY_VALUES)) & ~held_out
        test = np.isin(own, list(QUERY_VALUES))
    unseen = ~np.isin(labels, labels[train & (labels != UNKNOWN_LABEL)])
    known_queries = test & ~unseen
    wanted = round(int(known_queries.sum()) * new_share / (1.0 - new_share))
    rows = np.flatnonzero(unseen)
    rows = rows[np.argsort(np.asarray(keys, dtype=str)[rows], kind="stable")]
    rank = pd.Series(labels[rows]).groupby(labels[rows]).cumcount().to_numpy()
    new_queries = np.zeros(len(labels), dtype=bool)
    new_queries[rows[np.lexsort((labels[rows], rank))[:wanted]]] = True
    return np.where(known_queries | new_queries, "test", np.where(train, "train", ""))


def encounter_split_values(
    labels: np.ndarray, encounters: Sequence[str], dates: pd.Series | Sequence[object]
) -> np.ndarray:
    """``(N,)`` str: ``train`` for the photos of each identity's earlier encounters, ``test``
    for its later ones, so no query shares an encounter (its day, place, light) with the
    gallery. An identity's encounters are ordered by date, then name; the first half (rounded
    down, at least one) go to train. Identities seen at one encounter only stay in train;
    unknown rows (label -1) are ``""`` (not used). ``labels``: ``(N,)`` int64; ``encounters``:
    ``(N,)`` encounter names; ``dates``: ``(N,)`` dates (any type pandas can order; missing
    dates sort last)."""
    labels = np.asarray(labels, dtype=np.int64)
    table = pd.DataFrame(
        {
            "label": labels,
            "encounter": list(encounters),
            "date": pd.to_datetime(pd.Series(list(dates), dtype="object")).to_numpy(),
        }
    )
    known = table[table["label"] != UNKNOWN_LABEL]
    firsts = known.groupby(["label", "encounter"], sort=False)["date"].min().reset_index()
    firsts = firsts.sort_values(["label", "date", "encounter"], na_position="last", kind="stable")
    rank = firsts.groupby("label").cumcount()
    count = firsts.groupby("label")["encounter"].transform("size")
    early = rank < np.maximum(1, count // 2)
    gallery = set(zip(firsts["label"][early], firsts["encounter"][early], strict=True))
    pairs = zip(table["label"], table["encounter"], strict=True)
    in_gallery = np.array([pair in gallery for pair in pairs], dtype=bool)
    return np.where(labels == UNKNOWN_LABEL, "", np.where(in_gallery, "train", "test"))


def with_encounter_split(dataset: Dataset) -> Dataset:
    """``dataset`` with :data:`ENCOUNTER_COLUMN` from :func:`encounter_split_values` (its
    ``encounter`` and ``date`` columns), in memory: its own split in a benchmark."""
    values = encounter_split_values(
        dataset.labels, dataset.table["encounter"].astype(str).tolist(), dataset.table["date"]
    )
    return _with_column(dataset, ENCOUNTER_COLUMN, values)


def with_calibration_rows(
    split: BenchmarkSplit, share: float = CALIBRATION_SHARE, seed: int = SEED
) -> BenchmarkSplit:
    """``split`` with ``share`` of each identity's gallery photos (at least one, only where at
    least two stay in the gallery) marked ``val``: calibration photos for the fused engine that
    the deep model is not trained on. Same label and queries; drawn with ``seed``."""
    values = split.dataset.table[split.column].to_numpy(dtype=object).copy()
    labels = split.dataset.labels
    gallery = np.isin(values.astype(str), list(GALLERY_VALUES)) & (labels != UNKNOWN_LABEL)
    rng = np.random.default_rng(seed)
    for label in np.unique(labels[gallery]).tolist():
        rows = np.flatnonzero(gallery & (labels == label))
        count = min(max(1, int(share * rows.size)), rows.size - 2)
        if count > 0:
            values[rng.permutation(rows)[:count]] = "val"
    column = f"calibration_{split.column}"  # a split column name ends in _split
    return BenchmarkSplit(
        split.label, column, split.open, _with_column(split.dataset, column, values)
    )


def _has_new(dataset: Dataset, column: str) -> bool:
    values = dataset.table[column]
    labels = dataset.labels
    gallery = set(labels[values.isin(list(GALLERY_VALUES)).to_numpy()].tolist())
    queries = labels[values.isin(list(QUERY_VALUES)).to_numpy()]
    return any(label == UNKNOWN_LABEL or label not in gallery for label in queries.tolist())


def _with_column(dataset: Dataset, column: str, values: np.ndarray) -> Dataset:
    return Dataset(dataset.root, dataset.table.assign(**{column: values}), dataset.identities)
