"""The ``photoid`` command: a thin typer skin over library calls.

Every command module registers itself on ``app`` or ``data_app``. A PhotoidError raised anywhere
becomes one clear message and exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from photoid import __version__
from photoid.errors import PhotoidError

_DEBUG_KEY = "photoid.debug"


class _FriendlyGroup(TyperGroup):
    """Turns PhotoidError into a one-line message unless ``--debug`` was given."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PhotoidError as exc:
            if ctx.meta.get(_DEBUG_KEY):
                raise
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(2) from exc


app = typer.Typer(
    cls=_FriendlyGroup,
    help="photoid: photo-identification of individual animals.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Datasets: convert other formats, check, split.", no_args_is_help=True)
app.add_typer(data_app, name="data")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"photoid {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks instead of one-line errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    ctx.meta[_DEBUG_KEY] = debug


def main() -> None:
    """Entry point of the ``photoid`` script."""
    app()


# Command modules register themselves on import; they must come after ``app`` and ``data_app``.
import photoid.cli.serve  # noqa: E402, F401
from photoid.cli import (  # noqa: E402, F401
    benchmark,
    catalog,
    check,
    convert,
    demo,
    detect,
    embed,
    evaluate,
    fit,
    identify,
    pseudo_label,
    split,
    synth,
    train,
)
