"""`photoid evaluate`: the split's train rows are the gallery, its test rows the queries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from photoid.cli.app import app
from photoid.cli.constants import DEFAULT_MAX_SKIPPED
from photoid.cli.engine_options import (
    CropMarginOption,
    NewPriorOption,
    NewThresholdOption,
    engine_options,
    new_individual_setting,
)
from photoid.cli.options import (
    CacheOption,
    DeviceOption,
    EnsembleOption,
    MethodOption,
    ModelOption,
    NoCacheOption,
    PrecisionOption,
    SetOption,
    TtaOption,
)
from photoid.cli.progress import QuietOption, stage_progress


@app.command("evaluate")
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (with metadata.csv).")],
    split_column: Annotated[
        str, typer.Option(help="Split column: train rows = gallery, test rows = queries.")
    ] = "split",
    method: MethodOption = "local",
    new_individual: Annotated[
        str | None,
        typer.Option(
            "--new-individual",
            help="When an answer starts with new_individual: 'auto' (fitted with the engine, "
            "on the split's val rows when it has them, else on the gallery), 'never', or a "
            "number (new_individual first when the best score is below it). Default: auto "
            "when some query's individual is absent from the gallery, else never.",
            show_default=False,
        ),
    ] = None,
    new_threshold: NewThresholdOption = None,
    new_prior: NewPriorOption = None,
    report: Annotated[Path | None, typer.Option(help="Write an HTML report here.")] = None,
    max_skipped: Annotated[
        float,
        typer.Option(
            help="Fail (exit 2) when more than this share of the gallery photos, or of the "
            "queries, cannot be read (missing files, boxes outside their image...); "
            "0.05 = 5%, 1 = never fail.",
        ),
    ] = DEFAULT_MAX_SKIPPED,
    model: ModelOption = None,
    ensemble: EnsembleOption = "mean",
    tta: TtaOption = None,
    settings: SetOption = None,
    cache: CacheOption = None,
    no_cache: NoCacheOption = False,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    crop_margin: CropMarginOption = 0.0,
    quiet: QuietOption = False,
) -> None:
    """Evaluate an engine on a split; the last line printed is one JSON object of the numbers."""
    import warnings

    from photoid.data import load_dataset
    from photoid.decide.policy import parse_prior
    from photoid.evaluation.engine_run import evaluate as run_evaluation
    from photoid.evaluation.report import write_report

    options = engine_options(
        settings=settings,
        cache=cache,
        no_cache=no_cache,
        model=model,
        tta=tta,
        ensemble=ensemble,
        device=device,
        precision=precision,
        crop_margin=crop_margin,
    )
    setting = new_individual_setting(new_individual, new_threshold, default=None)
    with stage_progress() as progress, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = run_evaluation(
            load_dataset(dataset),
            split_column,
            method,
            options,
            new_individual=setting,
            prior=parse_prior(new_prior),
            progress=progress,
            max_skipped=max_skipped,
        )
    for warning in caught:
        if "new_individual" in str(warning.message):
            typer.echo(f"warning: {warning.message}", err=True)
    summary = result.summary()
    table = Table(title=f"{method} on {dataset} ({split_column})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    keys = ("top1", "top5", "map5", "acc_known", "acc_new", "ece", "queries", "gallery", "seconds")
    for key in keys:
        if key in summary:
            table.add_row(key, str(summary[key]))
    Console().print(table)
    for side in result.skips:
        if side.photos:
            typer.echo(f"warning: skipped {side.describe()}", err=True)
    if report is not None:
        typer.echo(f"report: {write_report(result, report)}")
    typer.echo(json.dumps(summary))
