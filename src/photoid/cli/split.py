"""``photoid data split``: add a train/test split column to a dataset's metadata.csv."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from photoid.cli.app import data_app
from photoid.cli.constants import SplitKind, UndatedPolicy

if TYPE_CHECKING:
    from photoid.data.splits_apply import SplitResult


@data_app.command("split")
def split(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder holding metadata.csv.")],
    kind: Annotated[
        SplitKind,
        typer.Option(
            help="closed: k-fold, every test identity known. open: some identities only in "
            "test. disjoint: identities on one side only. time: by date. column: copy a "
            "split column.",
        ),
    ],
    column: Annotated[str, typer.Option(help="Column to write ('split' or '*_split').")] = "split",
    folds: Annotated[
        int | None, typer.Option(help="Number of folds (closed, open; default 5).")
    ] = None,
    fold: Annotated[int | None, typer.Option(help="Fold to write, 0..folds-1 (default 0).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed, >= 0 (default 0).")] = None,
    unseen_fraction: Annotated[
        float | None, typer.Option(help="open: fraction of identities only in test (0.2).")
    ] = None,
    test_fraction: Annotated[
        float | None,
        typer.Option(help="disjoint: fraction of identities in test (0.5); time: of images (0.2)."),
    ] = None,
    cutoff: Annotated[
        str | None, typer.Option(help="time: images dated on or after YYYY-MM-DD are test.")
    ] = None,
    from_column: Annotated[
        str | None, typer.Option(help="column: the existing split column to copy.")
    ] = None,
    undated: Annotated[
        UndatedPolicy | None,
        typer.Option(
            help="time: what to do with undated images of known identities (default error).",
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the column if it already exists.")
    ] = False,
) -> None:
    """Write a split column into DATASET/metadata.csv; every other cell stays as it was."""
    from photoid.data.splits_apply import SplitRequest, add_split_column

    request = SplitRequest(
        kind=kind,
        n_folds=folds,
        fold=fold,
        seed=seed,
        unseen_fraction=unseen_fraction,
        test_fraction=test_fraction,
        cutoff=cutoff,
        from_column=from_column,
        undated=undated,
    )
    result = add_split_column(dataset, request, column=column, overwrite=overwrite)
    Console().print(_summary_table(result))


def _summary_table(result: SplitResult) -> Table:
    s = result.summary
    table = Table(title=f"{result.column} ({result.path})")
    table.add_column("")
    table.add_column("images", justify="right")
    table.add_column("identities", justify="right")
    table.add_row("train", str(s.train_images), str(s.train_identities))
    table.add_row("test", str(s.test_images), str(s.test_identities))
    table.add_row("test, known in train", "", str(s.shared_identities))
    table.add_row("test, new individuals", "", str(s.new_identities))
    table.add_row("test, unknown identity", str(s.unknown_test_images), "")
    if s.other_images:
        table.add_row("other or empty", str(s.other_images), "")
    return table
