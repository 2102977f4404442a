"""`photoid train` as one library call: pick the rows, resolve the config, fit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from photoid.data.splits import closed_set
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
    train, val = train_val_rows(dataset, split_column)
    return fit(train, config, out, val=val, resume=resume, progress=progress)


def train_val_rows(dataset: Dataset, split_column: str | None) -> tuple[Dataset, Dataset | None]:
    """The ``train`` rows of ``split_column`` and its ``val`` rows (else its ``test`` rows; None
    when it has neither); without a split column, every row and None."""
    if split_column is None:
        return dataset, None
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
    return train, val if len(val) else None


def train_folds(
    dataset: Dataset,
    config: TrainConfig,
    out: Path,
    folds: int,
    *,
    resume: bool = False,
    progress: bool = True,
) -> list[TrainResult]:
    """One model per fold of a closed-set k-fold split (stratified by identity, seeded by
    ``config.seed``): fold ``f`` trains on the other folds' photos, validates on its own, and
    writes to ``out/fold{f}``. The fold checkpoints together form an ensemble."""
    if folds < 2:
        raise DatasetError(f"--folds needs at least 2 folds, got {folds}")
    keys = list(dataset.table["image"])
    results = []
    for fold in range(folds):
        split: pd.Series = closed_set(
            dataset.labels, n_folds=folds, fold=fold, seed=config.seed, keys=keys
        )
        train = dataset.subset((split == "train").to_numpy())
        val = dataset.subset((split == "test").to_numpy())
        results.append(
            fit(
                train,
                config,
                out / f"fold{fold}",
                val=val if len(val) else None,
                resume=resume,
                progress=progress,
            )
        )
    return results
