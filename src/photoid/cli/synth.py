"""``photoid synth OUT``: write a synthetic photo-ID dataset (the built-in demo and test data)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from photoid.cli.app import app
from photoid.cli.progress import progress_bar


@app.command("synth")
def synth_command(
    out: Annotated[Path, typer.Argument(help="Folder to write metadata.csv and images/ into.")],
    individuals: Annotated[
        int, typer.Option(min=1, help="Number of individuals (species taken in turn).")
    ] = 30,
    images_per: Annotated[int, typer.Option(min=1, help="Photos of each individual.")] = 6,
    seed: Annotated[int, typer.Option(min=0, help="Random seed; same seed, same dataset.")] = 0,
    size: Annotated[int, typer.Option(min=32, help="Longest image side in pixels.")] = 256,
    asymmetric: Annotated[
        bool,
        typer.Option(
            help="Give each individual different left and right flanks; "
            "about half the photos show the right one (viewpoint column)."
        ),
    ] = False,
    overwrite: Annotated[
        bool, typer.Option(help="Replace a dataset already in OUT (its metadata.csv).")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes rendering in parallel; output is identical.")
    ] = 1,
) -> None:
    """Render INDIVIDUALS x IMAGES_PER photos of procedurally marked animals into OUT."""
    from photoid.data.synth import generate

    total = individuals * images_per
    with progress_bar("Rendering photos", total) as (bar, task):
        metadata = generate(
            out,
            individuals=individuals,
            images_per=images_per,
            seed=seed,
            size=size,
            asymmetric=asymmetric,
            overwrite=overwrite,
            workers=workers,
            progress=lambda done: bar.advance(task, done),
        )
    typer.echo(f"Wrote {total} images of {individuals} individuals to {out / 'images'}")
    typer.echo(f"Wrote {metadata}")
