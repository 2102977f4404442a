"""`photoid pseudo-label`: confident query predictions become training rows for another round."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated

import typer

from photoid.cli.app import app
from photoid.cli.options import (
    DeviceOption,
    EnsembleOption,
    ModelOption,
    PrecisionOption,
    TtaOption,
    ensemble_mode,
)
from photoid.cli.progress import QuietOption, progress_bar, stage_progress
from photoid.errors import PhotoidError


@app.command("pseudo-label")
def pseudo_label(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (with metadata.csv).")],
    min_score: Annotated[
        float, typer.Option(help="Accept a query whose top-1 cosine score is at least this.")
    ],
    split_column: Annotated[
        str,
        typer.Option(help="Train/gallery rows = gallery; test/query and unknown rows = queries."),
    ] = "split",
    min_margin: Annotated[
        float, typer.Option(help="And whose top-1 beats the second identity by this much.")
    ] = 0.0,
    column: Annotated[
        str | None, typer.Option(help="New split column (default pseudo_<split-column>).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write a new dataset folder here (the input stays as it is)."),
    ] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="Rewrite DATASET/metadata.csv instead.")
    ] = False,
    link: Annotated[
        bool,
        typer.Option(
            "--link",
            help="With --out: hard-link the images instead of copying them (an image on "
            "another file system than OUT is copied, with a note).",
        ),
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="With --out: replace a dataset already there.")
    ] = False,
    model: ModelOption = None,
    ensemble: EnsembleOption = "mean",
    tta: TtaOption = None,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    quiet: QuietOption = False,
) -> None:
    """Identify the split's queries with a deep model (or an ensemble) and pseudo-label the
    confident ones for another round of training.

    Queries: the test/query rows and the unknown rows; gallery: the known train/gallery rows.
    An accepted row becomes `train` in a new split column pseudo_<split-column> (other rows keep
    their value), takes the predicted identity in `identity` (training reads it: a next round
    must never learn a test row's hidden truth) and records pseudo_identity, pseudo_score and
    identity_before_pseudo (the identity it had, so the truth stays in the table).

    --out writes a new dataset folder and leaves DATASET untouched: train the next round with
    `photoid train OUT --split-column pseudo_split` and evaluate it on DATASET. --in-place
    rewrites DATASET/metadata.csv atomically. With neither, nothing is written. The last line
    printed is one JSON object: queries, labelled, and of the labelled queries whose identity
    was known, how many were checked and right.
    """
    from photoid.data import load_dataset
    from photoid.data.readers import CopiedNotLinked
    from photoid.deep.pseudo_label import pseudo_label as label_queries
    from photoid.deep.pseudo_label import write_pseudo_labels

    if out is not None and in_place:
        raise PhotoidError("give either --out FOLDER or --in-place, not both")
    if not model:
        raise PhotoidError("pseudo-label needs --model CHECKPOINT (from photoid train)")
    data = load_dataset(dataset)
    with stage_progress() as progress:
        labels = label_queries(
            data,
            model,
            split_column,
            min_score=min_score,
            min_margin=min_margin,
            column=column,
            tta=tta or (),
            ensemble=ensemble_mode(ensemble),
            progress=progress,
            device=device,
            precision=precision,
        )
    written = None
    if out is not None or in_place:
        with (
            progress_bar("writing", len(data)) as (bar, task),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always", CopiedNotLinked)
            written = write_pseudo_labels(
                labels,
                data,
                out=out,
                in_place=in_place,
                link=link,
                overwrite=overwrite,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        for warning in caught:
            kind = "note" if issubclass(warning.category, CopiedNotLinked) else "warning"
            typer.echo(f"{kind}: {warning.message}", err=True)
        typer.echo(f"wrote {written}")
    typer.echo(
        f"labelled {labels.labelled} of {len(labels.queries)} queries "
        f"({labels.right} of {labels.checked} checked against a known identity were right)"
    )
    summary = {
        "queries": len(labels.queries),
        "labelled": labels.labelled,
        "checked": labels.checked,
        "right": labels.right,
        "column": labels.column,
        "written": None if written is None else str(written),
    }
    typer.echo(json.dumps(summary))
