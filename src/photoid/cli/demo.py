"""`photoid demo`: the main job end to end on built-in synthetic data (what `make demo` runs),
ending with the command that serves the demo catalog's review page."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from photoid.cli.app import app
from photoid.cli.progress import QuietOption, StageProgress, stage_progress

if TYPE_CHECKING:
    from photoid.demo import DemoResult


def run_demo(out: Path, progress: StageProgress | None = None) -> DemoResult:
    """:func:`photoid.demo.run_demo` with its default settings, imported only when the command
    runs (it loads the deep-learning libraries)."""
    from photoid.demo import run_demo as run

    return run(out, progress=progress)


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Argument(help="Folder for the demo data, cache and report.")] = Path(
        "demo-out"
    ),
    quiet: QuietOption = False,
) -> None:
    """Synthesise 40 individuals, hold 20% of them out as new, identify, report; then build a
    catalog whose review queue holds the query photos, and print how to review it."""
    typer.echo(f"photoid demo: synthetic photo-ID data in {out / 'data'}")
    with stage_progress() as progress:
        result = run_demo(out, progress=progress)
    summary = result.evaluation.summary()
    typer.echo(
        f"gallery {summary['gallery']} photos; queries {summary['queries']} photos "
        f"(photos of individuals absent from the gallery must come back as new_individual)"
    )
    typer.echo(
        f"new-individual threshold (fitted on the gallery alone): {summary['new_threshold']}"
    )
    typer.echo(f"top-1 accuracy: {summary['top1']:.3f}")
    typer.echo(f"MAP@5:          {summary['map5']:.3f}")
    typer.echo(f"known individuals right at rank 1: {summary['acc_known']}")
    typer.echo(f"new individuals called new:        {summary['acc_new']}")
    typer.echo(f"report: {result.report}")
    catalog = result.catalog
    typer.echo(
        f"catalog: {catalog.data_dir} ({catalog.awaiting} query photos awaiting review, "
        f"{catalog.candidates} candidates ranked)"
    )
    serve = [sys.argv[0] if sys.argv[0].endswith("photoid") else "photoid", "serve"]
    typer.echo("review the queries in your browser: run")
    typer.echo(f"  {shlex.join([*serve, '--data', str(catalog.data_dir)])}")
    typer.echo(
        f"then open http://127.0.0.1:8000/review and log in as {catalog.user} / "
        f"{catalog.password}  (a new random password on every run of the demo)"
    )
