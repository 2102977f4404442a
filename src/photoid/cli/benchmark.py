"""`photoid benchmark`: every engine on every dataset given, as the markdown table of
docs/benchmarks.md."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from photoid.cli.app import app
from photoid.cli.options import DeviceOption, PrecisionOption
from photoid.cli.progress import QuietOption, stage_progress

if TYPE_CHECKING:
    from photoid.benchmark import RunRecord


@app.command("benchmark")
def benchmark(
    datasets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Dataset folders (with metadata.csv), names of shared datasets (under "
            "$PHOTOID_SHARED_DATASETS or ../shared/datasets), 'synthetic' (the `make demo` "
            "data) or 'field' (wide synthetic field scenes, 1,024-2,560 px, matched as whole "
            "frames). Default: synthetic.",
            show_default=False,
        ),
    ] = None,
    methods: Annotated[
        str,
        typer.Option(
            help="Engines to run, comma-separated: local, keypoints (learned keypoints; slow "
            "without a GPU), pretrained (a timm model used as it is: --set "
            "pretrained.model=NAME --set pretrained.weights=FILE), deep, fused, fused+keypoints "
            "(the fused engine with learned keypoints as one more input), fused+deep."
        ),
    ] = "local,deep,fused,fused+deep",
    train_minutes: Annotated[
        float, typer.Option(help="deep: training budget per dataset and split, in minutes.")
    ] = 5.0,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="deep: training setting KEY=VALUE after the recipe; pretrained.KEY=VALUE: the "
            "pretrained method's model (pretrained.model, pretrained.weights, "
            "pretrained.image_size, pretrained.mean, pretrained.std, ...).",
        ),
    ] = None,
    work: Annotated[
        Path | None,
        typer.Option(
            help="Folder for synthetic data, feature cache and training runs "
            "(default: a temporary folder, deleted afterwards)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the markdown here.")] = None,
    docs: Annotated[
        Path | None,
        typer.Option(
            help="Replace the text between the lines '<!-- photoid benchmark: begin -->' and "
            "'<!-- photoid benchmark: end -->' of this file with the markdown."
        ),
    ] = None,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    quiet: QuietOption = False,
) -> None:
    """Run each engine on each dataset's own split and on an open-set split (20% of the
    individuals never in the gallery); print each run's JSON as it finishes, then the table."""
    from photoid.benchmark import (
        BenchmarkOptions,
        check_markers,
        format_report,
        parse_methods,
        replace_in_file,
        run_benchmark,
        write_atomic,
    )
    from photoid.cli.options import pretrained_config
    from photoid.engines.pretrained_config import PREFIX

    if docs is not None:
        check_markers(docs)
    given = [s.strip() for s in settings or []]
    pretrained = [s for s in given if s.startswith(PREFIX)]
    options = BenchmarkOptions(
        methods=parse_methods(methods),
        train_minutes=train_minutes,
        train_settings=tuple(s for s in given if not s.startswith(PREFIX)),
        pretrained=pretrained_config(pretrained),
        pretrained_settings=tuple(pretrained),
        device=device,
        precision=precision,
    )

    def show(record: RunRecord) -> None:
        typer.echo(record.as_json())

    with (
        tempfile.TemporaryDirectory(prefix="photoid-benchmark-") as scratch,
        stage_progress() as progress,
    ):
        report = run_benchmark(
            datasets or [], work or Path(scratch), options, on_result=show, progress=progress
        )
    markdown = format_report(report)
    typer.echo(markdown)
    if out is not None:
        write_atomic(out, markdown + "\n")
        typer.echo(f"wrote {out}", err=True)
    if docs is not None:
        replace_in_file(docs, markdown)
        typer.echo(f"updated {docs}", err=True)
