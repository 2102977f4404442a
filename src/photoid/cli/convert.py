"""``photoid data convert``: turn another dataset format into a native photoid dataset folder."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from photoid.cli.app import data_app
from photoid.cli.progress import QuietOption, progress_bar


@data_app.command("convert")
def convert_command(
    source: Annotated[Path, typer.Argument(help="Folder of the dataset to convert.")],
    out: Annotated[Path, typer.Argument(help="Output folder (gets metadata.csv and images/).")],
    fmt: Annotated[
        str,
        typer.Option(
            "--from",
            help="Format of SOURCE: folder (ROOT/<identity>/<image>), humpback (Kaggle 2019), "
            "happywhale (Kaggle 2022), turtle_recall (Zindi 2022), wildlife (a "
            "wildlife-datasets class, see --dataset).",
        ),
    ],
    dataset: Annotated[
        str | None,
        typer.Option(help="wildlife: the wildlife_datasets.datasets class, e.g. LionData."),
    ] = None,
    link: Annotated[
        bool,
        typer.Option(
            "--link",
            help="Hard-link the images instead of copying them (big datasets: no data "
            "copied); an image on another file system than OUT is copied, with a note.",
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace the metadata.csv and images/ already in OUT."),
    ] = False,
    skip_missing: Annotated[
        bool,
        typer.Option(
            "--skip-missing", help="Leave out listed images that do not exist, with a warning."
        ),
    ] = False,
    keep_extra_ids: Annotated[
        bool,
        typer.Option(
            "--keep-extra-ids",
            help="turtle_recall: keep ids found only in extra_images.csv instead of 'unknown'.",
        ),
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Convert SOURCE (in the --from format) into the native dataset folder OUT."""
    from photoid.data import UNKNOWN_LABEL, load_dataset
    from photoid.data.readers import CopiedNotLinked, convert

    with (
        warnings.catch_warnings(record=True) as caught,
        progress_bar("copying images" if not link else "linking images") as (progress, task),
    ):
        warnings.simplefilter("always")
        root = convert(
            fmt,
            source,
            out,
            link=link,
            overwrite=overwrite,
            skip_missing=skip_missing,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            dataset=dataset,
            keep_extra_ids=keep_extra_ids or None,
        )
    for warning in caught:
        kind = "note" if issubclass(warning.category, CopiedNotLinked) else "warning"
        typer.echo(f"{kind}: {warning.message}", err=True)
    written = load_dataset(root)
    unknown = int((written.labels == UNKNOWN_LABEL).sum())
    typer.echo(
        f"Wrote {len(written)} images of {len(written.identities)} identities"
        f" ({unknown} of unknown identity) to {root}"
    )
