"""``photoid synth OUT``: write a synthetic photo-ID dataset (the built-in demo and test data)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from photoid.cli.app import app
from photoid.cli.progress import QuietOption, progress_bar

# The keys of photoid.data.synth.presets.PRESETS (a copy: importing it loads OpenCV; the tests
# check the two agree).
Preset = Literal["default", "field", "wide"]
DEFAULT_SIZE = 256


@app.command("synth")
def synth_command(
    out: Annotated[Path, typer.Argument(help="Folder to write metadata.csv and images/ into.")],
    individuals: Annotated[
        int, typer.Option(min=1, help="Number of individuals (species taken in turn).")
    ] = 30,
    images_per: Annotated[int, typer.Option(min=1, help="Photos of each individual.")] = 6,
    seed: Annotated[int, typer.Option(min=0, help="Random seed; same seed, same dataset.")] = 0,
    size: Annotated[
        int | None,
        typer.Option(
            min=32,
            show_default=False,
            help=f"Longest image side in pixels (default {DEFAULT_SIZE}; 768 with --preset "
            "wide). --preset field draws each photo's size from 1024-2560 px and refuses --size.",
        ),
    ] = None,
    preset: Annotated[
        Preset,
        typer.Option(
            help="Settings to render with: 'default' (256 px frames the animal fills 40-85% "
            "of), 'field' (1024-2560 px frames the animal fills 10-50% of, cluttered "
            "scenery shared by the photos taken at one of 6 sites) or 'wide' (768 px wide "
            "scenes, the animal small and anywhere in the field scenery: under a fifth of the "
            "frame's area; the data to train and measure a detector on)."
        ),
    ] = "default",
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
    quiet: QuietOption = False,
) -> None:
    """Render INDIVIDUALS x IMAGES_PER photos of procedurally marked animals into OUT."""
    if preset == "field" and size is not None:
        raise typer.BadParameter(
            f"--preset {preset} draws each photo's size itself; leave --size out",
            param_hint="'--size'",
        )
    from photoid.data.synth import generate
    from photoid.data.synth.presets import PRESETS

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
            config=PRESETS[preset],
            progress=lambda done: bar.advance(task, done),
        )
    typer.echo(f"Wrote {total} images of {individuals} individuals to {out / 'images'}")
    typer.echo(f"Wrote {metadata}")
