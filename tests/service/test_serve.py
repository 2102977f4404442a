"""``photoid serve``: settings from the options, handed to uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from photoid.cli.app import app


def test_serve_builds_the_app_and_runs_uvicorn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: calls.append((target, options)))
    data = tmp_path / "data"
    result = CliRunner().invoke(
        app, ["serve", "--data", str(data), "--port", "8123", "--no-worker", "--max-file-mb", "2"]
    )
    assert result.exit_code == 0, result.output
    ((served, options),) = calls
    assert (options["host"], options["port"]) == ("127.0.0.1", 8123)
    settings = served.state.settings
    assert (settings.start_worker, settings.max_file_bytes) == (False, 2 * 1024 * 1024)
    assert (data / "catalog.sqlite").is_file()
    served.state.catalog.close()


def test_serve_trusts_proxy_headers_only_from_the_given_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def run(target: Any, **options: Any) -> None:
        calls.append(options)
        target.state.catalog.close()

    monkeypatch.setattr(uvicorn, "run", run)
    base = ["serve", "--data", str(tmp_path / "data"), "--no-worker"]
    for extra in ([], ["--forwarded-allow-ips", "10.0.0.5"]):
        result = CliRunner().invoke(app, base + extra)
        assert result.exit_code == 0, result.output
    default, proxied = calls
    assert default["proxy_headers"] is False and "forwarded_allow_ips" not in default
    assert (proxied["proxy_headers"], proxied["forwarded_allow_ips"]) == (True, "10.0.0.5")
