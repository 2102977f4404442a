"""`photoid fit`: fit an engine on a dataset's gallery once and keep it in a folder."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from photoid.cli.app import app
from photoid.cli.engine_options import (
    CropMarginOption,
    NewIndividualOption,
    NewPriorOption,
    SplitColumnOption,
    engine_options,
    new_individual_setting,
)
from photoid.cli.options import (
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


@app.command("fit")
def fit(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (with metadata.csv).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to keep the fitted engine in.")],
    method: MethodOption = "local",
    split_column: SplitColumnOption = None,
    new_individual: NewIndividualOption = None,
    new_prior: NewPriorOption = None,
    model: ModelOption = None,
    ensemble: EnsembleOption = "mean",
    tta: TtaOption = None,
    settings: SetOption = None,
    cache: Annotated[
        Path | None,
        typer.Option(help="Feature cache folder (default: OUT/features)."),
    ] = None,
    no_cache: NoCacheOption = False,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    force: Annotated[
        bool, typer.Option("--force", help="Refit even if OUT already holds this engine.")
    ] = False,
    crop_margin: CropMarginOption = 0.0,
    quiet: QuietOption = False,
) -> None:
    """Fit an engine (features, index, calibration, new-individual policy) and save it in OUT.

    Then `photoid identify --engine OUT PHOTO...` answers in seconds. Features are cached by
    image content, so refitting after adding photos extracts only the new ones; an OUT already
    fitted on the same photos with the same settings is left as it is.
    """
    from photoid.engines.fitting import fit_dataset

    options = engine_options(
        settings=settings,
        cache=cache or out / "features",
        no_cache=no_cache,
        model=model,
        tta=tta,
        ensemble=ensemble,
        new_individual=new_individual_setting(new_individual, None, prior=new_prior),
        device=device,
        precision=precision,
        crop_margin=crop_margin,
    )
    command = shlex.join(["photoid", *sys.argv[1:]]) if sys.argv[1:2] == ["fit"] else ""
    with stage_progress() as progress:
        report = fit_dataset(
            dataset,
            method,
            out,
            options,
            split_column=split_column,
            force=force,
            command=command,
            progress=progress,
        )
    what = "fitted" if report.refitted else "already up to date"
    policy = report.policy
    typer.echo(
        f"{report.method} engine {what}: {report.photos} photos of {report.identities} "
        f"individuals in {report.folder} ({report.seconds:.1f} s); new individuals: "
        f"{policy.get('rule', '?')} ({policy.get('source', '')})"
    )
    typer.echo(f"identify with: photoid identify --engine {report.folder} PHOTO...")
