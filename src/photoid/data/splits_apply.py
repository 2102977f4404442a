"""Choose a split by name, summarise it, and store it as a column of ``metadata.csv``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from photoid.data.csvio import read_metadata_csv, write_metadata_csv
from photoid.data.schema import METADATA_FILE, UNKNOWN_LABEL, is_split_column
from photoid.data.selection import GALLERY_VALUES, QUERY_VALUES
from photoid.data.splits import (
    LabelsLike,
    UndatedPolicy,
    closed_set,
    disjoint,
    from_column,
    open_set,
    time_aware,
)
from photoid.data.table import load_dataset
from photoid.errors import DatasetError, PhotoidError

SplitKind = Literal["closed", "open", "disjoint", "time", "column"]


@dataclass(frozen=True)
class SplitSummary:
    """Counts of one split. Train means train or gallery rows, test means test or query rows.

    ``new_identities``: known identities in test but not in train (new individuals);
    ``shared_identities``: in both; ``unknown_test_images``: unknown-identity test rows.
    """

    train_images: int
    test_images: int
    other_images: int
    train_identities: int
    test_identities: int
    shared_identities: int
    new_identities: int
    unknown_test_images: int


@dataclass(frozen=True)
class SplitRequest:
    """Which split to make. Options left ``None`` take the split function's default; setting an
    option the kind does not use is an error. ``undated`` is ``"error"`` or ``"train"``."""

    kind: SplitKind
    n_folds: int | None = None
    fold: int | None = None
    seed: int | None = None
    unseen_fraction: float | None = None
    test_fraction: float | None = None
    cutoff: str | None = None
    from_column: str | None = None
    undated: UndatedPolicy | None = None


@dataclass(frozen=True)
class SplitResult:
    """What :func:`add_split_column` wrote: the file, the column and the split's counts."""

    path: Path
    column: str
    summary: SplitSummary


def summarize(split: pd.Series | np.ndarray, labels: LabelsLike) -> SplitSummary:
    """Count images and identities per side. ``split``, ``labels``: ``(N,)``, same order;
    labels are int (-1 unknown) as in ``Dataset.table["label"]``."""
    values = np.asarray(split, dtype=object)
    ids = np.asarray(labels)
    if len(values) != len(ids):
        raise PhotoidError(f"got {len(values)} split values for {len(ids)} labels")
    train = np.isin(values, list(GALLERY_VALUES))
    test = np.isin(values, list(QUERY_VALUES))
    known = ids != UNKNOWN_LABEL
    train_ids = set(ids[train & known].tolist())
    test_ids = set(ids[test & known].tolist())
    return SplitSummary(
        train_images=int(train.sum()),
        test_images=int(test.sum()),
        other_images=int((~train & ~test).sum()),
        train_identities=len(train_ids),
        test_identities=len(test_ids),
        shared_identities=len(train_ids & test_ids),
        new_identities=len(test_ids - train_ids),
        unknown_test_images=int((test & ~known).sum()),
    )


def _closed(table: pd.DataFrame, **options: Any) -> pd.Series:
    return closed_set(table["label"], keys=table["image"], **options)


def _open(table: pd.DataFrame, **options: Any) -> pd.Series:
    return open_set(table["label"], keys=table["image"], **options)


def _disjoint(table: pd.DataFrame, **options: Any) -> pd.Series:
    return disjoint(table["label"], **options)


def _time(table: pd.DataFrame, **options: Any) -> pd.Series:
    if "date" not in table.columns:
        raise DatasetError("--kind time needs a 'date' column (YYYY-MM-DD) in metadata.csv")
    return time_aware(table["date"], table["label"], **options)


def _column(table: pd.DataFrame, **options: Any) -> pd.Series:
    return from_column(table, options["from_column"])


# Each kind: the function that makes it from a typed table, and the options it accepts.
KINDS: dict[SplitKind, tuple[Callable[..., pd.Series], frozenset[str]]] = {
    "closed": (_closed, frozenset({"n_folds", "fold", "seed"})),
    "open": (_open, frozenset({"n_folds", "fold", "seed", "unseen_fraction"})),
    "disjoint": (_disjoint, frozenset({"seed", "test_fraction"})),
    "time": (_time, frozenset({"test_fraction", "cutoff", "undated"})),
    "column": (_column, frozenset({"from_column"})),
}


def make_split(table: pd.DataFrame, request: SplitRequest) -> pd.Series:
    """The split ``request`` asks for, as ``(N,)`` str aligned to ``table.index``."""
    if request.kind not in KINDS:
        raise PhotoidError(f"unknown split kind {request.kind!r}; choose one of {', '.join(KINDS)}")
    make, accepted = KINDS[request.kind]
    given = {
        f.name: getattr(request, f.name)
        for f in fields(request)
        if f.name != "kind" and getattr(request, f.name) is not None
    }
    unused = sorted(set(given) - accepted)
    if unused:
        raise PhotoidError(
            f"split kind {request.kind!r} does not use {', '.join(unused)}; it takes "
            f"{', '.join(sorted(accepted))}"
        )
    if request.kind == "column" and request.from_column is None:
        raise PhotoidError("split kind 'column' needs from_column (--from-column COL)")
    return make(table, **given)


def add_split_column(
    root: Path | str, request: SplitRequest, *, column: str = "split", overwrite: bool = False
) -> SplitResult:
    """Add (or, with ``overwrite``, replace) split ``column`` in ``root/metadata.csv``.

    Every other cell, column and row order stays exactly as it was in the file (the CSV is
    rewritten from its own text cells, atomically). Refuses to replace an existing column
    unless ``overwrite``, so stored data is never lost by accident.
    """
    if not is_split_column(column):
        raise PhotoidError(
            f"column {column!r} is not a split column name; use 'split' or '*_split'"
        )
    path = Path(root) / METADATA_FILE
    dataset = load_dataset(root)
    raw = read_metadata_csv(path)
    if column in raw.columns and not overwrite:
        raise DatasetError(
            f"already has a column {column!r}; pass --overwrite to replace it, or name another "
            "column with --column",
            path=path,
        )
    values = make_split(dataset.table, request)
    raw[column] = values.reindex(raw.index).fillna("").astype(str)
    write_metadata_csv(raw, path)
    return SplitResult(path, column, summarize(values, dataset.table["label"]))
