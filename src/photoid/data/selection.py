"""The split vocabulary and the one way rows are chosen from a split column.

A split column marks each row ``train``/``gallery`` (the reference photos an engine is fitted
on), ``test``/``query`` (the photos it is asked about), ``val`` (held-out photos used to
calibrate and to fit the new-individual decision), or nothing (the row is not in that split).
"""

from __future__ import annotations

from dataclasses import dataclass

from photoid.data.table import Dataset
from photoid.errors import DatasetError

GALLERY_VALUES = frozenset({"train", "gallery"})
QUERY_VALUES = frozenset({"test", "query"})
CALIBRATION_VALUES = frozenset({"val"})


@dataclass(frozen=True)
class SplitRows:
    """The rows of one split column: gallery, queries and calibration (possibly empty)."""

    gallery: Dataset
    queries: Dataset
    calibration: Dataset


def select_rows(dataset: Dataset, column: str, *, need_queries: bool = True) -> SplitRows:
    """The gallery, query and calibration rows a split column marks.

    Raises a :class:`DatasetError` naming the file when the column is missing, or when it marks
    no gallery row (or, with ``need_queries``, no query row).
    """
    if column not in dataset.split_columns:
        raise DatasetError(
            f"no split column {column!r}; this dataset has {dataset.split_columns or 'none'} "
            "(make one with `photoid data split`)",
            path=dataset.root / "metadata.csv",
        )
    values = dataset.table[column].astype(str)
    gallery = dataset.subset(values.isin(list(GALLERY_VALUES)).to_numpy())
    queries = dataset.subset(values.isin(list(QUERY_VALUES)).to_numpy())
    calibration = dataset.subset(values.isin(list(CALIBRATION_VALUES)).to_numpy())
    if len(gallery) == 0 or (need_queries and len(queries) == 0):
        wanted = "train (gallery) and test (queries)" if need_queries else "train (gallery)"
        raise DatasetError(
            f"split column {column!r} needs rows marked {wanted}; "
            f"it has {len(gallery)} gallery and {len(queries)} query rows",
            path=dataset.root / "metadata.csv",
        )
    return SplitRows(gallery, queries, calibration)
