"""``photoid serve``: the REST API and review web pages (with the matching worker) over a
catalog, served by uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from photoid.cli.app import app
from photoid.cli.catalog import DataOption, UrlOption
from photoid.service.settings import MIB, Settings


@app.command("serve")
def serve_command(
    data: DataOption = Path("photoid-data"),
    url: UrlOption = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0: every interface; use TLS then).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker", help="Compute match candidates for uploads in this process."
        ),
    ] = True,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Training checkpoint: match with its deep engine (default: local)."),
    ] = None,
    device: Annotated[
        str,
        typer.Option(
            help="With --checkpoint or --detector: where the network runs (auto, cpu, cuda, "
            "cuda:N)."
        ),
    ] = "auto",
    detector: Annotated[
        Path | None,
        typer.Option(
            help="Find the animal in each uploaded photo without a box before matching (a run "
            "of `photoid detector train` or a weights file); the box is stored with the photo."
        ),
    ] = None,
    max_file_mb: Annotated[int, typer.Option(help="Largest photo accepted, in MiB.")] = 20,
    secure_cookies: Annotated[
        bool, typer.Option(help="Send the session cookie over HTTPS only (behind TLS).")
    ] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Behind a TLS proxy: its address(es), comma-separated, whose X-Forwarded-For "
            "and X-Forwarded-Proto headers are trusted, so that each client is known by its "
            "own address (the login throttle counts by it). Default: no proxy is trusted."
        ),
    ] = None,
) -> None:
    """Serve the catalog: REST API at /api/v1 (OpenAPI at /docs) and the review pages at /."""
    import uvicorn

    from photoid.service.app import create_app

    settings = Settings(
        data_dir=data,
        database_url=url,
        max_file_bytes=max_file_mb * MIB,
        start_worker=worker,
        checkpoint=checkpoint,
        device=device,
        secure_cookies=secure_cookies,
        detector=detector,
    )
    typer.echo(f"photoid serving {data} at http://{host}:{port}/ (API docs at /docs)")
    proxy: dict[str, Any] = (
        {"proxy_headers": False}
        if forwarded_allow_ips is None
        else {"proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips}
    )
    uvicorn.run(create_app(settings), host=host, port=port, **proxy)
