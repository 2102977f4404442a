"""The typed dataset table: one row per image, identity labels mapped to integers once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from photoid.data.csvio import read_metadata_csv, write_metadata_csv
from photoid.data.paths import ImagePathRule
from photoid.data.schema import (
    METADATA_FILE,
    SPLIT_VALUES,
    TEXT_COLUMNS,
    UNKNOWN_IDENTITY,
    UNKNOWN_LABEL,
    format_bbox,
    is_split_column,
    parse_bbox,
    parse_date,
)
from photoid.errors import DatasetError

_MAX_ERRORS_SHOWN = 5


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset.

    ``table`` columns: ``image`` (str, path relative to ``root``), ``identity`` (str),
    ``label`` (int64; index into ``identities``, -1 for the unknown identity), ``species``,
    ``viewpoint``, ``encounter`` (str or None), ``bbox`` (tuple x,y,w,h in pixels or None),
    ``date`` (datetime64[ns], NaT when missing), every split column (str, ``""`` = not in the
    split), and any other column as text. The index is the CSV line number of each row.
    ``identities`` is sorted, so labels are the same for the same set of identities.
    """

    root: Path
    table: pd.DataFrame
    identities: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.table)

    @property
    def labels(self) -> np.ndarray:
        """``(N,)`` int64 identity labels; -1 marks the unknown identity."""
        return self.table["label"].to_numpy(dtype=np.int64)

    @property
    def split_columns(self) -> list[str]:
        return [c for c in self.table.columns if is_split_column(c)]

    def paths(self) -> list[Path]:
        """Absolute path of every row's image, in row order."""
        return [self.root / p for p in self.table["image"]]

    def cells(self, column: str) -> list[Any] | None:
        """The values of an optional column (e.g. ``bbox``, ``viewpoint``), or None without it."""
        return list(self.table[column]) if column in self.table.columns else None

    def image_path(self, index: int) -> Path:
        """Absolute path of the image in row position ``index``."""
        return self.root / str(self.table["image"].iloc[index])

    def subset(self, mask: np.ndarray | pd.Series) -> Dataset:
        """Rows where ``mask`` is true; labels and ``identities`` stay as they are."""
        return Dataset(self.root, self.table[np.asarray(mask, dtype=bool)], self.identities)

    def split(self, column: str, value: str) -> Dataset:
        """Rows whose split ``column`` equals ``value`` (e.g. ``split("wd_split", "test")``)."""
        if column not in self.table.columns:
            raise DatasetError(
                f"no split column {column!r}; this dataset has {self.split_columns or 'none'}",
                path=self.root / METADATA_FILE,
            )
        return self.subset(self.table[column] == value)


def load_dataset(root: Path | str) -> Dataset:
    """Load ``root/metadata.csv`` into a :class:`Dataset`.

    Strict: every cell must parse (bbox, date, split values, non-empty identity and image), and
    every image path must stay inside ``root`` (:mod:`photoid.data.paths`: no absolute path, no
    ``..``, no symbolic link out of the folder). Raises DatasetError listing the first few bad
    rows by line number. It does not open the images; ``photoid data check`` does that.
    """
    root = Path(root)
    csv_path = root / METADATA_FILE
    raw = read_metadata_csv(csv_path)
    errors: list[str] = []
    table = pd.DataFrame(index=raw.index)
    table["image"] = raw["image"].str.strip()
    table["identity"] = raw["identity"].str.strip()
    rule = ImagePathRule(root)
    fixes: dict[str, None] = {}  # each fix once, in order
    for line, cell in table["image"].items():
        if not cell:
            errors.append(f"row {line}: the image cell is empty")
        elif (problem := rule.problem(cell)) is not None:
            errors.append(f"row {line}: {problem.what}")
            fixes[problem.fix] = None
    for line in raw.index[table["identity"] == ""]:
        errors.append(
            f"row {line}: the identity cell is empty; use {UNKNOWN_IDENTITY!r} if unknown"
        )
    for column in TEXT_COLUMNS:
        if column in raw.columns:
            table[column] = [v.strip() or None for v in raw[column]]
    if "bbox" in raw.columns:
        boxes: list[tuple[float, float, float, float] | None] = []
        for line, cell in raw["bbox"].items():
            try:
                boxes.append(parse_bbox(cell))
            except ValueError as exc:
                errors.append(f"row {line}: {exc}")
                boxes.append(None)
        table["bbox"] = pd.Series(boxes, index=raw.index, dtype="object")
    if "date" in raw.columns:
        dates: list[datetime | None] = []
        for line, cell in raw["date"].items():
            try:
                dates.append(parse_date(cell))
            except ValueError as exc:
                errors.append(f"row {line}: {exc}")
                dates.append(None)
        stamps = [pd.NaT if d is None else pd.Timestamp(d) for d in dates]
        table["date"] = pd.Series(stamps, index=raw.index, dtype="datetime64[ns]")
    for column in raw.columns:
        if is_split_column(column):
            values = raw[column].str.strip()
            bad = values[(values != "") & ~values.isin(SPLIT_VALUES)]
            for line, value in bad.items():
                errors.append(
                    f"row {line}: {column} value {value!r} is not one of {sorted(SPLIT_VALUES)}"
                )
            table[column] = values
        elif column not in table.columns:
            table[column] = raw[column]
    if errors:
        more = f" (and {len(errors) - _MAX_ERRORS_SHOWN} more)" if len(errors) > 5 else ""
        raise DatasetError(
            "; ".join(errors[:_MAX_ERRORS_SHOWN])
            + more
            + "".join(f". To fix paths: {fix}" for fix in fixes)
            + ". Run `photoid data check` for a report",
            path=csv_path,
        )
    identities = tuple(sorted(set(table["identity"]) - {UNKNOWN_IDENTITY}))
    lookup = {name: i for i, name in enumerate(identities)}
    table["label"] = np.array(
        [lookup.get(name, UNKNOWN_LABEL) for name in table["identity"]], dtype=np.int64
    )
    return Dataset(root=root, table=table, identities=identities)


def to_metadata_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Turn a typed table back into the text cells of ``metadata.csv`` (drops ``label``)."""
    out = table.drop(columns=["label"], errors="ignore").copy()
    if "bbox" in out.columns:
        out["bbox"] = [b if isinstance(b, str) else format_bbox(b) for b in out["bbox"]]
    if "date" in out.columns:
        out["date"] = [_format_date(d) for d in out["date"]]
    return out.fillna("").astype(str)


def save_metadata(table: pd.DataFrame, root: Path) -> Path:
    """Write ``root/metadata.csv`` atomically from a typed table or a frame of text cells."""
    path = root / METADATA_FILE
    write_metadata_csv(to_metadata_frame(table), path)
    return path


def _format_date(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return ""
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    if stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return stamp.isoformat()
