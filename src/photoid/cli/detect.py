"""``photoid detector train`` and ``photoid detect``: find the animal in each photo, so that
every engine identifies the animal rather than its surroundings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from photoid.cli.app import app
from photoid.cli.progress import QuietOption, bars_silenced, progress_bar

detector_app = typer.Typer(help="Detectors: train one on boxed photos.", no_args_is_help=True)
app.add_typer(detector_app, name="detector")

SettingsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Setting KEY=VALUE, repeatable (e.g. --set epochs=20, --set score_threshold=0.5).",
    ),
]
DeviceOption = Annotated[
    str, typer.Option(help="auto (a GPU if there is one, else the CPU), cpu, cuda or cuda:N.")
]


@detector_app.command("train")
def detector_train(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (with metadata.csv).")],
    out: Annotated[Path, typer.Option(help="Run folder: config, checkpoints, logs.")],
    split_column: Annotated[
        str | None,
        typer.Option(help="Train on its train rows, validate on its val (else test) rows."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML file with the settings that differ from defaults.")
    ] = None,
    settings: SettingsOption = None,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoints/last.ckpt.")] = False,
    device: DeviceOption = "auto",
    quiet: QuietOption = False,
) -> None:
    """Train a detector (FCOS, RetinaNet or Faster R-CNN on a timm backbone) on the photos
    whose rows have a bbox; it learns one class, the animal."""
    from photoid.data import load_dataset
    from photoid.detect.config import resolve_detector_config
    from photoid.detect.train import train_detector
    from photoid.train.config import device_settings

    resolved = resolve_detector_config(config, [*device_settings(device), *(settings or [])])
    run = train_detector(
        load_dataset(dataset),
        resolved,
        out,
        split_column=split_column,
        resume=resume,
        progress=not bars_silenced(),
    )
    typer.echo(f"trained on {run.train_photos} photos for {run.epochs} epochs")
    typer.echo(f"last checkpoint: {run.last_checkpoint}")
    if run.best_checkpoint is not None and run.best_recall is not None:
        typer.echo(
            f"best checkpoint: {run.best_checkpoint} (recall at IoU 0.5 on "
            f"{run.val_photos} validation photos: {run.best_recall:.3f})"
        )


@app.command("detect")
def detect(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (with metadata.csv).")],
    detector: Annotated[
        Path,
        typer.Option(
            help="A run folder of `photoid detector train`, one of its .ckpt files, or a public "
            "detector's weights file (a state dict; name its architecture with --set "
            "architecture=NAME, e.g. fasterrcnn_resnet50_fpn, and its animal classes with "
            "--set animal_classes=1)."
        ),
    ],
    settings: SettingsOption = None,
    replace_boxes: Annotated[
        bool,
        typer.Option(help="Overwrite the boxes already in the bbox column (default: keep them)."),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Photos per forward pass.")] = 8,
    device: DeviceOption = "auto",
    quiet: QuietOption = False,
) -> None:
    """Find the animal in every photo of DATASET and write its box into metadata.csv (bbox),
    with detection_score, detections (how many animals) and detection_flag (no_animal,
    several, unreadable)."""
    from photoid.data import load_dataset
    from photoid.detect.run import Detector, detect_dataset

    data = load_dataset(dataset)
    found = Detector.load(detector, settings).use_device(device)
    photos = data.table["image"].nunique()
    with progress_bar("Detecting", photos) as (bar, task):
        summary = detect_dataset(
            data,
            found,
            replace=replace_boxes,
            batch_size=batch_size,
            progress=lambda done: bar.advance(task, done),
        )
    typer.echo(f"{found.description}: {summary.photos} photos")
    typer.echo(
        f"wrote {summary.written} boxes, kept {summary.kept} of the dataset's own; "
        f"{summary.metadata}"
    )
    for flag, images in summary.flagged.items():
        if images:
            shown = ", ".join(images[:5]) + (" ..." if len(images) > 5 else "")
            typer.echo(f"{flag}: {len(images)} photos ({shown})")
