"""`photoid evaluate`: the split's train rows are the gallery, its test rows the queries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from photoid.cli.app import app
from photoid.cli.options import (
    CacheOption,
    EnsembleOption,
    MethodOption,
    ModelOption,
    NoCacheOption,
    SetOption,
    TtaOption,
    cache_dir,
    ensemble_mode,
    local_config,
)
from photoid.cli.progress import stage_progress
from photoid.data import load_dataset
from photoid.errors import PhotoidError
from photoid.evaluation import evaluate_deep, evaluate_local
from photoid.evaluation.report import write_report
from photoid.fusion import evaluate_fused


@app.command("evaluate")
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (with metadata.csv).")],
    split_column: Annotated[
        str, typer.Option(help="Split column: train rows = gallery, test rows = queries.")
    ] = "split",
    method: MethodOption = "local",
    new_threshold: Annotated[
        str,
        typer.Option(
            help="new_individual goes first when the best score is below this: a number, "
            "'auto' (fitted on the gallery alone by leave-one-out; deep: on the split's val "
            "rows where it has them, and per species too) or 'none' (never).",
        ),
    ] = "none",
    report: Annotated[Path | None, typer.Option(help="Write an HTML report here.")] = None,
    model: ModelOption = None,
    ensemble: EnsembleOption = "mean",
    tta: TtaOption = None,
    settings: SetOption = None,
    cache: CacheOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Evaluate an engine on a split; the last line printed is one JSON object of the numbers."""
    threshold = _threshold(new_threshold)
    with stage_progress() as progress:
        if method == "local":
            result = evaluate_local(
                load_dataset(dataset),
                split_column,
                local_config(settings),
                cache_dir=cache_dir(cache, no_cache),
                new_threshold=threshold,
                progress=progress,
            )
        elif method == "deep":
            if not model:
                raise PhotoidError("--method deep needs --model CHECKPOINT (from photoid train)")
            result = evaluate_deep(
                load_dataset(dataset),
                split_column,
                model,
                tta=tta or (),
                ensemble=ensemble_mode(ensemble),
                new_threshold=threshold,
                progress=progress,
            )
        elif method == "fused":
            if threshold is not None and threshold != "auto":
                raise PhotoidError(
                    "--method fused decides new individuals by probability: "
                    "--new-threshold auto or none"
                )
            result = evaluate_fused(
                load_dataset(dataset),
                split_column,
                model=model or None,
                config=local_config(settings),
                cache_dir=cache_dir(cache, no_cache),
                new_threshold=threshold,
                progress=progress,
            )
        else:
            raise PhotoidError(f"unknown method {method!r}; choose one of: local, deep, fused")
    summary = result.summary()
    table = Table(title=f"{method} on {dataset} ({split_column})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    keys = ("top1", "top5", "map5", "acc_known", "acc_new", "ece", "queries", "gallery", "seconds")
    for key in keys:
        if key in summary:
            table.add_row(key, str(summary[key]))
    Console().print(table)
    if result.skipped:
        typer.echo(f"skipped {len(result.skipped)} unreadable gallery images", err=True)
    if report is not None:
        typer.echo(f"report: {write_report(result, report)}")
    typer.echo(json.dumps(summary))


def _threshold(text: str) -> float | Literal["auto"] | None:
    lowered = text.strip().lower()
    if lowered == "none":
        return None
    if lowered == "auto":
        return "auto"
    try:
        return float(lowered)
    except ValueError:
        raise PhotoidError(f"--new-threshold {text!r}: give a number, 'auto' or 'none'") from None
