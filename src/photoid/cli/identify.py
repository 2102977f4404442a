"""`photoid identify`: rank the gallery's identities for each query photo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
from photoid.errors import PhotoidError
from photoid.identify import collect_images, identify_files, write_answers, write_submission


@app.command("identify")
def identify(
    gallery: Annotated[Path, typer.Option(help="Labelled gallery dataset folder.")],
    paths: Annotated[
        list[Path] | None, typer.Argument(help="More query images or folders.", show_default=False)
    ] = None,
    query: Annotated[
        list[Path] | None, typer.Option(help="Query image or folder, repeatable.")
    ] = None,
    method: MethodOption = "local",
    out: Annotated[
        Path | None, typer.Option(help="Write the answers to a .csv or .json file.")
    ] = None,
    kaggle: Annotated[
        bool,
        typer.Option(
            "--kaggle", help="With --out FILE.csv: a Kaggle submission (image,predictions)."
        ),
    ] = False,
    new_threshold: Annotated[
        float | None,
        typer.Option(help="With --kaggle: insert new_individual where scores fall below this."),
    ] = None,
    model: ModelOption = None,
    ensemble: EnsembleOption = "mean",
    tta: TtaOption = None,
    settings: SetOption = None,
    cache: CacheOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Top-5 identities per query photo, as a table, or CSV/JSON with --out.

    Queries are given with --query and/or as arguments: `--query a.jpg b.jpg folder/`.
    """
    given = [*(query or []), *(paths or [])]
    if not given:
        raise PhotoidError("no query given: pass image files or folders with --query")
    queries = collect_images(given)
    with stage_progress() as progress:
        answers = identify_files(
            gallery,
            queries,
            method=method,
            config=local_config(settings),
            cache_dir=cache_dir(cache, no_cache),
            model=model,
            tta=tta or (),
            ensemble=ensemble_mode(ensemble),
            progress=progress,
        )
    if kaggle:
        if out is None or out.suffix.lower() != ".csv":
            raise PhotoidError("--kaggle writes a CSV: give --out FILE.csv")
        typer.echo(f"wrote {write_submission(answers, out, new_threshold)}")
        return
    if out is not None:
        typer.echo(f"wrote {write_answers(answers, out)}")
        return
    table = Table(title=f"{method} identification against {gallery}")
    for column in ("query", "rank", "identity", "score", "inliers", "gallery image"):
        table.add_column(column)
    for answer in answers:
        if not answer.candidates:
            table.add_row(answer.query, "", "", "", "", answer.warning or "")
        for rank, candidate in enumerate(answer.candidates, start=1):
            table.add_row(
                answer.query if rank == 1 else "",
                str(rank),
                candidate.identity,
                f"{candidate.score:.3f}",
                str(candidate.best.inliers),
                candidate.best.image,
            )
    Console().print(table)
