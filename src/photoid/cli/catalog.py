"""``photoid catalog import|history|undo|export`` and ``photoid users ...`` (add, list, password,
deactivate, activate, end-sessions, tokens, revoke-token): the catalog from the shell."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from photoid.cli.app import app
from photoid.cli.progress import QuietOption, stage_progress

if TYPE_CHECKING:
    from photoid.catalog import Catalog

catalog_app = typer.Typer(
    help="The catalog database: import and export datasets, list and undo changes.",
    no_args_is_help=True,
)
users_app = typer.Typer(
    help="Users of the catalog service: roles, passwords, sessions and API tokens.",
    no_args_is_help=True,
)
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


@contextmanager
def _opened(data: Path, url: str | None) -> Iterator[Catalog]:
    from photoid.catalog import open_catalog

    with closing(open_catalog(data, url)) as catalog:
        yield catalog


@catalog_app.command("import")
def import_command(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder holding metadata.csv.")],
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
    quiet: QuietOption = False,
) -> None:
    """Start an empty catalog from a labelled dataset in the native format."""
    from photoid.catalog import import_dataset

    with _opened(data, url) as catalog, stage_progress() as progress:
        summary = import_dataset(catalog, dataset, progress=progress)
    typer.echo(
        f"Imported {summary.images} images, {summary.individuals} individuals and "
        f"{summary.encounters} encounters into {data} (undo with change #{summary.audit_id})"
    )


@catalog_app.command("history")
def history_command(
    limit: Annotated[int, typer.Option(min=1, help="How many changes, newest first.")] = 20,
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
) -> None:
    """The latest changes (id, time, who, what), newest first: the ids `undo` takes."""
    from photoid.catalog import history

    with _opened(data, url) as catalog:
        entries = history(catalog, limit)
    for entry in entries:
        state = f" (undone by #{entry.undone_by_id})" if entry.undone_by_id else ""
        typer.echo(f"#{entry.id}\t{entry.at:%Y-%m-%d %H:%M}\t{entry.actor}\t{entry.summary}{state}")


@catalog_app.command("undo")
def undo_command(
    change: Annotated[
        int, typer.Argument(min=1, help="The change's id (`photoid catalog history`).")
    ],
    actor: Annotated[str, typer.Option(help="Who undoes it, for the audit trail.")] = "cli",
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
) -> None:
    """Undo one change (a decision, merge, split, import...); the undo is a change itself."""
    from photoid.catalog import undo
    from photoid.catalog.matching import enqueue_sync

    with _opened(data, url) as catalog:
        reverse = undo(catalog, change, actor=actor)
        enqueue_sync(catalog)
    typer.echo(f"Undid change #{change} as change #{reverse.id}")


@catalog_app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="Empty folder to write metadata.csv and images to.")],
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
    quiet: QuietOption = False,
) -> None:
    """Write the catalog as a dataset in the native format, images included."""
    from photoid.catalog import export_dataset

    with _opened(data, url) as catalog, stage_progress() as progress:
        metadata = export_dataset(catalog, out, progress=progress)
    typer.echo(f"Wrote {metadata}")


NameArgument = Annotated[str, typer.Argument(help="User name.")]
PasswordOption = Annotated[
    str,
    typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password."),
]


@users_app.command("add")
def add_user_command(
    name: NameArgument,
    role: Annotated[str, typer.Option(help="viewer, reviewer or admin.")],
    password: PasswordOption,
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
) -> None:
    """Add a user with a role; the password is asked for unless given."""
    from photoid.catalog import add_user

    with _opened(data, url) as catalog:
        user = add_user(catalog, name, role, password)
    typer.echo(f"Added user {user.name} ({user.role})")


@users_app.command("list")
def list_users_command(data: DataOption = Path("photoid-data"), url: UrlOption = None) -> None:
    """Every user with their role and whether they may log in."""
    from photoid.catalog.users import list_users

    with _opened(data, url) as catalog:
        users = list_users(catalog)
    for user in users:
        state = "active" if user.active else "deactivated"
        typer.echo(f"{user.name}\t{user.role}\t{state}")


@users_app.command("password")
def password_command(
    name: NameArgument,
    password: PasswordOption,
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
) -> None:
    """Set a user's password (asked for unless given); their browser sessions end."""
    from photoid.catalog.users import set_password

    with _opened(data, url) as catalog:
        ended = set_password(catalog, name, password)
    typer.echo(f"Set the password of {name}; ended {ended} browser session(s)")


@users_app.command("deactivate")
def deactivate_command(
    name: NameArgument, data: DataOption = Path("photoid-data"), url: UrlOption = None
) -> None:
    """Stop a user logging in: their browser sessions end and their API tokens are revoked."""
    from photoid.catalog.users import set_active

    with _opened(data, url) as catalog:
        ended = set_active(catalog, name, active=False)
    typer.echo(
        f"Deactivated {name}; ended {ended.sessions} browser session(s) and revoked "
        f"{ended.tokens} API token(s)"
    )


@users_app.command("activate")
def activate_command(
    name: NameArgument, data: DataOption = Path("photoid-data"), url: UrlOption = None
) -> None:
    """Let a deactivated user log in again (their old sessions and tokens stay revoked)."""
    from photoid.catalog.users import set_active

    with _opened(data, url) as catalog:
        set_active(catalog, name, active=True)
    typer.echo(f"Activated {name}")


@users_app.command("end-sessions")
def end_sessions_command(
    name: NameArgument, data: DataOption = Path("photoid-data"), url: UrlOption = None
) -> None:
    """End every browser session of a user at once (they must log in again)."""
    from photoid.catalog.sessions import end_sessions
    from photoid.catalog.users import get_user

    with _opened(data, url) as catalog:
        ended = end_sessions(catalog, get_user(catalog, name).id)
    typer.echo(f"Ended {ended} browser session(s) of {name}")


@users_app.command("tokens")
def tokens_command(
    name: NameArgument, data: DataOption = Path("photoid-data"), url: UrlOption = None
) -> None:
    """A user's API tokens (id, label, created, last used, revoked), newest first."""
    from photoid.catalog.users import list_tokens

    with _opened(data, url) as catalog:
        tokens = list_tokens(catalog, name)
    for token in tokens:
        times = (token.created_at, token.last_used_at, token.revoked_at)
        shown = [f"{t:%Y-%m-%d %H:%M}" if t else "-" for t in times]
        typer.echo(f"{token.id}\t{token.label or '-'}\t" + "\t".join(shown))


@users_app.command("revoke-token")
def revoke_token_command(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `photoid users tokens`).")],
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
) -> None:
    """Revoke an API token at once."""
    from photoid.catalog.users import revoke_token_id
    from photoid.errors import PhotoidError

    with _opened(data, url) as catalog:
        if not revoke_token_id(catalog, token_id):
            raise PhotoidError(f"no live API token with id {token_id}")
    typer.echo(f"Revoked API token {token_id}")
