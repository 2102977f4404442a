"""`photoid train`: deep metric learning with Lightning on a dataset's train rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from photoid.cli.app import app
from photoid.cli.progress import QuietOption, bars_silenced


@app.command("train")
def train(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (with metadata.csv).")],
    out: Annotated[Path, typer.Option(help="Run folder: config, checkpoints, logs.")],
    split_column: Annotated[
        str | None,
        typer.Option(help="Train on its train rows, validate on its val (else test) rows."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML file with the settings that differ from defaults.")
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="Setting KEY=VALUE, repeatable (e.g. --set epochs=5)."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            help="Continue from OUT/checkpoints/last.ckpt (OUT/foldN/... with --folds), "
            "mid-epoch too: at the next batch, with the saved random states."
        ),
    ] = False,
    folds: Annotated[
        int | None,
        typer.Option(help="Train one model per fold of a closed-set k-fold split (OUT/foldN)."),
    ] = None,
    device: Annotated[
        str,
        typer.Option(
            help="auto (every GPU there is, else the CPU; --set devices=N to use N), cpu, cuda "
            "(every GPU) or cuda:N (GPU N alone)."
        ),
    ] = "auto",
    quiet: QuietOption = False,
) -> None:
    """Train an embedder (timm backbone + GeM + BN neck) with a margin head."""
    from photoid.data import load_dataset
    from photoid.train.config import device_settings, resolve_config
    from photoid.train.run import train_folds, train_on_split

    resolved = resolve_config(config, [*device_settings(device), *(settings or [])])
    if folds is not None:
        bars = not bars_silenced()
        data = load_dataset(dataset)
        runs = train_folds(data, resolved, out, folds, resume=resume, progress=bars)
        for fold, done in enumerate(runs):
            score = "" if done.best_map5 is None else f" (val MAP@5 {done.best_map5:.4f})"
            typer.echo(f"fold {fold}: {done.last_checkpoint}{score}")
        return
    result = train_on_split(
        load_dataset(dataset),
        resolved,
        out,
        split_column=split_column,
        resume=resume,
        progress=not bars_silenced(),
    )
    typer.echo(f"last checkpoint: {result.last_checkpoint}")
    if result.best_checkpoint is not None:
        typer.echo(f"best checkpoint: {result.best_checkpoint} (val MAP@5 {result.best_map5:.4f})")
