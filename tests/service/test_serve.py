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
