"""`photoid identify`: rank the gallery's identities for each query photo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from photoid.cli.app import app
from photoid.cli.engine_options import (
    CropMarginOption,
    DetectorOption,
    EngineFolderOption,
    NewIndividualOption,
    NewPriorOption,
    NewThresholdOption,
    SplitColumnOption,
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
from photoid.core import Box, Identification
from photoid.errors import PhotoidError


@app.command("identify")
def identify(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Query images or folders.", show_default=False)
    ] = None,
    engine: EngineFolderOption = None,
    gallery: Annotated[
        Path | None,
        typer.Option(help="Labelled gallery dataset folder (fits an engine for this call)."),
    ] = None,
    split_column: SplitColumnOption = None,
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
    new_individual: NewIndividualOption = None,
    new_threshold: NewThresholdOption = None,
    new_prior: NewPriorOption = None,
    model: ModelOption = None,
    ensemble: EnsembleOption = "mean",
    tta: TtaOption = None,
    settings: SetOption = None,
    cache: CacheOption = None,
    no_cache: NoCacheOption = False,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    crop_margin: CropMarginOption = 0.0,
    detector: DetectorOption = None,
    quiet: QuietOption = False,
) -> None:
    """Top-5 identities per query photo (new_individual where the engine's policy puts it), as
    a table, or CSV/JSON with --out.

    With a fitted engine: `photoid identify --engine ENGINE/ a.jpg folder/`. Without one, the
    engine is fitted on --gallery for this call (slow for large galleries: use photoid fit).
    """
    from photoid.decide.policy import parse_prior
    from photoid.identify import collect_images, identify_files, write_answers, write_submission

    given = [*(query or []), *(paths or [])]
    if not given:
        raise PhotoidError("no query given: pass image files or folders with --query")
    if engine is None and gallery is None:
        raise PhotoidError("give --engine FOLDER (from photoid fit) or --gallery DATASET")
    if engine is not None and (gallery is not None or model):
        raise PhotoidError(
            "--engine already holds its gallery and models: drop --gallery and --model"
        )
    queries = collect_images(given)
    if engine is not None and (new_individual or new_threshold):
        raise PhotoidError("--new-individual is fitted with the engine: give it to `photoid fit`")
    setting = new_individual_setting(new_individual, new_threshold)
    if engine is not None:
        from photoid.engines.store import stale_reason

        reason = stale_reason(engine)
        if reason is not None:
            typer.echo(f"warning: {reason}", err=True)
    options = engine_options(
        settings=settings,
        cache=cache,
        no_cache=no_cache,
        model=model,
        tta=tta,
        ensemble=ensemble,
        new_individual=setting,
        device=device,
        precision=precision,
        crop_margin=crop_margin,
    )
    boxes = None if detector is None else _detected(detector, queries, device)
    with stage_progress() as progress:
        answers = identify_files(
            gallery,
            queries,
            method=method,
            options=options,
            engine=engine,
            split_column=split_column,
            prior=parse_prior(new_prior),
            progress=progress,
            boxes=boxes,
        )
    if kaggle:
        if out is None or out.suffix.lower() != ".csv":
            raise PhotoidError("--kaggle writes a CSV: give --out FILE.csv")
        typer.echo(f"wrote {write_submission(answers, out)}")
        return
    if out is not None:
        typer.echo(f"wrote {write_answers(answers, out)}")
        return
    title = f"identification with {engine}" if engine else f"{method} against {gallery}"
    _show(answers, title, Console())


def _detected(detector: Path, queries: list[Path], device: str) -> list[Box | None]:
    """Each query's best detected box (None where no animal is found), with one line on
    stderr saying how many photos had none or several."""
    from photoid.detect.run import NO_ANIMAL, SEVERAL, Detector

    found = Detector.load(detector).use_device(device).find(queries)
    flags = [f.flag for f in found]
    typer.echo(
        f"detector: an animal in {sum(f.box is not None for f in found)} of {len(found)} "
        f"photos ({flags.count(NO_ANIMAL)} without one are identified whole, "
        f"{flags.count(SEVERAL)} show several: the best box is used)",
        err=True,
    )
    return [f.box for f in found]


WIDE_ENOUGH = 110
"""Narrower terminals get one line per candidate instead of a table, so no path is cut."""


def _cells(answer: Identification) -> list[tuple[str, ...]]:
    """Rank, identity, score, probability, inliers and gallery image of each candidate."""
    return [
        (
            str(rank),
            candidate.identity,
            f"{candidate.score:.3f}",
            "" if candidate.probability is None else f"{candidate.probability:.2f}",
            str(candidate.best.inliers),
            candidate.best.image,
        )
        for rank, candidate in enumerate(answer.candidates, start=1)
    ]


def _show(answers: list[Identification], title: str, console: Console) -> None:
    """The answers as a table on a wide terminal; on a narrow one each query on its own line
    and each candidate below it, long lines left whole for the terminal to wrap."""
    if console.width < WIDE_ENOUGH:
        lines = [title]
        for answer in answers:
            lines.append(f"{answer.query} {answer.warning or ''}".rstrip())
            for rank, identity, score, p, inliers, image in _cells(answer):
                chance = f" probability {p}" if p else ""
                lines.append(
                    f"  {rank}. {identity}  score {score}{chance}  inliers {inliers}  {image}"
                )
        for line in lines:
            console.print(line, soft_wrap=True, markup=False, highlight=False)
        return
    table = Table(title=title)
    for column in ("query", "rank", "identity", "score", "probability", "inliers", "gallery image"):
        wraps = column in ("query", "identity", "gallery image")
        table.add_column(column, overflow="fold" if wraps else "ellipsis", no_wrap=not wraps)
    for answer in answers:
        if not answer.candidates:
            table.add_row(answer.query, "", "", "", "", "", answer.warning or "")
        for cells in _cells(answer):
            table.add_row(answer.query if cells[0] == "1" else "", *cells)
    console.print(table)
