"""``photoid catalog import|export`` and ``photoid users add``: the catalog from the shell."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer

from photoid.cli.app import app
from photoid.cli.progress import stage_progress

catalog_app = typer.Typer(
    help="The catalog database: import and export datasets.", no_args_is_help=True
)
users_app = typer.Typer(help="Users of the catalog service.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(users_app, name="users")

DataOption = Annotated[
    Path,
    typer.Option(
        "--data",
        envvar="PHOTOID_DATA",
        help="Data folder holding the image store (and the SQLite catalog by default).",
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="PHOTOID_DATABASE_URL",
        help="Database URL, e.g. postgresql://user@host/photoid (default: SQLite in --data).",
    ),
]


@catalog_app.command("import")
def import_command(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder holding metadata.csv.")],
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
) -> None:
    """Start an empty catalog from a labelled dataset in the native format."""
    from photoid.catalog import import_dataset, open_catalog

    with closing(open_catalog(data, url)) as catalog, stage_progress() as progress:
        summary = import_dataset(catalog, dataset, progress=progress)
    typer.echo(
        f"Imported {summary.images} images, {summary.individuals} individuals and "
        f"{summary.encounters} encounters into {data} (undo with change #{summary.audit_id})"
    )


@catalog_app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="Empty folder to write metadata.csv and images to.")],
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
) -> None:
    """Write the catalog as a dataset in the native format, images included."""
    from photoid.catalog import export_dataset, open_catalog

    with closing(open_catalog(data, url)) as catalog, stage_progress() as progress:
        metadata = export_dataset(catalog, out, progress=progress)
    typer.echo(f"Wrote {metadata}")


@users_app.command("add")
def add_user_command(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="viewer, reviewer or admin.")],
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password."),
    ],
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
) -> None:
    """Add a user with a role; the password is asked for unless given."""
    from photoid.catalog import add_user, open_catalog

    catalog = open_catalog(data, url)
    try:
        user = add_user(catalog, name, role, password)
    finally:
        catalog.close()
    typer.echo(f"Added user {user.name} ({user.role})")
