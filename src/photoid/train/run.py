"""`photoid train` as one library call: pick the rows, resolve the config, fit."""

from __future__ import annotations

from pathlib import Path

from photoid.data.table import Dataset
from photoid.errors import DatasetError
from photoid.train.config import TrainConfig
from photoid.train.fit import TrainResult, fit


def train_on_split(
    dataset: Dataset,
    config: TrainConfig,
    out: Path,
    *,
    split_column: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train on the ``train`` rows of ``split_column`` and validate on its ``val`` rows (or,
    without any, its ``test`` rows); without a split column, train on every row, no validation.
    """
    if split_column is None:
        return fit(dataset, config, out, resume=resume, progress=progress)
    if split_column not in dataset.split_columns:
        raise DatasetError(
            f"no split column {split_column!r}; this dataset has {dataset.split_columns or 'none'}",
            path=dataset.root / "metadata.csv",
        )
    values = dataset.table[split_column]
    train = dataset.subset((values == "train").to_numpy())
    val_rows = values == "val" if (values == "val").any() else values == "test"
    val = dataset.subset(val_rows.to_numpy())
    if len(train) == 0:
        raise DatasetError(
            f"split column {split_column!r} has no train rows", path=dataset.root / "metadata.csv"
        )
    return fit(train, config, out, val=val if len(val) else None, resume=resume, progress=progress)
