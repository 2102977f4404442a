"""``photoid data check DATASET``: list every problem of a dataset folder; exit 1 on errors."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from photoid.cli.app import data_app
from photoid.cli.constants import DEFAULT_MIN_SIDE
from photoid.cli.progress import QuietOption, progress_bar

if TYPE_CHECKING:
    from photoid.data.findings import CheckReport

_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@data_app.command("check")
def check_command(
    dataset: Annotated[
        Path, typer.Argument(help="Dataset folder holding metadata.csv and the images.")
    ],
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write every finding to this JSON file.")
    ] = None,
    min_side: Annotated[
        int, typer.Option(help="Warn about images whose shorter side is under this many pixels.")
    ] = DEFAULT_MIN_SIDE,
    max_shown: Annotated[
        int, typer.Option(help="Findings shown per code; the rest are only counted.")
    ] = 20,
    workers: Annotated[int, typer.Option(help="Threads decoding images.")] = 2,
    quiet: QuietOption = False,
) -> None:
    """Check metadata.csv and decode every image: errors exit 1, warnings alone exit 0."""
    from photoid.data.check import check_dataset
    from photoid.data.findings import save_json

    with progress_bar("Checking images") as (bar, task):
        report = check_dataset(
            dataset,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            min_side=min_side,
            workers=workers,
        )
    console = Console()
    if json_file is not None:
        save_json(report, json_file)
        console.print(f"Wrote {len(report.findings)} findings to {json_file}")
    _render(report, console, max_shown)
    if not report.ok:
        raise typer.Exit(1)


def _render(report: CheckReport, console: Console, max_shown: int) -> None:
    """Print the findings grouped by code (at most ``max_shown`` each), then the summary line."""
    if report.findings:
        # The path is what the user needs to find the file: it folds onto more lines on a narrow
        # terminal instead of being cut short; the message wraps at words.
        table = Table(show_lines=False)
        table.add_column("level", no_wrap=True)
        table.add_column("code", overflow="fold")
        table.add_column("row", no_wrap=True, justify="right")
        table.add_column("path", overflow="fold", ratio=1)
        table.add_column("message", overflow="fold", ratio=2)
        for (_, code), group in groupby(report.findings, key=lambda f: (f.level, f.code)):
            findings = list(group)
            if table.rows:
                table.add_section()
            for finding in findings[:max_shown]:
                table.add_row(
                    Text(finding.level, style=_STYLES[finding.level]),
                    Text(finding.code),
                    Text("" if finding.row is None else str(finding.row)),
                    Text(finding.path or ""),
                    Text(finding.message),
                )
            if len(findings) > max_shown:
                more = f"... and {len(findings) - max_shown} more {code}"
                table.add_row("", "", "", "", Text(more, style="italic"))
        console.print(table)
    style = "bold green" if report.ok else "bold red"
    console.print(Text(report.summary(), style=style))
